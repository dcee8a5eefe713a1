"""One piece of slow work (tracing, ONNX export) at a time, off the GUI thread.

``BackgroundTask.start(fn)`` runs ``fn()`` on a private ``QThreadPool`` thread; exactly
one of ``succeeded(result)`` or ``failed(message, error)`` then arrives on the GUI
thread. A ``StrataError`` is a message in the user's terms and travels as it is; any
other exception is reduced to one line (never a traceback in the window). ``cancel``
only forgets the job: Python code cannot be interrupted, so its result is dropped when
it arrives. Deleting the task waits for a running job (the pool's destructor), so a
job never outlives the objects it reports to.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    """Lives on the GUI thread; signals emitted from the pool thread are queued to it."""

    done = Signal(int, bool, object)  # job number, succeeded, result or exception


class _Job(QRunnable):
    def __init__(self, number: int, fn, relay: _Relay, what: str) -> None:
        super().__init__()
        self.number, self.fn, self.relay, self.what = number, fn, relay, what

    def run(self) -> None:
        try:
            ok, value = True, self.fn()
        except Exception as e:  # noqa: BLE001 - every failure becomes a message
            ok, value = False, e
        try:
            self.relay.done.emit(self.number, ok, value)
        except RuntimeError:
            pass  # the dialog is gone; nobody waits for the answer


class BackgroundTask(QObject):
    started = Signal()
    succeeded = Signal(object)  # the function's result
    failed = Signal(str, object)  # message in the user's terms, the exception
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._relay = _Relay(self)
        self._relay.done.connect(self._finish)
        self._number = 0
        self._current: int | None = None
        self.what = ""

    @property
    def running(self) -> bool:
        return self._current is not None

    def start(self, fn, what: str = "The work") -> None:
        """Run ``fn()`` in the background; ``what`` names it in unexpected failures."""
        if self.running:
            raise RuntimeError("a background task is already running")
        self._number += 1
        self._current = self._number
        self.what = what
        self._pool.start(_Job(self._number, fn, self._relay, what))
        self.started.emit()
        self.running_changed.emit(True)

    def cancel(self) -> None:
        """Stop waiting for the current job; its result will be ignored."""
        if self._current is not None:
            self._current = None
            self.running_changed.emit(False)

    def wait(self, msecs: int = -1) -> bool:
        """Block until no job runs (shutdown and tests); False on timeout."""
        return self._pool.waitForDone(msecs)

    def _finish(self, number: int, ok: bool, value) -> None:
        if number != self._current:
            return  # cancelled meanwhile
        self._current = None
        self.running_changed.emit(False)
        if ok:
            self.succeeded.emit(value)
        else:
            self.failed.emit(describe_failure(value, self.what), value)


def describe_failure(error: BaseException, what: str) -> str:
    from graph.errors import StrataError

    if isinstance(error, StrataError):
        return str(error)
    lines = str(error).strip().splitlines()
    detail = lines[0][:300] if lines else ""
    return f"{what} failed unexpectedly: {type(error).__name__}" + (
        f": {detail}" if detail else "")
