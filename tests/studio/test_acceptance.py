"""The editor's acceptance scenario, driven through the real widgets offscreen.

A network is built from nothing the way a user builds it: layers dragged from the palette
onto the canvas, wired by mouse, parameters typed into the inspector, a shape error seen
on the canvas and in Problems and fixed with one click, cards moved, copied, pasted,
duplicated, a wire deleted, the layout auto-arranged. Every step is one undo step: undo
walks back through every intermediate document to the empty one, redo walks forward
again, and the result saves and reopens identically.
"""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton

import graph
from graph import Edge
from studio.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise",
                                       "does not support grabbing")
LEFT, NO = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier


class Session:
    """The window plus a record of the document after every step."""

    def __init__(self, window, qtbot) -> None:
        self.window, self.qtbot = window, qtbot
        self.c = window.controller
        self.view = window.view
        self.steps = [("start", self.c.document.to_dict())]

    def step(self, name: str) -> None:
        """The action just done must be exactly one more undo step."""
        assert self.c.undo_stack.index() == len(self.steps), name
        assert self.c.undo_stack.count() == len(self.steps), name
        self.steps.append((name, self.c.document.to_dict()))

    def settle(self) -> None:
        self.c.analyze_now()
        QApplication.processEvents()

    def node(self, label: str) -> str:
        return self.c.document.find_label(label).id

    def port(self, node_id: str, kind: str, name: str) -> QPoint:
        item = self.window.scene.nodes[node_id]
        return self.view.mapFromScene(item.port_scene_pos(kind, name))

    def card(self, node_id: str) -> QPoint:
        item = self.window.scene.nodes[node_id]
        return self.view.mapFromScene(item.mapToScene(QPointF(60, 8)))

    def drag(self, start: QPoint, end: QPoint) -> None:
        vp = self.view.viewport()
        QTest.mousePress(vp, LEFT, NO, start)
        for i in range(1, 6):
            QTest.mouseMove(vp, start + (end - start) * (i / 5))
        QTest.mouseRelease(vp, LEFT, NO, end)

    def drop_from_palette(self, type_name: str, where: QPoint) -> str:
        palette = self.window.palette_panel
        mime = palette.tree.mimeData([palette.items[type_name]])
        enter = QDragEnterEvent(where, Qt.DropAction.CopyAction, mime, LEFT, NO)
        QApplication.sendEvent(self.view.viewport(), enter)
        assert enter.isAccepted()
        event = QDropEvent(QPointF(where), Qt.DropAction.CopyAction, mime, LEFT, NO)
        QApplication.sendEvent(self.view.viewport(), event)
        assert event.isAccepted()
        (new,) = self.c.selected
        assert self.c.document.nodes[new].type == type_name
        return new

    def type_into(self, node_id: str, param: str, text: str) -> None:
        """Select the layer, type ``text`` into its inspector field, press Enter."""
        self.c.select([node_id])
        form = self.window.inspector.form
        assert form is not None and form.node_id == node_id
        field = form.label_editor.field if param == "label" else form.editors[param].field
        field.setFocus()
        field.selectAll()
        QTest.keyClicks(field, text)
        QTest.keyClick(field, Qt.Key.Key_Return)


@pytest.fixture
def session(qtbot, tmp_path):
    window = MainWindow(settings=QSettings(str(tmp_path / "settings.ini"),
                                           QSettings.Format.IniFormat),
                        autosave_dir=tmp_path / "recovery")
    window.ask = lambda *args: QMessageBox.StandardButton.Discard
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.view.set_zoom(1.0)
    window.view.centerOn(400, 100)
    return Session(window, qtbot)


# A drag from the palette is simulated by its events; Qt deprecates this constructor.
@pytest.mark.filterwarnings("ignore:Function.*QDragEnterEvent:DeprecationWarning")
def test_build_fix_edit_undo_redo_save(session, tmp_path):
    s, c, view = session, session.c, session.view
    origin = view.mapFromScene(QPointF(0, 0))

    # Layers from the palette, dropped on the canvas.
    x = s.drop_from_palette("Input", origin + QPoint(60, 20))
    s.step("drop Input")
    fc = s.drop_from_palette("Linear", origin + QPoint(540, 20))
    s.step("drop Linear")
    out = s.drop_from_palette("Output", origin + QPoint(780, 20))
    s.step("drop Output")
    assert [n.type for n in c.document.nodes.values()] == ["Input", "Linear", "Output"]

    # An image input, typed into the inspector.
    s.type_into(x, "shape", "1, 28, 28")
    s.step("shape")
    assert c.document.nodes[x].params["shape"] == [1, 28, 28]

    # Wires by mouse.
    s.drag(s.port(x, "out", "out"), s.port(fc, "in", "in"))
    s.step("wire input")
    s.drag(s.port(fc, "out", "out"), s.port(out, "in", "in"))
    s.step("wire output")
    assert set(c.document.edges) == {Edge(x, "out", fc, "in"), Edge(fc, "out", out, "in")}

    # The Linear cannot take an image: the wire is red, the card badged, Problems says so.
    s.settle()
    problems = s.window.problems
    row = next(i for i, p in enumerate(problems.problems)
               if p.kind == "shape" and fc in p.node_ids)
    assert "needs a flat input" in problems.problems[row].message
    assert s.window.scene.wires[Edge(x, "out", fc, "in")].error
    assert s.window.scene.nodes[fc].badge.isVisible()
    assert "1 error" in s.window.status.validity.text()
    fix_button = problems.tree.findChild(QPushButton, f"fix_{row}")
    QTest.mouseClick(fix_button, LEFT)
    s.step("fix: insert Flatten")
    s.settle()
    assert not [p for p in problems.problems if p.kind == "shape"]
    assert not any(w.error for w in s.window.scene.wires.values())
    assert not s.window.scene.nodes[fc].badge.isVisible()
    assert "Valid" in s.window.status.validity.text()
    flatten = next(i for i, n in c.document.nodes.items() if n.type == "Flatten")
    assert s.window.scene.wires[Edge(flatten, "out", fc, "in")].label == "N \u00d7 784"

    # Parameters and label through the inspector; an invalid value is refused.
    s.type_into(fc, "out_features", "10")
    s.step("out_features")
    s.type_into(fc, "label", "classifier")
    s.step("label")
    s.type_into(fc, "out_features", "-3")
    assert c.document.nodes[fc].params["out_features"] == 10
    assert c.undo_stack.count() == len(s.steps) - 1
    assert s.window.inspector.form.editors["out_features"].has_error

    # Move two cards at once with the mouse (one step).
    c.select([fc, out])
    s.drag(s.card(fc), s.card(fc) + QPoint(40, 120))
    s.step("move")
    assert c.document.nodes[fc].position[1] == c.document.nodes[out].position[1] == 120.0

    # Copy, paste, duplicate, delete a wire, auto-arrange.
    c.select([flatten, fc])
    s.window.menu_actions.copy.trigger()
    s.window.menu_actions.paste.trigger()
    s.step("paste")
    pasted = {c.document.nodes[i].type: i for i in c.selected}
    assert sorted(pasted) == ["Flatten", "Linear"]
    assert Edge(pasted["Flatten"], "out", pasted["Linear"], "in") in c.document.edges
    s.window.menu_actions.duplicate.trigger()
    s.step("duplicate")
    wire = s.window.scene.wires[Edge(fc, "out", out, "in")]
    QTest.mouseClick(view.viewport(), LEFT, NO, view.mapFromScene(wire.path().pointAtPercent(0.5)))
    assert view.selected_edges() == [Edge(fc, "out", out, "in")]
    s.window.menu_actions.delete.trigger()
    s.step("delete wire")
    c.select([])
    s.window.menu_actions.arrange.trigger()
    s.step("auto-arrange")

    # Undo everything, one document at a time, back to the empty start; then redo.
    for name, expected in reversed(s.steps[:-1]):
        s.window.menu_actions.undo.trigger()
        assert c.document.to_dict() == expected, f"undo back to '{name}'"
    assert not c.document.nodes and not s.window.scene.nodes
    assert not c.undo_stack.canUndo()
    for name, expected in s.steps[1:]:
        s.window.menu_actions.redo.trigger()
        assert c.document.to_dict() == expected, f"redo '{name}'"
    assert set(s.window.scene.nodes) == set(c.document.nodes)
    assert set(s.window.scene.wires) == set(c.document.edges)

    # Save, reopen: identical.
    path = tmp_path / "built.strata"
    assert s.window.files.save_as(path)
    assert graph.load(path).to_dict() == c.document.to_dict()
    c.new()
    assert s.window.files.open_path(path)
    assert c.document.to_dict() == s.steps[-1][1]
    assert not s.window.isWindowModified()
