"""Edits inside a block's definition: the training diagnoses' fixes reach inner layers.

``graph.block_body``: an ``InBlock`` edit replaces or inserts a layer in a definition's
body (every instance follows), checked like a network edit plus what a block protects,
undone and redone as one compound edit; ``graph.training_fixes`` offers it for a
diagnosis whose layers are inside blocks.
"""

from __future__ import annotations

import pytest
import torch
from block_networks import sigmoid_blocks

import graph
from graph import Edge
from graph.block_body import (
    apply_in_block,
    check_in_block,
    resolve_path,
    used_definitions,
)
from graph.blocks import ExposedParam
from graph.edits import InBlock, InsertLayer, ReplaceLayer, SetParam, apply_edits
from graph.errors import StrataError
from graph.training_fixes import diagnosis_fixes


def modules(doc, kind) -> int:
    """Layers of type ``kind`` in the compiled network, the activations its code calls
    as functions counted by their stand-ins (graph.compiler)."""
    net = graph.compile_network(doc)
    return sum(isinstance(net.module.get_submodule(m.attribute), kind)
               for m in net.code.modules)


def inner(doc, type_name: str) -> str:
    body = doc.blocks["Hidden"].body
    return next(n.id for n in body.nodes.values() if n.type == type_name)


def test_vanishing_fix_replaces_the_inner_sigmoid_in_every_instance():
    doc = sigmoid_blocks(uses=3, repeat=2)
    sigmoid = inner(doc, "Sigmoid")
    assert modules(doc, torch.nn.Sigmoid) == 6  # 3 instances x 2 copies
    # The run names inner layers by path (copy 1 of instance n4, layer n3).
    fixes = diagnosis_fixes("vanishing_gradients", ("n2", "n4:1/n3", f"n5:0/{sigmoid}"), doc)
    relu = fixes[0]
    assert relu.title == "Replace the Sigmoid layer with ReLU in block 'Hidden' (3 uses)"
    assert relu.edits == (InBlock("Hidden", ReplaceLayer(sigmoid, "ReLU")),)
    x = torch.randn(5, 2)
    apply_edits(doc, relu.edits)
    body = doc.blocks["Hidden"].body
    assert body.nodes[sigmoid].type == "ReLU"  # same id: paths and targets still name it
    assert modules(doc, torch.nn.Sigmoid) == 0 and modules(doc, torch.nn.ReLU) >= 6
    assert graph.compile(doc)(x).shape == (5, 2)
    assert graph.Analyzer().analyze(doc).ok


def test_a_fixed_file_saves_and_loads_as_fixed(tmp_path):
    doc = sigmoid_blocks(uses=2, repeat=1)
    fix = diagnosis_fixes("saturated_activations", (), doc)[0]
    apply_edits(doc, fix.edits)  # headless, as a script would
    graph.save(doc, tmp_path / "fixed.strata")
    again = graph.load(tmp_path / "fixed.strata")
    assert again == doc
    assert modules(again, torch.nn.Sigmoid) == 0


def test_batchnorm_fix_reaches_inner_linears_and_names_both_places():
    doc = sigmoid_blocks(uses=2, repeat=1)
    fixes = diagnosis_fixes("saturated_activations", (), doc)
    batchnorm = next(f for f in fixes if "BatchNorm" in f.title)
    assert batchnorm.title == ("Insert BatchNorm after 2 Linear layers: 1 in the network, "
                               "1 in block 'Hidden' (2 uses)")
    apply_edits(doc, batchnorm.edits)
    assert modules(doc, torch.nn.BatchNorm1d) == 3  # fc0's, and one per instance
    body = doc.blocks["Hidden"].body
    fc = inner(doc, "Linear")
    after = body.edges_from(fc)[0].target
    assert body.nodes[after].type == "BatchNorm1d"
    assert graph.Analyzer().analyze(doc).ok


def test_dead_relu_inside_a_block_is_fixed_in_its_definition():
    doc = sigmoid_blocks(uses=2, repeat=1)
    body = doc.blocks["Hidden"].body
    sigmoid = inner(doc, "Sigmoid")
    apply_edits(doc, (InBlock("Hidden", ReplaceLayer(sigmoid, "ReLU")),))
    top_relu = doc.find_label("act0").id
    fixes = diagnosis_fixes("dead_relus", (top_relu, f"n4/{sigmoid}", f"n5/{sigmoid}"), doc)
    leaky = fixes[0]
    assert leaky.title == ("Replace 2 ReLU with LeakyReLU: 1 in the network, 1 in block "
                           "'Hidden' (2 uses)")
    apply_edits(doc, leaky.edits)
    assert body.nodes[sigmoid].type == "LeakyReLU"
    assert doc.nodes[top_relu if top_relu in doc.nodes else
                     doc.find_label("leaky_relu").id].type == "LeakyReLU"
    assert modules(doc, torch.nn.LeakyReLU) == 3
    assert "learning rate" in fixes[-1].title


def test_the_compound_edit_undoes_and_redoes_exactly():
    doc = sigmoid_blocks(uses=2, repeat=2)
    before = doc.to_dict()
    sigmoid = inner(doc, "Sigmoid")
    edit = apply_in_block(doc, InBlock("Hidden", ReplaceLayer(sigmoid, "ReLU")), "Fix")
    after = doc.to_dict()
    assert after != before
    edit.undo()
    assert doc.to_dict() == before and modules(doc, torch.nn.Sigmoid) == 4
    edit.redo()
    assert doc.to_dict() == after and modules(doc, torch.nn.Sigmoid) == 0
    fc = inner(doc, "Linear")
    wire = doc.blocks["Hidden"].body.edges_from(fc)[0]
    insert = apply_in_block(doc, InBlock("Hidden", InsertLayer(wire, "Dropout", {"p": 0.2})))
    assert modules(doc, torch.nn.Dropout) == 4
    insert.undo()
    assert doc.to_dict() == after


def test_edits_a_block_cannot_take_are_refused_by_name_and_change_nothing():
    doc = sigmoid_blocks(uses=1, repeat=1)
    body = doc.blocks["Hidden"].body
    port_in = next(n.id for n in body.nodes.values() if n.type == "BlockInput")
    fc, sigmoid = inner(doc, "Linear"), inner(doc, "Sigmoid")
    doc.set_exposed("Hidden", [ExposedParam("width", 32, [(fc, "out_features")])])
    before = doc.to_dict()
    refused = {
        "there is no block named 'Nope'": InBlock("Nope", ReplaceLayer(sigmoid, "ReLU")),
        "has no layer 'n99'": InBlock("Hidden", ReplaceLayer("n99", "ReLU")),
        "is a port of the block 'Hidden'": InBlock("Hidden", ReplaceLayer(port_in, "ReLU")),
        "an Output cannot go inside the block 'Hidden'": InBlock(
            "Hidden", InsertLayer(body.edges_from(fc)[0], "Output")),
        "sets `out_features`": InBlock("Hidden", ReplaceLayer(fc, "ReLU")),
        "has no wire": InBlock("Hidden", InsertLayer(Edge(sigmoid, "out", fc, "in"), "ReLU")),
        "unknown layer type 'Sigmoidd'": InBlock("Hidden", ReplaceLayer(sigmoid, "Sigmoidd")),
    }
    for words, edit in refused.items():
        with pytest.raises(StrataError, match=words.replace("(", r"\(")):
            check_in_block(doc, edit)
        with pytest.raises(StrataError):
            apply_in_block(doc, edit)
        with pytest.raises(StrataError):
            apply_edits(doc, (edit,))
        assert doc.to_dict() == before, words
    # A parameter the block exposes may be set by name on a layer that has it.
    apply_edits(doc, (InBlock("Hidden", SetParam(fc, "bias", False)),))
    assert body.nodes[fc].params["bias"] is False


def test_paths_resolve_through_nested_blocks_and_unused_blocks_are_left_alone():
    doc = sigmoid_blocks(uses=1, repeat=1)
    body = doc.blocks["Hidden"].body
    fc, sigmoid = inner(doc, "Linear"), inner(doc, "Sigmoid")
    outer = body.group([fc, sigmoid], "Pair").result["instance"]  # Hidden holds Pair
    assert resolve_path(doc, f"n4/{outer}/{sigmoid}") == ("Pair", sigmoid)
    assert resolve_path(doc, f"n4:0/{outer}") == ("Hidden", outer)
    assert resolve_path(doc, "n4") == (None, "n4")
    assert resolve_path(doc, "n4/n99") is None and resolve_path(doc, "n2/n3") is None
    doc.new_definition("Spare")  # no instance: a fix does not touch it
    assert used_definitions(doc) == ["Hidden", "Pair"]
    fix = diagnosis_fixes("vanishing_gradients", (), doc)[0]
    assert fix.title == "Replace the Sigmoid layer with ReLU in block 'Pair' (1 use)"
    apply_edits(doc, fix.edits)
    assert modules(doc, torch.nn.Sigmoid) == 0
