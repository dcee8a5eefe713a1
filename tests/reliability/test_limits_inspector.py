"""The inspector refuses, with the reason, a label or name the file could not hold
(typed 216 characters used to save, then File > Open refused the file)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

import graph
from studio.document.controller import DocumentController
from studio.panels.inspector import InspectorPanel

EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"


@pytest.fixture
def controller():
    c = DocumentController()
    c.open(EXAMPLES / "spiral_mlp.strata")
    return c


def test_a_216_character_label_is_refused_with_the_reason(qtbot, controller, tmp_path):
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    node = next(n for n in controller.document.nodes.values() if n.type == "Linear")
    controller.select([node.id])
    field = panel.form.label_editor.field
    steps = controller.undo_stack.count()
    field.setText("l" * 216)  # pasted: typing 216 keys is slow and proves nothing more
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert panel.form.label_editor.has_error
    assert "at most 200 characters" in panel.form.label_editor.error.text()
    assert "216" in panel.form.label_editor.error.text()
    assert controller.document.nodes[node.id].label == node.label
    assert controller.undo_stack.count() == steps
    graph.load(graph.save(controller.document, tmp_path / "net.strata"))


def test_an_over_long_network_name_is_refused_with_the_reason(qtbot, controller):
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    controller.select([])
    name = panel.network.name
    before = controller.document.name
    name.setText("n" * 1001)
    qtbot.keyClick(name, Qt.Key.Key_Return)
    assert panel.network.name_error.isVisibleTo(panel)
    assert "at most 1,000 characters" in panel.network.name_error.text()
    assert controller.document.name == before
