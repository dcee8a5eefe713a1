"""Training in its own process, so the editor stays responsive and survives a crash.

The parent (the studio) holds a ``TrainingSession``: ``start()`` spawns a fresh Python
process (the "spawn" start method: nothing of the editor's state is inherited) and hands
it an immutable snapshot of the run: the document as a plain dict, the setup as a dict,
the output folder, which the worker makes a run folder (``runtime.runfolder``: snapshot,
generated code, metrics log, TensorBoard event files, checkpoints). Two one-way pipes connect them:

- commands, parent -> worker: "pause", "resume", "stop", "checkpoint". A listener thread
  in the worker passes them to the engine's ``Control``. If the parent disappears, the
  pipe closes and the worker stops cleanly (writing a checkpoint).
- events, worker -> parent: the engine's events, pickled. A reader thread in the parent
  collects them into a queue the GUI drains with ``poll_events`` on its timer, so the
  GUI never blocks on the pipe.

A worker that dies without saying goodbye (killed, segfault, out of memory killer) closes
its end of the event pipe; the reader then reports a ``FailedEvent`` with the exit
status and the last checkpoint the worker announced, which was written atomically and
is therefore intact.
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import signal
import threading
from collections import deque
from pathlib import Path
from typing import Any

from .events import TERMINAL, CheckpointEvent, FailedEvent
from .standby import StandbyWorker
from .tensorboard import tee

_CONTEXT = multiprocessing.get_context("spawn")


# ====================================================================== worker side
def worker_main(payload: dict[str, Any], events, commands, bundle=None) -> None:
    """Entry point of the training process (runs in the child); ``bundle``: the
    run's dataset when a standby process loaded it already (``runtime.standby``)."""
    # The parent decides what Ctrl-C in its terminal means; the worker ignores it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import torch

    from .control import Control
    from .engine import EngineOptions, Trainer

    if payload.get("threads"):
        torch.set_num_threads(int(payload["threads"]))
    # This process is a daemon (it must end with the studio), and a daemon may not
    # start children; the streaming path's DataLoader workers are its children all the
    # same. They are daemons themselves and end with it, and this process still stops
    # when the studio goes (its command pipe closes), so the rule is lifted here.
    multiprocessing.current_process()._config["daemon"] = False  # type: ignore[attr-defined]
    control = Control()
    broken = threading.Event()

    def listen() -> None:
        while True:
            try:
                command = commands.recv()
            except (EOFError, OSError):  # the parent is gone: stop, keeping a checkpoint
                control.stop()
                return
            try:
                control.send(command)
            except ValueError:
                pass  # an unknown command from a newer parent: ignore it

    def emit(event) -> None:
        if broken.is_set():
            return
        try:
            events.send(event)
        except (BrokenPipeError, OSError):
            broken.set()
            control.stop()

    threading.Thread(target=listen, name="strata-commands", daemon=True).start()
    options = EngineOptions(**payload.get("options", {}))
    log = _run_log(payload)
    trainer = Trainer(payload["document"], payload.get("setup"),
                      emit=emit if log is None else tee(log, emit), control=control,
                      out_dir=payload.get("out_dir"), resume=payload.get("resume"),
                      bundle=bundle, options=options)
    try:
        trainer.run()
    finally:
        if log is not None:
            log.close()
    events.close()


def _run_log(payload: dict[str, Any]):
    """The run folder's sinks (snapshot, metrics log, TensorBoard), or None when the
    parent asked for none or the folder cannot be written: a run is never refused for
    its log (the engine itself reports a folder it cannot write checkpoints to)."""
    if not payload.get("run_log") or not payload.get("out_dir"):
        return None
    from graph.errors import StrataError

    from .runfolder import RunLog

    args = (payload["out_dir"], payload["document"], payload.get("setup"))
    tensorboard = payload.get("tensorboard", True)
    try:
        try:
            return RunLog(*args, tensorboard=tensorboard, mlflow=payload.get("mlflow"))
        except (StrataError, ImportError):  # MLflow missing or its store refused:
            if payload.get("mlflow") is None:  # the run keeps its own log
                raise
            return RunLog(*args, tensorboard=tensorboard, snapshot=False)
    except (OSError, StrataError, ImportError):
        return None


# ====================================================================== parent side
def describe_exit(code: int | None) -> str:
    """``-9`` -> "it was killed (signal SIGKILL)", in words for a FailedEvent."""
    if code is None:
        return "it stopped responding"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        what = {"SIGKILL": "it was killed", "SIGSEGV": "it crashed (segmentation fault)",
                "SIGTERM": "it was terminated", "SIGABRT": "it aborted",
                "SIGBUS": "it crashed (bus error)"}.get(name, "it was stopped by a signal")
        return f"{what} ({name}, exit status {code})"
    return f"it exited with status {code}"


class TrainingSession:
    """A training run in a worker process, seen from the parent.

    ``poll_events`` never blocks: call it from a GUI timer. Exactly one terminal event
    (``FinishedEvent`` or ``FailedEvent``) ends every session, even one whose worker
    died.
    """

    def __init__(self, document, setup=None, *, out_dir: str | Path,
                 resume: str | Path | None = None, options=None,
                 threads: int | None = None, run_log: bool = True,
                 tensorboard: bool = True, mlflow: str | None = None) -> None:
        raw = document if isinstance(document, dict) else document.to_dict()
        if setup is not None and not isinstance(setup, dict):
            setup = setup.to_dict()
        self._payload = {
            "document": raw, "setup": setup, "out_dir": str(out_dir),
            "resume": str(resume) if resume is not None else None,
            "options": dataclasses.asdict(options) if options is not None else {},
            "threads": threads, "run_log": run_log, "tensorboard": tensorboard,
            "mlflow": mlflow,  # a tracking URI ("" for the default), None: no MLflow
        }
        self._queue: deque = deque()
        self._process: multiprocessing.process.BaseProcess | None = None
        self._commands: Any = None  # the parent's end of the command pipe
        self._reader: threading.Thread | None = None
        self._done = threading.Event()
        self.last_checkpoint: str | None = None
        self.final_event = None

    # ---------------------------------------------------------------- lifecycle
    def start(self, standby: StandbyWorker | None = None) -> None:
        """Start the worker: hand the run to ``standby`` when it is ready (torch is
        loaded there already), else spawn a fresh process."""
        if self._process is not None:
            raise RuntimeError("this training session was already started")
        taken = standby.hand_over(self._payload) if standby is not None else None
        if taken is not None:
            process, event_recv, self._commands = taken
            self._process = process
            self._reader = threading.Thread(target=self._read, args=(event_recv, process),
                                            name="strata-events", daemon=True)
            self._reader.start()
            return
        event_recv, event_send = _CONTEXT.Pipe(duplex=False)
        command_recv, command_send = _CONTEXT.Pipe(duplex=False)
        process = self._process = _CONTEXT.Process(
            target=worker_main, args=(self._payload, event_send, command_recv),
            name="strata-training", daemon=True)
        process.start()
        # Close our copies of the child's ends, so its death reads as end-of-file.
        event_send.close()
        command_recv.close()
        self._commands = command_send
        self._reader = threading.Thread(target=self._read, args=(event_recv, process),
                                        name="strata-events", daemon=True)
        self._reader.start()

    def _read(self, conn, process: multiprocessing.process.BaseProcess) -> None:
        while True:
            try:
                event = conn.recv()
            except (EOFError, OSError):
                break
            except Exception as e:  # noqa: BLE001 - an unreadable event ends the stream
                self._finish(FailedEvent(f"The training process sent an unreadable "
                                         f"message ({type(e).__name__}: {e})",
                                         checkpoint=self.last_checkpoint))
                break
            if isinstance(event, CheckpointEvent) and event.reason != "best":
                self.last_checkpoint = event.path
            if isinstance(event, TERMINAL):
                self._finish(event)
            else:
                self._queue.append(event)
        conn.close()
        process.join(timeout=10)
        if self.final_event is None:
            code = process.exitcode
            self._finish(FailedEvent(
                f"The training process ended unexpectedly: {describe_exit(code)}. "
                + ("The last checkpoint is intact and can be resumed."
                   if self.last_checkpoint else "No checkpoint had been written yet."),
                exit_status=code, checkpoint=self.last_checkpoint))

    def _finish(self, event) -> None:
        if self.final_event is None:
            self.final_event = event
            self._queue.append(event)
        self._done.set()

    # ---------------------------------------------------------------- commands
    def _send(self, command: str) -> None:
        if self._commands is None or self._done.is_set():
            return
        try:
            self._commands.send(command)
        except (BrokenPipeError, OSError):
            pass  # the worker is gone; the reader reports how

    def pause(self) -> None:
        self._send("pause")

    def resume(self) -> None:
        self._send("resume")

    def stop(self) -> None:
        """Ask the run to stop after the current step (it writes a checkpoint)."""
        self._send("stop")

    def checkpoint(self) -> None:
        self._send("checkpoint")

    def kill(self) -> None:
        """End the worker at once (SIGKILL); the session then reports it failed."""
        if self._process is not None and self._process.is_alive():
            self._process.kill()

    # ---------------------------------------------------------------- events
    def poll_events(self, max_n: int = 100) -> list:
        """Up to ``max_n`` events received so far, oldest first; never blocks."""
        out: list[Any] = []
        while self._queue and len(out) < max_n:
            out.append(self._queue.popleft())
        return out

    def is_alive(self) -> bool:
        return self._process is not None and self._process.is_alive()

    @property
    def finished(self) -> bool:
        """True once the terminal event has been received (it may still be queued)."""
        return self._done.is_set()

    @property
    def exit_status(self) -> int | None:
        return self._process.exitcode if self._process is not None else None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run has ended (for tests and scripts); True if it has."""
        return self._done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Stop the worker if it still runs and release the pipes."""
        if self._process is None:
            return
        if self._process.is_alive():
            self.stop()
            self._process.join(timeout)
            self.kill()
        if self._reader is not None:
            self._reader.join(timeout)
        if self._commands is not None:
            self._commands.close()
            self._commands = None
