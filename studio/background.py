"""The studio's one facility for work off the GUI thread (as napari's ``thread_worker``).

Every slow job (tracing, export, evaluating a checkpoint, loading a dataset preview,
probing the device, spawning the training worker) goes through a ``BackgroundTask``,
so all of them start, report progress, cancel and fail the same way:

    task = BackgroundTask(self)                       # owned by a widget or controller
    task.succeeded.connect(self._show)                # on the GUI thread
    task.failed.connect(lambda message, error: ...)   # message in the user's terms
    task.start(lambda: load(path), what="Loading the dataset")
    task.start(lambda job: work(job), what=..., handle=True)   # job.report(...), job.cancelled

- ``start`` runs the function on the task's own ``QThreadPool`` thread (one at a time,
  in order). Exactly one of ``succeeded(result)`` or ``failed(message, error)`` arrives
  on the GUI thread for the job that is current when it ends; ``progress(value)``
  arrives for each ``job.report(value)`` while it is current.
- ``latest=True`` makes the new job replace the current one ("latest wins"): the old
  job is cancelled, and a job cancelled before it began never runs.
- ``cancel`` forgets the current job: its result and reports are dropped. Python code
  cannot be interrupted, so long jobs given ``handle=True`` should check
  ``job.cancelled`` between steps.
- A ``StrataError`` travels as its own message; any other exception becomes one line
  naming ``what`` (never a traceback in the window).
- Deleting the task (with its owner) waits for a running job: a job never outlives
  the objects it reports to, and no thread is left running at exit.

Never start raw ``threading.Thread`` objects in widgets: use this.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class Job:
    """The running job's side: report progress, see whether it was cancelled."""

    def __init__(self, number: int, relay: _Relay) -> None:
        self.number = number
        self._relay = relay
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def report(self, value: Any) -> None:
        """Send ``value`` to ``BackgroundTask.progress`` (dropped once cancelled)."""
        if not self.cancelled:
            try:
                self._relay.progress.emit(self.number, value)
            except RuntimeError:
                pass  # the owner is gone; nobody listens


class _Relay(QObject):
    """Lives on the GUI thread; signals emitted from the pool thread are queued to it."""

    done = Signal(int, bool, object)  # job number, succeeded, result or exception
    progress = Signal(int, object)  # job number, value


class _Runnable(QRunnable):
    def __init__(self, fn: Callable[..., Any], job: Job, handle: bool) -> None:
        super().__init__()
        self.fn, self.job, self.handle = fn, job, handle

    def run(self) -> None:
        if self.job.cancelled:
            return  # replaced or cancelled before it began: nothing to do
        try:
            ok, value = True, (self.fn(self.job) if self.handle else self.fn())
        except Exception as e:  # noqa: BLE001 - every failure becomes a message
            ok, value = False, e
        try:
            self.job._relay.done.emit(self.job.number, ok, value)
        except RuntimeError:
            pass  # the owner is gone; nobody waits for the answer


class BackgroundTask(QObject):
    started = Signal()
    progress = Signal(object)  # what the current job reported
    succeeded = Signal(object)  # the function's result
    failed = Signal(str, object)  # message in the user's terms, the exception
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._finish)
        self._relay.progress.connect(self._progress)
        self._number = 0
        self._current: Job | None = None
        self.what = ""

    @property
    def running(self) -> bool:
        return self._current is not None

    def start(self, fn: Callable[..., Any], what: str = "The work", *,
              latest: bool = False, handle: bool = False) -> Job:
        """Run ``fn()`` (``fn(job)`` with ``handle``) in the background; ``what``
        names it in unexpected failures. With ``latest`` a running job is replaced;
        without, starting while one runs is a programming error."""
        if self.running:
            if not latest:
                raise RuntimeError("a background task is already running")
            self._drop()
        self._number += 1
        job = Job(self._number, self._relay)
        self._current = job
        self.what = what
        self._pool.start(_Runnable(fn, job, handle))
        self.started.emit()
        self.running_changed.emit(True)
        return job

    def cancel(self) -> None:
        """Stop waiting for the current job; its result will be ignored."""
        if self._current is not None:
            self._drop()
            self.running_changed.emit(False)

    def wait(self, msecs: int = -1) -> bool:
        """Block until no job runs (shutdown and tests); False on timeout."""
        return self._pool.waitForDone(msecs)

    def _drop(self) -> None:
        assert self._current is not None
        self._current._cancelled.set()
        self._current = None

    def _progress(self, number: int, value: Any) -> None:
        if self._current is not None and number == self._current.number:
            self.progress.emit(value)

    def _finish(self, number: int, ok: bool, value: Any) -> None:
        if self._current is None or number != self._current.number:
            return  # cancelled or replaced meanwhile
        self._current = None
        self.running_changed.emit(False)
        if ok:
            self.succeeded.emit(value)
        else:
            self.failed.emit(describe_failure(value, self.what), value)


def describe_failure(error: BaseException, what: str) -> str:
    """A one-line message for ``error``: a StrataError's own words, else what failed."""
    from graph.errors import StrataError

    if isinstance(error, StrataError):
        return str(error)
    lines = str(error).strip().splitlines()
    detail = lines[0][:300] if lines else ""
    return f"{what} failed unexpectedly: {type(error).__name__}" + (
        f": {detail}" if detail else "")
