"""The run model the training views read: bounded series and the record of a real run.

Headless (``runtime.series`` and ``runtime.run_record``): no QApplication here.
The record is fed the events of a real (in-process) training run.
"""

from __future__ import annotations

import numpy as np
import pytest

from graph.builder import Builder
from runtime.engine import Trainer
from runtime.events import FailedEvent
from runtime.run_record import LAYER_CAPACITY, RunRecord
from runtime.series import Decimator


def test_decimator_keeps_memory_bounded_over_hundreds_of_thousands_of_samples():
    d = Decimator(capacity=256, channels=2)
    for i in range(300_000):
        d.append(i, (float(i), 1.0 if i % 2 else np.nan))
    assert len(d) <= 256
    assert d.count == 300_000
    xs, values = d.xs(), d.values()
    assert len(xs) == len(values) == len(d)
    assert np.all(np.diff(xs) > 0)  # still in time order, evenly thinned
    assert xs[0] < 2000 and xs[-1] > 298_000  # covers the whole run
    # Merging averages: channel 0 follows x, channel 1 ignores the missing values.
    assert np.allclose(values[:, 0], xs, rtol=1e-9)
    assert np.allclose(values[:, 1], 1.0)


def test_decimator_shows_the_partial_group_as_its_latest_point():
    d = Decimator(capacity=4, channels=1)
    for i in range(5):  # fills 4, halves to 2 points of stride 2, then one partial
        d.append(i, (i * 10.0,))
    assert d.stride == 2
    assert list(d.xs()) == [0.5, 2.5, 4.0]
    assert list(d.values(0)) == [5.0, 25.0, 40.0]
    assert d.last()[0] == 40.0


def _mlp(depth: int = 3, activation: str = "ReLU"):
    b = Builder("tiny")
    h = b.add("Input", shape=[2])
    for i in range(1, depth + 1):
        h = b.chain(h, ("Linear", {"out_features": 8}, f"fc{i}"), (activation, {}, f"act{i}"))
    b.chain(h, ("Linear", {"out_features": 2}, "head"), "Output")
    return b.done({"dataset": {"name": "moons", "size": 200}, "epochs": 2,
                   "batch_size": 16, "lr": 0.01, "sample_every": 2})


@pytest.fixture(scope="module")
def trained():
    doc = _mlp()
    events = []
    final = Trainer(doc, emit=events.append).run()
    assert not isinstance(final, FailedEvent), final
    run = RunRecord(1, network=doc.name)
    for event in events:
        run.apply(event)
    return doc, events, run


def test_record_of_a_real_run(trained):
    doc, _events, run = trained
    assert run.status == "finished"
    assert "accuracy" in run.message and "2 epochs" in run.message
    assert run.node_names[0] == "fc1" and run.node_ids[0] in doc.nodes
    assert len(run.epoch_records) == 2
    assert run.step == run.total_steps == 2 * run.steps_per_epoch
    assert len(run.steps) > 0 and np.isfinite(run.steps.values(0)).all()
    # Only layers with weights have gradient rows, in network order (input first).
    steps, values, ids = run.layer_series("grad_norm")
    assert [run.layer_name(i) for i in ids] == ["fc1", "fc2", "fc3", "head"]
    assert values.shape == (4, len(steps)) and np.isfinite(values).all()
    assert run.confusion is not None and run.confusion.sum() == run.dataset["sizes"]["val"]
    assert run.is_2d and run.boundary is not None
    relu = next(i for i, t in zip(run.node_ids, run.node_types) if t == "ReLU")
    assert run.latest[relu].dead_fraction is not None
    assert run.take_changes() >= {"progress", "steps", "layers", "epochs", "status"}
    assert run.take_changes() == set()


def test_record_layers_stay_bounded(trained):
    _doc, events, _run = trained
    from runtime.events import LayerStatsEvent, StartedEvent

    run = RunRecord(2)
    run.apply(next(e for e in events if isinstance(e, StartedEvent)))
    sample = next(e for e in events if isinstance(e, LayerStatsEvent))
    for _ in range(5 * LAYER_CAPACITY):
        run.apply(sample)
    steps, values, _ids = run.layer_series("grad_norm")
    assert len(steps) <= LAYER_CAPACITY and values.shape[1] == len(steps)
    assert all(len(s) <= 48 for s in run.sparks.values())


def test_failed_run_keeps_the_reason_and_node():
    run = RunRecord(3)
    run.apply(FailedEvent("the output of Linear 'head' grew to 3e+20", node_id="n4"))
    assert run.status == "failed" and not run.active
    assert run.failed_node == "n4" and "grew" in run.message


def test_a_run_knows_which_layers_it_trained_frozen_inside_blocks_too():
    run = RunRecord(1, setup={"frozen": ["n2", "n5/n3", "n6:1/n4", "n7"]})
    assert run.frozen("n2") and not run.frozen("n3")
    assert run.frozen("n5/n3") and run.frozen("n5:0/n3") and run.frozen("n5:1/n3")
    assert not run.frozen("n5:1/n4")  # another layer of the same block
    assert run.frozen("n6:1/n4") and not run.frozen("n6:0/n4")  # one copy alone
    assert run.frozen("n7/n2") and run.frozen("n7:1/n9/n2")  # the whole instance
    assert not RunRecord(2).frozen("n2")
