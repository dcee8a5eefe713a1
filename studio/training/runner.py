"""Runs training in the worker process and turns its event stream into ``RunRecord``s.

The runner is the studio's only contact with ``runtime.worker``: ``start`` hands the
worker an immutable snapshot (the document as a dict and its training setup), and one
QTimer (~30 Hz) drains the worker's events. Each tick does bounded work: at most
``MAX_EVENTS`` events and ``BUDGET_S`` seconds, then one ``run_updated`` signal with the
union of what changed, so views redraw once per tick however fast the steps come.

Everything a run can go through ends in exactly one ``run_ended``: finished, stopped,
failed in the worker (bad data, NaN, a crash), or a worker that died (the worker's
session reports that as a failure with the exit status). Nothing here touches the
document: a failed run leaves the editor as it was.

Runs of the session are kept in ``runs`` (oldest first) for comparison; their records
are bounded, so keeping a few dozen costs little.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

from graph.errors import StrataError
from runtime.run_record import RunRecord
from studio.background import BackgroundTask

if TYPE_CHECKING:  # the worker module loads when the first run starts
    from runtime.worker import StandbyWorker, TrainingSession

TICK_MS = 33
# Start the next run's worker process ahead of need (STRATA_PRESTART=0 turns it off:
# the test suite, which builds many windows, does).
PRESTART = os.environ.get("STRATA_PRESTART", "1") != "0"
MAX_EVENTS = 400
BUDGET_S = 0.010
MAX_RUNS = 30  # runs kept for comparison; the oldest go first
SAMPLE_BUDGET = 0.05  # share of training time the worker may spend on layer statistics
HINT_MS = 800  # a data setting left alone this long is prepared in the standby worker


def default_runs_folder() -> Path:
    base = QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.AppLocalDataLocation)
    return Path(base or Path.home() / ".strata") / "runs"


def freeze_heap() -> None:
    """Move every object alive now out of the cyclic garbage collector's sight.

    With torch, numpy and pyqtgraph loaded, a full collection walks millions of objects
    and holds the GUI thread for 50-150 ms, several times a minute while plots
    allocate; those objects live as long as the application anyway. Frozen, they are
    not scanned, and collections touch only what was allocated since (``gc.freeze``).
    """
    import gc

    gc.freeze()


def worker_threads() -> int:
    """Leave a core to the editor: its timers must keep their pace while training."""
    return max(1, (os.cpu_count() or 2) - 1)


class TrainingRunner(QObject):
    run_started = Signal(object)  # RunRecord
    run_updated = Signal(object, object)  # RunRecord, set of changed categories
    run_ended = Signal(object)  # RunRecord
    runs_changed = Signal()
    ticked = Signal()  # once per drain tick while a run is active (for paced drawing)

    def __init__(self, parent: QObject | None = None, *, out_root: str | Path | None = None,
                 options=None, threads: int | None = None) -> None:
        super().__init__(parent)
        self.out_root = Path(out_root) if out_root is not None else None
        self.options = options  # runtime.engine.EngineOptions, None for the defaults
        self.threads = threads if threads is not None else worker_threads()
        # Where runs are also tracked in MLflow (a URI, "" for the default), or None.
        self.mlflow_uri: Callable[[], str | None] = lambda: None
        self.runs: list[RunRecord] = []
        # The document shown (its key: ``studio.training.workbench.document_key``);
        # runs are stamped with it, and the runs list shows only that document's.
        self.source = ""
        self.current: RunRecord | None = None
        self.session: TrainingSession | None = None  # while a run is active
        self.ticks = 0
        self.tick_seconds = 0.0  # the longest tick so far (for the benchmark)
        self._timer = QTimer(self)
        self._timer.setInterval(TICK_MS)
        self._timer.timeout.connect(self._tick)
        self.standby: StandbyWorker | None = None  # the next run's process
        # The document the next run is probably of (asked when a standby starts), and
        # the data key last sent to the standby (``prepare``).
        self.hint_source: Callable[[], object] | None = None
        self.hint_timer: QTimer | None = None  # made by ``follow``
        self._hint_key: str | None = None
        # Spawning the worker runs in the background; commands given meanwhile wait in
        # _queued and are sent when it is up (or dropped when it could not start).
        self._launcher = BackgroundTask(self)
        self._launcher.succeeded.connect(self._launch_succeeded)
        self._launcher.failed.connect(self._launch_failed)
        self._queued: list[str] = []
        self._closing: list = []  # ended sessions whose worker may still be exiting
        self._reaper = QTimer(self)
        self._reaper.setInterval(250)
        self._reaper.timeout.connect(self._reap)

    # ------------------------------------------------------------------ state
    @property
    def active(self) -> bool:
        return self.session is not None

    @property
    def paused(self) -> bool:
        return self.current is not None and self.current.status == "paused"

    # ------------------------------------------------------------------ commands
    def start(self, document, setup: dict | None = None, *, resume: str | None = None,
              label: str = "") -> RunRecord:
        """Start a run of ``document`` (a snapshot is taken now); returns its record.

        Raises StrataError when a run is already active or the worker cannot start.
        """
        if self.active:
            raise StrataError("A training run is already going: stop it first")
        from runtime.worker import TrainingSession

        freeze_heap()
        snapshot = document if isinstance(document, dict) else document.to_dict()
        training = dict(setup if setup is not None else snapshot.get("training") or {})
        number = (self.runs[-1].number + 1) if self.runs else 1
        name = snapshot.get("name") or "network"
        run = RunRecord(number, network=name, label=label or f"#{number} {name}",
                        setup=training, document=snapshot, source=self.source)
        try:
            out_dir = self._out_dir(name, number)
        except OSError as e:
            raise StrataError(f"Cannot create the folder for this run's checkpoints: "
                              f"{e}") from None
        session = TrainingSession(snapshot, training or None, out_dir=out_dir,
                                  resume=resume, options=self.engine_options(),
                                  threads=self.threads, mlflow=self.mlflow_uri())
        # Spawning copies a large process's bookkeeping (tens of milliseconds of CPU):
        # done on a thread, the GUI keeps its frame rate. Commands wait for it.
        self._queued = []
        standby, self.standby = self.standby, None
        self._launcher.start(lambda: session.start(standby),
                             what="Starting the training process")
        run.out_dir = str(out_dir)
        self.session = session
        self.current = run
        self.runs.append(run)
        del self.runs[:-MAX_RUNS]
        self._timer.start()
        self.run_started.emit(run)
        self.runs_changed.emit()
        return run

    def warm_up(self, hint: bool = True) -> None:
        """Import what starting a run needs (the worker), so the first press of Train
        does not compile modules on the GUI thread, and start the next run's worker
        process now: torch loads in it while the user sets up, not in this process
        (nothing here imports torch: a fresh window calls this soon after it shows)."""
        import runtime.worker

        if self.standby is None and not self.active and PRESTART:
            self.standby = runtime.worker.StandbyWorker(threads=self.threads)
            self.standby.start()
            self._hint_key = None  # a new process: tell it what to prepare
            if hint and self.hint_source is not None:
                # (Reading a data setting imports torch: ``hint=False`` when it may
                # not be loaded yet, and ``prepare`` once it is.)
                self.prepare(self.hint_source())

    def follow(self, controller) -> None:
        """Hint the standby worker with ``controller``'s document: now (``warm_up``),
        and again once a change of its data setting or another document rests for
        ``HINT_MS`` (the standby rehearses only when the data key changed)."""
        if self.hint_timer is not None:
            return
        self.hint_source = lambda: controller.document
        timer = self.hint_timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(HINT_MS)
        timer.timeout.connect(lambda: self.prepare(controller.document))
        # Bound methods: the connections go with the runner (the controller outlives it).
        controller.training_changed.connect(self._hint_later)
        controller.document_replaced.connect(self._hint_later)

    def _hint_later(self, *_args) -> None:
        if self.hint_timer is not None:
            self.hint_timer.start()

    def prepare(self, document) -> None:
        """The run to come is probably of ``document`` (as it is now): the standby
        worker loads its dataset and rehearses it, so Train has nothing left to load.
        Sent again only when the data setting changed (a rehearsal costs a step)."""
        if self.standby is None or document is None:
            return
        from runtime.standby import dataset_key

        snapshot = document if isinstance(document, dict) else document.to_dict()
        key = dataset_key(snapshot, None)
        if key is None or key == self._hint_key:
            return
        self._hint_key = key
        self.standby.prepare(snapshot, None, self._hint_options())

    def _hint_options(self) -> dict:
        import dataclasses

        return dataclasses.asdict(self.engine_options())

    def engine_options(self):
        """The engine's options for studio runs: ``self.options`` if set, else the
        engine's defaults with a larger share of time for layer statistics (someone is
        watching the plots; the command line keeps the engine's frugal default)."""
        if self.options is not None:
            return self.options
        from runtime.engine_options import EngineOptions  # no torch here

        return EngineOptions(sample_budget=SAMPLE_BUDGET)

    def _out_dir(self, name: str, number: int) -> Path:
        root = self.out_root or default_runs_folder()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40]
        path = root / f"{stamp}-{safe}-{number}"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def pause(self) -> None:
        if self.session is not None and self.current is not None \
                and self.current.status == "running":
            self._command("pause")

    def resume(self) -> None:
        if self.session is not None and self.current is not None \
                and self.current.status == "paused":
            self._command("resume")

    def stop(self) -> None:
        if self.session is not None and self.current is not None:
            self.current.status = "stopping"
            self.current.changed.add("status")
            self._command("stop")

    def checkpoint(self) -> None:
        if self.session is not None:
            self._command("checkpoint")

    def kill(self) -> None:
        """End the worker at once; the run is then reported as failed."""
        if self.session is not None:
            self._command("kill")

    def _command(self, name: str) -> None:
        if self._launcher.running:
            self._queued.append(name)  # sent as soon as the worker is up
        else:
            getattr(self.session, name)()

    def shutdown(self) -> None:
        if self.standby is not None:
            self.standby.close()
            self.standby = None
        self._shutdown_runs()

    def _shutdown_runs(self) -> None:
        """Stop any run and release the workers (the window is closing). Safe to call
        after Qt deleted the runner: only the Python side is touched then."""
        for timer in (self._timer, self._reaper):
            try:
                timer.stop()
            except RuntimeError:  # already deleted with the window
                pass
        if self.session is not None:
            self.session.close(timeout=5.0)
            self.session = None
        try:
            self._launcher.cancel()
            self._launcher.wait(10_000)
        except RuntimeError:  # deleted with the window, which waited for it
            pass
        for session in self._closing:
            session.close(timeout=5.0)
        self._closing = []

    # ------------------------------------------------------------------ events
    def _tick(self) -> None:
        session, run = self.session, self.current
        if session is None or run is None:
            self._timer.stop()
            return
        started = time.perf_counter()
        ended = False
        handled = 0
        while handled < MAX_EVENTS and time.perf_counter() - started < BUDGET_S:
            events = session.poll_events(50)
            if not events:
                break
            for event in events:
                run.apply(event)
                handled += 1
                if run.status in ("finished", "stopped", "failed"):
                    ended = True
            if ended:
                break
        changed = run.take_changes()
        if changed:
            self.run_updated.emit(run, changed)
        self.ticked.emit()
        if ended:
            self._end()
        self.ticks += 1
        self.tick_seconds = max(self.tick_seconds, time.perf_counter() - started)

    def _launch_succeeded(self, _result: object) -> None:
        queued, self._queued = self._queued, []
        if self.session is not None:
            for name in queued:
                getattr(self.session, name)()

    def _launch_failed(self, _message: str, error: object) -> None:
        self._queued = []
        run = self.current
        if run is None or self.session is None:
            return
        run.fail(f"The training process could not start: {type(error).__name__}: {error}")
        self.run_updated.emit(run, run.take_changes())
        self._end()

    def _end(self) -> None:
        self._timer.stop()
        session, self.session = self.session, None
        if session is not None:
            # The worker exits on its own after its last event; joining it here could
            # hold the GUI for as long as its interpreter takes to shut down.
            self._closing.append(session)
            self._reaper.start()
        run = self.current
        self.run_ended.emit(run)
        self.runs_changed.emit()
        # The next run's worker, while the user looks at this one.
        QTimer.singleShot(1000, self, self.warm_up)

    def _reap(self) -> None:
        for session in list(self._closing):
            if not session.is_alive():
                session.close(timeout=1.0)
                self._closing.remove(session)
        if not self._closing:
            self._reaper.stop()

    # ------------------------------------------------------------------ history
    def add_saved_run(self, saved, label: str) -> RunRecord:
        """A run read back from its folder (``runtime.runfolder.SavedRun``: a sweep
        trial, a command-line run), kept with this session's runs for comparison."""
        number = (self.runs[-1].number + 1) if self.runs else 1
        document = saved.document or {}
        run = RunRecord(number, network=document.get("name", ""),
                        label=f"#{number} {label}", setup=dict(saved.setup),
                        document=saved.document, source=self.source)
        run.out_dir = str(saved.folder)
        for event in saved.events:
            run.apply(event)
        run.take_changes()
        self.runs.append(run)
        del self.runs[:-MAX_RUNS]
        self.runs_changed.emit()
        return run

    def runs_of_source(self) -> list[RunRecord]:
        """The runs of the document shown (oldest first)."""
        return [r for r in self.runs if r.source == self.source]

    def set_source(self, source: str, *, rename: bool = False) -> None:
        """The document shown is now ``source``; ``rename``: it is the same document
        under a new key (saved under a new name), and its runs follow it."""
        if rename:
            for run in self.runs:
                if run.source == self.source:
                    run.source = source
        self.source = source
        self.runs_changed.emit()

    def run(self, number: int) -> RunRecord | None:
        return next((r for r in self.runs if r.number == number), None)
