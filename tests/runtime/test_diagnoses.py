"""Diagnoses: each is triggered by a network built to show it and silent on a healthy one.

The first half feeds the pure detectors hand-made histories (thresholds, edge cases);
the second half trains real networks on small data and reads the engine's events.
"""

from __future__ import annotations

import numpy as np
import pytest
from training_helpers import EVERY_STEP, example, mlp, of, points_bundle, train

from runtime.diagnoses import (
    Diagnostician,
    dead_relus,
    exploding_gradients,
    learning_rate_too_high,
    loss_text,
    overfitting,
    saturated_activations,
    vanishing_gradients,
)
from runtime.engine import EngineOptions
from runtime.events import (
    DiagnosisEvent,
    EpochEvent,
    FinishedEvent,
    LayerStats,
    LayerStatsEvent,
)
from runtime.layers import LayerInfo
from runtime.run_record import RunRecord

H = np.zeros(32, np.int64)
E = np.zeros(33, np.float32)


def stats(node_id, grad=None, weight=None, dead=None, sat=None) -> LayerStats:
    return LayerStats(node_id, {}, grad, weight, None, 0.0, 1.0, -1.0, 1.0, None, dead, sat,
                      H, E)


def linears(n: int) -> list[LayerInfo]:
    return [LayerInfo(f"n{i}", "Linear", f"fc{i}", f"fc{i}") for i in range(1, n + 1)]


def sample(step: int, grads: list[float]) -> LayerStatsEvent:
    return LayerStatsEvent(step, 1, tuple(stats(f"n{i}", g, 1.0)
                                          for i, g in enumerate(grads, 1)))


# ------------------------------------------------------------------ pure detectors
def test_vanishing_needs_orders_of_magnitude_across_hidden_layers():
    layers = linears(5)
    falling = [sample(s, [1e-6, 1e-4, 1e-2, 1e-1, 5.0]) for s in range(4)]
    d = vanishing_gradients(falling, layers)
    assert d is not None and d.kind == "vanishing_gradients"
    assert d.node_ids[:2] == ("n1", "n2")  # the layers nearest the input
    assert "100,000 times smaller" in d.explanation and "'fc1'" in d.explanation
    assert "BatchNorm" in d.fix and "residual" in d.fix
    # The output layer's large gradient alone is normal, and so are small differences.
    assert vanishing_gradients([sample(s, [1e-3, 3e-3, 2e-3, 4e-3, 1.0])
                                for s in range(4)], layers) is None
    assert vanishing_gradients(falling[:2], layers) is None  # too few samples yet


def test_vanishing_fix_names_the_squashing_activation():
    layers = [LayerInfo("n1", "Linear", "a", "a"), LayerInfo("s1", "Sigmoid", "s", "s"),
              *linears(4)[1:]]
    d = vanishing_gradients([sample(s, [1e-7, 1e-4, 1e-2, 1.0]) for s in range(3)]
                            + [sample(9, [1e-7, 1e-4, 1e-2, 1.0])], layers)
    assert d is not None and d.fix.startswith("Replace Sigmoid with ReLU")
    assert "s1" in d.node_ids


def test_exploding_over_time():
    layers = linears(3)
    growing = [sample(s, [g, g, g]) for s, g in enumerate([0.1, 0.1, 0.1, 1.0, 30.0, 50.0])]
    d = exploding_gradients(growing, layers)
    assert d is not None and d.severity == "error" and "grew" in d.explanation
    steady = [sample(s, [g, g, g]) for s, g in enumerate([0.1, 0.2, 0.1, 0.3, 0.2, 0.5])]
    assert exploding_gradients(steady, layers) is None


def test_dead_and_saturated_need_a_majority_in_every_recent_sample():
    relu = [LayerInfo("r", "ReLU", "relu", "relu")]
    dead = [LayerStatsEvent(s, 1, (stats("r", dead=0.8),)) for s in range(5)]
    assert dead_relus(dead, relu).node_ids == ("r",)
    blip = dead[:4] + [LayerStatsEvent(5, 1, (stats("r", dead=0.2),))]
    assert dead_relus(blip, relu) is None
    tanh = [LayerInfo("t", "Tanh", "tanh", "tanh")]
    hot = [LayerStatsEvent(s, 1, (stats("t", sat=0.7),)) for s in range(3)]
    d = saturated_activations(hot, tanh)
    assert d.node_ids == ("t",) and "Tanh" in d.title and "Standardize" in d.fix
    cool = [LayerStatsEvent(s, 1, (stats("t", sat=0.1),)) for s in range(3)]
    assert saturated_activations(cool, tanh) is None


def test_overfitting_ignores_noise_but_not_a_trend():
    rising = [(0.7, 0.7), (0.5, 0.55), (0.4, 0.5), (0.3, 0.52), (0.2, 0.6), (0.15, 0.7),
              (0.1, 0.8), (0.05, 0.9)]
    d = overfitting(rising)
    assert d is not None and "Dropout" in d.fix and "epoch 3" in d.explanation
    assert "lowest after epoch 3 (0.5) and was 0.9 after epoch 8" in d.explanation
    # Numbered epochs (a resumed run) are quoted by their own numbers.
    assert "after epoch 13 (0.5)" in overfitting(
        [(i + 11, t, v) for i, (t, v) in enumerate(rising)]).explanation
    # One bad epoch late in a healthy run is noise, not overfitting.
    noisy = [(0.7, 0.6), (0.3, 0.3), (0.1, 0.1), (0.05, 0.05), (0.04, 0.04), (0.03, 0.2),
             (0.02, 0.04), (0.02, 0.035)]
    assert overfitting(noisy) is None
    # Both rising is not overfitting (that is divergence).
    assert overfitting([(t * 2, v) for t, v in rising[::-1]]) is None


def test_learning_rate_too_high_on_diverging_losses_only():
    assert learning_rate_too_high([0.7, 5.0, 30.0, 12.0, 40.0, 25.0], lr=1.0) is not None
    back_up = [0.7, 0.4, 0.1, 0.05, 0.05, 0.3, 0.5, 0.6]
    d = learning_rate_too_high(back_up, lr=0.5)
    assert d is not None and "try 0.05" in d.fix
    healthy = [0.7, 0.6, 0.5, 0.3, 0.2, 0.25, 0.15, 0.1, 0.12, 0.08]
    assert learning_rate_too_high(healthy) is None
    assert learning_rate_too_high([0.7, 0.1, 0.01, 0.001, 0.002, 0.02, 0.015]) is None


def test_diagnostician_reports_each_kind_once():
    layers = linears(5)
    doctor = Diagnostician(layers)
    found = []
    for s in range(6):
        found += doctor.add_sample(sample(s, [1e-6, 1e-4, 1e-2, 1e-1, 5.0]))
    assert [d.kind for d in found] == ["vanishing_gradients"]
    state = doctor.state()
    again = Diagnostician(layers)
    again.restore(state)
    assert again.add_sample(sample(9, [1e-6, 1e-4, 1e-2, 1e-1, 5.0])) == []


# ------------------------------------------------------------------ real training
def kinds(events) -> dict[str, DiagnosisEvent]:
    return {d.kind: d for d in of(events, DiagnosisEvent)}


def test_deep_sigmoid_mlp_has_vanishing_gradients():
    doc = mlp(32, 10, "Sigmoid", name="Deep sigmoid MLP")
    final, events = train(doc, epochs=1, sample_every=1, options=EVERY_STEP)
    assert isinstance(final, FinishedEvent)
    d = kinds(events)["vanishing_gradients"]
    first = next(n.id for n in doc.nodes.values() if n.label == "fc1")
    assert first in d.node_ids
    assert d.fix.startswith("Replace Sigmoid with ReLU")
    assert d.step <= 5  # it shows from the very first steps


def test_the_spiral_example_stays_silent():
    final, events = train(example("spiral_mlp"), epochs=20, sample_every=1,
                          options=EngineOptions(max_sample_rate=None, sample_budget=None))
    assert isinstance(final, FinishedEvent) and final.summary["val_metric"] > 0.9
    assert of(events, DiagnosisEvent) == []
    assert len(of(events, LayerStatsEvent)) == 220  # it did look at every step


def test_rmsprop_with_a_large_step_explodes():
    _final, events = train(mlp(64, 4), epochs=1, sample_every=1, optimizer="rmsprop",
                          lr=0.1, options=EVERY_STEP)
    found = kinds(events)
    assert "exploding_gradients" in found and "learning_rate_too_high" in found
    assert found["exploding_gradients"].node_ids
    assert "clipping" in found["exploding_gradients"].fix


def test_a_learning_rate_of_one_kills_relus():
    doc = example("spiral_mlp")
    _final, events = train(doc, epochs=2, sample_every=1, lr=1.0, options=EVERY_STEP)
    found = kinds(events)
    relus = {n.id for n in doc.nodes.values() if n.type == "ReLU"}
    assert set(found["dead_relus"].node_ids) <= relus
    assert "LeakyReLU" in found["dead_relus"].fix
    assert "learning_rate_too_high" in found


@pytest.mark.parametrize("activation", ["Tanh", "Sigmoid"])
def test_large_inputs_saturate_squashing_units(activation):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    doc = mlp(32, 2, activation)
    _, events = train(doc, bundle=points_bundle(x * 40, y), epochs=1, sample_every=1,
                      options=EVERY_STEP)
    d = kinds(events)["saturated_activations"]
    assert d.node_ids == (next(n.id for n in doc.nodes.values() if n.label == "act1"),)
    _, calm = train(doc, bundle=points_bundle(x, y), epochs=1, sample_every=1,
                    options=EVERY_STEP)
    assert "saturated_activations" not in kinds(calm)


def test_memorising_random_labels_overfits():
    rng = np.random.default_rng(0)
    noise = points_bundle(rng.normal(size=(300, 20)), rng.integers(0, 2, 300),
                          val_fraction=0.3)
    _, events = train(mlp(128, 2, inputs=20), bundle=noise, epochs=12, batch_size=32,
                      lr=0.003, options=EngineOptions(feature_maps=False,
                                                      boundary_resolution=0))
    d = kinds(events)["overfitting"]
    assert d.node_ids == () and d.epoch <= 12
    assert "Dropout" in d.fix
    # One source for a run's numbers: the diagnosis quotes the recorded validation
    # losses of the epochs it names, and the run's summary quotes the same records.
    epochs = {e.epoch: e for e in of(events, EpochEvent)}
    best = min(epochs.values(), key=lambda e: e.val_loss)
    then = epochs[d.epoch]
    assert (f"lowest after epoch {best.epoch} ({loss_text(best.val_loss)})"
            in d.explanation)
    assert f"was {loss_text(then.val_loss)} after epoch {then.epoch}," in d.explanation
    assert f"after epoch {best.epoch}." in d.fix
    run = RunRecord(1)
    for event in events:
        run.apply(event)
    finished = of(events, FinishedEvent)[-1].summary
    assert finished["best_epoch"] == best.epoch
    last = epochs[max(epochs)]
    assert (f"validation loss {loss_text(last.val_loss)} after epoch {last.epoch} "
            f"(lowest {loss_text(best.val_loss)} after epoch {best.epoch})") in run.message
