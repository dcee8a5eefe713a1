"""An instance expanded inline moves the cards its frame would cover (and those under
them in its columns) out of the way, as one undo step that also collapses the frame;
collapsing puts them back (not one the user has moved since); an expansion that covers
nothing moves nothing and is no undo step."""

from __future__ import annotations

import graph
from graph.builder import Builder
from studio.canvas.inline_room import card_rect


def _network(tmp_path):
    """A block whose frame would cover the two cards drawn under it."""
    b = Builder("Room")
    x = b.add("Input", shape=[8])
    h = b.chain(x, ("Linear", {"out_features": 16}, "fc1"), ("ReLU", {}, "relu"),
                ("Linear", {"out_features": 8}, "fc2"))
    side = b.chain(x, ("Linear", {"out_features": 8}, "side"), ("Tanh", {}, "squash"))
    add = b.add("Add", "add")
    b.wire(h, add)
    b.wire(side, add)
    b.chain(add, "Output")
    doc = b.done()
    ids = {n.label: n.id for n in doc.nodes.values()}
    block = doc.group([ids["fc1"], ids["relu"], ids["fc2"]], "Body").result["instance"]
    doc.move_node(ids["input"] if "input" in ids else next(iter(doc.nodes)), (0.0, 0.0))
    doc.move_node(block, (240.0, 0.0))
    doc.move_node(ids["side"], (240.0, 160.0))  # under the block: in the frame's way
    doc.move_node(ids["squash"], (480.0, 160.0))
    doc.move_node(ids["add"], (720.0, 0.0))
    path = tmp_path / "room.strata"
    graph.save(doc, path)
    return path, block, ids


def _overlaps(scene, node_id) -> list[str]:
    frame = scene.expanded[node_id].sceneBoundingRect()
    return [i for i in scene.nodes if i != node_id and card_rect(scene, i).intersects(frame)]


def test_expanding_inline_makes_room_and_collapsing_gives_it_back(make_window, tmp_path):
    path, block, ids = _network(tmp_path)
    window = make_window(path)
    c, scene = window.controller, window.scene
    doc = c.document
    before = {i: n.position for i, n in doc.nodes.items()}
    depth = c.undo_stack.count()
    c.select([block])
    assert window.toggle_selected_inline()
    assert scene.is_expanded(block)
    assert _overlaps(scene, block) == []
    moved = {i for i, n in doc.nodes.items() if n.position != before[i]}
    assert moved == {ids["side"], ids["squash"]}  # the add and the output stay in place
    assert doc.nodes[ids["side"]].position[0] == 240.0  # straight down, in its column
    assert c.undo_stack.count() == depth + 1
    assert c.undo_stack.undoText() == "Expand Inline"
    # Undo: the cards back, the frame gone (it would cover them again); redo: both.
    c.undo_stack.undo()
    assert {i: n.position for i, n in doc.nodes.items()} == before
    assert not scene.is_expanded(block)
    c.undo_stack.redo()
    assert scene.is_expanded(block) and _overlaps(scene, block) == []
    shifted = {i: n.position for i, n in doc.nodes.items()}

    # Collapse: one step that puts them back.
    c.select([block])
    assert not window.toggle_selected_inline()
    assert not scene.is_expanded(block)
    assert {i: n.position for i, n in doc.nodes.items()} == before
    assert c.undo_stack.undoText() == "Collapse Inline"
    c.undo_stack.undo()
    assert scene.is_expanded(block)
    assert {i: n.position for i, n in doc.nodes.items()} == shifted

    # A card moved by the user meanwhile stays where the user put it.
    c.move_nodes({ids["squash"]: (900.0, 400.0)})
    c.select([block])
    window.toggle_selected_inline()
    assert doc.nodes[ids["side"]].position == before[ids["side"]]
    assert doc.nodes[ids["squash"]].position == (900.0, 400.0)


def test_an_expansion_that_covers_nothing_moves_nothing(make_window, tmp_path):
    path, block, ids = _network(tmp_path)
    window = make_window(path)
    c = window.controller
    c.move_nodes({ids["side"]: (240.0, 900.0), ids["squash"]: (480.0, 900.0)})
    before = c.document.to_dict()
    depth = c.undo_stack.count()
    c.select([block])
    assert window.toggle_selected_inline()
    assert c.document.to_dict() == before and c.undo_stack.count() == depth
    c.select([block])
    assert not window.toggle_selected_inline()
    assert c.undo_stack.count() == depth
