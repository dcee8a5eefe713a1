"""Blocks added from the palette take their width from the tensor they receive, like
layers infer their ``in_channels``: the user's own blocks and this network's as well as
the built-ins, after the selected layer or dropped on a wire; one undo step."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

import graph
from graph.block_files import ENV, save_block

RESNET = "resources/examples/blocks_resnet.strata"
CNN = "resources/examples/shapes_cnn.strata"


@pytest.fixture
def library(tmp_path, monkeypatch):
    folder = tmp_path / "blocks"
    monkeypatch.setenv(ENV, str(folder))
    save_block(folder, graph.load(RESNET), "BasicBlock")  # planes: 16, an identity shortcut
    return folder


def _by_label(doc, label: str) -> str:
    return next(n.id for n in doc.nodes.values() if n.label == label)


def _new_block(doc):
    (new,) = [n for n in doc.nodes.values() if n.type == "Block"]
    return new


def test_a_user_block_after_the_selection_fits_its_channels(make_window, library):
    window = make_window(CNN)
    c = window.controller
    relu = _by_label(c.document, "relu")  # 8 channels; the block was saved with 16
    c.select([relu])
    before, depth = c.document.to_dict(), c.undo_stack.count()
    new = window.block_library.insert("user:BasicBlock")
    node = c.document.nodes[new]
    assert node.params["planes"] == 8
    assert [e.source for e in c.document.edges_into(new)] == [relu]
    assert graph.analyze(c.document).ok
    assert c.undo_stack.count() == depth + 1
    c.undo_stack.undo()
    assert c.document.to_dict() == before


def test_a_block_of_this_network_fits_the_wider_tensor(make_window, library):
    window = make_window(RESNET)
    c = window.controller
    c.select([_by_label(c.document, "layer2")])  # 32 channels out
    new = window.block_library.insert("network:BasicBlock")
    assert c.document.nodes[new].params["planes"] == 32
    assert graph.analyze(c.document).ok


def test_a_user_block_dropped_on_a_wire_fits_it(make_window, library):
    window = make_window(CNN)
    c, view = window.controller, window.view
    doc = c.document
    wire = next(e for e in doc.edges if doc.nodes[e.source].label == "pool1")  # 8 ch
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
    data.setData("application/x-strata-block", b"user:BasicBlock")
    args = (Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), QDragEnterEvent(point, *args))
    QApplication.sendEvent(view.viewport(), QDropEvent(QPointF(point), *args))
    new = _new_block(doc)
    assert [e.source for e in doc.edges_into(new.id)] == [wire.source]
    assert new.params["planes"] == 8 and graph.analyze(doc).ok
