"""A worker started ahead of need takes the next run: torch is loaded before Train.
An unused one exits when let go."""

from __future__ import annotations

import time

from graph.builder import Builder
from runtime.events import FinishedEvent
from runtime.worker import StandbyWorker, TrainingSession


def tiny():
    b = Builder("tiny")
    x = b.add("Input", "x", shape=[2])
    b.chain(x, ("Linear", {"out_features": 2}, "fc"), ("Output", {}, "y"))
    return b.done({"dataset": {"name": "spirals", "size": 64}, "epochs": 1,
                   "batch_size": 32})


def wait(condition, seconds=150) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_a_standby_worker_runs_the_next_session_and_an_unused_one_exits(tmp_path):
    used, unused = StandbyWorker(), StandbyWorker()
    used.start()
    unused.start()
    assert wait(lambda: used.ready and unused.ready)
    session = TrainingSession(tiny(), out_dir=tmp_path / "run", run_log=False,
                              tensorboard=False)
    session.start(used)
    assert used.take() is None  # taken once
    process = unused._process
    unused.close()
    assert wait(lambda: session.final_event is not None)
    assert isinstance(session.final_event, FinishedEvent)
    process.join(timeout=150)
    assert not process.is_alive()
