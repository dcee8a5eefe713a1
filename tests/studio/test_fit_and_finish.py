"""What a new user hits in the first hour (issue 10), each on the real window with real
mouse and key events: right-click, fit on open, no overlapping cards, drop on a wire,
wires picked up from inputs, pending edits committed by Train, the layout at 1280x720,
the node menu's own entries and the Help menu."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QApplication,
    QMessageBox,
    QPlainTextEdit,
)

from graph import Document, Edge
from graph.builder import Builder
from studio.document.controller import DocumentController
from studio.main_window import MainWindow

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
LEFT, RIGHT = Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton
NO = Qt.KeyboardModifier.NoModifier
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise",
                                       "does not support grabbing")


@pytest.fixture
def make_window(qtbot, tmp_path):
    def make(source=None, size=(1280, 720)):
        if isinstance(source, Document):
            source = DocumentController(source)
        window = MainWindow(source, settings=QSettings(str(tmp_path / "s.ini"),
                                                       QSettings.Format.IniFormat),
                            autosave_dir=tmp_path / "recovery")
        window.ask = lambda *a: QMessageBox.StandardButton.Discard
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        qtbot.wait(20)
        return window
    return make


def chain():
    b = Builder("chain")
    x = b.add("Input", "x", shape=[8])
    b.chain(x, ("Linear", {"out_features": 4}, "fc"), ("ReLU", {}, "act"),
            ("Output", {}, "y"))
    return b.done()


def card_point(window, node_id, x=60.0, y=8.0) -> QPoint:
    item = window.scene.nodes[node_id]
    return window.view.mapFromScene(item.mapToScene(QPointF(x, y)))


def overlapping(window) -> list[tuple[str, str]]:
    items = list(window.scene.nodes.values())
    rects = {i.node_id: i.mapRectToScene(i.card_rect()) for i in items}
    ids = list(rects)
    return [(a, b) for k, a in enumerate(ids) for b in ids[k + 1:]
            if rects[a].intersects(rects[b])]


def label(window, name):
    return window.controller.document.find_label(name).id


# ---------------------------------------------------------------------- right-click
def test_right_click_selects_the_node_and_its_menu_deletes_it(make_window):
    window = make_window(chain())
    view = window.view
    window.view.fit_all()
    fc, act = label(window, "fc"), label(window, "act")
    QTest.mouseClick(view.viewport(), LEFT, NO, card_point(window, act))
    assert window.controller.selected == [act]
    where = card_point(window, fc)
    QTest.mousePress(view.viewport(), RIGHT, NO, where)
    QTest.mouseRelease(view.viewport(), RIGHT, NO, where)
    assert window.controller.selected == [fc]
    menu = window.context_menu(where)
    delete = next(a for a in menu.actions() if a.text().replace("&", "") == "Delete")
    delete.trigger()
    assert fc not in window.controller.document.nodes
    assert act in window.controller.document.nodes


def test_right_click_keeps_a_multi_selection_it_belongs_to(make_window):
    window = make_window(chain())
    window.view.fit_all()
    fc, act = label(window, "fc"), label(window, "act")
    window.controller.select([fc, act])
    where = card_point(window, act)
    QTest.mousePress(window.view.viewport(), RIGHT, NO, where)
    QTest.mouseRelease(window.view.viewport(), RIGHT, NO, where)
    assert set(window.controller.selected) == {fc, act}


def test_node_menu_offers_delete_and_reconnect_and_insert_after(make_window):
    window = make_window(chain())
    window.view.fit_all()
    x, act, y = label(window, "x"), label(window, "act"), label(window, "y")
    fc = label(window, "fc")
    where = card_point(window, act)
    QTest.mousePress(window.view.viewport(), RIGHT, NO, where)
    QTest.mouseRelease(window.view.viewport(), RIGHT, NO, where)
    menu = window.context_menu(where)
    names = [a.objectName() for a in menu.actions()]
    assert "node_insert_after" in names and "node_delete_reconnect" in names
    next(a for a in menu.actions() if a.objectName() == "node_delete_reconnect").trigger()
    doc = window.controller.document
    assert act not in doc.nodes
    assert Edge(fc, "out", y, "in") in doc.edges
    window.controller.undo_stack.undo()
    assert act in doc.nodes and Edge(fc, "out", act, "in") in doc.edges
    assert x in doc.nodes


def test_node_menu_and_inspector_offer_the_nodes_fix(make_window):
    b = Builder("needs flatten")
    x = b.add("Input", "img", shape=[1, 8, 8])
    b.chain(x, ("Linear", {"out_features": 3}, "fc"), ("Output", {}, "out"))
    window = make_window(b.done())
    window.view.fit_all()
    fc = label(window, "fc")
    window.controller.analyze_now()
    where = card_point(window, fc)
    QTest.mousePress(window.view.viewport(), RIGHT, NO, where)
    QTest.mouseRelease(window.view.viewport(), RIGHT, NO, where)
    menu = window.context_menu(where)
    fixes = [a for a in menu.actions() if a.objectName() == "node_fix"]
    assert fixes and "Flatten" in fixes[0].text()
    buttons = window.inspector.actions_bar.fix_buttons
    assert buttons and "Flatten" in buttons[0].text()
    buttons[0].click()
    assert any(n.type == "Flatten" for n in window.controller.document.nodes.values())
    assert window.controller.analyze_now().ok
    assert not overlapping(window)


# ---------------------------------------------------------------------- fit on open
def test_opening_a_long_example_fits_it_all_on_screen(make_window):
    window = make_window(EXAMPLES / "deep_sigmoid_mlp.strata")
    QApplication.processEvents()
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    items = window.scene.nodes.values()
    assert len(items) == 21
    assert all(visible.contains(i.sceneBoundingRect()) for i in items)


def test_auto_arrange_wraps_a_long_chain_to_a_readable_zoom(make_window):
    window = make_window(EXAMPLES / "deep_sigmoid_mlp.strata")
    from graph.layout import layered_positions

    window.controller.move_nodes(layered_positions(window.controller.document))  # a row
    window.view.fit_rect(window.scene.nodes_rect(), min_zoom=0.0)  # the row, whole
    before = window.view.zoom()
    window.menu_actions.arrange.trigger()
    assert window.view.zoom() > max(before * 1.5, 0.6)
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert shown.contains(window.scene.nodes_rect())
    rows = {round(n.position[1]) for n in window.controller.document.nodes.values()}
    assert len(rows) > 1
    assert not overlapping(window)


# ---------------------------------------------------------------------- no overlaps
def test_paste_quick_add_and_fix_never_overlap(make_window):
    window = make_window(chain())
    window.view.fit_all()
    fc = label(window, "fc")
    window.controller.select([fc])
    assert window.copy()
    for _ in range(3):
        window.paste()
    assert not overlapping(window)
    # A layer asked for exactly where a card is lands beside it.
    x, y = window.controller.document.nodes[fc].position
    window.view.add_layer("ReLU", QPointF(x + 70, y + 12))
    assert not overlapping(window)
    # The fix that adds an Output.
    b = Builder("no output")
    x = b.add("Input", "x", shape=[4])
    b.chain(x, ("Linear", {"out_features": 2}, "fc"))
    doc = b.done()
    fc_x, fc_y = doc.find_label("fc").position
    doc.nodes[x].position = (fc_x + 220, fc_y)  # where the fix puts the Output
    window.controller.set_document(doc)
    window.controller.analyze_now()
    row = next(i for i, p in enumerate(window.problems.problems) if p.kind == "no_output")
    assert window.problems.apply_fix(row)
    assert any(n.type == "Output" for n in window.controller.document.nodes.values())
    assert not overlapping(window)


def test_adding_with_a_selection_appends_after_it_and_wires_it(make_window):
    window = make_window(chain())
    fc, act = label(window, "fc"), label(window, "act")
    window.controller.select([fc])
    window.palette_panel.add_requested.emit("Dropout")
    doc = window.controller.document
    (new,) = [n.id for n in doc.nodes.values() if n.type == "Dropout"]
    assert Edge(fc, "out", new, "in") in doc.edges
    assert Edge(new, "out", act, "in") in doc.edges
    assert not overlapping(window)


# ---------------------------------------------------------------------- wires
def test_dropping_a_layer_on_a_wire_inserts_it(make_window):
    window = make_window(chain())
    window.view.fit_all()
    fc, act = label(window, "fc"), label(window, "act")
    wire = window.scene.wires[Edge(fc, "out", act, "in")]
    mid = window.view.mapFromScene(wire.path().pointAtPercent(0.5))
    palette = window.palette_panel
    mime = palette.tree.mimeData([palette.items["BatchNorm1d"]])
    QApplication.sendEvent(window.view.viewport(),
                           QDragEnterEvent(mid, Qt.DropAction.CopyAction, mime, LEFT, NO))
    QApplication.sendEvent(window.view.viewport(),
                           QDropEvent(QPointF(mid), Qt.DropAction.CopyAction, mime, LEFT, NO))
    doc = window.controller.document
    (bn,) = [n.id for n in doc.nodes.values() if n.type == "BatchNorm1d"]
    assert Edge(fc, "out", bn, "in") in doc.edges and Edge(bn, "out", act, "in") in doc.edges
    assert Edge(fc, "out", act, "in") not in doc.edges
    assert not overlapping(window)
    window.controller.undo_stack.undo()
    assert Edge(fc, "out", act, "in") in doc.edges and bn not in doc.nodes


def test_a_wire_is_picked_up_from_its_input_and_dropped_elsewhere(make_window):
    window = make_window(chain())
    window.view.fit_all()
    fc, act, y = label(window, "fc"), label(window, "act"), label(window, "y")
    view = window.view
    start = view.mapFromScene(window.scene.nodes[act].port_scene_pos("in", "in"))
    end = view.mapFromScene(window.scene.nodes[y].port_scene_pos("in", "in"))
    QTest.mousePress(view.viewport(), LEFT, NO, start)
    for i in range(1, 6):
        QTest.mouseMove(view.viewport(), start + (end - start) * (i / 5))
    QTest.mouseRelease(view.viewport(), LEFT, NO, end)
    doc = window.controller.document
    assert Edge(fc, "out", y, "in") in doc.edges
    assert Edge(fc, "out", act, "in") not in doc.edges
    assert window.controller.undo_stack.undoText() == "Move wire"


# ---------------------------------------------------------------------- pending edits
def test_train_commits_the_epochs_being_typed(make_window, qtbot):
    doc = chain()
    doc.add_node("ReLU", position=(0.0, 400.0))  # an error: Train is refused, fast
    window = make_window(doc)
    bench = window.training.workbench()
    window.docks["training"].show()
    window.docks["training"].raise_()
    bench.panel.setup.load()
    spin = bench.panel.setup.editors["epochs"].field
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=3000)
    spin.selectAll()
    QTest.keyClicks(spin, "400")
    assert window.controller.document.training.get("epochs") != 400
    window.training.actions.train.trigger()
    assert window.controller.document.training.get("epochs") == 400


# ---------------------------------------------------------------------- layout
# 1152x648: the window's first size on a 1280x720 screen (90% of it, not maximised).
@pytest.mark.parametrize("size", [(1152, 648), (1280, 720), (1600, 1000), (1920, 1080)])
def test_the_canvas_dominates_and_no_form_scrolls_sideways(make_window, size):
    window = make_window(EXAMPLES / "spiral_mlp.strata", size=size)
    QApplication.processEvents()
    area = window.width() * window.height()
    canvas = window.view.width() * window.view.height()
    # (At 1152x648 the menu, toolbar and status bar alone take 15% of the height.)
    assert canvas >= area / (2 if size[0] >= 1280 else 2.2), (window.view.size(), window.size())
    assert window.docks["problems"].isHidden()  # nothing to list: it collapses
    window.training.workbench().panel.setup.load()
    for name in ("design", "train"):
        window.workspaces.switch(name)
        window.docks["training"].raise_()
        for _ in range(5):
            QApplication.processEvents()
        assert window.view.width() >= 0.4 * window.width()
        for area_widget in window.findChildren(QAbstractScrollArea):
            if area_widget.isVisible() and not isinstance(area_widget, QPlainTextEdit):
                bar = area_widget.horizontalScrollBar()
                assert bar.maximum() == 0 or not bar.isVisible(), \
                    (name, area_widget.objectName(), type(area_widget).__name__,
                     area_widget.parentWidget().objectName())
        if name == "design":
            tabbed = window.tabifiedDockWidgets(window.docks["inspector"])
            assert window.docks["code"] in tabbed  # a tab beside the inspector
    # A layer's form in the inspector does not scroll sideways either.
    window.workspaces.switch("design")
    doc = window.controller.document
    for node in list(doc.nodes.values())[:3]:
        window.controller.select([node.id])
        for _ in range(5):
            QApplication.processEvents()
        for scroll in window.inspector.findChildren(QAbstractScrollArea):
            if scroll.isVisible():
                assert scroll.horizontalScrollBar().maximum() == 0, node.type
    window.workspaces.switch("train")
    plots = window.docks["training_plots"]
    # The Train workspace splits its column between canvas and plots (see
    # test_window_layout.py for both sizes at each screen size).
    assert plots.isVisible() and plots.height() >= 0.4 * window.height()


def test_problems_come_back_when_the_network_has_some(make_window):
    window = make_window(chain())
    assert window.docks["problems"].isHidden()
    window.controller.add_node("ReLU", (0.0, 600.0))
    window.controller.analyze_now()
    assert not window.docks["problems"].isHidden()


# ---------------------------------------------------------------------- help
def test_help_menu_shortcuts_layer_help_and_about(make_window):
    window = make_window(chain())
    titles = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert "Help" in titles
    from studio import help as strata_help

    dialog = strata_help.show_shortcuts(window)
    dialog.search.setText("train")
    rows = dialog.visible_rows()
    assert rows and all("train" in " ".join(r).lower() for r in rows)
    assert any(r[1] == "Pause" for r in dialog.rows)
    assert any(r[1] == "Stop" for r in dialog.rows)
    dialog.close()
    window.controller.select([label(window, "fc")])
    box = strata_help.show_layer_help(window)
    assert "torch.nn.Linear" in box.text()
    box.close()
    box = strata_help.show_about(window)
    assert "PyTorch" in box.text() and "Qt" in box.text()
    box.close()


def test_example_menu_uses_each_examples_network_name(make_window):
    window = make_window()
    names = [a.text() for a in window.examples_menu.actions()]
    assert "Edge-detecting CNN" in names
    assert "Edges cnn" not in names and "Lr too high" not in names


# ---------------------------------------------------------------------- data check
def test_a_dataset_that_does_not_fit_shows_in_problems_on_the_node_with_a_fix(
        make_window, qtbot):
    b = Builder("digits, wrong head")
    x = b.add("Input", "x", shape=[2])
    b.chain(x, ("Linear", {"out_features": 16}, "fc1"), ("ReLU", {}, "act"),
            ("Linear", {"out_features": 64}, "head"), ("Output", {}, "y"))
    doc = b.done({"dataset": {"name": "spirals"}})
    window = make_window(doc)
    check = window.training.data_check
    qtbot.waitUntil(lambda: check.started, timeout=5000)
    head = label(window, "head")
    qtbot.waitUntil(lambda: bool(check.problems), timeout=30000)
    (problem,) = check.problems
    assert problem.node_ids == (head,) and "2 classes" in problem.message
    row = window.problems.problems.index(problem)
    assert window.problems.fixes[row].title.startswith("Set out_features to 2")
    assert not window.docks["problems"].isHidden()
    assert window.scene.nodes[head].severity == "error"  # marked on the node
    # The status bar and the inspector's summary count it: not "valid" beside it.
    assert "1 error" in window.status.validity.text()
    window.controller.select([])
    assert "1 error" in window.inspector.network.status.text()
    window.controller.select([head])
    qtbot.waitUntil(lambda: any("out_features to 2" in b.text()
                                for b in window.inspector.actions_bar.fix_buttons),
                    timeout=3000)
    assert window.problems.apply_fix(row)
    assert window.controller.document.nodes[head].params["out_features"] == 2
    qtbot.waitUntil(lambda: not check.problems, timeout=10000)
    assert "Valid" in window.status.validity.text()
    # Choosing another dataset checks again: the Input does not take 8x8 images.
    window.controller.set_training("dataset", {"name": "digits"})
    qtbot.waitUntil(lambda: len(check.problems) >= 1, timeout=30000)
    assert any(p.node_ids == (x,) for p in check.problems)
    window.controller.undo_stack.undo()  # back to spirals: fits again
    qtbot.waitUntil(lambda: not check.problems, timeout=30000)


# ---------------------------------------------------------------------- diagnosis fixes
def test_training_diagnoses_offer_one_click_fixes_each_one_undo_step(make_window):
    from runtime.events import DiagnosisEvent

    window = make_window(EXAMPLES / "deep_sigmoid_mlp.strata")
    c = window.controller
    doc = c.document
    before = doc.to_dict()
    fc1 = label(window, "fc1")
    window.problems.set_diagnoses([
        DiagnosisEvent("vanishing_gradients", (fc1,), "Vanishing gradients", "...", "",
                       "warning"),
        DiagnosisEvent("learning_rate_too_high", (fc1,), "Learning rate too high", "...",
                       "", "warning")])
    rows = {p.kind: i for i, p in enumerate(window.problems.problems)}
    vanishing = rows["training:vanishing_gradients"]
    assert "ReLU" in window.problems.fixes[vanishing].title
    titles = [f.title for f in window.problems.diagnosis_fixes(
        window.problems.problems[vanishing])]
    assert any("BatchNorm" in t for t in titles)
    # The node's menu offers them too.
    window.view.fit_all()
    where = card_point(window, fc1)
    QTest.mousePress(window.view.viewport(), RIGHT, NO, where)
    QTest.mouseRelease(window.view.viewport(), RIGHT, NO, where)
    texts = [a.text() for a in window.context_menu(where).actions()]
    assert any("ReLU" in t for t in texts) and any("learning rate" in t for t in texts)
    assert window.problems.apply_fix(vanishing)
    assert not any(n.type == "Sigmoid" for n in doc.nodes.values())
    assert c.analyze_now().ok
    c.undo_stack.undo()
    assert doc.to_dict() == before
    lr = doc.training["lr"]
    rows = {p.kind: i for i, p in enumerate(window.problems.problems)}
    assert window.problems.apply_fix(rows["training:learning_rate_too_high"])
    assert doc.training["lr"] == pytest.approx(lr / 10)
    c.undo_stack.undo()
    assert doc.to_dict() == before
