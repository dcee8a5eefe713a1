"""The problems panel: lists every problem, clicking selects the node, a shape error
disappears after a parameter edit or after the one-click fix (one undo step)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from graph.builder import Builder
from studio.document.controller import DocumentController
from studio.panels.inspector import InspectorPanel
from studio.panels.problems import ProblemsPanel


def skip_network():
    """Input (4) -> fc (8) -> add.in1, and Input -> add.in2: feature sizes differ."""
    b = Builder("skip")
    x = b.add("Input", shape=[4])
    fc = b.chain(x, ("Linear", {"out_features": 8}, "fc"))
    add = b.add("Add", "add")
    b.wire(fc, add)
    b.wire(x, add)
    b.chain(add, ("Linear", {"out_features": 2}, "head"), "Output")
    return b.done()


@pytest.fixture
def controller(make_controller):
    return make_controller(skip_network())


@pytest.fixture
def panel(qtbot, controller):
    p = ProblemsPanel(controller)
    qtbot.addWidget(p)
    return p


def rows(panel):
    return [panel.tree.topLevelItem(i) for i in range(panel.tree.topLevelItemCount())]


def test_lists_every_problem_with_node_and_message(panel, controller, qtbot):
    (item,) = rows(panel)
    assert item.text(0) == "add"
    assert "feature sizes differ" in item.text(1)
    assert "Fix: Insert a Linear after 'input' to match 8 features" in item.text(1)
    assert "1 error" in panel.summary.text()

    with qtbot.waitSignal(controller.analysis_changed, timeout=2000):
        controller.add_node("ReLU", (0, 0))  # unconnected: an error and a warning
    texts = [r.text(1) for r in rows(panel)]
    assert len(texts) == len(controller.analysis.problems) == 3
    assert any("is not connected" in t for t in texts)
    assert any("does not lead to any Output" in t for t in texts)
    assert "2 errors" in panel.summary.text() and "1 warning" in panel.summary.text()
    # errors come first
    assert rows(panel)[-1].text(1).startswith(
        next(p.message for p in controller.analysis.problems if not p.is_error))


def test_shape_error_disappears_after_editing_the_parameter(panel, controller, qtbot):
    inspector = InspectorPanel(controller)
    qtbot.addWidget(inspector)
    fc = controller.document.find_label("fc").id
    controller.select([fc])
    spin = inspector.form.editors["out_features"].field
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin.lineEdit(), "4")
    with qtbot.waitSignal(controller.analysis_changed, timeout=2000):
        qtbot.keyClick(spin.lineEdit(), Qt.Key.Key_Return)
    assert rows(panel) == []
    assert "No problems" in panel.summary.text()
    assert panel.tree.isHidden() and not panel.empty.isHidden()
    with qtbot.waitSignal(controller.analysis_changed, timeout=2000):
        controller.undo_stack.undo()
    assert len(rows(panel)) == 1


def test_one_click_fix_is_one_undo_step(panel, controller, qtbot):
    before = controller.document.to_dict()
    count = controller.undo_stack.count()
    (item,) = rows(panel)
    holder = panel.tree.itemWidget(item, 2)
    button = holder.findChild(QPushButton)
    assert button.text() == "Fix"
    assert "Insert a Linear" in button.toolTip()
    with qtbot.waitSignal(controller.analysis_changed, timeout=2000):
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert controller.undo_stack.count() == count + 1
    assert rows(panel) == []
    assert controller.analysis.ok
    with qtbot.waitSignal(controller.analysis_changed, timeout=2000):
        controller.undo_stack.undo()
    assert controller.document.to_dict() == before
    assert len(rows(panel)) == 1


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")  # offscreen platform
def test_clicking_a_problem_selects_its_node(panel, controller, qtbot):
    add = controller.document.find_label("add").id
    panel.resize(600, 200)
    panel.show()
    qtbot.waitExposed(panel)
    (item,) = rows(panel)
    rect = panel.tree.visualItemRect(item)
    with qtbot.waitSignal(panel.node_activated, timeout=1000) as blocker:
        qtbot.mouseClick(panel.tree.viewport(), Qt.MouseButton.LeftButton,
                         pos=rect.center())
    assert blocker.args == [add]
    assert controller.selected == [add]


def test_problems_without_a_node_and_without_a_fix(qtbot, qapp):
    c = DocumentController()
    panel = ProblemsPanel(c)
    qtbot.addWidget(panel)
    texts = [r.text(1) for r in rows(panel)]
    assert any("no Input" in t for t in texts)
    assert all(r.text(0) == "Network" for r in rows(panel))
    assert all(panel.tree.itemWidget(r, 2) is None for r in rows(panel))
    assert any("add an Input" in r.text(1) for r in rows(panel))  # the hint instead
    with qtbot.assertNotEmitted(panel.node_activated):
        panel.activate(0)
