"""The Evaluate button's background work: ``runtime.evaluation.evaluate_checkpoint``
(the same evaluation ``strata evaluate`` prints) on a worker thread, so the editor stays
responsive; the result or the runtime's message comes back as a signal.
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from runtime.evaluation import EvaluationResult, evaluate_checkpoint

__all__ = ["Evaluation", "EvaluationResult"]


class Evaluation(QObject):
    """Runs ``evaluate_checkpoint`` on a thread; ``done(result)`` or ``failed(text)``."""

    done = Signal(object)
    failed = Signal(str)

    def start(self, path: str, document: dict, split: str = "val") -> None:
        def work() -> None:
            from graph.errors import StrataError

            try:
                result = evaluate_checkpoint(path, document, split)
            except StrataError as e:
                self._emit(self.failed, str(e))
                return
            except Exception as e:  # noqa: BLE001 - reported in the window, not raised
                self._emit(self.failed, f"The evaluation failed: {type(e).__name__}: {e}")
                return
            self._emit(self.done, result)

        threading.Thread(target=work, name="strata-evaluate", daemon=True).start()

    @staticmethod
    def _emit(signal, value) -> None:
        try:
            signal.emit(value)
        except RuntimeError:
            pass  # the window closed meanwhile
