"""The palette's Blocks sections in the window: a block saved to the library from one
network is inserted from the palette into another, after the selected layer, and the
network validates and trains; an insertion is one undo step; built-ins fit the tensor
they receive; the block ports are listed only inside a block; a damaged library file
is named, never a traceback; rename and delete act on the files."""

from __future__ import annotations

import pytest
import torch
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

import graph
from graph.block_files import ENV, SUFFIX, path_for
from studio.panels.palette_blocks import BLOCK_MIME

Answer = QMessageBox.StandardButton


@pytest.fixture
def library(tmp_path, monkeypatch):
    folder = tmp_path / "block library"
    monkeypatch.setenv(ENV, str(folder))
    return folder


def _action(menu, text: str):
    return next(a for a in menu.actions() if a.text().startswith(text))


def _by_label(doc, label: str) -> str:
    return next(n.id for n in doc.nodes.values() if n.label == label)


def _train_a_step(doc) -> None:
    net = graph.compile_network(doc)
    module = net.module.train()
    before = [p.detach().clone() for p in module.parameters()]
    out = module(torch.randn(4, *doc.nodes[net.code.inputs[0]].params["shape"]))
    torch.nn.functional.cross_entropy(out, torch.tensor([0, 1, 2, 0])).backward()
    torch.optim.SGD(module.parameters(), lr=0.1).step()
    assert all(not torch.equal(a, b) for a, b in zip(before, module.parameters()))


def test_library_save_and_reuse_in_another_document(make_window, library, qtbot):
    a = make_window("resources/examples/blocks_resnet.strata")
    palette = a.palette_panel
    assert {"network:BasicBlock", "network:DownBlock"} <= set(palette.visible_types())
    a.block_library.ask_name = lambda _title, _label, default: default
    menu = palette.context_menu(palette.blocks.items["network:BasicBlock"])
    _action(menu, "Save to Library").trigger()
    assert path_for(library, "BasicBlock").is_file()
    assert "user:BasicBlock" in palette.visible_types()

    b = make_window(settings="b.ini")
    b.files.open_path("resources/examples/shapes_cnn.strata")
    c = b.controller
    assert "user:BasicBlock" in b.palette_panel.visible_types()
    relu2 = _by_label(c.document, "relu2")
    c.select([relu2])
    before = c.document.to_dict()
    depth = c.undo_stack.count()
    item = b.palette_panel.blocks.items["user:BasicBlock"]
    b.palette_panel.tree.itemActivated.emit(item, 0)  # a double-click
    doc = c.document
    (new,) = [n for n in doc.nodes.values() if n.type == "Block"]
    assert new.params["block"] == "BasicBlock" and c.selected == [new.id]
    # After the selection, on its outgoing wire, as a layer from the palette would be.
    assert [e.source for e in doc.edges_into(new.id)] == [relu2]
    assert [doc.nodes[e.target].label for e in doc.edges_from(new.id)] == ["pool2"]
    assert graph.analyze(doc).ok
    _train_a_step(doc)
    assert "network:BasicBlock" in b.palette_panel.visible_types()
    # One undo step takes the instance and the copied definition away.
    assert c.undo_stack.count() == depth + 1
    c.undo_stack.undo()
    assert doc.to_dict() == before
    assert "network:BasicBlock" not in b.palette_panel.visible_types()
    c.undo_stack.redo()
    assert graph.analyze(doc).ok and "BasicBlock" in doc.blocks


def test_a_builtin_fits_the_tensor_it_receives_and_undoes_in_one_step(make_window,
                                                                       library, qtbot):
    window = make_window("resources/examples/shapes_cnn.strata")
    c = window.controller
    c.select([_by_label(c.document, "relu")])  # 8 channels
    before = c.document.to_dict()
    palette = window.palette_panel
    palette.search.setText("squeeze")
    assert palette.top_hit() == "builtin:SqueezeExcitation"
    palette.search.returnPressed.emit()
    (new,) = [n for n in c.document.nodes.values() if n.type == "Block"]
    assert new.params["channels"] == 8 and graph.analyze(c.document).ok
    # Again: the same definition, a second instance.
    palette.search.returnPressed.emit()
    assert list(c.document.blocks.definitions) == ["SqueezeExcitation"]
    c.undo_stack.undo()
    # Ctrl+Z in the search box undoes the adding, not the typing.
    window.activateWindow()
    palette.search.setFocus()
    qtbot.waitUntil(palette.search.hasFocus, timeout=2000)
    qtbot.keyClick(palette.search, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert c.document.to_dict() == before
    assert palette.search.text() == "squeeze"


def test_block_ports_are_listed_only_inside_a_block(make_window, library):
    window = make_window("resources/examples/blocks_resnet.strata")
    palette = window.palette_panel
    assert "BlockInput" not in palette.visible_types()
    layer1 = _by_label(window.controller.document, "layer1")
    assert window.levels.open_block(layer1)
    assert {"BlockInput", "BlockOutput"} <= set(palette.visible_types())
    # Inside BasicBlock: a built-in goes into its body; BasicBlock itself is refused.
    inner = window.levels.current
    inner.select([])
    new = window.block_library.insert("builtin:ConvBNReLU")
    assert new in inner.document.nodes and "ConvBNReLU" in inner.document.blocks
    assert window.block_library.insert("network:BasicBlock") == ""
    assert "cannot contain itself" in window.statusBar().currentMessage()
    window.levels.leave()
    assert "BlockInput" not in palette.visible_types()


def test_a_damaged_library_file_is_named_not_raised(make_window, library):
    library.mkdir()
    (library / f"Broken{SUFFIX}").write_text("{\"format\": \"strata-block\"", "utf-8")
    window = make_window()
    palette = window.palette_panel
    (bad,) = palette.blocks.unreadable
    assert bad.path.name == f"Broken{SUFFIX}"
    texts = [palette.blocks.headers["user"].child(i).text(0)
             for i in range(palette.blocks.headers["user"].childCount())]
    assert texts == [f"\u26a0 Broken{SUFFIX} (unreadable)"]
    assert f"Broken{SUFFIX}: not valid JSON" in window.statusBar().currentMessage()


def test_rename_and_delete_from_the_palette(make_window, library):
    window = make_window("resources/examples/blocks_resnet.strata")
    palette, actions = window.palette_panel, window.block_library
    actions.save_to_library("DownBlock")
    actions.ask_name = lambda *_: "Downsample"
    _action(palette.context_menu(palette.blocks.items["user:DownBlock"]), "Rename").trigger()
    assert [p.name for p in library.iterdir()] == [f"Downsample{SUFFIX}"]
    assert "user:Downsample" in palette.visible_types()
    # Saving again under a taken name asks first.
    actions.save_to_library("DownBlock", "Downsample")
    assert window.asked[-1] == "Save Block to Library"
    window.answers = [Answer.Yes]
    _action(palette.context_menu(palette.blocks.items["user:Downsample"]), "Delete").trigger()
    assert list(library.iterdir()) == []
    assert "user:Downsample" not in palette.visible_types()


def test_a_block_dropped_on_a_wire_goes_into_it(make_window, library, qtbot):
    window = make_window("resources/examples/shapes_cnn.strata")
    c, view = window.controller, window.view
    doc = c.document
    wire = next(e for e in doc.edges if doc.nodes[e.source].label == "relu2")
    # A point on the wire itself: along its drawn path, where the view finds it.
    path = view.network_scene.wires[wire].path()
    point = None
    for k in range(1, 40):
        scene = path.pointAtPercent(k / 40)
        view.centerOn(scene)
        candidate = view.mapFromScene(scene)
        if view.wire_at(candidate) == wire:
            point = candidate
            break
    assert point is not None
    data = QMimeData()
    data.setData(BLOCK_MIME, b"builtin:BasicBlock")
    args = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(point, *args)  # Qt delivers a drop where a drag entered
    QApplication.sendEvent(view.viewport(), enter)
    assert enter.isAccepted()
    QApplication.sendEvent(view.viewport(), QDropEvent(QPointF(point), *args))
    (new,) = [n for n in doc.nodes.values() if n.type == "Block"]
    assert [e.source for e in doc.edges_into(new.id)] == [wire.source]
    assert new.params["channels"] == 16 and graph.analyze(doc).ok


def test_save_to_library_asks_the_name_and_about_a_taken_one(make_window, library):
    window = make_window("resources/examples/blocks_resnet.strata")
    palette, actions = window.palette_panel, window.block_library
    asked: list[tuple[str, str]] = []
    names = iter(["class", "Res Block", "ResBlock"])

    def ask_name(title, label, default):
        asked.append((label, default))
        return next(names)

    actions.ask_name = ask_name
    _action(palette.context_menu(palette.blocks.items["network:BasicBlock"]),
            "Save to Library\u2026").trigger()
    # The definition's name first; a name that cannot name a class is asked again,
    # with the reason.
    assert asked[0] == ("Name of 'BasicBlock' in your block library:", "BasicBlock")
    assert asked[1][0].startswith("'class' cannot name a block") and asked[1][1] == "class"
    assert asked[2][0].startswith("'Res Block' cannot name a block")
    assert [p.name for p in library.iterdir()] == [f"ResBlock{SUFFIX}"]
    assert "user:ResBlock" in palette.visible_types()
    # The saved file holds the block under its new name, usable in another network.
    entry = actions.entries["ResBlock"]
    assert "ResBlock" in entry.document.blocks and "BasicBlock" not in entry.document.blocks

    # A taken name: Cancel asks another name, Save replaces.
    asked.clear()
    names = iter(["ResBlock", "ResBlock2"])
    window.answers = [Answer.Cancel]
    assert actions.save_to_library_as("DownBlock") == path_for(library, "ResBlock2")
    assert window.asked[-1] == "Save Block to Library"
    taken = "'ResBlock' is taken.\n\nName of 'DownBlock' in your block library:"
    assert asked[1] == (taken, "ResBlock")
    assert actions.entries["ResBlock"].document.blocks["ResBlock"].layer_count() == \
        window.controller.document.blocks["BasicBlock"].layer_count()
    names = iter(["ResBlock"])
    window.answers = [Answer.Save]
    assert actions.save_to_library_as("DownBlock") == path_for(library, "ResBlock")
    assert actions.entries["ResBlock"].document.blocks["ResBlock"].layer_count() == \
        window.controller.document.blocks["DownBlock"].layer_count()
    # Cancelling the name dialog saves nothing.
    names = iter([None])
    assert actions.save_to_library_as("BasicBlock") is None
    assert {p.name for p in library.iterdir()} == {f"ResBlock{SUFFIX}",
                                                   f"ResBlock2{SUFFIX}"}
