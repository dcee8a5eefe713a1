"""Defects met re-driving a new user's first hour on a real X server (issue 10), each
replayed here on the real window with real key and mouse events."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from graph import Edge
from graph.builder import Builder
from studio.document.controller import DocumentController

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise",
                                       "does not support grabbing")


def open_chain():
    """Input -> Linear, no Output yet: where a user building a network stands."""
    b = Builder("open chain")
    x = b.add("Input", "x", shape=[8])
    b.chain(x, ("Linear", {"out_features": 4}, "fc"))
    return b.done()


def settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def test_tab_after_the_last_layer_offers_output_and_wires_it(make_window):
    """Tab with the chain's last layer selected opened "Add and connect" without
    Output (only layers that could sit in a wire were offered), so typing "Output"
    and Enter added the best other hit: a Linear."""
    window = make_window(DocumentController(open_chain()))
    doc = window.controller.document
    fc = doc.find_label("fc").id
    window.controller.select([fc])
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Tab)
    popup = window.view.quick_add
    assert popup is not None
    QTest.keyClicks(popup.search_box, "Output")
    assert popup.hits()[0] == "Output"
    QTest.keyClick(popup.search_box, Qt.Key.Key_Return)
    settle()
    (out,) = [n.id for n in doc.nodes.values() if n.type == "Output"]
    assert Edge(fc, "out", out, "in") in doc.edges
    assert not [n for n in doc.nodes.values() if n.type == "Linear" and n.id != fc]


def test_the_palette_appends_an_output_after_the_selected_last_layer(make_window):
    window = make_window(DocumentController(open_chain()))
    doc = window.controller.document
    fc = doc.find_label("fc").id
    window.controller.select([fc])
    window.palette_panel.add_requested.emit("Output")
    (out,) = [n.id for n in doc.nodes.values() if n.type == "Output"]
    assert Edge(fc, "out", out, "in") in doc.edges


def test_an_output_is_not_offered_into_a_wire(make_window):
    """After a layer with an outgoing wire the new one goes into it: an Output, with no
    output of its own, cannot."""
    b = Builder("closed")
    x = b.add("Input", "x", shape=[8])
    b.chain(x, ("Linear", {"out_features": 4}, "fc"), ("Output", {}, "y"))
    window = make_window(DocumentController(b.done()))
    fc = window.controller.document.find_label("fc").id
    popup = window.view.insert_after_dialog(fc)
    assert "Output" not in popup.hits() and "ReLU" in popup.hits()
    popup.close()


def test_laying_the_monitor_out_ahead_leaves_the_palette_in_front(make_window, qtbot):
    """A fresh studio lays the Train workspace out unseen (``ahead.lay_out_monitor``:
    to Train and back in one turn); Train's raise of its Training panel, due a turn
    later, then put it in front of the palette in Design, 20-40 s after start."""
    from studio.training.ahead import lay_out_monitor

    window = make_window()
    window.training.workbench()  # its panel in the Training dock, tabbed with Layers
    settle()
    palette = window.docks["palette"]
    assert not palette.visibleRegion().isEmpty()
    assert lay_out_monitor(window, window.workspaces)
    qtbot.wait(20)
    assert window.workspaces.current == "design"
    assert not palette.visibleRegion().isEmpty(), "the palette is behind the Training tab"
