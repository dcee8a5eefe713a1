"""The worker process: commands in, events out, and a crash reported, not suffered.

Each test starts one real "spawn" worker (a fresh interpreter importing torch takes a
few seconds), so the scenarios are grouped: one run is paused, resumed, checkpointed
and stopped; another is killed and then resumed in-process from what it left.
"""

from __future__ import annotations

import time

from training_helpers import example, of, train

from runtime.checkpoints import load_checkpoint
from runtime.engine import EngineOptions
from runtime.events import (
    CheckpointEvent,
    EpochEvent,
    FailedEvent,
    FinishedEvent,
    PausedEvent,
    ResumedEvent,
    StartedEvent,
    StepEvent,
)
from runtime.worker import TrainingSession, describe_exit

TIMEOUT = 120  # seconds; generous for a loaded machine, never reached when all is well


def collect(session, until, timeout=TIMEOUT):
    """Poll like the GUI timer does until ``until(events)`` holds; returns the events."""
    events = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events += session.poll_events(50)
        if until(events):
            return events
        time.sleep(0.02)
    raise AssertionError(f"timed out; got {[type(e).__name__ for e in events]}")


def has(cls, **fields):
    return lambda events: any(isinstance(e, cls) and all(
        getattr(e, k) == v for k, v in fields.items()) for e in events)


def test_pause_resume_checkpoint_and_stop_a_worker(tmp_path):
    doc = example("spiral_mlp")
    setup = {**doc.training, "epochs": 10_000, "sample_every": 1}
    session = TrainingSession(doc, setup, out_dir=tmp_path, threads=1,
                              options=EngineOptions(max_sample_rate=50))
    session.start()
    try:
        events = collect(session, has(EpochEvent, epoch=1))
        assert isinstance(events[0], StartedEvent) and session.is_alive()
        doc.set_label(next(iter(doc.nodes)), "edited meanwhile")  # the worker has a copy
        session.pause()
        events += collect(session, has(PausedEvent))
        # A command handled while paused proves the paused loop turned; nothing
        # trained between the pause and its answer (no sleep to wait on).
        session.checkpoint()  # also works while paused
        events += collect(session, has(CheckpointEvent, reason="request"))
        paused_at = next(i for i, e in enumerate(events) if isinstance(e, PausedEvent))
        assert not any(isinstance(e, (StepEvent, EpochEvent)) for e in events[paused_at:])
        session.resume()
        events += collect(session, has(ResumedEvent))
        step = of(events, PausedEvent)[0].step
        events += collect(session, lambda ev: any(isinstance(e, StepEvent)
                                                  and e.step > step + 3 for e in ev))
        session.stop()
        events += collect(session, has(FinishedEvent))
        # It ends by itself after a stop; close() would kill it after 10 s, which a
        # loaded machine can need for the interpreter's exit.
        deadline = time.monotonic() + TIMEOUT
        while session.is_alive() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        session.close()
    final = events[-1]
    assert isinstance(final, FinishedEvent) and final.stopped
    assert of(events, CheckpointEvent)[-1].reason == "stop"
    assert session.finished and session.exit_status == 0
    assert load_checkpoint(tmp_path / "last.pt").step == final.summary["steps"]


def test_a_killed_worker_is_reported_and_its_checkpoint_survives(tmp_path):
    doc = example("spiral_mlp")
    session = TrainingSession(doc, {**doc.training, "epochs": 10_000}, out_dir=tmp_path,
                              threads=1)
    session.start()
    try:
        events = collect(session, has(CheckpointEvent, reason="epoch", epoch=2))
        session.kill()
        events += collect(session, has(FailedEvent))
    finally:
        session.close()
    failed = events[-1]
    assert isinstance(failed, FailedEvent) and failed.exit_status == -9
    assert "ended unexpectedly: it was killed (SIGKILL, exit status -9)" in failed.reason
    assert failed.checkpoint == str(tmp_path / "last.pt")
    assert not session.is_alive() and session.poll_events() == []
    saved = load_checkpoint(failed.checkpoint)
    assert saved.epoch >= 2
    resumed, more = train(doc, epochs=saved.epoch + 1, resume=failed.checkpoint)
    assert isinstance(resumed, FinishedEvent)
    assert of(more, EpochEvent)[-1].epoch == saved.epoch + 1


def test_a_worker_reports_bad_input_as_failure(tmp_path):
    doc = example("spiral_mlp")
    session = TrainingSession(doc, {**doc.training, "dataset": {"name": "shapes"}},
                              out_dir=tmp_path, threads=1)
    session.start()
    events = collect(session, has(FailedEvent))
    # Time for the worker to end on its own (close() kills one still alive after its
    # timeout: on a loaded machine 10 s was not always enough, and the exit status was
    # then never read).
    session.close(timeout=120)
    assert len(events) == 1 and "Input 'input' expects (2,)" in events[0].reason
    assert events[0].exit_status is None and session.exit_status == 0


def test_exit_statuses_in_words():
    assert describe_exit(-11) == "it crashed (segmentation fault) (SIGSEGV, exit status -11)"
    assert describe_exit(3) == "it exited with status 3"


def test_a_worker_streams_files_with_its_own_dataloader_workers(tmp_path):
    # The training process is a daemon (it ends with the studio); the DataLoader's
    # worker processes of the streaming path are its children all the same.
    from test_streaming import image_folder, network

    root = image_folder(tmp_path / "imgs")
    doc = network(root, data_path="stream", workers=1, epochs=1)
    session = TrainingSession(doc, doc.training, out_dir=tmp_path / "run", threads=1)
    session.start()
    events = collect(session, lambda got: has(FinishedEvent)(got) or has(FailedEvent)(got),
                     timeout=300)
    session.close()
    assert isinstance(events[-1], FinishedEvent), events[-1]
