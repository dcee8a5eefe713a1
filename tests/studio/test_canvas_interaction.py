"""Gestures on the real view, driven with QTest mouse and key events on the viewport.

Each gesture must become exactly one undo step that undo takes back to the document as
it was (compared with ``to_dict``).
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QWheelEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from graph import Edge
from graph.builder import Builder
from studio.canvas import LAYER_MIME, NetworkView
from studio.canvas.view import GRID
from studio.document.controller import DocumentController
from studio.panels import PalettePanel

# The offscreen platform cannot raise windows or grab the keyboard for popups.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise",
                                       "does not support grabbing")
LEFT, NO = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


def loose_network():
    """Input, Linear, ReLU, Output side by side, nothing wired."""
    b = Builder("loose")
    b.add("Input", "x", shape=[8])
    b.add("Linear", "fc", out_features=4)
    b.add("ReLU", "act")
    b.add("Output", "y")
    doc = b.doc
    for i, node in enumerate(doc.nodes.values()):
        node.position = (i * 240.0, 0.0)
    return doc


@pytest.fixture
def canvas(qtbot):
    def make(doc=None):
        controller = DocumentController(doc if doc is not None else loose_network())
        view = NetworkView(controller)
        qtbot.addWidget(view)
        view.resize(1200, 700)
        view.show()
        qtbot.waitExposed(view)
        view.set_zoom(1.0)
        view.centerOn(view.network_scene.nodes_rect().center())
        return controller, view
    return make


def ids(controller):
    return {n.label: n.id for n in controller.document.nodes.values()}


def port(view, node_id, kind, name):
    item = view.network_scene.nodes[node_id]
    return view.mapFromScene(item.port_scene_pos(kind, name))


def card_point(view, node_id, x=60.0, y=8.0):
    """A point on a card's header (not on a port)."""
    item = view.network_scene.nodes[node_id]
    return view.mapFromScene(item.mapToScene(QPointF(x, y)))


def drag(view, start: QPoint, end: QPoint, steps=4, modifier=NO, button=LEFT):
    vp = view.viewport()
    QTest.mousePress(vp, button, modifier, start)
    for i in range(1, steps + 1):
        QTest.mouseMove(vp, start + (end - start) * (i / steps))
    QTest.mouseRelease(vp, button, modifier, end)


def test_wire_two_ports_by_mouse_with_valid_targets_lit(canvas):
    controller, view = canvas()
    n = ids(controller)
    before = controller.document.to_dict()
    vp = view.viewport()
    start, end = port(view, n["x"], "out", "out"), port(view, n["fc"], "in", "in")
    QTest.mousePress(vp, LEFT, NO, start)
    QTest.mouseMove(vp, (start + end) / 2)
    nodes = view.network_scene.nodes
    assert nodes[n["fc"]].highlighted == {"in:in"}
    assert nodes[n["y"]].highlighted == {"in:in"}
    assert nodes[n["x"]].highlighted == set()  # no wire from a layer to itself
    QTest.mouseMove(vp, end)
    QTest.mouseRelease(vp, LEFT, NO, end)
    assert controller.document.edges == [Edge(n["x"], "out", n["fc"], "in")]
    assert all(not item.highlighted for item in nodes.values())
    assert Edge(n["x"], "out", n["fc"], "in") in view.network_scene.wires
    assert controller.undo_stack.count() == 1
    controller.undo_stack.undo()
    assert controller.document.to_dict() == before


def test_wire_can_be_drawn_backwards_from_an_input(canvas):
    controller, view = canvas()
    n = ids(controller)
    drag(view, port(view, n["act"], "in", "in"), port(view, n["fc"], "out", "out"))
    assert controller.document.edges == [Edge(n["fc"], "out", n["act"], "in")]


def test_a_wire_that_would_close_a_loop_is_refused(canvas):
    controller, view = canvas()
    n = ids(controller)
    controller.connect(n["fc"], "out", n["act"], "in")
    vp = view.viewport()
    start = port(view, n["act"], "out", "out")
    QTest.mousePress(vp, LEFT, NO, start)
    QTest.mouseMove(vp, start + QPoint(30, 30))
    assert view.network_scene.nodes[n["fc"]].highlighted == set()
    end = port(view, n["fc"], "in", "in")
    QTest.mouseMove(vp, end)
    QTest.mouseRelease(vp, LEFT, NO, end)
    assert controller.document.edges == [Edge(n["fc"], "out", n["act"], "in")]


def test_dropping_on_an_occupied_input_replaces_its_wire(canvas):
    controller, view = canvas()
    n = ids(controller)
    controller.connect(n["x"], "out", n["act"], "in")
    before = controller.document.to_dict()
    drag(view, port(view, n["fc"], "out", "out"), port(view, n["act"], "in", "in"))
    assert controller.document.edges == [Edge(n["fc"], "out", n["act"], "in")]
    controller.undo_stack.undo()
    assert controller.document.to_dict() == before


def test_dropping_a_wire_on_empty_canvas_adds_a_connected_layer(canvas, qtbot):
    controller, view = canvas()
    n = ids(controller)
    before = controller.document.to_dict()
    start = port(view, n["x"], "out", "out")
    empty = start + QPoint(60, 220)
    drag(view, start, empty)
    popup = view.quick_add
    assert popup is not None and popup.isVisible()
    assert "Input" not in popup.hits()  # it could not take the wire
    QTest.keyClicks(popup.search_box, "dropo")
    assert popup.hits()[0] == "Dropout"
    QTest.keyClick(popup.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.quick_add is None)
    added = next(node for node in controller.document.nodes.values()
                 if node.type == "Dropout")
    assert Edge(n["x"], "out", added.id, "in") in controller.document.edges
    assert controller.selected == [added.id]
    scene_drop = view.mapToScene(empty)
    assert abs(added.position[0] + 70 - scene_drop.x()) <= GRID
    assert controller.undo_stack.count() == 1
    controller.undo_stack.undo()
    assert controller.document.to_dict() == before


def test_move_selection_snapped_to_the_grid_as_one_undo_step(canvas):
    controller, view = canvas()
    n = ids(controller)
    doc = controller.document
    before = doc.to_dict()
    controller.select([n["fc"], n["act"]])
    start = card_point(view, n["fc"])
    drag(view, start, start + QPoint(47, 33), steps=6)
    fc, act = doc.nodes[n["fc"]].position, doc.nodes[n["act"]].position
    assert fc == (280.0, 40.0)  # 240 + 47 -> 280, 0 + 33 -> 40 on a 20 grid
    assert act == (480.0 + 40.0, 40.0)  # same offset: the selection moves as one
    assert doc.nodes[n["x"]].position == (0.0, 0.0)
    assert controller.undo_stack.count() == 1
    assert controller.undo_stack.undoText() == "Move"
    controller.undo_stack.undo()
    assert doc.to_dict() == before
    assert view.network_scene.nodes[n["fc"]].pos() == QPointF(240, 0)


def test_a_click_without_a_drag_moves_nothing(canvas):
    controller, view = canvas()
    n = ids(controller)
    point = card_point(view, n["fc"])
    QTest.mouseClick(view.viewport(), LEFT, NO, point)
    assert controller.selected == [n["fc"]]
    assert controller.undo_stack.count() == 0


def test_click_ctrl_and_shift_click_select(canvas):
    controller, view = canvas()
    n = ids(controller)
    vp = view.viewport()
    QTest.mouseClick(vp, LEFT, NO, card_point(view, n["x"]))
    assert controller.selected == [n["x"]]
    QTest.mouseClick(vp, LEFT, Qt.KeyboardModifier.ControlModifier, card_point(view, n["fc"]))
    assert set(controller.selected) == {n["x"], n["fc"]}
    QTest.mouseClick(vp, LEFT, Qt.KeyboardModifier.ShiftModifier, card_point(view, n["x"]))
    assert controller.selected == [n["fc"]]
    QTest.mouseClick(vp, LEFT, NO, card_point(view, n["y"]))
    assert controller.selected == [n["y"]]
    QTest.mouseClick(vp, LEFT, NO, card_point(view, n["y"]) + QPoint(0, 250))
    assert controller.selected == []


def test_rubber_band_selects_the_cards_it_touches(canvas):
    controller, view = canvas()
    n = ids(controller)
    top_left = card_point(view, n["fc"], -30, -40)
    bottom_right = card_point(view, n["act"], 60, 120)
    drag(view, top_left, bottom_right, steps=8)
    assert set(controller.selected) == {n["fc"], n["act"]}
    # Shift extends the selection with a second band.
    drag(view, card_point(view, n["y"], -20, -40), card_point(view, n["y"], 60, 120),
         steps=8, modifier=Qt.KeyboardModifier.ShiftModifier)
    assert set(controller.selected) == {n["fc"], n["act"], n["y"]}


def test_select_a_wire_and_delete_it(canvas):
    controller, view = canvas()
    n = ids(controller)
    controller.connect(n["x"], "out", n["fc"], "in")
    before = controller.document.to_dict()
    wire = view.network_scene.wires[Edge(n["x"], "out", n["fc"], "in")]
    QTest.mouseClick(view.viewport(), LEFT, NO,
                     view.mapFromScene(wire.path().pointAtPercent(0.5)))
    assert view.selected_edges() == [wire.edge] and view.selected_node_ids() == []
    controller.delete(view.selected_node_ids(), view.selected_edges())
    assert controller.document.edges == []
    controller.undo_stack.undo()
    assert controller.document.to_dict() == before


# Qt offers no other constructor for a drag-enter event.
@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_layer_dragged_from_the_palette_lands_where_released(canvas, qtbot):
    controller, view = canvas()
    palette = PalettePanel(controller)
    qtbot.addWidget(palette)
    mime = palette.tree.mimeData([palette.items["Conv2d"]])
    assert mime.hasFormat(LAYER_MIME)
    where = QPoint(500, 450)
    vp = view.viewport()
    enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, mime, LEFT, NO)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    drop = QDropEvent(QPointF(where), Qt.DropAction.CopyAction, mime, LEFT, NO)
    QApplication.sendEvent(vp, drop)
    assert drop.isAccepted()
    conv = next(node for node in controller.document.nodes.values()
                if node.type == "Conv2d")
    assert controller.selected == [conv.id]
    scene = view.mapToScene(where)
    assert abs(conv.position[0] + 70 - scene.x()) <= GRID / 2 + 1
    assert abs(conv.position[1] + 12 - scene.y()) <= GRID / 2 + 1
    assert conv.position[0] % GRID == 0 and conv.position[1] % GRID == 0


@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_a_foreign_drop_is_ignored(canvas):
    controller, view = canvas()
    mime = QMimeData()
    mime.setText("hello")
    enter = QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime, LEFT, NO)
    QApplication.sendEvent(view.viewport(), enter)
    assert not enter.isAccepted()
    mime.setData(LAYER_MIME, b"NoSuchLayer")
    drop = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, LEFT, NO)
    QApplication.sendEvent(view.viewport(), drop)
    assert len(controller.document.nodes) == 4


def test_double_click_and_tab_open_quick_add_at_the_cursor(canvas, qtbot):
    controller, view = canvas()
    empty = card_point(view, ids(controller)["fc"]) + QPoint(0, 260)
    QTest.mouseDClick(view.viewport(), LEFT, NO, empty)
    popup = view.quick_add
    assert popup is not None and popup.isVisible()
    popup.set_query("batchnorm2")
    popup.accept_current()
    qtbot.waitUntil(lambda: view.quick_add is None)
    added = [n for n in controller.document.nodes.values() if n.type == "BatchNorm2d"]
    assert len(added) == 1
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Tab)
    assert view.quick_add is not None and view.quick_add.isVisible()
    QTest.keyClick(view.quick_add.search_box, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: view.quick_add is None)
    assert len(controller.document.nodes) == 5


def wheel(view, at: QPoint, delta: int) -> None:
    event = QWheelEvent(QPointF(at), QPointF(view.viewport().mapToGlobal(at)), QPoint(0, 0),
                        QPoint(0, delta), Qt.MouseButton.NoButton, NO,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_wheel_zooms_around_the_cursor(canvas):
    controller, view = canvas()
    at = card_point(view, ids(controller)["act"])
    fixed = view.mapToScene(at)

    def drift() -> int:  # screen pixels between the cursor and its scene point
        return (view.mapFromScene(fixed) - at).manhattanLength()

    wheel(view, at, 240)
    assert view.zoom() == pytest.approx(1.44)
    assert drift() <= 2
    wheel(view, at, -480)
    assert view.zoom() == pytest.approx(1.44 / 1.44 ** 2)
    assert drift() <= 2
    for _ in range(40):
        wheel(view, at, -120)
    assert view.zoom() == pytest.approx(0.08)  # clamped


def test_middle_button_and_space_drag_pan(canvas, qtbot):
    controller, view = canvas()
    centre = view.visible_center()
    a, b = QPoint(600, 350), QPoint(500, 300)
    drag(view, a, b, button=Qt.MouseButton.MiddleButton)
    moved = view.visible_center() - centre
    assert moved.x() == pytest.approx(100, abs=2) and moved.y() == pytest.approx(50, abs=2)
    assert controller.selected == [] and controller.undo_stack.count() == 0
    view.setFocus()
    QTest.keyPress(view, Qt.Key.Key_Space)
    drag(view, b, a)
    QTest.keyRelease(view, Qt.Key.Key_Space)
    assert (view.visible_center() - centre).manhattanLength() < 3
    assert controller.undo_stack.count() == 0


def test_fit_and_center(canvas):
    controller, view = canvas()
    view.set_zoom(3.0)
    view.fit_all()
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.network_scene.nodes_rect())
    y = ids(controller)["y"]
    view.center_on_node(y)
    card = view.network_scene.nodes[y].sceneBoundingRect()
    assert (view.visible_center() - card.center()).manhattanLength() < 3
