"""In the studio, the overfitting diagnosis of a network whose classifier head is a
block offers "add Dropout" inside the block: its Problems button inserts the Dropout in
the block's definition as one undo step named after the fix."""

from __future__ import annotations

import torch
from block_networks import head_block
from PySide6.QtCore import Qt

import graph
from runtime.events import DiagnosisEvent


def test_the_dropout_fix_edits_the_head_block_in_one_undo_step(make_window, qtbot,
                                                              tmp_path):
    path = tmp_path / "head_block.strata"
    graph.save(head_block(uses_before=1), path)
    window = make_window(path)
    c = window.controller
    doc = c.document
    before = doc.to_dict()
    window.problems.set_diagnoses([DiagnosisEvent(
        "overfitting", (), "Overfitting", "Validation loss rises.", "Add Dropout.",
        "warning", 40, 4)])
    row = next(i for i, p in enumerate(window.problems.problems)
               if p.kind == "training:overfitting")
    fix = window.problems.fixes[row]
    assert fix is not None
    assert fix.title == ("Add Dropout (p = 0.3) before the last Linear in block "
                         "'Classifier' (2 uses)")
    button = window.problems.tree.findChild(object, f"fix_{row}")
    assert button is not None and button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    body = doc.blocks["Classifier"].body
    head = next(n for n in body.nodes.values() if n.label == "classifier")
    (wire,) = body.edges_into(head.id)
    assert body.nodes[wire.source].type == "Dropout"
    assert c.undo_stack.undoText() == fix.title  # one step, named after the fix
    module = graph.compile(doc)
    assert sum(isinstance(m, torch.nn.Dropout) for m in module.modules()) == 2  # 2 uses
    after = doc.to_dict()
    c.undo_stack.undo()
    assert doc.to_dict() == before
    assert not any(isinstance(m, torch.nn.Dropout) for m in graph.compile(doc).modules())
    c.undo_stack.redo()
    assert doc.to_dict() == after
    assert c.analyze_now().ok
