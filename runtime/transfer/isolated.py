"""Running the user's code in a separate process, with a time limit and a cancel.

Importing a network from a ``.py`` file runs that file, as opening a notebook does. It
used to run inside the studio's own process: a file with an infinite loop hung the
window for good, and ``strata import`` could only be stopped with a raw traceback.
``run_isolated(fn, *args)`` runs ``fn`` in a fresh (spawned) Python process and returns
its result; the parent stops the child when the time limit passes
(``IsolatedTimeout``), when ``cancel`` is set or on Ctrl-C (``IsolatedCancelled``),
and reports a child that dies (``IsolatedCrash``). The child ignores Ctrl-C itself, so
the terminal's interrupt reaches the parent only and is reported in one line.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

from graph.errors import StrataError

IMPORT_TIMEOUT = 120.0  # seconds: tracing a large network takes seconds, not minutes
_POLL = 0.05


class IsolatedTimeout(StrataError):
    """The user's code ran longer than the time limit and was stopped."""


class IsolatedCancelled(StrataError):
    """The user cancelled (the Cancel button, or Ctrl-C); the child was stopped."""


class IsolatedCrash(StrataError):
    """The child process died without an answer (killed, out of memory, a crash)."""


def run_isolated(fn: Callable[..., Any], *args: Any, timeout: float = IMPORT_TIMEOUT,
                 cancel: threading.Event | None = None, what: str = "The import") -> Any:
    """``fn(*args)`` in a separate process; its result, or its StrataError re-raised."""
    ctx = _context()
    receiver, sender = ctx.Pipe(duplex=False)
    process = ctx.Process(target=_child, args=(sender, fn, args), daemon=True,
                          name="strata-isolated")
    deadline = time.monotonic() + timeout
    code = None
    try:
        _start(process, cancel, deadline, timeout, what)
        sender.close()
        while True:
            if receiver.poll(_POLL):
                try:
                    status, value = pickle.loads(receiver.recv_bytes())
                except (EOFError, OSError):
                    status, value = "died", None
                break
            if not process.is_alive() and not receiver.poll(0):
                status, value = "died", None
                break
            _check(cancel, deadline, timeout, what)
    except KeyboardInterrupt:
        raise IsolatedCancelled(f"{what} was interrupted (Ctrl-C); nothing was "
                                "imported.") from None
    finally:
        code = _stop(process)
        receiver.close()
        sender.close()
    if status == "ok":
        return value
    if status == "error":
        raise value
    raise IsolatedCrash(f"{what} stopped unexpectedly: the process running the file's "
                        f"code ended (exit code {code}) without an answer. Nothing was "
                        "imported.")


def _check(cancel: threading.Event | None, deadline: float, timeout: float,
           what: str) -> None:
    if cancel is not None and cancel.is_set():
        raise IsolatedCancelled(f"{what} was cancelled; nothing was imported.")
    if time.monotonic() > deadline:
        raise IsolatedTimeout(
            f"{what} was stopped after {timeout:g} s: the file's code was still "
            "running (an endless loop, or a network too large to trace). "
            "Nothing was imported.")


def _start(process, cancel: threading.Event | None, deadline: float, timeout: float,
           what: str) -> None:
    """``process.start()``, interruptible. The first start through the fork server
    waits until the server has imported torch (seconds on a loaded machine); a cancel,
    the time limit or Ctrl-C meanwhile kills the starting server, which ends the wait
    at once (the next import starts a fresh server)."""
    done = threading.Event()
    failed: list[BaseException] = []

    def start() -> None:
        try:
            process.start()
        except BaseException as e:  # noqa: BLE001 - handed to the caller's thread
            failed.append(e)
        finally:
            done.set()

    starter = threading.Thread(target=start, name="strata-isolated-start", daemon=True)
    starter.start()
    try:
        while not done.wait(_POLL):
            _check(cancel, deadline, timeout, what)
    except BaseException:
        if not done.is_set():
            _kill_fork_server()
        starter.join(5.0)
        raise
    starter.join()
    if failed:
        raise failed[0]


def _kill_fork_server() -> None:
    """Stop multiprocessing's fork server (only while a start waits on it: a process it
    already forked runs on regardless) and forget it, so the next start makes one."""
    import os
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    pid = getattr(server, "_forkserver_pid", None)
    if server is None or pid is None:
        return
    with contextlib.suppress(OSError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(OSError, AttributeError, TypeError):
        server._stop()  # reaps it and clears the address, under its own lock


_PRELOAD = ["torch", "graph.importers", "runtime.transfer.service"]


def _context():
    """A fork server where there is one: it imports torch once, and each import then
    starts as a fork of it in milliseconds (a spawned Python needs seconds to import
    torch). Never a plain fork of this process, which may run Qt threads."""
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


def _stop(process) -> int | None:
    """End ``process`` (terminate, then kill) and return its exit code."""
    if process.is_alive():
        process.terminate()
        process.join(2.0)
    if process.is_alive():
        process.kill()
        process.join(2.0)
    code = process.exitcode
    with contextlib.suppress(ValueError, AttributeError):
        process.close()
    return code


def _child(sender, fn, args) -> None:
    # The terminal's Ctrl-C goes to the whole process group: the parent answers it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        result = ("ok", fn(*args))
    except StrataError as e:
        result = ("error", _portable(e))
    except Exception as e:  # noqa: BLE001 - the user's code may raise anything
        result = ("error", StrataError(f"{type(e).__name__}: {e}"))
    # Plain pickle, whole bytes: multiprocessing's own pickler would send tensors as
    # shared memory that vanishes when this process ends.
    try:
        data = pickle.dumps(result)
    except Exception as e:  # noqa: BLE001 - a result that cannot be pickled
        data = pickle.dumps(("error", StrataError(f"the result could not be sent "
                                                  f"back: {e}")))
    try:
        sender.send_bytes(data)
    finally:
        sender.close()


def _portable(error: StrataError) -> StrataError:
    """``error`` if it survives pickling unchanged, else a plain StrataError with its
    message (an exception whose constructor takes other arguments than its text)."""
    try:
        copy = pickle.loads(pickle.dumps(error))
        if str(copy) == str(error) and type(copy) is type(error):
            return error
    except Exception:  # noqa: BLE001, S110 - fall back to the message
        pass
    return StrataError(str(error))
