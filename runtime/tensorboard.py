"""TensorBoard event files for a run, written from the run's typed events.

``TensorBoardLogger(folder, document=...)`` is an event sink like the CLI's printer:
call it with every event a ``Trainer`` emits (``emit=tee(printer, logger)``) and it writes,
through ``torch.utils.tensorboard``:

- ``train/loss``, ``train/metric``, ``train/lr``, ``train/samples_per_second`` per step
  event (the engine already sends those at most ``max_sample_rate`` times a second);
- ``epoch/train_loss``, ``epoch/val_loss``, ``epoch/train_<metric>``,
  ``epoch/val_<metric>`` per epoch, with the epoch as the step;
- per layer, at the instrumentation's sampling rate: ``layers/<name>/grad_norm``,
  ``weight_norm``, ``update_ratio``, ``act_mean``, ``act_std``, ``dead_fraction``,
  ``saturation`` and the activation and gradient histograms the event already carries
  (32 bins counted on the device: no tensor is copied to the host here);
- the hyperparameters (the flat training setup) with the final metrics, for the HPARAMS
  tab, when the run ends;
- the model graph, traced once from the document's generated code, where tracing works.

Logging only reformats what the engine already measured, so it stays inside the
instrumentation's time budget. Layers are named ``<label or type>_<node id>`` so two
layers with the same label stay apart.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .event_sinks import RunLogger
from .events import (
    EpochEvent,
    FinishedEvent,
    LayerStatsEvent,
    StartedEvent,
    StepEvent,
)

MISSING = ("TensorBoard logging needs the `tensorboard` package: "
           "pip install 'strata-studio[tensorboard]'")
LAYER_SCALARS = ("grad_norm", "weight_norm", "update_ratio", "act_mean", "act_std",
                 "dead_fraction", "saturation")


def tensorboard_available() -> bool:
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        return False
    return True


def tee(*sinks: Callable[[Any], None] | None) -> Callable[[Any], None]:
    """One emit function that hands each event to every sink, in order."""
    live = [s for s in sinks if s is not None]

    def emit(event) -> None:
        for sink in live:
            sink(event)

    return emit


def label_scalars(e: EpochEvent) -> list[tuple[str, float]]:
    """Multi-label: (tag, value) of the macro F1 and of each label's F1 (validation)."""
    if not e.label_f1:
        return []
    return [("val_macro_f1", e.macro_f1 or 0.0)] + [
        (f"val_f1/{_tag(name)}", f1) for name, f1 in zip(e.class_names, e.label_f1)]


def hparams_of(setup: dict[str, Any]) -> dict[str, Any]:
    """The setup as TensorBoard hyperparameters: numbers, strings and booleans only."""
    out: dict[str, Any] = {}
    for key, value in sorted(setup.items()):
        if key == "dataset" and isinstance(value, dict):
            out["dataset"] = str(value.get("name", ""))
        elif isinstance(value, (bool, int, float, str)):
            out[key] = value
        elif value is None:
            out[key] = "none"
    return out


class TensorBoardLogger(RunLogger):
    """Writes one run's events into ``folder`` (see the module docstring)."""

    def __init__(self, folder: str | Path, *, document: dict | None = None,
                 setup: dict | None = None, graph: bool = True) -> None:
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError as e:  # tensorboard missing: say what to install
            raise ImportError(MISSING) from e
        self.folder = Path(folder)
        self.writer = SummaryWriter(log_dir=str(self.folder))
        self.document = document
        self.setup = dict(setup or (document or {}).get("training", {}))
        self.want_graph = graph and document is not None
        self.names: dict[str, str] = {}
        self.metric = "metric"
        self.closed = False
        self.graph_skipped = ""  # why the model graph could not be traced, if it could not
        self.graph_due = False  # a new run's graph, written at its first epoch's end

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.writer.close()

    # ---------------------------------------------------------------- events
    def _started(self, e: StartedEvent) -> None:
        self.names = {i: _tag(n) + "_" + _tag(i) for i, n in zip(e.node_ids, e.node_names)}
        description = (f"{e.network or 'network'}: {e.parameter_count:,} parameters on "
                       f"{e.dataset.get('description', '')}, device {e.device}")
        self.writer.add_text("run", description, e.start_step)
        # The graph is traced when the first epoch ends (or the run does), not now:
        # tracing costs more than half a second, and here it would delay the first step
        # a user waits for after pressing Train.
        self.graph_due = self.want_graph and e.start_step == 0

    def _step(self, e: StepEvent) -> None:
        add = self.writer.add_scalar
        add("train/loss", e.loss, e.step)
        if e.metric is not None:
            add("train/metric", e.metric, e.step)
        add("train/lr", e.lr, e.step)
        add("train/samples_per_second", e.samples_per_second, e.step)

    def _layers(self, e: LayerStatsEvent) -> None:
        for s in e.layers:
            name = self.names.get(s.node_id, _tag(s.node_id))
            for key in LAYER_SCALARS:
                value = getattr(s, key)
                if value is not None and math.isfinite(value):
                    self.writer.add_scalar(f"layers/{name}/{key}", value, e.step)
            self._histogram(f"activations/{name}", s.act_hist, s.act_edges, e.step)
            if s.grad_hist is not None and s.grad_edges is not None:
                self._histogram(f"gradients/{name}", s.grad_hist, s.grad_edges, e.step)

    def _epoch(self, e: EpochEvent) -> None:
        self._graph_if_due()
        self.metric = e.metric_name
        add = self.writer.add_scalar
        for tag, value in (("train_loss", e.train_loss), ("val_loss", e.val_loss),
                           (f"train_{e.metric_name}", e.train_metric),
                           (f"val_{e.metric_name}", e.val_metric), ("lr", e.lr),
                           ("seconds", e.seconds), *label_scalars(e)):
            if value is not None and math.isfinite(value):
                add(f"epoch/{tag}", value, e.epoch)
        self.writer.flush()

    def _finished(self, e) -> None:
        self._graph_if_due()
        summary = e.summary if isinstance(e, FinishedEvent) else {}
        values = {"hparam/val_loss": summary.get("val_loss"),
                  "hparam/best_val_loss": summary.get("best_val_loss"),
                  f"hparam/val_{self.metric}": summary.get("val_metric"),
                  "hparam/train_loss": summary.get("train_loss")}
        metrics = {k: float(v) for k, v in values.items()
                   if isinstance(v, (int, float)) and math.isfinite(v)}
        if self.setup and metrics:
            self._hparams(hparams_of(self.setup), metrics)
        self.close()

    # ---------------------------------------------------------------- pieces
    def _histogram(self, tag: str, counts: np.ndarray, edges: np.ndarray,
                   step: int) -> None:
        counts = np.asarray(counts, dtype=np.float64)
        edges = np.asarray(edges, dtype=np.float64)
        total = counts.sum()
        if total <= 0 or len(edges) != len(counts) + 1 or not np.isfinite(edges).all():
            return
        centres = (edges[:-1] + edges[1:]) / 2  # sums estimated from the bin centres
        self.writer.add_histogram_raw(
            tag, min=float(edges[0]), max=float(edges[-1]), num=float(total),
            sum=float((counts * centres).sum()),
            sum_squares=float((counts * centres ** 2).sum()),
            bucket_limits=edges[1:].tolist(), bucket_counts=counts.tolist(),
            global_step=step)

    def _hparams(self, hparams: dict[str, Any], metrics: dict[str, float]) -> None:
        """Hyperparameters and final metrics in this run's own event file (the HPARAMS
        tab), not in the timestamped sub-run ``SummaryWriter.add_hparams`` makes."""
        from torch.utils.tensorboard.summary import hparams as hparams_summary

        experiment, start, end = hparams_summary(hparams, metrics)
        writer = self.writer.file_writer
        for summary in (experiment, start, end):
            writer.add_summary(summary)
        for key, value in metrics.items():
            self.writer.add_scalar(key, value)

    def _graph_if_due(self) -> None:
        if self.graph_due:
            self.graph_due = False
            self._graph()

    def _graph(self) -> None:
        """The model graph, traced from the generated code; skipped where tracing fails
        (some recurrent layers), since the graph is an extra, never a reason to stop."""
        import warnings

        import torch

        import graph as strata_graph
        from graph.fileformat import document_from_dict

        try:
            doc = document_from_dict(self.document)
            analysis = strata_graph.Analyzer().analyze(doc)
            compiled = strata_graph.compile_network(doc, analysis)
            example = []
            for node_id in compiled.code.inputs:
                info = analysis.shapes[node_id].outputs["out"]
                shape = (2, *(int(d) for d in info.shape[1:]))
                dtype = torch.long if info.dtype in ("long", "int") else torch.float32
                example.append(torch.zeros(shape, dtype=dtype))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self.writer.add_graph(compiled.module.eval(), tuple(example))
        except Exception as e:  # noqa: BLE001 - see the docstring
            self.graph_skipped = f"{type(e).__name__}: {e}"


def _tag(text: str) -> str:
    """A TensorBoard tag piece: no slashes or spaces."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text))
    return cleaned.strip("_") or "layer"
