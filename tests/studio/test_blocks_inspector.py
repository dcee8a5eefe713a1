"""The inspector and the code view through blocks, on real widgets offscreen: an open
block's inner layers are edited in the inspector (one undo step, every instance
changes, refused while training), an instance shows its block section, the code view
shows the block's class, and renaming a port keeps the instances wired."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QSpinBox
from strata_paths import EXAMPLES

import graph
from studio.panels.param_count import format_count

RESNET = EXAMPLES / "blocks_resnet.strata"
# Top level of blocks_resnet: n5 is layer1 (BasicBlock, repeat 2, planes 16), n6 is
# layer2 (DownBlock, planes 32). Inside BasicBlock: n1 is the input port "in", n2 conv1
# (out_channels bound to planes), n3 bn1.


def _click(window, node_id: str) -> None:
    view = window.view
    point = view.mapFromScene(view.network_scene.nodes[node_id].sceneBoundingRect().center())
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     Qt.KeyboardModifier.NoModifier, point)


def _type(qtbot, field, text: str) -> None:
    line = field.lineEdit() if isinstance(field, QSpinBox) else field
    line.selectAll()
    qtbot.keyClicks(line, text)
    qtbot.keyClick(line, Qt.Key.Key_Return)


def _module_params(doc, attribute: str) -> int:
    module = graph.compile_network(doc).module
    return sum(p.numel() for p in module.get_submodule(attribute).parameters())


def test_inspector_edits_an_inner_layer_of_the_open_block(make_window, qtbot):
    window = make_window(RESNET)
    root = window.controller
    assert window.levels.open_block("n5")
    inside = window.view.controller
    qtbot.waitUntil(lambda: inside.analysis is not None and not inside.analysis.errors)
    # Nothing selected inside: the block itself, not the network.
    page = window.inspector.block
    assert page is not None and window.inspector.stack.currentWidget() is \
        window.inspector.block_page
    assert page.heading.text() == "BasicBlock"
    assert page.ports.text() == "in \u2192 out"
    assert page.params.text() == ("<b>planes</b> = 16 \u2192 conv1.out_channels, "
                                  "conv2.out_channels")
    _click(window, "n2")  # conv1, inside
    form = window.inspector.form
    assert form is not None and form.node_id == "n2"
    # The footers follow the network's selection: not shown for an inner layer.
    assert not window.inspector.footer_box.isVisible()
    assert form.document is root.document.blocks["BasicBlock"].body
    # Its out_channels is the block's `planes`: said so, not a bare 16.
    assert form.bound["out_channels"].text() == "= planes"
    assert "out_channels" not in form.editors
    assert form.findChild(object, "tensor_output").text() == "N \u00d7 16 \u00d7 14 \u00d7 14"

    before = _module_params(root.document, "layer1")
    depth = root.undo_stack.count()
    form.editors["bias"].field.click()  # conv1 gets a bias, in every instance
    assert root.undo_stack.count() == depth + 1
    assert root.undo_stack.undoText() == "Set bias"
    assert _module_params(root.document, "layer1") == before + 2 * 16  # two copies
    root.undo_stack.undo()
    assert root.document.blocks["BasicBlock"].body.nodes["n2"].params["bias"] is False
    assert not form.editors["bias"].field.isChecked()  # the form follows undo
    root.undo_stack.redo()
    assert form.editors["bias"].field.isChecked()

    root.set_locked(True, "A run is training this network")
    form.editors["bias"].field.click()
    assert root.document.blocks["BasicBlock"].body.nodes["n2"].params["bias"] is True
    assert form.editors["bias"].field.isChecked()  # shows the value kept
    assert form.editors["bias"].error.text() == "A run is training this network"
    root.set_locked(False)

    qtbot.keyClick(window.view, Qt.Key.Key_Escape)  # back up: the network's layers
    assert window.inspector.controller is root and window.inspector.block is None
    assert window.inspector.stack.currentWidget() is window.inspector.network_page
    assert window.inspector.footer_box.isVisible()
    root.select(["n2"])
    assert window.inspector.form.document is root.document  # the stem conv
    assert "out_channels" in window.inspector.form.editors


def test_instance_section_counts_edits_and_opens_the_block(make_window, qtbot):
    window = make_window(RESNET)
    root = window.controller
    root.select(["n5"])
    form = window.inspector.form
    assert form is not None and form.block is not None
    section = form.block
    assert section.definition.text().startswith("BasicBlock")
    assert section.layers.text() == "14  (2 \u00d7 7)"  # 7 layers a copy, two copies
    params = _module_params(root.document, "layer1")
    assert section.params.text() == format_count(params)
    macs = root.analysis.shapes["n5"].values["macs"]
    assert macs > 0 and section.macs.text() == format_count(macs)
    assert not form.size_header.isVisible()  # the counts are in the block section

    _type(qtbot, form.editors["repeat"].field, "3")  # repeat, one undo step
    assert root.document.node("n5").params["repeat"] == 3
    assert root.undo_stack.undoText() == "Set repeat"
    qtbot.waitUntil(lambda: section.layers.text() == "21  (3 \u00d7 7)")
    root.undo_stack.undo()
    qtbot.waitUntil(lambda: section.layers.text() == "14  (2 \u00d7 7)")

    # The block it uses, by name: a name the network does not define is refused at
    # the field, and nothing changes (no broken undo step either).
    _type(qtbot, form.editors["block"].field, "Nope")
    assert form.editors["block"].has_error
    assert "Received: 'Nope'" in form.editors["block"].error.text()
    assert root.document.node("n5").params["block"] == "BasicBlock"
    assert root.undo_stack.undoText() != "Set block"

    root.select(["n6"])  # DownBlock: its exposed `planes`
    form = window.inspector.form
    _type(qtbot, form.editors["planes"].field, "48")
    assert root.document.node("n6").params["planes"] == 48
    qtbot.waitUntil(lambda: form.block.params.text()
                    == format_count(_module_params(root.document, "layer2")))
    assert "DownBlock(48)" in graph.generate_code(root.document).source
    root.undo_stack.undo()
    assert root.document.node("n6").params["planes"] == 32

    form.block.open_button.click()
    assert window.levels.path == ["DownBlock"]
    assert window.inspector.controller is window.view.controller
    # A nested instance, made inside the open block, has its section too.
    inside = window.view.controller
    inner = inside.group_selection(["n3", "n4"])
    assert window.inspector.form is not None and window.inspector.form.node_id == inner
    assert window.inspector.form.block.layers.text() == "2"


def test_code_view_shows_the_class_of_the_selected_or_open_block(make_window, qtbot):
    window = make_window(RESNET)
    root = window.controller
    window.docks["code"].show()
    window.docks["code"].raise_()
    code = window.code
    qtbot.waitUntil(lambda: code.code is not None and code.isVisible())
    lines = code.code.source.split("\n")

    def shaded() -> set[int]:
        return {s.cursor.blockNumber() + 1 for s in code.editor.extraSelections()}

    root.select(["n6"])  # DownBlock's instance
    start, end = code.class_range("DownBlock")
    assert lines[start - 1].startswith("class DownBlock(nn.Module)")
    assert set(range(start, end + 1)) <= shaded()
    assert abs(code.editor.firstVisibleBlock().blockNumber() + 1 - start) <= 1

    root.select([])
    window.levels.open_block("n5")  # BasicBlock open: its class, though none is selected
    start, end = code.class_range("BasicBlock")
    assert set(range(start, end + 1)) <= shaded()
    assert abs(code.editor.firstVisibleBlock().blockNumber() + 1 - start) <= 1
    window.view.controller.select(["n2"])  # conv1 inside: its lines in the class
    strong = [s for s in code.editor.extraSelections()
              if s.format.background().color().alpha() == 48]
    texts = [lines[s.cursor.blockNumber()] for s in strong]
    assert texts == ["        self.conv1 = nn.Conv2d(planes, planes, 3, padding=1, bias=False)",
                     "        h = self.conv1(x)  # (N, 16, 14, 14)"]
    # A block made inside the open block, selected there: its own class.
    inner = window.view.controller.group_selection(["n3", "n4"])
    assert window.view.controller.selected == [inner]
    qtbot.waitUntil(lambda: code.class_range("Block") is not None)
    window.view.controller.select([])
    window.view.controller.select([inner])  # clicked again, once its code exists
    start, end = code.class_range("Block")
    assert code.code.source.split("\n")[start - 1].startswith("class Block(")
    assert set(range(start, end + 1)) <= shaded()
    assert abs(code.editor.firstVisibleBlock().blockNumber() + 1 - start) <= 1
    window.levels.leave()
    assert code.block is None and shaded() == set()


def test_renaming_a_port_in_the_inspector_keeps_the_instances_wired(make_window, qtbot):
    window = make_window(RESNET)
    root = window.controller
    window.levels.open_block("n5")
    _click(window, "n1")  # the block's input port "in"
    form = window.inspector.form
    assert form is not None and form.node_id == "n1"
    before = root.document.to_dict()
    _type(qtbot, form.label_editor.field, "2nd")  # not a Python name: refused there
    assert form.label_editor.has_error and "Python name" in form.label_editor.error.text()
    assert root.document.to_dict() == before

    depth = root.undo_stack.count()
    _type(qtbot, form.label_editor.field, "features")
    assert root.undo_stack.count() == depth + 1
    assert root.undo_stack.undoText() == "Rename port"
    assert [e.target_port for e in root.document.edges_into("n5")] == ["features"]
    assert root.analyze_now().ok
    assert form.label_editor.field.text() == "features"
    root.undo_stack.undo()
    assert root.document.to_dict() == before
    assert root.analyze_now().ok
