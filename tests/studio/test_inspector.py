"""The inspector: a form generated from the catalog, one undo step per edit, refusals
shown at the field (never clamped), following undo/redo and analysis."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QLineEdit, QSpinBox
from strata_paths import EXAMPLES

from studio.panels.inspector import InspectorPanel
from studio.panels.param_editors import IntsEditor


def node(controller, label):
    return controller.document.find_label(label).id


@pytest.fixture
def inspector(qtbot, controller):
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    return panel


def type_into(qtbot, field, text):
    line = field.lineEdit() if isinstance(field, QSpinBox) else field
    line.selectAll()
    if text:
        qtbot.keyClicks(line, text)
    else:
        qtbot.keyClick(line, Qt.Key.Key_Backspace)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def test_form_is_generated_from_the_declaration(inspector, controller):
    controller.select([node(controller, "conv1")])
    form = inspector.form
    spec = controller.document.nodes[form.node_id].spec
    assert list(form.editors) == [p.name for p in spec.params]
    assert isinstance(form.editors["out_channels"].field, QSpinBox)
    assert isinstance(form.editors["bias"].field, QCheckBox)
    assert isinstance(form.editors["kernel_size"], IntsEditor)
    assert form.editors["kernel_size"].field.text() == "3, 3"
    assert form.editors["out_channels"].field.value() == 8
    assert form.label_editor.field.text() == "conv1"

    controller.select([node(controller, "input")])
    assert isinstance(inspector.form.editors["dtype"].field, QComboBox)
    assert inspector.form.editors["dtype"].field.currentText() == "float"

    controller.select([node(controller, "pool1")])
    stride = inspector.form.editors["stride"].field
    assert isinstance(stride, QLineEdit)
    assert stride.text() == "" and stride.placeholderText() == "auto"


def test_editing_a_parameter_is_one_undo_step(inspector, controller, qtbot):
    fc1 = node(controller, "fc1")
    controller.select([fc1])
    before = controller.undo_stack.count()
    with qtbot.waitSignal(controller.analysis_changed, timeout=2000):
        type_into(qtbot, inspector.form.editors["out_features"].field, "32")
    assert controller.document.nodes[fc1].params["out_features"] == 32
    assert controller.undo_stack.count() == before + 1
    assert not inspector.form.editors["out_features"].has_error
    # the form follows the analysis: the output shape changed
    assert inspector.form.findChild(object, "tensor_output").text() == "N \u00d7 32"


def test_out_of_range_value_is_refused_not_clamped(inspector, controller, qtbot):
    fc1 = node(controller, "fc1")
    controller.select([fc1])
    before = controller.document.to_dict()
    count = controller.undo_stack.count()
    editor = inspector.form.editors["out_features"]
    type_into(qtbot, editor.field, "0")
    assert editor.has_error
    assert "expected an integer >= 1" in editor.error.text()
    assert "out_features=0" in editor.error.text()
    assert editor.field.value() == 0  # what the user typed stays: not clamped to 1
    assert controller.document.to_dict() == before
    assert controller.undo_stack.count() == count
    # a valid value afterwards clears the refusal
    type_into(qtbot, editor.field, "10")
    assert not editor.has_error
    assert controller.document.nodes[fc1].params["out_features"] == 10


def test_spin_arrows_stay_in_range(inspector, controller):
    controller.select([node(controller, "fc1")])
    spin = inspector.form.editors["out_features"].field
    spin.setValue(1)
    spin.stepBy(-5)
    assert spin.value() == 1


def test_invalid_float_and_tuple_are_refused_with_reasons(qtbot, controller):
    doc = controller.document
    drop = controller.add_node("Dropout", (0, 0))
    controller.select([drop])
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    p = panel.form.editors["p"]
    assert p.field.text() == "0.5"
    before = doc.to_dict()
    type_into(qtbot, p.field, "1.5")
    assert p.has_error and "expected a number from 0" in p.error.text()
    assert "p=1.5" in p.error.text()
    type_into(qtbot, p.field, "lots")
    assert p.has_error and "p='lots'" in p.error.text()
    assert doc.to_dict() == before
    type_into(qtbot, p.field, "0.25")
    assert doc.nodes[drop].params["p"] == 0.25 and not p.has_error

    controller.select([node(controller, "conv2")])
    kernel = panel.form.editors["kernel_size"]
    type_into(qtbot, kernel.field, "3, a")
    assert kernel.has_error and "2 integers" in kernel.error.text()
    type_into(qtbot, kernel.field, "0, 3")
    assert kernel.has_error and ">= 1" in kernel.error.text()
    # Escape drops what was typed
    qtbot.keyClick(kernel.field, Qt.Key.Key_Escape)
    assert kernel.field.text() == "3, 3" and not kernel.has_error


def test_tuple_shorthand_and_optional_values(inspector, controller, qtbot):
    conv2 = node(controller, "conv2")
    controller.select([conv2])
    type_into(qtbot, inspector.form.editors["kernel_size"].field, "5x3")
    assert controller.document.nodes[conv2].params["kernel_size"] == [5, 3]
    assert inspector.form.editors["kernel_size"].field.text() == "5, 3"

    pool = node(controller, "pool1")
    controller.select([pool])
    stride = inspector.form.editors["stride"]
    type_into(qtbot, stride.field, "1")
    assert controller.document.nodes[pool].params["stride"] == 1
    type_into(qtbot, stride.field, "")
    assert controller.document.nodes[pool].params["stride"] is None


def test_checkbox_combobox_and_label(inspector, controller, qtbot):
    fc1 = node(controller, "fc1")
    controller.select([fc1])
    count = controller.undo_stack.count()
    qtbot.mouseClick(inspector.form.editors["bias"].field, Qt.MouseButton.LeftButton,
                     pos=inspector.form.editors["bias"].field.rect().center())
    assert controller.document.nodes[fc1].params["bias"] is False
    assert controller.undo_stack.count() == count + 1

    type_into(qtbot, inspector.form.label_editor.field, "hidden")
    assert controller.document.nodes[fc1].label == "hidden"
    assert inspector.form.title.text() == "hidden"
    type_into(qtbot, inspector.form.label_editor.field, "")
    assert inspector.form.label_editor.has_error
    assert controller.document.nodes[fc1].label == "hidden"

    inp = node(controller, "input")
    controller.select([inp])
    combo = inspector.form.editors["dtype"].field
    combo.activated.emit(combo.findText("long"))
    assert controller.document.nodes[inp].params["dtype"] == "long"


def test_undo_and_redo_update_the_form_in_place(inspector, controller, qtbot):
    fc1 = node(controller, "fc1")
    controller.select([fc1])
    form = inspector.form
    spin = form.editors["out_features"].field
    type_into(qtbot, spin, "32")
    form.label_editor.field.setFocus()
    controller.undo_stack.undo()
    assert spin.value() == 64
    controller.undo_stack.redo()
    assert spin.value() == 32
    assert inspector.form is form  # not rebuilt: nothing the user types is lost


# The offscreen platform warns when a window is shown; that is not our warning.
@pytest.mark.qt_log_ignore("does not support propagateSizeHints")
def test_typing_keeps_focus_while_the_document_changes(qtbot, controller):
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    fc1 = node(controller, "fc1")
    controller.select([fc1])
    label = panel.form.label_editor.field
    label.setFocus()
    qtbot.waitUntil(label.hasFocus, timeout=2000)
    qtbot.keyClicks(label, "_x")
    controller.set_param(fc1, "out_features", 12)  # e.g. from the canvas or a fix
    qtbot.waitSignal(controller.analysis_changed, timeout=2000)
    assert QApplication.focusWidget() is label
    assert label.text() == "fc1_x"  # the half-typed label survives
    assert panel.form.editors["out_features"].field.value() == 12


def test_inferred_values_shapes_and_count(inspector, controller):
    controller.select([node(controller, "fc1")])
    form = inspector.form
    inferred = form.findChild(object, "inferred_in_features")
    assert inferred is not None and "784" in inferred.text()
    assert "inferred" in inferred.text()
    assert form.findChild(object, "tensor_input").text() == "N \u00d7 784"
    assert form.findChild(object, "tensor_output").text() == "N \u00d7 64"
    assert form.param_count.text().startswith("50,240")  # 784 * 64 + 64
    assert form.macs.text().startswith("50,176")

    controller.select([node(controller, "conv2")])
    assert "8" in inspector.form.findChild(object, "inferred_in_channels").text()
    assert inspector.form.param_count.text() == "1,168"  # 16 * 8 * 9 + 16


def test_node_problems_show_in_the_form(inspector, controller, qtbot):
    doc = controller.document
    flatten = next(n.id for n in doc.nodes.values() if n.type == "Flatten")
    (inward,) = doc.edges_into(flatten)
    (outward,) = doc.edges_from(flatten)
    with qtbot.waitSignal(controller.analysis_changed, timeout=2000):
        controller.connect(inward.source, "out", outward.target, "in")  # bypass it
    controller.select([outward.target])
    assert not inspector.form.problems.isHidden()
    assert "needs a flat input" in inspector.form.problems.text()


def test_network_page_edits_name_and_summarises(inspector, controller, qtbot):
    assert inspector.form is None
    network = inspector.network
    assert network.name.text() == "Shapes CNN"
    assert "11 layers" in network.counts.text() or "layers" in network.counts.text()
    assert network.table.topLevelItemCount() == len(controller.document.nodes)
    assert "valid" in network.status.text()
    assert network.params.text().startswith(f"{80 + 1168 + 50240 + 260:,}")

    count = controller.undo_stack.count()
    type_into(qtbot, network.name, "Tiny CNN")
    assert controller.document.name == "Tiny CNN"
    assert controller.undo_stack.count() == count + 1
    controller.undo_stack.undo()
    assert network.name.text() == "Shapes CNN"
    type_into(qtbot, network.name, "")
    assert not network.name_error.isHidden()
    assert controller.document.name == "Shapes CNN"

    controller.select([node(controller, "fc1"), node(controller, "classifier")])
    assert inspector.form is None
    assert network.counts.text().startswith("2 of")
    assert network.table.topLevelItemCount() == 2


def test_selection_switches_between_node_and_network(inspector, controller):
    controller.select([node(controller, "fc1")])
    assert inspector.node_id == node(controller, "fc1")
    drop = controller.add_node("Dropout", (0.0, 0.0))
    controller.select([drop])
    assert inspector.node_id == drop
    controller.undo_stack.undo()  # the node goes away under the form
    assert inspector.form is None
    controller.undo_stack.redo()
    controller.select([drop])
    assert inspector.form is not None


def test_a_new_document_shows_the_network_page(inspector, controller):
    controller.select([node(controller, "fc1")])
    controller.set_param(node(controller, "fc1"), "out_features", 5)
    controller.new()
    assert inspector.form is None
    assert inspector.network.name.text() == "Untitled"
    assert inspector.network.table.topLevelItemCount() == 0


def test_panels_count_parameters_without_torch(tmp_path):
    """The window must not wait for torch: counts come from the layer catalog, so the
    inspector shows them at once and torch is never imported for them."""
    import os
    import subprocess
    import sys

    script = tmp_path / "probe.py"
    script.write_text(
        "import os, sys\n"
        "os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "from studio.document.controller import DocumentController\n"
        "from studio.panels import CodePanel, InspectorPanel, PalettePanel, ProblemsPanel\n"
        "from studio.files import AutosaveManager, RecentFiles\n"
        "c = DocumentController()\n"
        "c.open(sys.argv[1])\n"
        "keep = [PalettePanel(c), ProblemsPanel(c), CodePanel(c)]\n"
        "print('torch before inspector:', 'torch' in sys.modules)\n"
        "panel = InspectorPanel(c)\n"
        "c.select([c.document.find_label('fc1').id])\n"
        "print('first:', panel.form.param_count.text())\n"
        "print('torch after inspector:', 'torch' in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, str(script), str(EXAMPLES / "shapes_cnn.strata")],
        check=False, capture_output=True, text=True, timeout=180,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "torch before inspector: False" in lines
    assert "first: 50,240 (50.2 k)" in lines
    assert "torch after inspector: False" in lines


@pytest.mark.parametrize("example", sorted(p.stem for p in EXAMPLES.glob("*.strata")))
def test_parameter_counts_match_the_compiled_model(qapp, example):
    """Per-layer counts (the catalog's rules) add up to the real model's."""
    import graph
    from studio.panels.param_count import ParamCounter, network_param_count

    doc = graph.load(EXAMPLES / f"{example}.strata")
    analysis = graph.analyze(doc)
    counter = ParamCounter()
    for node_id in analysis.order:
        node = doc.nodes[node_id]
        shapes = analysis.shapes[node_id]
        assert counter.count(node.type, shapes.params, shapes.values) is not None, node_id
    model = graph.compile(doc)
    expected = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert network_param_count(analysis, counter) == expected


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")  # offscreen platform
def test_description_is_committed_when_leaving_the_field(qtbot, controller):
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    description = panel.network.description
    description.setFocus()
    qtbot.waitUntil(description.hasFocus, timeout=2000)
    description.selectAll()
    qtbot.keyClicks(description, "Circles and squares.")
    count = controller.undo_stack.count()
    panel.network.name.setFocus()  # leave the field
    qtbot.waitUntil(lambda: controller.document.description == "Circles and squares.",
                    timeout=2000)
    assert controller.undo_stack.count() == count + 1
    controller.undo_stack.undo()
    assert description.toPlainText().startswith("A LeNet-style")


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")  # offscreen platform
def test_half_typed_value_never_lands_in_the_next_document(qtbot, controller):
    panel = InspectorPanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitExposed(panel)
    panel.activateWindow()
    fc1 = node(controller, "fc1")
    controller.select([fc1])
    line = panel.form.editors["out_features"].field.lineEdit()
    line.setFocus()
    qtbot.waitUntil(line.hasFocus, timeout=2000)
    line.selectAll()
    qtbot.keyClicks(line, "5")  # no Enter yet
    old_form = panel.form
    # Until the old form is destroyed it could still commit (focus out, flush).
    with qtbot.waitSignal(old_form.destroyed, timeout=10_000):
        controller.open(EXAMPLES / "shapes_cnn.strata")  # same node ids
    assert controller.document.nodes[fc1].params["out_features"] == 64
    assert not controller.is_modified


def _wheel(widget, steps: int = -1) -> None:
    from PySide6.QtCore import QPoint, QPointF
    from PySide6.QtGui import QWheelEvent

    centre = QPointF(widget.rect().center())
    event = QWheelEvent(centre, QPointF(widget.mapToGlobal(centre.toPoint())), QPoint(),
                        QPoint(0, 120 * steps), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_over_a_field_scrolls_the_form_and_changes_nothing(inspector, controller,
                                                                      qtbot):
    fc1 = node(controller, "fc1")
    controller.select([fc1])
    inspector.resize(300, 250)  # short: the form scrolls
    inspector.show()
    qtbot.waitExposed(inspector)
    combo = inspector.form.editors["nonlinearity"].field
    spin = inspector.form.editors["out_features"].field
    before = dict(controller.document.nodes[fc1].params)
    undo = controller.undo_stack.count()
    for field in (combo, spin):
        assert not field.hasFocus()
        _wheel(field)
        _wheel(field, +1)
    assert controller.document.nodes[fc1].params == before
    assert controller.undo_stack.count() == undo
    # Once the user clicks into a field, the wheel is that field's.
    spin.setFocus()
    qtbot.waitUntil(spin.hasFocus, timeout=3000)
    _wheel(spin, +1)
    qtbot.waitUntil(lambda: controller.document.nodes[fc1].params["out_features"]
                    != before["out_features"], timeout=3000)
