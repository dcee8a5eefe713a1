"""Small networks built from blocks, shared by the graph, runtime and studio tests."""

from __future__ import annotations

from graph import Document, Edge
from graph.builder import Builder


def sigmoid_blocks(uses: int = 3, repeat: int = 2, size: int = 300) -> Document:
    """Input -> Linear -> ReLU -> ``uses`` instances of block 'Hidden' (Linear(32) ->
    Sigmoid, each repeated ``repeat`` times) -> Linear -> Output, on spirals: its inner
    Sigmoids make the gradients vanish."""
    b = Builder("Sigmoid blocks")
    body = b.doc.blocks[b.doc.new_definition("Hidden").result["definition"]].body
    port_in, port_out = list(body.nodes)
    body.disconnect(body.edges[0])
    fc = body.add_node("Linear", {"out_features": 32}, "fc", (200.0, 0.0)).id
    sigmoid = body.add_node("Sigmoid", {}, "sigmoid", (400.0, 0.0)).id
    body.move_node(port_out, (600.0, 0.0))
    for a, z in ((port_in, fc), (fc, sigmoid), (sigmoid, port_out)):
        body.connect(Edge(a, "out", z, "in"))
    h = b.add("Input", shape=[2])
    h = b.chain(h, ("Linear", {"out_features": 32}, "fc0"), ("ReLU", {}, "act0"))
    for k in range(uses):
        h = b.chain(h, ("Block", {"block": "Hidden", "repeat": repeat}, f"hidden{k + 1}"))
    b.chain(h, ("Linear", {"out_features": 2}, "head"), ("Output", {"task": "classification"}))
    return b.done({"dataset": {"name": "spirals", "size": size}, "lr": 0.003})


def head_block(uses_before: int = 0) -> Document:
    """Input -> Linear -> ReLU -> block 'Classifier' (Linear(32) -> ReLU -> Linear(2),
    named "fc" and "classifier") -> Output, on moons: the classifier head is inside a
    block. ``uses_before`` more instances of 'Classifier' come earlier in the chain
    (each takes and gives 2 features)."""
    b = Builder("Head block")
    body = b.doc.blocks[b.doc.new_definition("Classifier").result["definition"]].body
    port_in, port_out = list(body.nodes)
    body.disconnect(body.edges[0])
    fc = body.add_node("Linear", {"out_features": 32}, "fc", (200.0, 0.0)).id
    act = body.add_node("ReLU", {}, "act", (400.0, 0.0)).id
    head = body.add_node("Linear", {"out_features": 2}, "classifier", (600.0, 0.0)).id
    body.move_node(port_out, (800.0, 0.0))
    for a, z in ((port_in, fc), (fc, act), (act, head), (head, port_out)):
        body.connect(Edge(a, "out", z, "in"))
    h = b.add("Input", shape=[2])
    h = b.chain(h, ("Linear", {"out_features": 2}, "fc0"), ("ReLU", {}, "act0"))
    for k in range(uses_before):
        h = b.chain(h, ("Block", {"block": "Classifier"}, f"early{k + 1}"))
    b.chain(h, ("Block", {"block": "Classifier"}, "head"),
            ("Output", {"task": "classification"}))
    return b.done({"dataset": {"name": "moons", "size": 200}, "lr": 0.01})
