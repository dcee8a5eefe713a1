"""The training engine in-process: events, determinism, tasks, commands, failures."""

from __future__ import annotations

import pickle
import threading

import numpy as np
import pytest
import torch
from training_helpers import EVERY_STEP, example, mlp, of, points_bundle, train

from graph.builder import Builder
from runtime.control import Control
from runtime.engine import EngineOptions, Trainer
from runtime.events import (
    CheckpointEvent,
    EpochEvent,
    FailedEvent,
    FeatureMapsEvent,
    FinishedEvent,
    LayerStatsEvent,
    PausedEvent,
    ResumedEvent,
    StartedEvent,
    StepEvent,
    to_json,
)
from runtime.failures import out_of_memory_message
from runtime.setup import TrainingSetup


def test_a_run_streams_small_picklable_events(tmp_path):
    doc = example("spiral_mlp")
    final, events = train(doc, epochs=3, out_dir=tmp_path,
                          options=EngineOptions(max_sample_rate=None, sample_budget=None))
    assert isinstance(events[0], StartedEvent) and events[-1] is final
    assert isinstance(final, FinishedEvent) and not final.stopped
    started = events[0]
    assert started.device == "cpu" and started.parameter_count == sum(
        p.numel() for p in __import__("graph").compile(doc).parameters())
    labels = {n.id: n.label for n in doc.nodes.values()}
    assert [labels[i] for i in started.node_ids] == ["fc1", "relu", "fc2", "relu2",
                                                      "classifier"]
    assert started.dataset["name"] == "spirals" and started.dataset["points"].shape[1] == 2
    assert [e.epoch for e in of(events, EpochEvent)] == [1, 2, 3]
    steps = of(events, StepEvent)
    assert steps[0].step == 1 and [s.step for s in steps] == sorted(s.step for s in steps)
    assert all(np.isfinite(s.loss) and s.lr == 0.01 for s in steps)
    assert {c.reason for c in of(events, CheckpointEvent)} == {"epoch", "best"}
    assert (tmp_path / "last.pt").exists() and (tmp_path / "best.pt").exists()
    for event in events:
        data = pickle.dumps(event)
        assert len(data) < 20_000, type(event).__name__  # they cross a pipe many times
        # (to_json compares arrays too, and is what the CLI's metrics log writes)
        assert to_json(pickle.loads(data)) == to_json(event)


def test_epoch_event_holds_confusion_matrix_and_decision_boundary():
    _final, events = train(example("spiral_mlp"), epochs=2)
    epoch = of(events, EpochEvent)[-1]
    assert epoch.metric_name == "accuracy" and 0.5 < epoch.val_metric <= 1
    assert epoch.confusion.shape == (2, 2) and epoch.confusion.sum() == 200
    assert np.trace(epoch.confusion) / 200 == pytest.approx(epoch.val_metric)
    grid = epoch.boundary
    assert grid.predicted.shape == (64, 64) and grid.predicted.dtype == np.uint8
    assert set(np.unique(grid.predicted)) <= {0, 1} and grid.confidence.min() >= 0.5
    assert grid.xs[0] < -0.9 and grid.xs[-1] > 0.9  # the data's own units


def test_same_seed_same_curve_and_another_seed_another():
    doc = mlp(32, 2, training={"dataset": {"name": "moons"}, "lr": 0.01, "epochs": 2})
    doc.add_node("Dropout", {"p": 0.3})  # unused node: must not matter...
    doc.remove_node(list(doc.nodes)[-1])  # ...and is gone again

    def curve(seed):
        _, events = train(doc, seed=seed, sample_every=1, options=EVERY_STEP)
        return [s.loss for s in of(events, StepEvent)]

    first = curve(3)
    assert first == curve(3)
    assert first != curve(4)


def test_regression_reports_r_squared():
    doc = mlp(32, 2, "Tanh", inputs=1, outputs=1, task="regression",
              training={"dataset": {"name": "sine"}, "lr": 0.01, "epochs": 40})
    _final, events = train(doc)
    epoch = of(events, EpochEvent)[-1]
    assert epoch.metric_name == "r2" and epoch.val_metric > 0.8
    assert epoch.confusion is None and epoch.class_names == ()


def test_binary_output_trains_on_two_class_data():
    doc = mlp(32, 2, outputs=1, task="binary",
              training={"dataset": {"name": "moons"}, "lr": 0.01, "epochs": 15})
    final, events = train(doc)
    assert isinstance(final, FinishedEvent)
    epoch = of(events, EpochEvent)[-1]
    assert epoch.val_metric > 0.9 and epoch.confusion.shape == (2, 2)
    assert epoch.boundary.predicted.shape == (64, 64)


def test_convolutions_stream_feature_maps():
    b = Builder("Tiny CNN")
    x = b.add("Input", shape=[1, 28, 28])
    b.chain(x, ("Conv2d", {"out_channels": 4, "kernel_size": [3, 3]}, "conv"), "ReLU",
            ("MaxPool2d", {}, "pool"), "Flatten", ("Linear", {"out_features": 4}, "fc"),
            "Output")
    doc = b.done({"dataset": {"name": "shapes", "size": 200}, "epochs": 1})
    _final, events = train(doc)
    maps = of(events, FeatureMapsEvent)
    conv = next(n.id for n in doc.nodes.values() if n.label == "conv")
    assert {m.node_id for m in maps} == {conv}
    assert [m.epoch for m in maps] == [0, 1]  # before training and after each epoch
    m = maps[-1]
    assert m.maps.shape == (4, 28, 28) and m.maps.dtype == np.uint8 and m.channels == 4
    assert m.maps.max() == 255 and m.low.shape == (4,)


def test_watch_limits_the_instrumented_layers():
    doc = example("spiral_mlp")
    fc2 = next(n.id for n in doc.nodes.values() if n.label == "fc2")
    _, events = train(doc, epochs=1, watch=(fc2,), sample_every=2, options=EVERY_STEP)
    samples = of(events, LayerStatsEvent)
    assert len(samples) == 6  # steps 0, 2, ..., 10 of 11
    assert all([s.node_id for s in e.layers] == [fc2] for e in samples)


def test_pause_resume_checkpoint_and_stop_between_steps(tmp_path):
    control = Control()
    seen = []

    def emit(event):
        seen.append(event)
        if isinstance(event, StepEvent) and event.step == 3:
            control.pause()
            threading.Timer(0.3, control.resume).start()
        if isinstance(event, StepEvent) and event.step == 5:
            control.checkpoint()
        if isinstance(event, StepEvent) and event.step == 8:
            control.stop()

    doc = example("spiral_mlp")
    setup = TrainingSetup.from_document(doc).replace(sample_every=1)
    final = Trainer(doc, setup, emit=emit, control=control, out_dir=tmp_path,
                    options=EngineOptions(max_sample_rate=None, sample_budget=None)).run()
    kinds = [type(e).__name__ for e in seen]
    paused = kinds.index("PausedEvent")
    assert kinds[paused + 1] == "ResumedEvent"  # nothing happens while paused
    assert of(seen, PausedEvent)[0].step == 3 and of(seen, ResumedEvent)[0].step == 3
    reasons = [(c.reason, c.step) for c in of(seen, CheckpointEvent)]
    assert reasons == [("request", 5), ("stop", 8)]
    assert isinstance(final, FinishedEvent) and final.stopped
    assert final.summary["steps"] == 8 and final.summary["checkpoint"].endswith("last.pt")


def test_a_dataset_that_does_not_fit_is_one_clear_failure():
    doc = mlp(16, 1, inputs=3)  # spirals are 2-D points
    final, events = train(doc)
    assert [type(e) for e in events] == [FailedEvent]
    assert "shaped (2,)" in final.reason and "expects (3,)" in final.reason
    assert "Traceback" not in final.reason and final.details == ""


def test_huge_learning_rate_stops_at_the_first_nonfinite_loss_naming_a_layer():
    doc = mlp(64, 4, inputs=1, outputs=1, task="regression",
              training={"dataset": {"name": "sine"}})
    final, events = train(doc, epochs=5, optimizer="sgd", lr=10.0)
    assert isinstance(final, FailedEvent)
    labels = {n.id: n.label for n in doc.nodes.values()}
    assert final.node_id in labels
    assert f"'{labels[final.node_id]}'" in final.reason
    assert "learning rate" in final.reason and "step" in final.reason
    assert of(events, StepEvent)[-1].step < 10  # stopped at once, not epochs later


def test_nonfinite_training_data_are_named_as_such():
    x = np.random.default_rng(0).normal(size=(200, 2))
    x[5, 0] = np.inf
    final, _ = train(mlp(8, 1), bundle=points_bundle(x, (x[:, 1] > 0).astype(int)),
                     batch_size=200, epochs=1)
    assert isinstance(final, FailedEvent)
    assert "Input 'input'" in final.reason and "infinite" in final.reason


def test_an_overflowing_layer_is_named_even_with_finite_weights():
    class Overflowing(Trainer):
        def _prepare(self):
            super()._prepare()
            fc2 = self.model.get_submodule("fc2")
            with torch.no_grad():
                fc2.weight.fill_(3e38)  # finite, but its output overflows

    doc = mlp(16, 3)
    events = []
    final = Overflowing(doc, emit=events.append).run()
    assert isinstance(final, FailedEvent) and final.node_id is not None
    assert doc.nodes[final.node_id].label == "fc2"
    assert "the output of Linear 'fc2' became infinite" in final.reason
    assert "step 1 " in final.reason


def test_out_of_memory_becomes_a_suggestion_for_a_smaller_batch():
    error = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB "
                                   "(GPU 0; 7.79 GiB total capacity)\nmore detail")
    text = out_of_memory_message(error, torch.device("cuda"), 256)
    assert text.startswith("The GPU ran out of memory during training with a batch "
                           "size of 256")
    assert "try 128" in text and "Tried to allocate 2.00 GiB" in text
    assert "more detail" not in text

    class OutOfMemory(Trainer):
        def _prepare(self):
            super()._prepare()
            real, calls = self.model.forward, []

            def forward(*args):
                calls.append(1)
                if len(calls) == 3:
                    raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate "
                                                 "20.00 GiB")
                return real(*args)
            self.model.forward = forward

    events = []
    final = OutOfMemory(example("spiral_mlp"), emit=events.append).run()
    assert isinstance(final, FailedEvent)
    assert "ran out of memory during training with a batch size of 64" in final.reason
    assert "try 32" in final.reason


def test_unexpected_errors_name_the_layer_that_was_running():
    class Broken(Trainer):
        def _prepare(self):
            super()._prepare()

            def forward(*args):
                raise ValueError("something odd")
            self.model.get_submodule("fc2").forward = forward

    doc = example("spiral_mlp")
    final = Broken(doc).run()
    assert isinstance(final, FailedEvent)
    assert final.reason == "Training failed in Linear 'fc2': ValueError: something odd"
    assert doc.nodes[final.node_id].label == "fc2"  # found through the generated code
    assert "Traceback" in final.details and "self.fc2(x)" in final.details


def test_gradient_clipping_bounds_the_gradients_the_optimizer_sees():
    trainer_events = []
    doc = example("spiral_mlp")
    setup = TrainingSetup.from_document(doc).replace(epochs=1, sample_every=1,
                                                     grad_clip=0.05)
    trainer = Trainer(doc, setup, emit=trainer_events.append, options=EVERY_STEP)
    assert isinstance(trainer.run(), FinishedEvent)
    samples = of(trainer_events, LayerStatsEvent)
    assert len(samples) == 11
    totals = [sum(s.grad_norm ** 2 for s in e.layers if s.grad_norm) ** 0.5
              for e in samples]
    assert max(totals) <= 0.05 * 1.001  # read after clipping, before the step
    assert sum(len(m._forward_hooks) for m in trainer.model.modules()) == 0
