"""The training metric counted while training, and the work the engine skips between
epochs: the metric equals a recomputation, survives a resume, and decision boundaries
are drawn at a bounded rate."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score, f1_score, r2_score
from training_helpers import EVERY, example, mlp, of, train

from runtime.control import Control
from runtime.engine import EngineOptions, Trainer
from runtime.events import EpochEvent, StepEvent
from runtime.metrics import MetricSums, RunningMetric, evaluate
from runtime.setup import TrainingSetup


def chunks(n: int, size: int):
    return [slice(i, i + size) for i in range(0, n, size)]


@pytest.mark.parametrize("chunk", [1, 3, 32])
def test_running_metric_equals_a_recomputation_for_each_task(chunk, monkeypatch):
    monkeypatch.setattr(RunningMetric, "CHUNK", chunk)
    g = torch.Generator().manual_seed(0)
    n = 203  # batches of 16: the last one shorter
    scores, labels = torch.randn(n, 4, generator=g), torch.randint(0, 4, (n,), generator=g)
    logits, bits = torch.randn(n, 3, generator=g), torch.rand(n, 3, generator=g).round()
    values, truth = torch.randn(n, 2, generator=g), torch.randn(n, 2, generator=g)
    one, binary = torch.randn(n, 1, generator=g), torch.rand(n, generator=g).round()
    cases = [
        ("classification", 4, scores, labels,
         accuracy_score(labels, scores.argmax(1))),
        ("binary", 2, one, binary, accuracy_score(binary, (one[:, 0] > 0).float())),
        ("multilabel", None, logits, bits,
         f1_score(bits.numpy(), (logits > 0).numpy(), average="micro")),
        ("regression", None, values, truth,
         r2_score(truth.numpy(), values.numpy(), multioutput="uniform_average")),
    ]
    for task, classes, out, y, expected in cases:
        running = RunningMetric(task, classes, torch.device("cpu"))
        for part in chunks(n, 16):
            running.add(out[part], y[part])
        assert running.result() == pytest.approx(expected, rel=1e-5), task


def test_soft_targets_count_by_their_largest_class():
    """Mixup and cutmix train on class probabilities; accuracy compares argmaxes."""
    out = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 1.0]])
    soft = torch.tensor([[0.7, 0.3], [0.6, 0.4], [0.2, 0.8]])
    running = RunningMetric("classification", 2, torch.device("cpu"))
    running.add(out, soft)
    assert running.result() == pytest.approx(1 / 3)


def test_large_outputs_are_counted_in_smaller_chunks(monkeypatch):
    monkeypatch.setattr(RunningMetric, "KEEP", 100)
    running = RunningMetric("classification", 5, torch.device("cpu"))
    running.add(torch.randn(10, 5), torch.zeros(10, dtype=torch.long))  # 50 values
    running.add(torch.randn(10, 5), torch.zeros(10, dtype=torch.long))
    assert running._chunk == 2 and not running._pending and running.sums.count == 20


def test_metric_sums_restore_what_they_kept():
    sums = MetricSums("classification", 3, torch.device("cpu"))
    sums.add(torch.eye(3), torch.tensor([0, 1, 1]))
    again = MetricSums("classification", 3, torch.device("cpu"))
    again.restore(sums.state())
    assert again.count == 3 and torch.equal(again.sums, sums.sums)


def test_the_epochs_training_metric_is_that_of_its_batches():
    """With a learning rate too small to move the weights, the batches of an epoch are
    scored by the model at its end: the metric equals accuracy over the training set."""
    doc = example("spiral_mlp")
    setup = TrainingSetup.from_document(doc).replace(
        epochs=1, lr=1e-12, optimizer="sgd", momentum=0.0)
    trainer = Trainer(doc, setup, options=EngineOptions(feature_maps=False,
                                                        boundary_resolution=0))
    final = trainer.run()
    recomputed = evaluate(trainer.model, trainer.feed.train, trainer.loss_fn,
                          "classification", 2, 10_000)
    assert final.summary["train_metric"] == recomputed.metric
    assert 0.3 < recomputed.metric < 0.8  # an untrained network: not a trivial value


def test_a_run_without_the_training_metric_reports_none():
    final, events = train(mlp(8, 1), epochs=1,
                          options=EngineOptions(train_metric=False, feature_maps=False))
    assert of(events, EpochEvent)[0].train_metric is None
    assert final.summary["train_metric"] is None


def test_resuming_inside_an_epoch_keeps_its_training_metric(tmp_path):
    doc = mlp(16, 1, training={"dataset": {"name": "moons"}, "lr": 0.01})
    setup = TrainingSetup.from_document(doc).replace(epochs=2, sample_every=1)
    options = EngineOptions(**EVERY, feature_maps=False, boundary_resolution=0)
    _, straight = train(doc, setup, options=options)
    control = Control()

    def emit(event):
        if isinstance(event, StepEvent) and event.step == 15:  # inside epoch 2
            control.stop()

    Trainer(doc, setup, emit=emit, control=control, out_dir=tmp_path,
            options=options).run()
    _, rest = train(doc, setup, options=options, resume=tmp_path / "last.pt")
    whole = of(straight, EpochEvent)[-1]
    resumed = of(rest, EpochEvent)[-1]
    assert resumed.epoch == 2 and resumed.train_metric == whole.train_metric
    assert resumed.train_loss == whole.train_loss


def test_decision_boundaries_come_at_a_bounded_rate():
    doc = example("spiral_mlp")
    _, rare = train(doc, epochs=6, options=EngineOptions(boundary_rate=1e-9))
    drawn = [e.epoch for e in of(rare, EpochEvent) if e.boundary is not None]
    assert drawn == [1, 6]  # the first and the last epochs always
    assert [e.boundary.epoch for e in of(rare, EpochEvent) if e.boundary] == [1, 6]
    _, every = train(doc, epochs=3, options=EngineOptions(boundary_rate=None))
    assert all(e.boundary is not None for e in of(every, EpochEvent))


def test_a_constant_rate_trains_without_a_scheduler():
    doc = mlp(8, 1, training={"dataset": {"name": "moons"}, "lr": 0.02})
    trainer = Trainer(doc, TrainingSetup.from_document(doc).replace(epochs=1))
    trainer.run()
    assert trainer.scheduler is None
    assert "step" not in vars(trainer.optimizer)  # optimizer.step is not wrapped
    assert np.isclose(trainer.optimizer.param_groups[0]["lr"], 0.02)
