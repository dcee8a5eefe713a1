"""A worker started ahead of need takes the next run: torch is loaded before Train, and
the dataset of the network shown is loaded (and the run rehearsed) before it is asked
for. An unused standby exits when let go."""

from __future__ import annotations

import time

from graph.builder import Builder
from runtime.events import FinishedEvent, StepEvent
from runtime.standby import DatasetCache, dataset_key, rehearse
from runtime.worker import StandbyWorker, TrainingSession


def tiny(**data):
    b = Builder("tiny")
    x = b.add("Input", "x", shape=[2])
    b.chain(x, ("Linear", {"out_features": 2}, "fc"), ("Output", {}, "y"))
    return b.done({"dataset": {"name": "spirals", "size": 64, **data}, "epochs": 1,
                   "batch_size": 32})


def wait(condition, seconds=150) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_a_standby_worker_prepares_and_runs_the_next_session_and_an_unused_one_exits(
        tmp_path):
    used, unused = StandbyWorker(threads=1), StandbyWorker()
    document = tiny().to_dict()
    used.prepare(document)  # before it is up: sent once it is
    used.start()
    unused.start()
    assert wait(lambda: used.ready and unused.ready)
    # Warm: torch and the first step's code loaded; prepared: the dataset of the
    # hinted document loaded and its run rehearsed.
    assert wait(lambda: used.warm and used.prepared is not None)
    assert used.prepared == dataset_key(document, None)
    session = TrainingSession(document, out_dir=tmp_path / "run", run_log=False,
                              tensorboard=False)
    session.start(used)
    assert used.hand_over({}) is None  # taken once
    process = unused._process
    unused.close()
    assert wait(lambda: session.final_event is not None)
    assert isinstance(session.final_event, FinishedEvent)
    assert session.final_event.summary["steps"] > 0
    process.join(timeout=150)
    assert not process.is_alive()


def test_the_rehearsed_dataset_serves_only_a_run_with_the_same_data_setting(tmp_path):
    document = tiny().to_dict()
    cache = DatasetCache()
    key = rehearse(document, None, cache)
    assert key == dataset_key(document, None) and cache.bundle is not None
    payload = {"document": document, "setup": None}
    assert cache.bundle_for(payload) is cache.bundle
    # Another seed, size or split is another dataset: loaded by the run itself.
    for change in ({"seed": 1}, {"val_fraction": 0.3}):
        other = dict(document, training={**document["training"], **change})
        assert cache.bundle_for({"document": other, "setup": None}) is None
    assert cache.bundle_for({"document": tiny(size=80).to_dict(), "setup": None}) is None
    # The run given the cached dataset trains as one that loads it itself.
    from runtime.engine import Trainer

    runs = []
    for bundle in (cache.bundle_for(payload), None):
        events = []
        Trainer(document, emit=events.append, bundle=bundle).run()
        runs.append([e.loss for e in events if isinstance(e, StepEvent)])
    assert runs[0] and runs[0] == runs[1]


def test_a_data_file_changed_on_disk_is_loaded_again(tmp_path):
    data = tmp_path / "points.csv"
    data.write_text("a,b,label\n" + "".join(f"{i % 7},{i % 5},{i % 2}\n"
                                            for i in range(40)))
    document = tiny().to_dict()
    document["training"]["dataset"] = {"name": "csv", "path": str(data)}
    before = dataset_key(document, None)
    assert before is not None
    data.write_text(data.read_text() + "1,1,1\n")
    import os

    os.utime(data, ns=(time.time_ns() + 10**9,) * 2)
    assert dataset_key(document, None) != before
    data.unlink()
    assert dataset_key(document, None) is None  # nothing to prepare: the run says why


def test_a_run_handed_over_while_the_standby_still_warms_up_or_rehearses_is_trained(
        tmp_path):
    """Train pressed at once: the studio sends the run and closes its end while the
    process is still warming up (or rehearsing a hint); the process's own "warm" or
    "prepared" then meets a closed pipe, and it must still train the run it was given
    (it used to exit 0 without a word: "the training process ended unexpectedly")."""
    standby = StandbyWorker(threads=1)
    document = tiny().to_dict()
    standby.prepare(document)  # a rehearsal under way when the run arrives
    standby.start()
    assert wait(lambda: standby.ready)
    assert not standby.warm  # still importing: the run is handed over before "warm"
    session = TrainingSession(document, out_dir=tmp_path / "run", run_log=False,
                              tensorboard=False)
    session.start(standby)
    assert wait(lambda: session.final_event is not None)
    assert isinstance(session.final_event, FinishedEvent), session.final_event
    assert session.final_event.summary["steps"] > 0
