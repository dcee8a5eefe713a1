"""The Evaluate button's background work: ``runtime.evaluation.evaluate_checkpoint``
(the same evaluation ``strata evaluate`` prints) on a ``studio.background.BackgroundTask``,
so the editor stays responsive; the result or the runtime's message comes back as a
signal.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from runtime.evaluation import EvaluationResult, evaluate_checkpoint
from studio.background import BackgroundTask

__all__ = ["Evaluation", "EvaluationResult"]


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
