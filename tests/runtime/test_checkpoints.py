"""Checkpoints: resuming continues the same curve; a changed network is refused clearly."""

from __future__ import annotations

import math

import pytest
from training_helpers import EVERY_STEP, example, mlp, of, train

from runtime.checkpoints import (
    CheckpointError,
    check_matches,
    describe_changes,
    load_checkpoint,
    save_checkpoint,
)
from runtime.control import Control
from runtime.engine import Trainer
from runtime.events import (
    CheckpointEvent,
    EpochEvent,
    FailedEvent,
    FinishedEvent,
    StepEvent,
)
from runtime.setup import TrainingSetup


def dropout_mlp():
    """Dropout makes the curve depend on the random state the checkpoint must keep."""
    doc = mlp(32, 2, training={"dataset": {"name": "moons"}, "lr": 0.01})
    head = next(n for n in doc.nodes.values() if n.label == "head")
    edge = doc.edges_into(head.id)[0]
    doc.disconnect(edge)
    drop = doc.add_node("Dropout", {"p": 0.3}, "drop").id
    from graph import Edge

    doc.connect(Edge(edge.source, "out", drop, "in"))
    doc.connect(Edge(drop, "out", head.id, "in"))
    return doc


def curve(events):
    return [(s.step, s.loss) for s in of(events, StepEvent)], [
        (e.epoch, e.train_loss, e.val_loss) for e in of(events, EpochEvent)]


def test_resuming_after_an_epoch_continues_the_same_curve(tmp_path):
    doc = dropout_mlp()
    _, straight = train(doc, epochs=2, sample_every=1, options=EVERY_STEP,
                        out_dir=tmp_path / "a")
    first, part1 = train(doc, epochs=1, sample_every=1, options=EVERY_STEP,
                         out_dir=tmp_path / "b")
    assert first.summary["checkpoint"] == str(tmp_path / "b" / "last.pt")
    _, part2 = train(doc, epochs=2, sample_every=1, options=EVERY_STEP,
                     out_dir=tmp_path / "b", resume=tmp_path / "b" / "last.pt")
    steps, epochs = curve(straight)
    steps1, epochs1 = curve(part1)
    steps2, epochs2 = curve(part2)
    assert steps1 + steps2 == steps  # bit for bit: same weights, moments, order, dropout
    assert epochs1 + epochs2 == epochs
    started = part2[0]
    assert (started.start_epoch, started.start_step) == (1, steps1[-1][0])


def test_resuming_after_a_stop_inside_an_epoch_continues_the_same_curve(tmp_path):
    doc = dropout_mlp()
    setup = TrainingSetup.from_document(doc).replace(epochs=2, sample_every=1)
    _, straight = train(doc, setup, options=EVERY_STEP)
    control, events = Control(), []

    def emit(event):
        events.append(event)
        if isinstance(event, StepEvent) and event.step == 7:  # epoch 1 has 11 steps
            control.stop()

    stopped = Trainer(doc, setup, emit=emit, control=control, out_dir=tmp_path,
                      options=EVERY_STEP).run()
    assert stopped.stopped and of(events, CheckpointEvent)[-1].reason == "stop"
    _, rest = train(doc, setup, options=EVERY_STEP, resume=tmp_path / "last.pt")
    assert curve(events)[0] + curve(rest)[0] == curve(straight)[0]
    assert curve(rest)[1] == curve(straight)[1]  # epoch 1's loss counts all its steps


def test_a_checkpoint_from_another_version_of_the_network_is_refused(tmp_path):
    doc = example("spiral_mlp")
    train(doc, epochs=1, out_dir=tmp_path)
    fc2 = next(n for n in doc.nodes.values() if n.label == "fc2")
    doc.set_param(fc2.id, "out_features", 32)
    final, events = train(doc, epochs=2, resume=tmp_path / "last.pt")
    assert isinstance(final, FailedEvent) and len(events) == 1
    assert "last.pt was trained from a different version of this network" in final.reason
    assert "'fc2' (Linear) out_features changed from 64 to 32" in final.reason
    assert "Start a new training run" in final.reason


def test_only_renaming_the_network_keeps_the_checkpoint_usable(tmp_path):
    doc = example("spiral_mlp")
    train(doc, epochs=1, out_dir=tmp_path)
    doc.set_metadata(name="Renamed spirals", description="same layers")
    final, _ = train(doc, epochs=2, resume=tmp_path / "last.pt")
    assert isinstance(final, FinishedEvent) and final.summary["epochs"] == 2


def test_describe_changes_names_layers_and_wires():
    old = example("spiral_mlp")
    new = old.copy()
    relu = next(n for n in new.nodes.values() if n.label == "relu2")
    new.remove_node(relu.id)
    new.add_node("Dropout", {}, "drop")
    changes = describe_changes(old.to_dict(), new.to_dict())
    assert "layer 'relu2' (ReLU) was removed" in changes
    assert "layer 'drop' (Dropout) was added" in changes
    assert "the wiring changed" in changes
    assert describe_changes(old.to_dict(), old.to_dict()) == []


def test_unreadable_and_foreign_files_are_named(tmp_path):
    truncated = tmp_path / "cut.pt"
    save_checkpoint(tmp_path / "whole.pt", {"document": {}, "code_fingerprint": "x",
                                            "model": {}, "optimizer": {}, "epoch": 0,
                                            "step": 0, "setup": {}})
    data = (tmp_path / "whole.pt").read_bytes()
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cut.pt: not a readable Strata checkpoint"):
        load_checkpoint(truncated)
    import torch

    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="other.pt: not a Strata checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="there is no checkpoint file"):
        load_checkpoint(tmp_path / "missing.pt")
    ckpt = load_checkpoint(tmp_path / "whole.pt")
    with pytest.raises(CheckpointError):
        check_matches(ckpt, example("spiral_mlp").to_dict(), "y")


def test_checkpoint_writes_are_atomic(tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "last.pt", {"step": 1})
    before = path.read_bytes()

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", crash)
    with pytest.raises(OSError):
        save_checkpoint(path, {"step": 2})
    assert path.read_bytes() == before  # the old checkpoint is intact...
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # ...and no debris left


def test_a_resumed_run_can_be_extended_with_a_schedule(tmp_path):
    doc = example("spiral_mlp")
    setup = TrainingSetup.from_document(doc).replace(schedule="cosine", epochs=2)
    _first, _ = train(doc, setup, out_dir=tmp_path)
    final, events = train(doc, setup.replace(epochs=4), resume=tmp_path / "last.pt")
    assert isinstance(final, FinishedEvent) and final.summary["epochs"] == 4
    lrs = [e.lr for e in of(events, EpochEvent)]
    # The schedule of the 4-epoch plan, at the ends of epochs 3 and 4.
    assert lrs[0] == pytest.approx(0.01 * (1 + math.cos(math.pi * 3 / 4)) / 2)
    assert lrs[1] == pytest.approx(0.0, abs=1e-12)
