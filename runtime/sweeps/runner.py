"""A sweep running in worker processes, seen from the parent (the CLI or the studio).

``SweepRun(...).start()`` creates (or loads) the study in the parent, so that workers
only ever join it, then spawns ``jobs`` fresh Python processes (the "spawn" start
method, as the training worker), each running its share of the trials with Optuna's
``study.optimize`` on the shared storage. The parent never talks to the workers: it
reads progress from the storage (``poll``), so a worker that dies costs only its
current trial (marked failed by the heartbeat, then retried), and a second machine
running ``strata sweep`` on the same storage and study simply adds trials.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .space import SweepSpec
from .study import (
    GRACE_SECONDS,
    HEARTBEAT_SECONDS,
    beats,
    best_rows,
    counts,
    open_study,
    silent_trials_callback,
)

_CONTEXT = multiprocessing.get_context("spawn")
FINISHED_STATES = ("complete", "pruned", "fail")


@dataclass
class SweepJob:
    """Everything a worker needs, as plain data (it crosses a process boundary)."""

    document: dict[str, Any]
    spec: dict[str, Any]
    storage: str
    study: str
    folder: str  # trials' run folders go in here
    trials: int  # for this worker
    epochs: int
    seed: int | None = None
    threads: int = 1
    heartbeat: float = HEARTBEAT_SECONDS
    grace: float = GRACE_SECONDS
    tensorboard: bool = False
    mlflow: str | None = None  # a resolved tracking URI
    mlflow_parent: str | None = None  # the study's MLflow run


def worker_main(job: SweepJob) -> None:
    """One worker process: run ``job.trials`` trials of the study."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides about Ctrl-C
    import torch

    from graph.fileformat import document_from_dict

    from .trials import TrialFailed, make_objective

    torch.set_num_threads(max(1, job.threads))
    spec = SweepSpec.from_dict(job.spec, document_from_dict(job.document))
    study = open_study(spec, job.storage, job.study, epochs=job.epochs, seed=job.seed,
                       heartbeat=job.heartbeat, grace=job.grace)
    objective = make_objective(job.document, spec, job.folder,
                               tensorboard=job.tensorboard, mlflow=job.mlflow,
                               mlflow_parent=job.mlflow_parent)
    callbacks = [silent_trials_callback(job.grace)] if beats(job.storage) else []
    study.optimize(objective, n_trials=job.trials, catch=(TrialFailed,),
                   gc_after_trial=True, callbacks=callbacks)


@dataclass
class SweepProgress:
    counts: dict[str, int] = field(default_factory=dict)  # trial states in the study
    done_here: int = 0  # trials finished since this run started
    best_value: float | None = None
    best_number: int | None = None
    alive: int = 0  # worker processes still running


class SweepRun:
    """``trials`` trials of ``spec`` on ``document`` in ``jobs`` worker processes."""

    def __init__(self, document: dict[str, Any], spec: SweepSpec, *, storage: str,
                 study: str, folder: str | Path, trials: int, jobs: int = 1,
                 seed: int | None = None, heartbeat: float = HEARTBEAT_SECONDS,
                 grace: float = GRACE_SECONDS, tensorboard: bool = False,
                 mlflow: str | None = None) -> None:
        self.document = document
        self.spec = spec
        self.storage = storage
        self.study_name = study
        self.folder = Path(folder)
        self.trials = trials
        self.jobs = max(1, min(jobs, trials))
        self.seed = seed
        self.heartbeat, self.grace = heartbeat, grace
        self.tensorboard = tensorboard
        self.mlflow = mlflow  # a tracking URI ("": the default), None: no MLflow
        self.mlflow_parent: str | None = None
        self.epochs = int((document.get("training") or {}).get("epochs", 10))
        self.processes: list = []
        self.study = None
        self._finished_before = 0

    def start(self) -> None:
        self.study = open_study(self.spec, self.storage, self.study_name,
                                epochs=self.epochs, seed=self.seed,
                                heartbeat=self.heartbeat, grace=self.grace)
        self._finished_before = self._finished(counts(self.study))
        uri = None
        if self.mlflow is not None:  # the study's run first: trials nest in it
            from runtime.mlflow_tracking import experiment_name, study_run, tracking_uri

            uri = tracking_uri(self.mlflow, self.folder)
            self.mlflow_parent = study_run(uri, experiment_name(self.document),
                                           self.study_name)
        threads = max(1, (os.cpu_count() or 1) // self.jobs)
        for i in range(self.jobs):
            share = self.trials // self.jobs + (1 if i < self.trials % self.jobs else 0)
            job = SweepJob(self.document, self.spec.to_dict(), self.storage,
                           self.study_name, str(self.folder), share, self.epochs,
                           None if self.seed is None else self.seed + i, threads,
                           self.heartbeat, self.grace, self.tensorboard, uri,
                           self.mlflow_parent)
            process = _CONTEXT.Process(target=worker_main, args=(job,),
                                       name=f"strata-sweep-{i}", daemon=False)
            process.start()
            self.processes.append(process)

    @staticmethod
    def _finished(states: dict[str, int]) -> int:
        return sum(states.get(s, 0) for s in FINISHED_STATES)

    def poll(self) -> SweepProgress:
        """The study's state now (reads the storage; a few milliseconds)."""
        states = counts(self.study)
        best = best_rows(self.study, 1)
        return SweepProgress(
            states, self._finished(states) - self._finished_before,
            best[0].value if best else None, best[0].number if best else None,
            sum(p.is_alive() for p in self.processes))

    def is_alive(self) -> bool:
        return any(p.is_alive() for p in self.processes)

    def wait(self, timeout: float | None = None) -> bool:
        for p in self.processes:
            p.join(timeout)
        return not self.is_alive()

    def stop(self) -> None:
        """End the workers now; their running trials are marked failed by the heartbeat
        (and retried) the next time any process works on the study."""
        for p in self.processes:
            if p.is_alive():
                p.terminate()
        for p in self.processes:
            p.join(10)

    @property
    def exit_codes(self) -> list[int | None]:
        return [p.exitcode for p in self.processes]
