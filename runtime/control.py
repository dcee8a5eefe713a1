"""Commands for a running training: pause, resume, stop, take a checkpoint now.

Any thread may send a command (the worker's listener thread, a signal handler, a test);
the engine looks between two optimizer steps. Looking must cost nothing on the common
path, so the engine reads one plain attribute (``pending``) per step and takes the lock
only when something arrived.
"""

from __future__ import annotations

import threading
from collections import deque

COMMANDS = ("pause", "resume", "stop", "checkpoint")


class Control:
    """A thread-safe command queue polled by the engine between steps."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._queue: deque[str] = deque()
        self.pending = False  # read without the lock: a stale False only delays by a step
        self.stop_requested = False

    # ---------------------------------------------------------------- senders
    def send(self, command: str) -> None:
        if command not in COMMANDS:
            raise ValueError(f"unknown command {command!r}, expected one of {COMMANDS}")
        with self._cond:
            self._queue.append(command)
            if command == "stop":
                self.stop_requested = True
            self.pending = True
            self._cond.notify_all()

    def pause(self) -> None:
        self.send("pause")

    def resume(self) -> None:
        self.send("resume")

    def stop(self) -> None:
        self.send("stop")

    def checkpoint(self) -> None:
        self.send("checkpoint")

    # ---------------------------------------------------------------- engine side
    def take(self) -> list[str]:
        """Every command sent since the last call, oldest first."""
        with self._cond:
            commands = list(self._queue)
            self._queue.clear()
            self.pending = False
            return commands

    def wait(self, timeout: float | None = None) -> list[str]:
        """Block until a command arrives (or ``timeout`` seconds pass), then take all."""
        with self._cond:
            if not self._queue:
                self._cond.wait(timeout)
        return self.take()
