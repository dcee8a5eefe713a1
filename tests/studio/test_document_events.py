"""The controller relays each typed document event on the Qt signal of its kind, then
on ``document_changed``; undo and redo arrive the same way."""

from __future__ import annotations

import pytest

from graph import EdgeAdded, EdgeRemoved, NodeRemoved, ParamsChanged
from graph.events import EVENT_KINDS


def test_each_kind_has_its_own_signal(controller):
    names = {kind.__name__ for kind in EVENT_KINDS}
    for kind in EVENT_KINDS:
        snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in kind.__name__)
        assert hasattr(controller, snake.lstrip("_")), (kind.__name__, names)
    with pytest.raises(AttributeError):
        controller.params_chnged  # noqa: B018 - a misspelt event fails loudly


def test_a_parameter_edit_and_its_undo_arrive_typed(controller, qtbot):
    fc = controller.document.find_label("fc1") or next(
        n for n in controller.document.nodes.values() if n.type == "Linear")
    seen, every = [], []
    controller.params_changed.connect(seen.append)
    controller.document_changed.connect(every.append)
    controller.set_param(fc.id, "out_features", 17)
    assert seen == [ParamsChanged(fc.id, "out_features")]
    assert every[-1] == seen[-1]
    controller.undo_stack.undo()
    assert seen[-1] == ParamsChanged(fc.id, "out_features")
    assert controller.document.nodes[fc.id].params["out_features"] != 17


def test_a_wire_drop_replacing_a_wire_arrives_as_removed_then_added(controller):
    doc = controller.document
    edge = doc.edges[-1]
    other = next(e for e in doc.edges if e.source != edge.source and e.target != edge.source)
    kinds = []
    controller.edge_removed.connect(lambda e: kinds.append(e))
    controller.edge_added.connect(lambda e: kinds.append(e))
    controller.node_removed.connect(lambda e: kinds.append(e))
    new = controller.connect(other.source, other.source_port, edge.target, edge.target_port)
    assert kinds == [EdgeRemoved(edge), EdgeAdded(new)]
    controller.delete([edge.target])
    assert isinstance(kinds[-1], NodeRemoved) and kinds[-1].node_id == edge.target
