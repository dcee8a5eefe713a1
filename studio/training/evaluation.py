"""Evaluate a checkpoint's weights on the current network's validation (or test) split.

Built from the runtime's own pieces, so the result means what the run's validation
numbers mean: the checkpoint is read with ``load_checkpoint`` (weights only, never
code), checked against the network with ``check_matches`` (a network whose layers
changed since says what changed), the model is compiled from the generated code, the
dataset prepared and checked by ``prepare_dataset``, and ``metrics.evaluate`` computes
loss, accuracy or R² and the confusion matrix. ``Evaluation`` runs it on a
``studio.background.BackgroundTask`` so the editor stays responsive; errors come back
as the runtime's messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, Signal

from studio.background import BackgroundTask


@dataclass(frozen=True)
class EvaluationResult:
    checkpoint: str
    split: str
    examples: int
    loss: float
    metric: float | None
    metric_name: str
    confusion: np.ndarray | None

    def describe(self) -> str:
        words = {"val": "validation", "test": "test"}.get(self.split, self.split)
        text = f"On the {words} set ({self.examples} examples): loss {self.loss:.4g}"
        if self.metric is not None:
            text += (f", accuracy {self.metric:.1%}" if self.metric_name == "accuracy"
                     else f", R\u00b2 {self.metric:.3f}")
        return text


def evaluate_checkpoint(path: str, document: dict, split: str = "val"
                        ) -> EvaluationResult:
    """Loss and metric of the weights in ``path`` on ``document``'s dataset split.

    Raises a StrataError subclass (CheckpointError, DatasetError, SetupError,
    GraphError) with a message for the user.
    """
    import graph
    from graph.fileformat import document_from_dict
    from runtime.checkpoints import check_matches, code_fingerprint, load_checkpoint
    from runtime.compatibility import prepare_dataset
    from runtime.metrics import evaluate, metric_name
    from runtime.setup import TrainingSetup

    ckpt = load_checkpoint(path)
    doc = document_from_dict(document)
    analysis = graph.Analyzer().analyze(doc)
    if not analysis.ok:
        raise graph.GraphError(analysis.problems)
    compiled = graph.compile_network(doc, analysis)
    check_matches(ckpt, document, code_fingerprint(compiled.code.source))
    model = compiled.module
    from runtime.checkpoints import CheckpointError

    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        raise CheckpointError(f"{ckpt.path.name}: its weights do not fit this network "
                              f"({str(e).splitlines()[0][:200]})") from None
    setup = TrainingSetup.from_document(doc)
    bundle = prepare_dataset(analysis, setup)
    outputs = [n for n in analysis.order if doc.nodes[n].type == "Output"]
    task = analysis.shapes[outputs[0]].params.get("task", "classification")
    tensors = bundle.tensors(split)
    result = evaluate(model, tensors, setup.make_loss(task), task, bundle.num_classes,
                      1024)
    return EvaluationResult(str(path), split, len(tensors[-1]), result.loss,
                            result.metric, metric_name(task), result.confusion)


class Evaluation(QObject):
    """Runs ``evaluate_checkpoint`` in the background; ``done(result)`` or
    ``failed(text)``. A new evaluation replaces one still running."""

    done = Signal(object)  # EvaluationResult
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.task = BackgroundTask(self)
        self.task.succeeded.connect(self.done)
        self.task.failed.connect(self._failed)

    def start(self, path: str, document: dict, split: str = "val") -> None:
        self.task.start(lambda: evaluate_checkpoint(path, document, split),
                        what="The evaluation", latest=True)

    def _failed(self, message: str, _error: object) -> None:
        self.failed.emit(message)
