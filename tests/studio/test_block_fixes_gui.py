"""Diagnoses about layers inside blocks, in the studio: the one-click fix edits the
block's definition (one undo step), a Problems row opens the block at the layer, and an
inherited learning-rate factor shows on the inner cards."""

from __future__ import annotations

import torch
from block_networks import sigmoid_blocks
from PySide6.QtCore import Qt

import graph
from runtime.events import DiagnosisEvent


def sigmoid_of(doc) -> str:
    return next(n.id for n in doc.blocks["Hidden"].body.nodes.values()
                if n.type == "Sigmoid")


def vanishing(*node_ids) -> DiagnosisEvent:
    return DiagnosisEvent("vanishing_gradients", tuple(node_ids), "Vanishing gradients",
                          "The first layers barely learn.", "Replace Sigmoid with ReLU.",
                          "warning", 10, 1)


def open_window(make_window, tmp_path, doc):
    path = tmp_path / "sigmoid_blocks.strata"
    graph.save(doc, path)
    return make_window(path)


def rows(window) -> dict[str, int]:
    return {p.kind: i for i, p in enumerate(window.problems.problems)}


def test_the_fix_of_an_inner_sigmoid_edits_the_block_in_one_undo_step(make_window, qtbot,
                                                                     tmp_path):
    window = open_window(make_window, tmp_path, sigmoid_blocks(uses=3, repeat=2))
    c = window.controller
    doc = c.document
    sigmoid = sigmoid_of(doc)
    before = doc.to_dict()
    window.problems.set_diagnoses([vanishing("n2", f"n4:0/{sigmoid}", f"n5:1/{sigmoid}")])
    row = rows(window)["training:vanishing_gradients"]
    fix = window.problems.fixes[row]
    assert fix is not None
    assert fix.title == "Replace the Sigmoid layer with ReLU in block 'Hidden' (3 uses)"
    button = window.problems.tree.findChild(object, f"fix_{row}")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    body = doc.blocks["Hidden"].body
    assert body.nodes[sigmoid].type == "ReLU"
    assert c.undo_stack.undoText() == fix.title  # one step, named after the fix
    module = graph.compile(doc)
    assert not any(isinstance(m, torch.nn.Sigmoid) for m in module.modules())
    after = doc.to_dict()
    c.undo_stack.undo()
    assert doc.to_dict() == before
    assert any(isinstance(m, torch.nn.Sigmoid) for m in graph.compile(doc).modules())
    c.undo_stack.redo()
    assert doc.to_dict() == after
    assert c.analyze_now().ok


def test_an_inner_fix_the_block_refuses_changes_nothing_and_says_why(make_window,
                                                                    tmp_path):
    from graph.edits import InBlock, ReplaceLayer
    from graph.fixes import Fix

    window = open_window(make_window, tmp_path, sigmoid_blocks(uses=1, repeat=1))
    c = window.controller
    before = c.document.to_dict()
    said = []
    c.edit_refused.connect(said.append)
    depth = c.undo_stack.count()
    c.apply_fix(Fix("Bad", (InBlock("Hidden", ReplaceLayer("n99", "ReLU")),)))
    assert c.document.to_dict() == before and c.undo_stack.count() == depth
    assert said and "has no layer 'n99'" in said[0]
