"""The block editor in the studio: group and ungroup as undo steps, opening a block to
edit its inside (breadcrumb, Escape), on real widgets offscreen."""

from __future__ import annotations

import torch
from PySide6.QtCore import Qt
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
    assert window.menu_actions.group.shortcut().toString() == "Ctrl+G"
    window.menu_actions.group.trigger()
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
    assert window.menu_actions.ungroup.shortcut().toString() == "Ctrl+Shift+G"
    window.menu_actions.ungroup.trigger()
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


def _double_click(window, node_id: str) -> None:
    from PySide6.QtTest import QTest

    view = window.view
    point = view.mapFromScene(view.network_scene.nodes[node_id].sceneBoundingRect().center())
    QTest.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton,
                      Qt.KeyboardModifier.NoModifier, point)


def test_open_a_block_edit_inside_and_every_instance_follows(make_window, qtbot):
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    root = window.controller
    first = root.group_selection(["n2", "n3"])
    # A second instance of the same definition after it: the chain stays 2 -> 64.
    second = root.add_node(BLOCK, (240.0, 300.0), {"block": "Block"})
    root.connect("n1", "out", second, "in")  # a branch beside the first instance
    assert not window.breadcrumb.isVisible()

    _double_click(window, first)
    assert window.levels.path == ["Block"]
    assert window.breadcrumb.isVisible() and window.breadcrumb.text() == "Network > Block"
    assert [b.text() for b in window.breadcrumb.buttons] == ["Network", "Block"]
    inside = window.view.controller
    assert inside is not root and inside.document is root.document.blocks["Block"].body
    assert set(window.view.network_scene.nodes) == set(inside.document.nodes)
    assert "n2" in window.view.network_scene.nodes  # fc1, inside
    qtbot.waitUntil(lambda: inside.analysis is not None and not inside.analysis.errors)

    inside.set_param("n2", "out_features", 48)  # fc1 inside, through the shared stack
    assert root.undo_stack.undoText() == "Set out_features"
    assert window.isWindowModified()
    code = graph.generate_code(root.document).source
    assert "nn.Linear(2, 48" in code
    for instance in (first, second):  # both use the one definition
        assert root.document.node(instance).params["block"] == "Block"
    analysis = root.analyze_now()
    assert analysis.shapes[second].outputs["out"].shape[-1] == 48

    qtbot.keyClick(window.view, Qt.Key.Key_Escape)
    assert window.levels.path == [] and window.view.controller is root
    assert window.view.network_scene is window.scene
    assert not window.breadcrumb.isVisible()
    assert set(window.scene.nodes) == set(root.document.nodes)
    root.undo_stack.undo()  # the inner edit, undone from the network's level
    assert root.document.blocks["Block"].body.node("n2").params["out_features"] == 64


def test_breadcrumb_click_and_undo_of_the_grouping_return_to_the_network(make_window):
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    root = window.controller
    block = root.group_selection(LAYERS)
    root.select([block])
    window.menu_actions.open_block.trigger()
    assert window.breadcrumb.text() == "Network > Block"
    window.breadcrumb.buttons[0].click()
    assert window.levels.path == [] and window.view.controller is root
    window.levels.open_block(block)
    inside = window.view.controller
    inside.select(["n3", "n4"])
    inner = window.group_selection()  # a block inside the block: one more level
    assert inner and inside.document.node(inner).params["block"] == "Block2"
    window.levels.open_block(inner)
    assert window.breadcrumb.text() == "Network > Block > Block2"
    root.undo_stack.undo()  # the inner grouping: Block2 is gone, back up
    assert window.levels.path == ["Block"]
    root.undo_stack.undo()  # the outer grouping too: back to the network
    assert window.levels.path == [] and window.view.controller is root
    assert set(window.scene.nodes) == set(root.document.nodes)


def test_make_unique_forks_one_instance_as_one_undo_step(make_window):
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    root = window.controller
    first = root.group_selection(["n2", "n3"])
    second = root.add_node(BLOCK, (240.0, 300.0), {"block": "Block"})
    root.connect("n1", "out", second, "in")
    before = root.document.to_dict()
    root.select([second])
    pos = window.view.mapFromScene(window.scene.nodes[second].sceneBoundingRect().center())
    assert "Make &Unique" in [a.text() for a in window.context_menu(pos).actions()]
    window.menu_actions.make_unique.trigger()
    assert root.document.node(second).params["block"] == "Block2"
    assert root.document.node(first).params["block"] == "Block"
    window.levels.open_block(second)  # editing the fork leaves the first instance
    window.view.controller.set_param("n2", "out_features", 48)
    window.levels.leave()
    analysis = root.analyze_now()
    assert analysis.shapes[second].outputs["out"].shape[-1] == 48
    assert analysis.shapes[first].outputs["out"].shape[-1] == 64
    # The inspector shows the instance's totals, not the analyses behind them.
    root.select([second])
    form = window.inspector.form
    assert form is not None and "runs" not in form.inferred and "params" not in form.inferred
    assert form.block is not None and form.block.params.text() != ""
    root.undo_stack.undo()
    root.undo_stack.undo()
    assert root.document.to_dict() == before


def test_the_inside_of_a_block_is_locked_while_the_network_trains(make_window):
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    root = window.controller
    block = root.group_selection(["n2", "n3"])
    window.levels.open_block(block)
    inside = window.view.controller
    refused = []
    root.edit_refused.connect(refused.append)
    root.set_locked(True, "A run is training this network")
    before = root.document.to_dict()
    inside.set_param("n2", "out_features", 7)
    assert inside.locked and refused == ["A run is training this network"]
    assert root.document.to_dict() == before
    root.set_locked(False)
    inside.set_param("n2", "out_features", 7)
    assert root.document.blocks["Block"].body.nodes["n2"].params["out_features"] == 7
