"""A training process started ahead of need, so Train starts training within a second.

Most of a cold run's first two seconds are spent before its first step, and little of
it on the run itself: importing torch, then ``torch._dynamo`` (which the first
optimizer pulls in: 1.5-2.5 s on a 2-core machine), compiling the first kernels and
making the dataset. A ``StandbyWorker`` is a worker process spawned while the user
sets up; in it:

1. ``warm_up`` imports torch, the engine and what the first optimizer needs, and takes
   one step of a tiny convolution network with each common optimizer; the process then
   says ``("warm",)``.
2. ``prepare(document, setup)`` hints (the studio sends one for the network shown,
   and again when its data setting changes): the process loads that dataset into its
   ``DatasetCache`` and rehearses the run (the real engine, one step, its run folder
   written to a temporary folder and deleted), so the network's own kernels, the
   engine's lazy imports and TensorBoard's are ready; it answers
   ``("prepared", key)``. Only the newest waiting hint is rehearsed.
3. ``hand_over(payload)`` gives it the run: it trains it exactly as a fresh worker
   would (``runtime.worker.worker_main``), with the cached dataset when the run's data
   setting is the rehearsed one (same dataset options, split, seed, device, data path
   and, for files, the same modification time).

A standby serves one run. Nothing here changes what a run computes: the engine seeds
everything itself, and a cached dataset is the one ``load_dataset`` would make again.
Messages travel on one duplex pipe the parent only ever polls (no thread blocks on
it), so closing it is what ends an unused standby.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import tempfile
import threading
from typing import Any

_CONTEXT = multiprocessing.get_context("spawn")


# ====================================================================== child side
def warm_up(threads: int | None = None) -> None:
    """Import and run once what every run's first step needs (see the module doc)."""
    import torch
    from torch import nn

    from . import engine  # noqa: F401 - the point is to have it loaded

    if threads:
        torch.set_num_threads(int(threads))
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 3))
    x, y = torch.randn(4, 1, 4, 4), torch.zeros(4, dtype=torch.long)
    # Building the first optimizer imports torch._dynamo: the largest single cost.
    for make in (torch.optim.Adam, torch.optim.AdamW, torch.optim.SGD):
        optimizer = make(model.parameters(), lr=1e-3)
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()


def dataset_key(document: dict, setup: dict | None) -> str | None:
    """What decides a run's dataset, as a string (None: no valid data setting). Two
    runs with the same key load the same data."""
    from .setup import SetupError

    try:  # no torch here: the studio asks on its GUI thread
        chosen = _setup(document, setup)
    except (SetupError, TypeError, ValueError):
        return None
    spec = dict(chosen.dataset)
    path = spec.get("path")
    if isinstance(path, str) and path:
        try:  # data edited on disk since it was loaded is loaded again
            spec["_mtime"] = os.stat(os.path.expanduser(path)).st_mtime_ns
        except OSError:
            return None
    return json.dumps([spec, chosen.seed, chosen.val_fraction, chosen.test_fraction,
                       chosen.data_path, chosen.strict_files, chosen.device],
                      sort_keys=True, default=str)


def _setup(document: dict, setup: dict | None):
    """The run's setup: ``setup``, else the document's own (as the engine reads it)."""
    from .setup import TrainingSetup

    return TrainingSetup.from_dict(setup if setup is not None
                                   else document.get("training") or {})


class DatasetCache:
    """The dataset of the last rehearsal, by ``dataset_key`` (one is kept: a standby
    serves one run)."""

    def __init__(self) -> None:
        self.key: str | None = None
        self.bundle: Any = None  # runtime.datasets.DatasetBundle

    def load(self, document: dict, setup: dict | None):
        """The dataset for this document and setup, loaded now unless cached."""
        key = dataset_key(document, setup)
        if key is None:
            return None
        if key != self.key:
            from .datasets import load_dataset
            from .setup import resolve_device

            chosen = _setup(document, setup)
            self.key, self.bundle = None, None  # a failed load leaves nothing cached
            self.bundle = load_dataset(
                chosen.dataset, seed=chosen.seed, val_fraction=chosen.val_fraction,
                test_fraction=chosen.test_fraction, data_path=chosen.data_path,
                strict_files=chosen.strict_files,
                device=str(resolve_device(chosen.device)))
            self.key = key
        return self.bundle

    def bundle_for(self, payload: dict[str, Any]):
        """The cached dataset when it is the one ``payload``'s run would load."""
        key = dataset_key(payload.get("document") or {}, payload.get("setup"))
        return self.bundle if key is not None and key == self.key else None


def rehearse(document: dict, setup: dict | None, cache: DatasetCache,
             options: dict | None = None) -> str | None:
    """Load the dataset and train one step of the network on it, keeping nothing but
    the dataset; returns its key (None when the setting cannot load). A network or
    setup the run would refuse is not rehearsed: the run says what is wrong."""
    from .engine import EngineOptions, Trainer
    from .events import StepEvent
    from .tensorboard import tee

    try:
        bundle = cache.load(document, setup)
    except Exception:  # noqa: BLE001 - the run itself reports a dataset it cannot load
        return None
    if bundle is None:
        return None
    if getattr(bundle, "streaming", False):
        return cache.key  # no rehearsal: it would start DataLoader worker processes
    trainer: Trainer | None = None

    def stop_after_first_step(event) -> None:
        if isinstance(event, StepEvent) and trainer is not None:
            trainer.control.stop()

    # The run writes its folder (metrics, TensorBoard: its imports cost most of a
    # second): rehearsed into a folder thrown away after.
    with tempfile.TemporaryDirectory(prefix="strata-rehearsal-") as folder:
        log = None
        try:
            from .runfolder import RunLog

            log = RunLog(folder, document, setup)
            trainer = Trainer(document, setup, emit=tee(log, stop_after_first_step),
                              bundle=bundle, options=EngineOptions(**(options or {})))
            trainer.run()  # never raises for what a user can cause: events say it
        except Exception:  # noqa: BLE001, S110 - a rehearsal never takes the standby
            pass  # down; the run itself reports what failed here
        finally:
            if log is not None:
                log.close()
    return cache.key


def standby_main(conn, events, commands, threads: int | None = None) -> None:
    """The standby process: warm up, rehearse hinted runs, then run the one handed
    over (end of file on ``conn``: the studio let it go, nothing to do)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from .worker import worker_main

    warm_up(threads)
    cache = DatasetCache()
    payload = None
    try:
        _tell(conn, ("warm",))
        while payload is None:
            message = conn.recv()
            while message[0] == "prepare" and conn.poll():
                message = conn.recv()  # only the newest hint is worth rehearsing
            if message[0] == "run":
                payload = message[1]
            elif message[0] == "prepare":
                key = rehearse(message[1], message[2], cache, message[3])
                _tell(conn, ("prepared", key))
    except (EOFError, OSError):
        return
    finally:
        conn.close()
    worker_main(payload, events, commands, bundle=cache.bundle_for(payload))


def _tell(conn, message: tuple) -> None:
    """Say ``message`` to the studio, which may have closed its end already: a Train
    pressed during the warm-up or a rehearsal hands the run over and lets the pipe go,
    and the run is still in the pipe to be read (a failed send must not end the
    process: the run would be lost, the process exiting 0 without a word)."""
    try:
        conn.send(message)
    except OSError:
        pass


# ====================================================================== parent side
class StandbyWorker:
    """A training process spawned before Train is pressed; ``TrainingSession.start
    (standby=...)`` hands it the run. Spawning takes a few seconds on a loaded machine:
    ``start`` runs it on a background thread. ``ready``: it is up and can take a run;
    ``warm``: its warm-up is done; ``prepared``: the key of the dataset it holds."""

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads
        self._process: multiprocessing.process.BaseProcess | None = None
        self._pipes: tuple | None = None  # (duplex conn, event recv, command send)
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._warm = False
        self._hint: tuple | None = None  # sent once the process is up
        self.prepared: str | None = None

    def start(self) -> None:
        threading.Thread(target=self._spawn, name="strata-standby", daemon=True).start()

    def _spawn(self) -> None:
        conn, child_conn = _CONTEXT.Pipe(duplex=True)
        event_recv, event_send = _CONTEXT.Pipe(duplex=False)
        command_recv, command_send = _CONTEXT.Pipe(duplex=False)
        process = _CONTEXT.Process(target=standby_main,
                                   args=(child_conn, event_send, command_recv,
                                         self.threads),
                                   name="strata-training", daemon=True)
        try:
            process.start()
        except Exception:  # noqa: BLE001 - no standby: the run spawns its own worker
            return
        child_conn.close()
        event_send.close()
        command_recv.close()
        with self._lock:
            self._process = process
            self._pipes = (conn, event_recv, command_send)
            hint, self._hint = self._hint, None
        self._ready.set()
        if hint is not None:
            self.prepare(*hint)

    @property
    def ready(self) -> bool:
        return self._ready.is_set() and self._process is not None \
            and self._process.is_alive()

    @property
    def warm(self) -> bool:
        """Its warm-up is done (torch and the first step's code are loaded)."""
        self._read()
        return self._warm

    def _read(self) -> None:
        """Take the process's messages (never blocks)."""
        with self._lock:
            if self._pipes is None:
                return
            conn = self._pipes[0]
            try:
                while conn.poll():
                    message = conn.recv()
                    if message[0] == "warm":
                        self._warm = True
                    elif message[0] == "prepared":
                        self.prepared = message[1]
            except (EOFError, OSError):
                pass  # it died: ``ready`` says so

    def prepare(self, document: dict, setup: dict | None = None,
                options: dict | None = None) -> None:
        """Hint the run to come: the process loads its dataset and rehearses it."""
        with self._lock:
            if self._pipes is None:
                if not self._ready.is_set():
                    self._hint = (document, setup, options)
                return
            try:
                self._pipes[0].send(("prepare", document, setup, options))
            except (BrokenPipeError, OSError):
                pass

    def hand_over(self, payload: dict[str, Any]):
        """Give the process its run: (process, event pipe, command pipe), or None when
        no live standby is ready (then the caller spawns a worker). Taken once."""
        self._read()
        with self._lock:
            if not self.ready or self._pipes is None:
                return None
            conn, event_recv, command_send = self._pipes
            process = self._process
            self._process, self._pipes = None, None
        try:
            conn.send(("run", payload))
        except (BrokenPipeError, OSError):  # it died meanwhile
            for c in (event_recv, command_send):
                c.close()
            return None
        finally:
            conn.close()
        return process, event_recv, command_send

    def close(self) -> None:
        """Let an unused standby go (its pipe closes: it exits)."""
        with self._lock:
            pipes, process = self._pipes, self._process
            self._process, self._pipes = None, None
        if pipes is not None:
            for conn in pipes:
                conn.close()
        if process is not None:
            process.join(timeout=0.1)
