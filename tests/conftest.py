"""Test-wide setup: offscreen Qt before any QApplication, one torch thread per worker,
and the check that no test module leaves threads running."""

import os
import sys
import threading
import time

import pytest

# Bytecode is written even where the environment says not to (PYTHONDONTWRITEBYTECODE,
# set on the shared development machine): every process the suite starts (each xdist
# worker, the worker process of every training run, each `strata` subprocess) compiled
# Strata's ~270 modules from source again, most of a second of CPU each. A process
# started with -B still reads cached bytecode, so it is enough that this one writes it.
sys.dont_write_bytecode = False
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("STRATA_TESTING", "1")
# Windows built by the tests would each start a standby training process.
os.environ.setdefault("STRATA_PRESTART", "0")

try:  # the graph and runtime tests must not need Qt, but they do need torch
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass



@pytest.fixture(autouse=True)
def torch_seeded(request):
    """torch's global generator seeded before each test, as pytest-randomly does for
    ``random`` and numpy (it leaves torch alone): a test's initial weights and random
    inputs then depend on the run's seed (``--randomly-seed=N`` repeats them), not on
    which tests ran before it in the same worker."""
    if "torch" in sys.modules:
        seed = getattr(request.config.option, "randomly_seed", None)
        sys.modules["torch"].manual_seed(seed if isinstance(seed, int) else 0)


THREAD_GRACE_S = 10.0  # a finishing job may need a moment on a loaded machine


@pytest.fixture(scope="module", autouse=True)
def no_leaked_threads(request):
    """Fail a test module that leaves Python threads running after its tests and
    fixtures are done (a thread alive at exit can crash the interpreter as Qt and
    torch shut down). Background work must be cancelled or finished by its owner."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + THREAD_GRACE_S
    alive = []
    for thread in set(threading.enumerate()) - before:
        if isinstance(thread, threading._DummyThread):
            continue  # a thread Qt started (a QThreadPool's): Qt owns and joins it
        if thread.daemon and not _ours(thread):
            continue  # a library's own monitor (tqdm_monitor...), alive by design
        thread.join(max(0.0, deadline - time.monotonic()))
        if thread.is_alive():
            alive.append(thread)
    if alive:
        names = ", ".join(f"{t.name} (target {getattr(t, '_target', None)!r})"
                          for t in alive)
        pytest.fail(f"{request.node.nodeid} left threads running: {names}", pytrace=False)


def _ours(thread: threading.Thread) -> bool:
    """Whether Strata's code (or a test) started ``thread``: its class or target lives
    in graph, runtime, studio or the tests."""
    target = getattr(thread, "_target", None)
    modules = [type(thread).__module__, getattr(target, "__module__", None) or ""]
    return any(m.split(".")[0] in ("graph", "runtime", "studio") or m.startswith("test")
               for m in modules)
