"""What the engine says about a run: its start, its sampled steps, its end.

``ReportingMixin`` is part of ``Trainer`` (it uses the trainer's attributes); it builds
the StartedEvent, the StepEvent of a sampled step with its layer statistics and the
diagnoses they trigger, and the FinishedEvent's summary.
"""

from __future__ import annotations

import math

from .batches import dataset_summary
from .events import FinishedEvent, StartedEvent, StepEvent
from .failures import nonfinite_gradient_error
from .metrics import batch_metric, metric_name
from .trainer_state import TrainerState


class ReportingMixin(TrainerState):
    """The run's StartedEvent, StepEvents and FinishedEvent (for ``Trainer``)."""

    def _report(self, out, y, loss: float, rate: float, epoch: int, instr) -> None:
        """A StepEvent, and the layer statistics when this step was instrumented."""
        metric = batch_metric(out.detach(), y, self.task)
        lr = self._lr()
        layer_event = None
        if instr is not None:
            layer_event, (value,) = instr.collect(self.step, epoch, [metric])
        else:
            value = float(metric)
        self._send(StepEvent(self.step, epoch, loss, value if math.isfinite(value)
                             else None, lr, rate))
        found = self.diagnostician.add_loss(loss, lr)
        if layer_event is not None:
            self._send(layer_event)
            if layer_event.nonfinite_grads:
                raise nonfinite_gradient_error(self.layers, layer_event.nonfinite_grads,
                                               step=self.step, epoch=epoch, lr=lr)
            found += self.diagnostician.add_sample(layer_event)
        for d in found:
            self._send(d.event(self.step, epoch))

    def _started_event(self) -> StartedEvent:
        dataset = dataset_summary(self.bundle, self.task)
        dataset["loss"] = self.loss_name
        return StartedEvent(
            device=str(self.device),
            parameter_count=sum(p.numel() for p in self.params),
            node_ids=tuple(i.node_id for i in self.layers),
            node_names=tuple(i.name for i in self.layers),
            node_types=tuple(i.type for i in self.layers),
            dataset=dataset, epochs=self.setup.epochs, steps_per_epoch=self.batches,
            start_epoch=self.epoch, start_step=self.step, network=self.doc.name)

    def _finished(self, stopped: bool, seconds: float) -> FinishedEvent:
        last = self.history[-1] if self.history else {}
        summary = {
            "network": self.doc.name, "device": str(self.device),
            "epochs": self.epoch, "steps": self.step, "seconds": seconds,
            "train_seconds": self.train_seconds,
            "train_cpu_seconds": self.train_cpu_seconds,
            "looking_seconds": self.looking_seconds,
            "train_loss": last.get("train_loss"), "val_loss": last.get("val_loss"),
            "train_metric": last.get("train_metric"),
            "val_metric": last.get("val_metric"), "metric_name": metric_name(self.task),
            "best_epoch": self.best_epoch, "best_val_loss": self.best_val,
            **label_scores(last.get("val_label_f1")),
            "checkpoint": self.last_checkpoint, "best_checkpoint": self.best_checkpoint,
            "diagnoses": sorted(self.diagnostician.reported),
        }
        event = FinishedEvent(summary, stopped)
        self._send(event)
        return event




def label_scores(per_label: dict[str, float] | None) -> dict:
    """Multi-label: each label's validation F1 and their mean (macro F1), for a run's
    summary; nothing for other tasks."""
    if not per_label:
        return {}
    return {"val_label_f1": dict(per_label),
            "val_macro_f1": sum(per_label.values()) / len(per_label)}
