"""``graph.wiring``: the document's own rules for which ports may be wired (the studio's
controller only asks them)."""

from __future__ import annotations

from graph_helpers import chain_doc

from graph import Edge, wiring


def test_can_connect_and_creates_cycle():
    doc = chain_doc(("Linear", {"out_features": 4}, "a"), ("ReLU", {}, "b"),
                    ("Linear", {"out_features": 2}, "c"))
    ids = {n.label: n.id for n in doc.nodes.values()}
    a, b, c = ids["a"], ids["b"], ids["c"]
    assert not wiring.can_connect(doc, a, "out", b, "in")  # already wired
    assert not wiring.can_connect(doc, c, "out", a, "in")  # would close a loop
    assert wiring.creates_cycle(doc, c, a) and not wiring.creates_cycle(doc, a, c)
    assert not wiring.can_connect(doc, a, "out", a, "in")  # onto itself
    assert not wiring.can_connect(doc, a, "nope", c, "in")  # no such port
    assert not wiring.can_connect(doc, a, "out", "ghost", "in")
    doc.disconnect(doc.edges_into(c)[0])
    assert wiring.can_connect(doc, a, "out", c, "in")
    assert wiring.upstream_nodes(doc, b) == {a, next(iter(
        i for i, n in doc.nodes.items() if n.type == "Input"))}


def test_connectable_ports_agrees_with_can_connect_everywhere():
    doc = chain_doc(("Linear", {"out_features": 4}, "a"), ("ReLU", {}, "b"),
                    ("Linear", {"out_features": 2}, "c"))
    extra = doc.add_node("Add", {}, "sum").id
    doc.connect(Edge(doc.find_label("a").id, "out", extra, "in1"))
    for node in doc.nodes.values():
        for port in node.spec.output_names(node.params):
            expected = {(t.id, p) for t in doc.nodes.values()
                        for p in t.spec.input_names(t.params)
                        if wiring.can_connect(doc, node.id, port, t.id, p)}
            assert wiring.connectable_ports(doc, node.id, port) == expected
