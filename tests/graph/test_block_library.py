"""The built-in block library: every block, inserted into a small network, validates,
infers shapes, compiles, trains a step and is written as a class a careful person would
write (passing ruff); inserting copies definitions (nested ones too), reuses an
identical one and renames on a clash, as one undo step."""

from __future__ import annotations

import pytest
import torch
from graph_helpers import random_inputs, ruff

import graph
from graph.block_insert import copy_block, dependencies, insert_block
from graph.block_library import BUILTINS, CHANNELS, builtin, builtin_document
from graph.blocks import ExposedParam
from graph.builder import Builder
from graph.document import Edge
from graph.errors import StrataError
from graph.fileformat import dumps, loads

SIGNATURES = {
    "ConvBNReLU": "def __init__(self, channels: int, stride: int) -> None:",
    "BasicBlock": "def __init__(self, channels: int) -> None:",
    "BasicBlockDown": "def __init__(self, channels: int, stride: int) -> None:",
    "Bottleneck": "def __init__(self, width: int, channels: int) -> None:",
    "BottleneckDown": "def __init__(self, width: int, channels: int, stride: int) -> None:",
    "InvertedResidual": "def __init__(self, channels: int, expand_ratio: int) -> None:",
    "InvertedResidualDown":
        "def __init__(\n        self, in_channels: int, channels: int, expand_ratio: int, "
        "stride: int\n    ) -> None:",
    "SqueezeExcitation": "def __init__(self, channels: int, squeeze_channels: int) -> None:",
    "TransformerEncoderBlock":
        "def __init__(self, dim: int, heads: int, mlp_dim: int, dropout: float) -> None:",
    "MLPBlock": "def __init__(self, features: int, dropout: float) -> None:",
}


def _network(name: str, params: dict | None = None):
    """Input -> (stem) -> the built-in block -> flatten -> linear -> Output."""
    b = Builder(f"With {name}")
    if name == "MLPBlock":
        h = b.add("Input", shape=[8])
    elif name == "TransformerEncoderBlock":
        h = b.add("Input", shape=[5, 16])
    else:
        h = b.chain(b.add("Input", shape=[3, 8, 8]),
                    ("Conv2d", {"out_channels": 8}, "stem"))
    block = builtin(name)
    fitted = {p: (8 if axis == CHANNELS else 16) for p, axis in block.fit}
    edit = insert_block(b.doc, builtin_document(name), name, {**fitted, **(params or {})},
                        "block")
    instance = edit.result["instance"]
    b.doc.connect(Edge(h, "out", instance, "in"))
    b.chain(instance, "Flatten", ("Linear", {"out_features": 3}, "fc"),
            ("Output", {"task": "classification"}))
    return b.done(), instance


def test_every_builtin_is_declared_once_with_its_signature():
    assert sorted(b.name for b in BUILTINS) == sorted(SIGNATURES)
    for block in BUILTINS:
        definition = builtin_document(block.name).blocks[block.name]
        assert definition.input_ports == ["in"] and definition.output_ports == ["out"]
        assert definition.exposed and definition.description == block.help


@pytest.mark.parametrize("name", sorted(SIGNATURES))
def test_builtin_validates_compiles_trains_and_reads_well(name, tmp_path):
    # Seeded: with some initial weights (about 1 in 40) every pooled example lands
    # below zero at SqueezeExcitation's narrow ReLU, and its layers get no gradient
    # from a 4-example batch: the test is about the code, not that draw.
    torch.manual_seed(0)
    doc, instance = _network(name)
    analysis = graph.analyze(doc)
    assert analysis.ok, [p.message for p in analysis.problems]
    shapes = analysis.shapes[instance]
    assert shapes.outputs and all(t is not None for t in shapes.outputs.values())
    net = graph.compile_network(doc)
    module = net.module
    source = net.code.source
    assert f"class {name}(nn.Module):" in source
    assert SIGNATURES[name] in source
    assert f"self.block = {name}(" in source
    # One training step moves every weight of the block.
    module.train()
    before = {k: v.detach().clone() for k, v in module.named_parameters()}
    xs = random_inputs(doc, net.code, batch=4)
    out = module(*xs)
    loss = torch.nn.functional.cross_entropy(out, torch.tensor([0, 1, 2, 0]))
    loss.backward()
    torch.optim.SGD(module.parameters(), lr=0.1).step()
    moved = [k for k, v in module.named_parameters()
             if k.startswith("block.") and not torch.equal(v, before[k])]
    assert moved == [k for k in before if k.startswith("block.")] and moved
    path = tmp_path / f"{name}.py"
    path.write_text(source, "utf-8")
    check = ruff("check", str(path))
    assert check.returncode == 0, check.stdout
    fmt = ruff("format", "--check", "--diff", str(path))
    assert fmt.returncode == 0, fmt.stdout
    assert loads(dumps(doc)) == doc


def test_projection_blocks_change_size_and_identity_blocks_keep_it():
    doc, instance = _network("BasicBlockDown", {"channels": 24, "stride": 2})
    (out,) = graph.analyze(doc).shapes[instance].outputs.values()
    assert out.shape[1:] == (24, 4, 4)
    doc, instance = _network("BasicBlock", {"channels": 24})  # the input has 8
    (problem,) = graph.analyze(doc).errors
    assert problem.node_ids == (instance,) and problem.message.startswith("block > add")


def test_inserting_twice_reuses_the_definition_and_a_clash_is_renamed():
    doc, _ = _network("BasicBlock")
    again = copy_block(doc, builtin_document("BasicBlock"), "BasicBlock")
    assert again.result == {"definition": "BasicBlock", "renamed": {}}
    assert list(doc.blocks.definitions) == ["BasicBlock"]
    # A different block of the same name stays; the copy becomes BasicBlock2.
    conv = next(n.id for n in doc.blocks["BasicBlock"].body.nodes.values()
                if n.label == "conv2")
    doc.blocks["BasicBlock"].body.set_param(conv, "kernel_size", [5, 5])
    before = doc.to_dict()
    edit = insert_block(doc, builtin_document("BasicBlock"), "BasicBlock", {"channels": 8})
    assert edit.result["definition"] == "BasicBlock2"
    assert edit.result["renamed"] == {"BasicBlock": "BasicBlock2"}
    assert doc.nodes[edit.result["instance"]].params["block"] == "BasicBlock2"
    after = doc.to_dict()
    edit.undo()
    assert doc.to_dict() == before
    edit.redo()
    assert doc.to_dict() == after


def _nested_source():
    """A document whose 'Stage' holds two instances of 'Unit' (nesting)."""
    source, _ = _network("BasicBlock")
    b = source.blocks["BasicBlock"].body
    # Not the convolutions: their channels are the block's exposed parameter.
    ids = [n.id for n in b.nodes.values() if n.label in ("bn1", "relu")]
    b.group(ids, "Unit", "unit")
    top = [n.id for n in source.nodes.values() if n.label == "block"]
    source.group(top, "Stage", "stage")
    return source


def test_nested_definitions_come_along_and_follow_renames():
    source = _nested_source()
    assert dependencies(source, "Stage") == ["Unit", "BasicBlock", "Stage"]
    doc = _network("MLPBlock")[0]
    doc.blocks.attach(builtin_document("ConvBNReLU").blocks["ConvBNReLU"])
    unit = source.blocks["Unit"]
    clash = builtin_document("MLPBlock").blocks["MLPBlock"]
    clash.name = "Unit"  # same name, other content
    clash.body.block_name = "Unit"
    doc.blocks.attach(clash)
    edit = copy_block(doc, source, "Stage")
    assert edit.result["renamed"] == {"Unit": "Unit2"}
    inner = doc.blocks["BasicBlock"].body
    assert [n.params["block"] for n in inner.nodes.values() if n.type == "Block"] == ["Unit2"]
    assert doc.blocks["Unit2"].body.to_dict()["nodes"] == unit.body.to_dict()["nodes"]
    # The source is untouched and the copies are independent of it.
    assert [n.params["block"] for n in source.blocks["BasicBlock"].body.nodes.values()
            if n.type == "Block"] == ["Unit"]
    assert doc.blocks["Stage"].body is not source.blocks["Stage"].body


def test_a_block_without_its_nested_definition_is_refused():
    source = _nested_source()
    source.blocks.detach("Unit")
    with pytest.raises(StrataError, match="uses a block 'Unit' that is not defined"):
        copy_block(_network("MLPBlock")[0], source, "Stage")


def test_exposed_parameters_keep_their_targets_in_the_copy():
    doc, instance = _network("TransformerEncoderBlock", {"heads": 2})
    definition = doc.blocks["TransformerEncoderBlock"]
    assert [e.name for e in definition.exposed] == ["dim", "heads", "mlp_dim", "dropout"]
    assert isinstance(definition.exposed[0], ExposedParam)
    source = graph.generate_code(doc).source
    assert "self.block = TransformerEncoderBlock(16, 2, mlp_dim=256, dropout=0.1)" in source
    assert graph.analyze(doc).shapes[instance].values["params"] > 0
