"""A real run whose vanishing gradients come from Sigmoids inside a block: the
diagnosis names the inner layers by path, and its one-click fix edits the block's
definition: the network the next run compiles has ReLUs in every instance."""

from __future__ import annotations

import torch
from block_networks import sigmoid_blocks
from training_helpers import EVERY_STEP, of, train

import graph
from graph.edits import InBlock, ReplaceLayer, apply_edits
from graph.training_fixes import diagnosis_fixes
from runtime.events import DiagnosisEvent, FinishedEvent


def test_inner_sigmoid_diagnosis_is_fixed_in_the_block_definition():
    doc = sigmoid_blocks(uses=3, repeat=2, size=300)
    body = doc.blocks["Hidden"].body
    sigmoid = next(n.id for n in body.nodes.values() if n.type == "Sigmoid")
    final, events = train(doc, epochs=1, sample_every=1, options=EVERY_STEP)
    assert isinstance(final, FinishedEvent)
    found = {d.kind: d for d in of(events, DiagnosisEvent)}
    vanishing = found["vanishing_gradients"]
    assert any(p.endswith(f"/{sigmoid}") for p in vanishing.node_ids)  # inner, by path
    fix = diagnosis_fixes(vanishing.kind, vanishing.node_ids, doc)[0]
    assert fix.edits == (InBlock("Hidden", ReplaceLayer(sigmoid, "ReLU")),)
    assert "in block 'Hidden' (3 uses)" in fix.title
    apply_edits(doc, fix.edits)
    net = graph.compile_network(doc)
    layers = [type(net.module.get_submodule(m.attribute)) for m in net.code.modules]
    assert torch.nn.Sigmoid not in layers and layers.count(torch.nn.ReLU) == 7
    assert "torch.sigmoid" not in net.code.source and "torch.relu" in net.code.source
    assert net.module(torch.randn(4, 2)).shape == (4, 2)
