"""Training through blocks: the layers inside block instances are measured (by node path,
named by the labels along it), and diagnoses name the inner layer."""

from __future__ import annotations

import numpy as np
from training_helpers import EVERY_STEP, mlp, of, train

import graph
from runtime.diagnoses import vanishing_gradients
from runtime.events import LayerStats, LayerStatsEvent, StartedEvent
from runtime.layers import network_layers


def _blocked():
    doc = mlp(16, 3, activation="Sigmoid")
    ids = [n.id for n in doc.nodes.values() if n.label in ("fc2", "act2", "fc3", "act3")]
    edit = doc.group(ids, "Hidden", "hidden")
    return doc, edit.result["instance"]


def test_statistics_are_recorded_for_inner_layers():
    doc, instance = _blocked()
    doc.set_repeat(instance, 2)
    _final, events = train(doc, epochs=1, options=EVERY_STEP, sample_every=5)
    started = of(events, StartedEvent)[0]
    inner = [(i, n) for i, n in zip(started.node_ids, started.node_names) if "/" in i]
    # Two copies of two weighted layers and two activations, each by its own path.
    assert len(inner) == 8
    assert (f"{instance}:1/" in inner[-1][0]) and inner[-1][1] == "hidden[1] > act3"
    stats = of(events, LayerStatsEvent)[-1]
    measured = {s.node_id for s in stats.layers}
    assert {i for i, _ in inner} <= measured
    fc = next(s for s in stats.layers if s.node_id == inner[0][0])
    assert fc.grad_norm is not None and fc.grad_norm > 0


def test_diagnoses_name_the_inner_layer():
    doc = mlp(16, 4)
    ids = [n.id for n in doc.nodes.values() if n.label in ("fc1", "act1", "fc2", "act2")]
    doc.group(ids, "Early", "early")
    layers = [i for i in network_layers(graph.compile_network(doc), doc)
              if i.type == "Linear"]
    assert [i.name for i in layers][:2] == ["early > fc1", "early > fc2"]
    falling = [LayerStatsEvent(step, 1, tuple(
        LayerStats(info.node_id, {}, g, 1.0, None, 0.0, 1.0, -1.0, 1.0, None, None, None,
                   np.zeros(32, np.int64), np.zeros(33, np.float32))
        for info, g in zip(layers, [1e-6, 1e-4, 1e-2, 1e-1, 5.0]))) for step in range(4)]
    found = vanishing_gradients(falling, layers)
    assert found is not None
    assert found.node_ids[0] == layers[0].node_id and "/" in found.node_ids[0]
    assert "'early > fc1'" in found.explanation
