"""Layers sharing weights: one module called at several places, or a Linear tied to an
Embedding; what cannot be shared is a problem on the node, never a silent copy."""

from __future__ import annotations

import torch
from graph_helpers import problems_of_kind

import graph
from graph.builder import Builder
from graph.memory import param_counts


def _towers(**second) -> graph.Document:
    b = Builder("Towers")
    left, right = b.add("Input", "left", shape=[4]), b.add("Input", "right", shape=[4])
    t1 = b.chain(left, ("Linear", {"out_features": 3}, "tower"))
    t2 = b.chain(right, ("Linear", {"out_features": 3, "shares": "tower", **second},
                         "tower_again"))
    diff = b.add("Subtract", "diff")
    b.wire(t1, diff)
    b.wire(t2, diff)
    b.chain(diff, ("Abs", {}, "distance"), ("Linear", {"out_features": 1}, "out"),
            ("Output", {"task": "binary"}))
    return b.done()


def test_a_shared_layer_calls_one_module():
    doc = _towers()
    assert graph.validate(doc) == []
    source = graph.generate_code(doc).source
    assert source.count("nn.Linear(4, 3)") == 1
    assert "self.tower(left)" in source and "self.tower(right)" in source
    net = graph.compile(doc)
    assert sum(p.numel() for p in net.parameters()) == 4 * 3 + 3 + 3 + 1
    assert sum(param_counts(graph.analyze(doc)).values()) == 4 * 3 + 3 + 3 + 1
    x = torch.randn(2, 4)
    assert torch.allclose(net(x, x), net.out(torch.zeros(2, 3)))  # |t(x) - t(x)| = 0


def test_differing_settings_and_unknown_labels_are_problems():
    (problem,) = problems_of_kind(_towers(out_features=5), "param")
    assert "differs in out_features" in problem.message
    doc = _towers()
    node = next(n for n in doc.nodes.values() if n.label == "tower_again")
    doc.set_param(node.id, "shares", "nowhere")
    (problem,) = problems_of_kind(doc, "param")
    assert "no other layer has that label" in problem.message


def test_a_linear_tied_to_an_embedding_uses_its_weight():
    b = Builder("Tied LM")
    tokens = b.add("Input", "tokens", shape=[5], dtype="long")
    b.chain(tokens, ("Embedding", {"num_embeddings": 11, "embedding_dim": 6}, "wte"),
            ("Linear", {"out_features": 11, "bias": False, "shares": "wte"}, "lm_head"),
            ("Output", {"task": "regression"}))
    doc = b.done()
    assert graph.validate(doc) == []
    assert "self.lm_head.weight = self.wte.weight" in graph.generate_code(doc).source
    net = graph.compile(doc)
    assert net.lm_head.weight is net.wte.weight
    assert sum(param_counts(graph.analyze(doc)).values()) == 11 * 6
