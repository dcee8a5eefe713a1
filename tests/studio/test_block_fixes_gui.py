"""Diagnoses about layers inside blocks, in the studio: the one-click fix edits the
block's definition (one undo step), a Problems row opens the block at the layer, and an
inherited learning-rate factor shows on the inner cards."""

from __future__ import annotations

import pytest
from block_networks import sigmoid_blocks
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication

import graph
from runtime.events import DiagnosisEvent
from studio.panels.problems import PROBLEM_ROLE


def layer_types(doc) -> list[str]:
    """The types of the compiled network's layers, inner layers of blocks included
    (activations the code calls as functions through their stand-ins)."""
    net = graph.compile_network(doc)
    return [type(net.module.get_submodule(m.attribute)).__name__ for m in net.code.modules]


def sigmoid_of(doc) -> str:
    return next(n.id for n in doc.blocks["Hidden"].body.nodes.values()
                if n.type == "Sigmoid")


def vanishing(*node_ids) -> DiagnosisEvent:
    return DiagnosisEvent("vanishing_gradients", tuple(node_ids), "Vanishing gradients",
                          "The first layers barely learn.", "Replace Sigmoid with ReLU.",
                          "warning", 10, 1)


def open_window(make_window, tmp_path, doc):
    path = tmp_path / "sigmoid_blocks.strata"
    graph.save(doc, path)
    return make_window(path)


def rows(window) -> dict[str, int]:
    return {p.kind: i for i, p in enumerate(window.problems.problems)}


def test_the_fix_of_an_inner_sigmoid_edits_the_block_in_one_undo_step(make_window, qtbot,
                                                                     tmp_path):
    window = open_window(make_window, tmp_path, sigmoid_blocks(uses=3, repeat=2))
    c = window.controller
    doc = c.document
    sigmoid = sigmoid_of(doc)
    before = doc.to_dict()
    window.problems.set_diagnoses([vanishing("n2", f"n4:0/{sigmoid}", f"n5:1/{sigmoid}")])
    row = rows(window)["training:vanishing_gradients"]
    fix = window.problems.fixes[row]
    assert fix is not None
    assert fix.title == "Replace the Sigmoid layer with ReLU in block 'Hidden' (3 uses)"
    button = window.problems.tree.findChild(object, f"fix_{row}")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    body = doc.blocks["Hidden"].body
    assert body.nodes[sigmoid].type == "ReLU"
    assert c.undo_stack.undoText() == fix.title  # one step, named after the fix
    assert "Sigmoid" not in layer_types(doc)
    after = doc.to_dict()
    c.undo_stack.undo()
    assert doc.to_dict() == before
    assert "Sigmoid" in layer_types(doc)
    c.undo_stack.redo()
    assert doc.to_dict() == after
    assert c.analyze_now().ok


def test_an_inner_fix_the_block_refuses_changes_nothing_and_says_why(make_window,
                                                                    tmp_path):
    from graph.edits import InBlock, ReplaceLayer
    from graph.fixes import Fix

    window = open_window(make_window, tmp_path, sigmoid_blocks(uses=1, repeat=1))
    c = window.controller
    before = c.document.to_dict()
    said = []
    c.edit_refused.connect(said.append)
    depth = c.undo_stack.count()
    c.apply_fix(Fix("Bad", (InBlock("Hidden", ReplaceLayer("n99", "ReLU")),)))
    assert c.document.to_dict() == before and c.undo_stack.count() == depth
    assert said and "has no layer 'n99'" in said[0]


def click_row(qtbot, window, row: int) -> None:
    tree = window.problems.tree
    item = next(tree.topLevelItem(i) for i in range(tree.topLevelItemCount())
                if tree.topLevelItem(i).data(0, PROBLEM_ROLE) == row)
    tree.scrollToItem(item)
    rect = tree.visualItemRect(item)
    # Two quick clicks would make a double-click: let the interval pass, as a person does.
    qtbot.wait(QApplication.doubleClickInterval() + 50)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=rect.topLeft() + QPoint(20, rect.height() // 2))


def test_a_problems_row_inside_a_block_opens_it_at_the_layer(make_window, qtbot, tmp_path):
    from graph import Edge

    doc = sigmoid_blocks(uses=2, repeat=2)
    body = doc.blocks["Hidden"].body
    fc = next(n.id for n in body.nodes.values() if n.type == "Linear")
    sigmoid = sigmoid_of(doc)
    # A layer that cannot take what the inner Linear gives: an error inside the block.
    wire = body.edges_from(fc)[0]
    body.disconnect(wire)
    bad = body.add_node("BatchNorm2d", {}, "bn", (300.0, 120.0)).id
    body.connect(Edge(fc, "out", bad, "in"))
    body.connect(Edge(bad, "out", sigmoid, "in"))
    window = open_window(make_window, tmp_path, doc)
    levels = window.levels
    first = window.controller.document.find_label("hidden1").id
    second = window.controller.document.find_label("hidden2").id
    window.problems.set_diagnoses([DiagnosisEvent(
        "dead_relus", (f"{second}:1/{sigmoid}",), "Dead ReLUs",
        "Most units of 'hidden2[1] > sigmoid' output zero.", "", "warning", 10, 1)])
    problems = window.problems.problems
    shape = next(i for i, p in enumerate(problems) if p.path == (bad,))
    dead = next(i for i, p in enumerate(problems) if p.kind == "training:dead_relus")
    # The Layer column names the inner layer, as the message does.
    texts = {window.problems.tree.topLevelItem(i).data(0, PROBLEM_ROLE):
             window.problems.tree.topLevelItem(i).text(0)
             for i in range(window.problems.tree.topLevelItemCount())}
    assert texts[dead] == "hidden2[1] > sigmoid" and texts[shape] == "hidden1 > bn"

    click_row(qtbot, window, shape)
    assert levels.path == ["Hidden"] and levels.levels[-1].instance == first
    assert levels.current.selected == [bad]
    assert window.view.network_scene is levels.levels[-1].scene
    assert window.view.network_scene.nodes[bad].isSelected()
    assert window.breadcrumb.isVisible()

    click_row(qtbot, window, dead)  # another instance, its second copy
    assert levels.path == ["Hidden"] and levels.levels[-1].instance == second
    assert levels.levels[-1].copy == 1 and levels.run_path() == f"{second}:1"
    assert levels.current.selected == [sigmoid]

    top = window.controller.document.find_label("fc0").id
    window.problems.set_diagnoses([DiagnosisEvent(
        "dead_relus", (top,), "Dead ReLUs", "fc0", "", "warning", 10, 1)])
    row = next(i for i, p in enumerate(window.problems.problems)
               if p.kind == "training:dead_relus")
    click_row(qtbot, window, row)  # a layer of the network: back up to it
    assert levels.path == [] and window.controller.selected == [top]


def test_an_inner_card_shows_the_learning_rate_factor_its_block_passes_down(
        make_window, qtbot, tmp_path):
    from strata_paths import EXAMPLES

    doc = graph.load(EXAMPLES / "blocks_resnet.strata")
    window = open_window(make_window, tmp_path, doc)
    window.resize(1280, 720)
    root = window.controller
    levels = window.levels
    layer1 = root.document.find_label("layer1").id
    assert root.set_lr_scale([layer1], 0.1)
    assert root.document.training["lr_scale"] == {layer1: 0.1}
    assert window.view.network_scene.nodes[layer1].frozen_tag.text == "lr \u00d70.1"

    assert levels.open_block(layer1)
    scene = levels.levels[-1].scene
    body = levels.current.document
    conv1, relu, conv2 = (body.find_label(n).id for n in ("conv1", "relu", "conv2"))
    tag = scene.nodes[conv1].frozen_tag
    assert tag.isVisible() and tag.text == "lr \u00d70.1 (from block 'layer1')"
    assert "inherited from block 'layer1'" in scene.nodes[conv1].toolTip()
    assert not scene.nodes[relu].frozen_tag.isVisible()  # no weights: nothing to scale
    # Zoomed far out the pill keeps the factor and leaves the rest to the tooltip.
    assert tag.shown_text(1.0)[0] == tag.text
    assert tag.shown_text(0.3)[0] == "lr \u00d70.1 \u2026"

    # The inspector says it too, and a value typed there overrides it for the layer.
    levels.current.select([conv2])
    box = window.findChild(object, "layer_training")
    qtbot.waitUntil(box.isVisible)
    assert box.scale.value() == pytest.approx(0.1)
    assert "lr \u00d7 0.1 (from block 'layer1')" in box.note.text()
    box.scale.setFocus()
    box.scale.selectAll()
    qtbot.keyClicks(box.scale, "0.5")
    qtbot.keyClick(box.scale, Qt.Key.Key_Return)
    assert root.document.training["lr_scale"] == {layer1: 0.1, f"{layer1}/{conv2}": 0.5}
    assert scene.nodes[conv2].frozen_tag.text == "lr \u00d70.5"  # its own now
    assert "from block" not in box.note.text()
    box.scale.selectAll()
    qtbot.keyClicks(box.scale, "0.1")  # the inherited factor again: the override goes
    qtbot.keyClick(box.scale, Qt.Key.Key_Return)
    assert root.document.training["lr_scale"] == {layer1: 0.1}
    assert scene.nodes[conv2].frozen_tag.text == "lr \u00d70.1 (from block 'layer1')"

    root.undo_stack.undo()
    root.undo_stack.undo()
    root.undo_stack.undo()  # no factor at all: no tag inside
    assert not root.document.training.get("lr_scale")
    assert not scene.nodes[conv1].frozen_tag.isVisible()


def test_an_open_blocks_node_menu_offers_the_fixes_of_its_layers_diagnoses(
        make_window, qtbot, tmp_path):
    from PySide6.QtCore import QPointF
    from PySide6.QtTest import QTest

    window = open_window(make_window, tmp_path, sigmoid_blocks(uses=2, repeat=2))
    root = window.controller
    doc = root.document
    sigmoid = sigmoid_of(doc)
    second = doc.find_label("hidden2").id
    window.problems.set_diagnoses([vanishing(f"{second}:1/{sigmoid}"), DiagnosisEvent(
        "learning_rate_too_high", (f"{second}:1/{sigmoid}",), "Learning rate too high",
        "...", "", "warning", 10, 1)])
    assert window.levels.open_block(second)
    view = window.view
    view.fit_all()
    item = view.network_scene.nodes[sigmoid]
    where = view.mapFromScene(item.mapToScene(QPointF(60.0, 8.0)))
    QTest.mousePress(view.viewport(), Qt.MouseButton.RightButton,
                     Qt.KeyboardModifier.NoModifier, where)
    QTest.mouseRelease(view.viewport(), Qt.MouseButton.RightButton,
                       Qt.KeyboardModifier.NoModifier, where)
    actions = {a.text(): a for a in window.context_menu(where).actions()}
    relu = "Fix: Replace the Sigmoid layer with ReLU in block 'Hidden' (2 uses)"
    lower = next(t for t in actions if "learning rate" in t)
    assert relu in actions
    lr = doc.training["lr"]
    actions[lower].trigger()  # from inside the block: the network's setting
    assert doc.training["lr"] == pytest.approx(lr / 10)
    assert "lr" not in doc.blocks["Hidden"].body.training
    actions[relu].trigger()
    assert doc.blocks["Hidden"].body.nodes[sigmoid].type == "ReLU"
    root.undo_stack.undo()
    root.undo_stack.undo()
    assert doc.blocks["Hidden"].body.nodes[sigmoid].type == "Sigmoid"
    assert doc.training["lr"] == pytest.approx(lr)
