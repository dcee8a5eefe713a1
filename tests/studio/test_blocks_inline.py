"""Expanding a block instance inline: its inner layers, with their shapes, drawn under
its card at the level being edited, read-only (no undo step, nothing in the file),
following edits of the block, collapsed again; on real widgets offscreen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from strata_paths import EXAMPLES

from studio.canvas.block_preview import BlockPreviewItem

RESNET = EXAMPLES / "blocks_resnet.strata"


def test_expand_a_block_inline_and_collapse_it(make_window, qtbot):
    window = make_window(RESNET)
    root = window.controller
    scene = window.scene
    before, depth = root.document.to_dict(), root.undo_stack.count()
    root.select(["n5"])  # layer1: BasicBlock x 2
    menu = window.context_menu(window.view.mapFromScene(
        scene.nodes["n5"].sceneBoundingRect().center()))
    assert "E&xpand Inline" in [a.text() for a in menu.actions()]
    window.menu_actions.expand_inline.trigger()
    assert scene.is_expanded("n5")
    child = scene.expanded["n5"]
    assert isinstance(child, BlockPreviewItem) and child.parentItem() is scene.nodes["n5"]
    preview = child.preview
    assert preview.heading == "BasicBlock \u00d7 2"
    assert [c.title for c in preview.cards] == ["conv1", "bn1", "relu", "conv2", "bn2",
                                                "add", "relu_out"]
    assert preview.cards[0].detail == "N \u00d7 16 \u00d7 14 \u00d7 14"
    assert ("n2", "n3") in preview.wires and ("n6", "n7") in preview.wires
    card = scene.nodes["n5"].sceneBoundingRect()
    drawn = child.sceneBoundingRect()
    assert drawn.top() > card.bottom() - 5 and drawn.width() > card.width()
    # The cards the frame would cover (flatten and classifier, the row under it) move
    # down out of its way, as one undo step; nothing else changes.
    doc = root.document
    was = {n["id"]: tuple(n["position"]) for n in before["nodes"]}
    moved = {i for i, n in doc.nodes.items() if n.position != was[i]}
    assert moved == {"n8", "n9"}
    assert all(doc.nodes[i].position[1] > drawn.bottom() for i in moved)
    assert root.undo_stack.count() == depth + 1

    # A click on the preview acts on the instance (nothing inside is editable here).
    root.select([])
    point = window.view.mapFromScene(child.mapToScene(child.card_rect("n3").center()))
    QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, point)
    assert root.selected == ["n5"]

    # Edits inside the block show in the preview once back at the network.
    window.levels.open_block("n5")
    window.view.controller.set_label("n3", "norm1")
    window.levels.leave()
    qtbot.waitUntil(lambda: [c.title for c in scene.expanded["n5"].preview.cards][1]
                    == "norm1")
    root.undo_stack.undo()
    qtbot.waitUntil(lambda: [c.title for c in scene.expanded["n5"].preview.cards][1]
                    == "bn1")

    menu = window.context_menu(window.view.mapFromScene(card.center()))
    assert "Colla&pse Inline" in [a.text() for a in menu.actions()]
    window.menu_actions.expand_inline.trigger()
    assert not scene.is_expanded("n5") and child.scene() is None
    assert child not in scene.nodes["n5"].childItems()
    assert not any(isinstance(i, BlockPreviewItem) for i in scene.items())


def test_an_expanded_instance_removed_by_undo_takes_its_preview(make_window):
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    root = window.controller
    before = root.undo_stack.index()
    block = root.group_selection(["n2", "n3"])
    root.select([block])
    assert window.toggle_selected_inline()
    assert window.scene.is_expanded(block)
    # Undo back through the grouping (expanding may have moved cards in the way, an
    # undo step of its own): the instance and its preview go.
    root.undo_stack.setIndex(before)
    assert not root.is_block("n2")
    assert not window.scene.is_expanded(block)
    assert not any(isinstance(i, BlockPreviewItem) for i in window.scene.items())
    root.select(["n2"])  # a plain layer: nothing to expand, said so
    refused = []
    root.edit_refused.connect(refused.append)
    assert not window.toggle_selected_inline()
    assert refused == ["Expand Inline: select a block"]
