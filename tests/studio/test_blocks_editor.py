"""The block editor in the studio: group and ungroup as undo steps, opening a block to
edit its inside (breadcrumb, Escape), on real widgets offscreen."""

from __future__ import annotations

import torch
from strata_paths import EXAMPLES

import graph
from graph.blocks import BLOCK

LAYERS = ["n2", "n3", "n4", "n5"]  # fc1, relu, fc2, relu2 of spiral_mlp


def _same_function(flat: graph.Document, grouped: graph.Document) -> None:
    """Both compile; with the flat weights copied in order, outputs are equal."""
    a = graph.compile_network(flat).module
    b = graph.compile_network(grouped).module
    pa, pb = list(a.parameters()), list(b.parameters())
    assert [p.shape for p in pa] == [p.shape for p in pb]
    with torch.no_grad():
        for p, q in zip(pa, pb, strict=True):
            q.copy_(p)
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    a.eval(), b.eval()
    torch.testing.assert_close(a(x), b(x))


def test_group_is_one_undo_step_and_keeps_the_function(make_window, qtbot):
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    c = window.controller
    flat = c.document.to_dict()
    flat_copy = c.document.copy()
    c.select(LAYERS)
    assert set(window.view.selected_node_ids()) == set(LAYERS)
    # (Shortcuts need an active window, which offscreen windows are not: the action.)
    assert window.actions.group.shortcut().toString() == "Ctrl+G"
    window.actions.group.trigger()
    blocks = [n for n in c.document.nodes.values() if n.type == BLOCK]
    assert len(blocks) == 1 and blocks[0].params["block"] == "Block"
    assert window.view.selected_node_ids() == [blocks[0].id]
    assert set(c.document.nodes) == {"n1", blocks[0].id, "n6", "n7"}
    assert window.isWindowModified()
    assert c.undo_stack.undoText() == "Group into Block"
    _same_function(flat_copy, c.document)
    grouped = c.document.to_dict()

    c.undo_stack.undo()
    assert c.document.to_dict() == flat
    assert set(window.scene.nodes) == set(c.document.nodes)
    assert not window.isWindowModified()
    c.undo_stack.redo()
    assert c.document.to_dict() == grouped
    assert set(window.scene.nodes) == set(c.document.nodes)


def test_group_names_follow_on_and_refusals_are_messages(make_controller):
    c = make_controller("spiral_mlp")
    first = c.group_selection(["n2", "n3"])
    second = c.group_selection(["n4", "n5"])
    assert [c.document.node(i).params["block"] for i in (first, second)] == [
        "Block", "Block2"]
    before = c.document.to_dict()
    depth = c.undo_stack.count()
    refusals = []
    c.edit_refused.connect(refusals.append)
    assert c.group_selection(["n1", first]) == ""  # the network's Input stays out
    assert c.group_selection([]) == ""
    assert c.ungroup("n6") == []  # a Linear is no block
    assert len(refusals) == 3 and "cannot go into a block" in refusals[0]
    assert c.document.to_dict() == before and c.undo_stack.count() == depth


def test_ungroup_and_undo(make_window, qtbot):
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    c = window.controller
    flat_copy = c.document.copy()
    block = c.group_selection(LAYERS)
    grouped = c.document.to_dict()
    c.select([block])
    menu = window.context_menu(window.view.mapFromScene(
        window.scene.nodes[block].sceneBoundingRect().center()))
    assert "U&ngroup Block" in [a.text() for a in menu.actions()]
    assert window.actions.ungroup.shortcut().toString() == "Ctrl+Shift+G"
    window.actions.ungroup.trigger()
    assert BLOCK not in [n.type for n in c.document.nodes.values()]
    assert [n.type for n in c.document.nodes.values()].count("Linear") == 3
    assert len(window.view.selected_node_ids()) == 4
    _same_function(flat_copy, c.document)
    c.undo_stack.undo()
    assert c.document.to_dict() == grouped
    assert set(window.scene.nodes) == set(c.document.nodes)


def test_group_in_the_context_menu_for_two_or_more(make_window):
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    c = window.controller
    c.select(["n2", "n3"])
    pos = window.view.mapFromScene(window.scene.nodes["n2"].sceneBoundingRect().center())
    texts = [a.text() for a in window.context_menu(pos).actions()]
    assert "&Group into Block" in texts
    c.select(["n2"])
    texts = [a.text() for a in window.context_menu(pos).actions()]
    assert "&Group into Block" not in texts and "U&ngroup Block" not in texts
