"""The studio's side of a sweep: start it, stop it, and follow its study.

``SweepController`` runs a ``runtime.sweeps.runner.SweepRun`` (trials in worker
processes) and, on a timer, reads the study back from its storage as plain rows
(``runtime.sweeps.study.trial_rows``), which it hands to the panel with ``updated``.
Reading a SQLite study of a few hundred trials takes milliseconds; parameter importance
(a random forest, in Optuna) is recomputed only when the number of finished trials
changed and at most every few seconds, so the GUI keeps its frame rate. A study can
also be followed without running it (another process or machine adds trials).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from graph.errors import StrataError

if TYPE_CHECKING:  # Optuna loads with the first sweep
    from runtime.sweeps.runner import SweepRun

POLL_MS = 1000
IMPORTANCE_SECONDS = 5.0


@dataclass
class SweepView:
    """What the panel shows: the study's trials and what follows from them."""

    rows: list = field(default_factory=list)  # runtime.sweeps.study.TrialRow
    direction: str = "minimize"
    objective: str = "val loss"
    importance: dict[str, float] = field(default_factory=dict)
    running: bool = False
    storage: str = ""
    study: str = ""


class SweepController(QObject):
    updated = Signal(object)  # SweepView
    failed = Signal(str)  # a message for the user

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.run: SweepRun | None = None  # while trials run
        self.study: Any = None  # an optuna.Study
        self.storage = ""
        self.study_name = ""
        self.objective = "val loss"
        self._finished = -1
        self._importance: dict[str, float] = {}
        self._importance_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    @property
    def running(self) -> bool:
        return self.run is not None and self.run.is_alive()

    def start(self, document: dict, spec, *, storage: str, study: str, folder: Path,
              trials: int, jobs: int, mlflow: str | None = None) -> None:
        """Start ``trials`` trials in ``jobs`` processes, each also an MLflow run with
        ``mlflow`` (a tracking URI); StrataError (or ImportError: no MLflow) if it
        cannot."""
        from runtime.sweeps.runner import SweepRun

        if self.running:
            raise StrataError("A sweep is already running: stop it first")
        run = SweepRun(document, spec, storage=storage, study=study, folder=folder,
                       trials=trials, jobs=jobs, mlflow=mlflow)
        run.start()
        self.run, self.study = run, run.study
        self.storage, self.study_name = storage, study
        self.objective = spec.objective_label
        self._finished = -1
        self._timer.start()
        self.poll()

    def follow(self, storage: str, study: str) -> None:
        """Show an existing study (StrataError if there is none)."""
        from runtime.sweeps.study import load_study

        found = self.study = load_study(storage, study)
        self.storage, self.study_name = storage, study
        self.objective = str(found.user_attrs.get("objective", "objective"))
        self._finished = -1
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        """End the worker processes; their running trials are retried next time."""
        if self.run is not None:
            self.run.stop()
        self.poll()

    def shutdown(self) -> None:
        self._timer.stop()
        if self.run is not None and self.run.is_alive():
            self.run.stop()

    def poll(self) -> None:
        if self.study is None:
            return
        from runtime.sweeps.study import trial_rows

        try:
            rows = trial_rows(self.study)
        except Exception as e:  # noqa: BLE001 - a storage gone away is reported, once
            self._timer.stop()
            self.failed.emit(f"Cannot read the study {self.study_name!r}: {e}")
            return
        running = self.running
        if not running and self.run is not None and not any(
                r.state == "running" for r in rows):
            self._timer.stop()
        finished = sum(r.state in ("complete", "pruned") for r in rows)
        now = time.monotonic()
        if finished != self._finished and (now - self._importance_at > IMPORTANCE_SECONDS
                                           or not running):
            self._finished = finished
            self._importance_at = now
            self._importance = self._compute_importance()
        self.updated.emit(SweepView(
            rows, self.study.direction.name.lower(), self.objective,
            dict(self._importance), running, self.storage, self.study_name))

    def _compute_importance(self) -> dict[str, float]:
        """Optuna's parameter importance, or nothing while too few trials finished."""
        import optuna

        try:
            return dict(optuna.importance.get_param_importances(self.study))
        except (ValueError, RuntimeError, ZeroDivisionError):
            return {}
