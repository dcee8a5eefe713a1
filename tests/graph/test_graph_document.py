"""Document operations: every edit is a method, emits one event, and returns what undo
needs; the wire index stays consistent with the wire list."""

from __future__ import annotations

import pytest
from graph_helpers import chain_doc, wire

import graph
from graph import (
    Document,
    DocumentEvent,
    Edge,
    EdgeAdded,
    EdgeRemoved,
    LabelChanged,
    MetadataChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    ParamsChanged,
    StrataError,
    SweepChanged,
    TrainingChanged,
)


@pytest.fixture
def recorded():
    doc = Document("Events")
    events: list[DocumentEvent] = []
    unsubscribe = doc.subscribe(events.append)
    return doc, events, unsubscribe


def test_add_node_fills_defaults_and_unique_labels(recorded):
    doc, events, _ = recorded
    a = doc.add_node("Linear", {"out_features": 3})
    b = doc.add_node("Linear")
    assert a.params == {"out_features": 3, "bias": True, "init": "default",
                        "nonlinearity": "relu", "bias_init": "default", "shares": None}
    assert (a.label, b.label) == ("fc", "fc2")
    assert a.id != b.id
    assert events == [NodeAdded(a.id), NodeAdded(b.id)]
    assert b.describe() == "Linear 'fc2'"
    assert b.title == "fc2"


def test_every_edit_emits_one_event_and_bumps_the_revision(recorded):
    doc, events, _ = recorded
    x = doc.add_node("Input", {"shape": [3]}).id
    fc = doc.add_node("Linear").id
    start = doc.revision
    edge = doc.connect(Edge(x, "out", fc, "in"))
    old = doc.set_param(fc, "out_features", 7)
    old_label = doc.set_label(fc, "head")
    doc.set_training("epochs", 3)
    doc.set_metadata(name="Renamed", description="d")
    doc.set_sweep({"trials": 4})
    index = doc.disconnect(edge)
    assert events[2:] == [EdgeAdded(edge), ParamsChanged(fc, "out_features"),
                          LabelChanged(fc), TrainingChanged("epochs"), MetadataChanged(),
                          SweepChanged(), EdgeRemoved(edge)]
    assert events[3].node_id == fc and events[3].name == "out_features"
    assert (old, old_label, index) == (64, "fc", 0)
    assert doc.revision == start + 7
    assert doc.name == "Renamed" and doc.training == {"epochs": 3}


def test_move_emits_but_keeps_the_revision(recorded):
    doc, events, _ = recorded
    node = doc.add_node("ReLU")
    revision = doc.revision
    old = doc.move_node(node.id, (10, 20.5))
    assert old == (0.0, 0.0) and node.position == (10.0, 20.5)
    assert events[-1] == NodeMoved(node.id)
    assert doc.revision == revision


def test_unsubscribe_stops_events(recorded):
    doc, events, unsubscribe = recorded
    unsubscribe()
    doc.add_node("ReLU")
    assert events == []


def test_remove_node_returns_node_and_wires_for_undo(recorded):
    doc = chain_doc("Linear", "ReLU", "Linear")
    before = doc.to_dict()
    relu = next(n for n in doc.nodes.values() if n.type == "ReLU")
    index = doc.node_index(relu.id)
    events = []
    doc.subscribe(lambda event: events.append(type(event)))
    node, wires = doc.remove_node(relu.id)
    assert events == [EdgeRemoved, EdgeRemoved, NodeRemoved]
    assert relu.id not in doc.nodes and all(relu.id not in (e.source, e.target)
                                            for e in doc.edges)
    assert doc.edges_into(relu.id) == [] and doc.edges_from(relu.id) == []
    # Undo: the node back in its place, then its wires.
    doc.insert_node(node, index)
    for edge in wires:
        doc.connect(edge)
    assert doc.to_dict()["nodes"] == before["nodes"]
    assert sorted(map(str, doc.edges)) == sorted(map(str, (Edge(**e) for e in before["edges"])))
    assert graph.validate(doc) == []


def test_disconnect_index_restores_wire_order():
    doc = chain_doc("Linear", "ReLU")
    edges = list(doc.edges)
    index = doc.disconnect(edges[0])
    doc.connect(edges[0], index)
    assert doc.edges == edges
    assert doc.edges_into(edges[0].target) == [edges[0]]


def test_connect_refuses_missing_ends_ports_and_duplicates():
    doc = Document()
    x = doc.add_node("Input").id
    fc = doc.add_node("Linear").id
    with pytest.raises(StrataError, match="there is no node with id 'nope'"):
        doc.connect(Edge("nope", "out", fc, "in"))
    with pytest.raises(StrataError, match=r"Linear 'fc' has no input port 'x' \(it has: in\)"):
        doc.connect(Edge(x, "out", fc, "x"))
    with pytest.raises(StrataError, match="Input 'input' has no input port 'in'"):
        doc.connect(Edge(fc, "out", x, "in"))
    doc.connect(Edge(x, "out", fc, "in"))
    with pytest.raises(StrataError, match="already exists"):
        doc.connect(Edge(x, "out", fc, "in"))
    with pytest.raises(StrataError, match="there is no wire"):
        doc.disconnect(Edge(fc, "out", x, "in"))


def test_add_node_refuses_unknown_types_and_taken_ids():
    doc = Document()
    doc.add_node("ReLU", node_id="a")
    with pytest.raises(StrataError, match="already exists"):
        doc.add_node("ReLU", node_id="a")
    with pytest.raises(StrataError, match="unknown layer type 'Dense'"):
        doc.add_node("Dense")


def test_set_param_stores_a_copy():
    doc = Document()
    node = doc.add_node("Input")
    shape = [1, 28, 28]
    doc.set_param(node.id, "shape", shape)
    shape.append(3)
    assert node.params["shape"] == [1, 28, 28]


def test_wire_index_follows_edits_and_direct_changes():
    doc = chain_doc("Linear", "ReLU")
    x, fc, relu, _out = list(doc.nodes)
    add = doc.add_node("Add").id
    wire(doc, relu, add)
    wire(doc, fc, add)
    assert [e.source for e in doc.edges_into(add)] == [relu, fc]
    assert [e.target for e in doc.edges_from(fc)] == [relu, add]
    assert doc.edges_of(fc) == [e for e in doc.edges if fc in (e.source, e.target)]
    # The file reader fills ``edges`` directly; the index notices.
    doc.edges.append(Edge(x, "out", add, "in3"))
    assert len(doc.edges_into(add)) == 3
    doc.edges = doc.edges[:2]
    assert doc.edges_into(add) == []


def test_copy_and_equality():
    doc = chain_doc("Linear", ("ReLU", {}, "act"))
    copy = doc.copy()
    assert copy == doc and copy is not doc
    copy.set_label(list(copy.nodes)[2], "other")
    assert copy != doc


def test_clear_removes_everything():
    doc = chain_doc("Linear")
    doc.clear()
    assert doc.nodes == {} and doc.edges == []


def test_set_training_none_removes_the_key():
    doc = Document()
    doc.set_training("epochs", 5)
    assert doc.set_training("epochs", None) == 5
    assert "epochs" not in doc.training


def test_listeners_may_follow_one_kind_and_bad_events_fail_loudly():
    doc = Document()
    added: list[NodeAdded] = []
    doc.subscribe(added.append, NodeAdded)
    node = doc.add_node("ReLU")
    doc.set_label(node.id, "act")
    assert added == [NodeAdded(node.id)]
    with pytest.raises(TypeError, match="DocumentEvent"):
        doc.emit("node_added")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="DocumentEvent classes"):
        doc.subscribe(added.append, "node_added")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):
        graph.NodeAded  # type: ignore[attr-defined]  # noqa: B018
    with pytest.raises(TypeError):
        NodeAdded()  # type: ignore[call-arg]
