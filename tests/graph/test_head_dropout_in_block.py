"""The overfitting diagnosis' "add Dropout" fix reaches a classifier head built as a
block: the Dropout goes inside the block's definition, before its last Linear (every
instance follows, and the title says so); a block that only passes the head's output on
leaves the Dropout in the network."""

from __future__ import annotations

import torch
from block_networks import head_block

import graph
from graph import Edge
from graph.builder import Builder
from graph.edits import InBlock, InsertLayer, apply_edits
from graph.training_fixes import diagnosis_fixes, head_wire


def _dropout_fix(doc):
    fixes = [f for f in diagnosis_fixes("overfitting", (), doc) if "Dropout" in f.title]
    assert len(fixes) == 1, [f.title for f in diagnosis_fixes("overfitting", (), doc)]
    return fixes[0]


def test_the_dropout_goes_inside_the_block_holding_the_head():
    doc = head_block()
    body = doc.blocks["Classifier"].body
    labels = {n.label: n.id for n in body.nodes.values()}
    fix = _dropout_fix(doc)
    into_head = next(e for e in body.edges if e.target == labels["classifier"])
    assert fix.edits == (InBlock("Classifier", InsertLayer(into_head, "Dropout",
                                                           {"p": 0.3})),)
    assert fix.title == ("Add Dropout (p = 0.3) before the last Linear in block "
                         "'Classifier' (1 use)")
    apply_edits(doc, fix.edits)
    assert graph.Analyzer().analyze(doc).ok
    module = graph.compile(doc)
    inner = [m for m in module.modules() if isinstance(m, torch.nn.Dropout)]
    assert len(inner) == 1 and inner[0].p == 0.3
    # ... right before the head, inside the block.
    head = next(n for n in body.nodes.values() if n.label == "classifier")
    (wire,) = body.edges_into(head.id)
    assert body.nodes[wire.source].type == "Dropout"
    assert module(torch.randn(4, 2)).shape == (4, 2)


def test_the_title_counts_every_use_of_the_block():
    doc = head_block(uses_before=2)
    assert _dropout_fix(doc).title.endswith("in block 'Classifier' (3 uses)")


def test_a_block_after_the_head_that_keeps_features_leaves_the_dropout_outside():
    """Linear 'head' -> block 'Tail' (a ReLU) -> Output: the head is the network's."""
    b = Builder("Tail block")
    body = b.doc.blocks[b.doc.new_definition("Tail").result["definition"]].body
    port_in, port_out = list(body.nodes)
    body.disconnect(body.edges[0])
    act = body.add_node("ReLU", {}, "act", (200.0, 0.0)).id
    body.connect(Edge(port_in, "out", act, "in"))
    body.connect(Edge(act, "out", port_out, "in"))
    h = b.add("Input", shape=[2])
    h = b.chain(h, ("Linear", {"out_features": 16}, "fc"), ("ReLU", {}, "relu"),
                ("Linear", {"out_features": 2}, "head"))
    b.chain(h, ("Block", {"block": "Tail"}, "tail"), ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "moons", "size": 200}})
    head = next(n.id for n in doc.nodes.values() if n.label == "head")
    where = head_wire(doc)
    assert where is not None and where[0] is None and where[1].target == head
    fix = _dropout_fix(doc)
    assert fix.title == "Add Dropout (p = 0.3) before the last Linear"
    assert fix.edits == (InsertLayer(where[1], "Dropout", {"p": 0.3}),)
