"""Every shipped example trains on its own dataset, on the CPU, to a stated accuracy.

Each example keeps its training dict; only the number of epochs is cut here to keep the
suite fast (one core: a few seconds each, about 15 s for the residual CNN).
"""

from __future__ import annotations

import pytest
from training_helpers import example, of, train

from runtime.engine import EngineOptions
from runtime.events import EpochEvent, FailedEvent, FinishedEvent

# example -> (epochs here, validation accuracy it must reach)
TARGETS = {
    "spiral_mlp": (30, 0.95),
    "shapes_cnn": (6, 0.90),
    "residual_cnn": (4, 0.90),
    "lstm_classifier": (30, 0.90),
    "transformer_classifier": (3, 0.95),
    "two_input_concat": (5, 0.95),
    "blocks_resnet": (3, 0.90),
}
LEAN = EngineOptions(feature_maps=False, boundary_resolution=0, train_metric=False)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_example_trains_to_its_stated_accuracy(name):
    epochs, target = TARGETS[name]
    doc = example(name)
    assert doc.training.get("dataset"), "every example names its dataset"
    final, events = train(doc, epochs=epochs, options=LEAN)
    assert not isinstance(final, FailedEvent), final.reason
    assert isinstance(final, FinishedEvent)
    best = max(e.val_metric for e in of(events, EpochEvent))
    assert best >= target, f"{name}: best validation accuracy {best:.3f} < {target}"
