"""Blocks: random networks grouped into random (nested, repeated) blocks compute exactly
what the flat network computes, keep its parameter count, and generate the same code
after a save and load; group, ungroup and make unique undo and redo exactly; a problem
inside a block names its path."""

from __future__ import annotations

import json
import random

import pytest
import torch
from graph_helpers import as_tuple, random_inputs, ruff
from graph_randomnets import random_network

import graph
from graph import StrataError
from graph.blocks import ExposedParam
from graph.builder import Builder
from graph.fileformat import VERSION, dumps, loads

IO = ("Input", "Output", "BlockInput", "BlockOutput")


def _convex_range(doc, rng: random.Random) -> list[str]:
    """A run of consecutive nodes in topological order (no IO): any path between two of
    them stays inside, so grouping them cannot make a cycle."""
    order = graph.analyze(doc).order
    if not order:
        return []
    i = rng.randrange(len(order))
    j = min(len(order), i + rng.randint(1, 5))
    return [n for n in order[i:j] if doc.nodes[n].type not in IO]


def _group_randomly(doc, rng: random.Random, rounds: int) -> list[str]:
    """Group random ranges at the top and inside the new blocks (nesting)."""
    made = []
    for _ in range(rounds):
        target = doc
        if made and rng.random() < 0.5:
            target = doc.blocks[rng.choice(made)].body
        ids = _convex_range(target, rng)
        if not ids:
            continue
        edit = target.group(ids, rng.choice(["Block", "Stage", "Res Block"]))
        made.append(edit.result["definition"])
    return made


def _weights_by_path(flat_code, blocked_code, flat_state):
    """The flat network's weights under the blocked network's keys: grouping keeps inner
    node ids, so a layer's path ends in its flat node id."""
    out = {}
    ends = {m.path.rsplit("/", 1)[-1]: m.attribute for m in blocked_code.modules
            if m.type != "Block"}
    for node_id, attribute in flat_code.attributes.items():
        for key, value in flat_state.items():
            if key.startswith(attribute + "."):
                out[ends[node_id] + key[len(attribute):]] = value
    return out


@pytest.mark.parametrize("seed", range(24))
def test_random_groupings_compute_what_the_flat_network_computes(seed):
    rng = random.Random(seed)
    flat = random_network(rng.choice, rng.randint(3, 12))
    doc = flat.copy()
    _group_randomly(doc, rng, rng.randint(1, 4))
    analysis = graph.analyze(doc)
    assert analysis.ok, [p.message for p in analysis.problems]
    flat_net, net = graph.compile_network(flat), graph.compile_network(doc)
    count = sum(p.numel() for p in net.module.parameters())
    assert count == sum(p.numel() for p in flat_net.module.parameters())
    assert graph.summarize(doc).total_params == count
    state = _weights_by_path(flat_net.code, net.code, flat_net.module.state_dict())
    net.module.load_state_dict(state, strict=True)
    flat_net.module.eval()
    net.module.eval()
    xs = random_inputs(flat, flat_net.code, batch=3, seed=seed)
    assert net.code.inputs == flat_net.code.inputs
    with torch.no_grad():
        expected = dict(zip(flat_net.code.outputs, as_tuple(flat_net.module(*xs))))
        got = dict(zip(net.code.outputs, as_tuple(net.module(*xs))))
    for node_id, value in expected.items():  # grouping may reorder the outputs
        torch.testing.assert_close(got[node_id], value)
    # Save and load: the same document, the same code.
    again = loads(dumps(doc))
    assert again == doc
    assert graph.generate_code(again).source == net.code.source


@pytest.mark.parametrize("seed", range(12))
def test_repeated_blocks_equal_their_expansion(seed):
    rng = random.Random(100 + seed)
    doc = random_network(rng.choice, rng.randint(3, 10))
    _group_randomly(doc, rng, 3)
    analysis = graph.analyze(doc)
    repeatable = [n for n in doc.nodes.values() if n.is_block
                  and len(n.spec.inputs) == 1 and len(n.spec.outputs) == 1
                  and analysis.shapes[n.id].inputs == analysis.shapes[n.id].outputs]
    if not repeatable:  # group one shape-preserving layer (an activation, a norm...)
        same = [n.id for n in doc.nodes.values() if n.type not in IO and not n.is_block
                and len(doc.edges_into(n.id)) == 1 and analysis.shapes[n.id].outputs
                and list(analysis.shapes[n.id].inputs.values())
                == list(analysis.shapes[n.id].outputs.values())]
        if not same:
            pytest.skip("no shape-preserving layer in this draw")
        edit = doc.group([rng.choice(same)], "Repeated")
        repeatable = [doc.nodes[edit.result["instance"]]]
    instance = rng.choice(repeatable)
    doc.set_repeat(instance.id, rng.randint(2, 3))
    net = graph.compile_network(doc)
    expanded = doc.copy()
    alias = {n: n for n in expanded.nodes}  # flat node id -> its path in ``net``
    while any(n.is_block for n in expanded.nodes.values()):
        instance = next(n for n in expanded.nodes.values() if n.is_block)
        repeat, prefix = instance.params["repeat"], alias.pop(instance.id)
        for key, new in expanded.ungroup(instance.id).result["nodes"].items():
            inner, _, k = key.partition(":")
            alias[new] = f"{prefix}:{k}/{inner}" if repeat > 1 else f"{prefix}/{inner}"
    flat_net = graph.compile_network(expanded)
    assert sum(p.numel() for p in net.module.parameters()) == sum(
        p.numel() for p in flat_net.module.parameters())
    torch.manual_seed(seed)
    for p in net.module.parameters():
        p.data.normal_()
    # Weights move with their layer: the k-th copy's inner layer is the k-th expansion.
    paths = net.code.module_paths
    state = net.module.state_dict()
    moved = {}
    for node_id, attribute in flat_net.code.attributes.items():
        mine = paths[alias[node_id]]
        moved.update({attribute + k[len(mine):]: v for k, v in state.items()
                      if k.startswith(mine + ".")})
    flat_net.module.load_state_dict(moved, strict=True)
    xs = random_inputs(doc, net.code, batch=2, seed=seed)
    net.module.eval()
    flat_net.module.eval()
    with torch.no_grad():
        expected = dict(zip(flat_net.code.outputs, as_tuple(flat_net.module(*xs))))
        got = dict(zip(net.code.outputs, as_tuple(net.module(*xs))))
    for node_id, value in expected.items():
        torch.testing.assert_close(got[node_id], value)


def test_grouped_networks_generate_ruff_clean_code(tmp_path):
    rng = random.Random(5)
    for i in range(12):
        doc = random_network(rng.choice, rng.randint(4, 12))
        _group_randomly(doc, rng, 3)
        (tmp_path / f"net_{i}.py").write_text(graph.generate_code(doc).source, "utf-8")
    files = sorted(str(p) for p in tmp_path.glob("*.py"))
    check = ruff("check", *files)
    assert check.returncode == 0, check.stdout
    fmt = ruff("format", "--check", "--diff", *files)
    assert fmt.returncode == 0, fmt.stdout


# ---------------------------------------------------------------------- edits
def _residual():
    b = Builder("Res")
    x = b.add("Input", shape=[3, 8, 8])
    h = b.chain(x, ("Conv2d", {"out_channels": 8}, "stem"))
    for i in (1, 2):
        c = b.chain(h, ("Conv2d", {"out_channels": 8}, f"conv1_{i}"), ("ReLU", {}, f"r{i}"),
                    ("Conv2d", {"out_channels": 8}, f"conv2_{i}"))
        add = b.add("Add", f"add{i}")
        b.wire(c, add)
        b.wire(h, add)
        h = add
    b.chain(h, "Flatten", ("Linear", {"out_features": 3}, "fc"), "Output")
    return b.done()


def _ids(doc, suffix):
    return [n.id for n in doc.nodes.values() if n.label.endswith(suffix)]


def test_group_ungroup_and_make_unique_undo_and_redo_exactly():
    doc = _residual()
    before = doc.to_dict()
    events = []
    doc.subscribe(events.append)
    edit = doc.group(_ids(doc, "1"), "BasicBlock", "block1")
    assert isinstance(events[-1], graph.events.BlocksEdited)
    grouped = doc.to_dict()
    assert doc.nodes[edit.result["instance"]].spec.input_names({}) == ["in"]
    edit.undo()
    assert doc.to_dict() == before
    edit.redo()
    assert doc.to_dict() == grouped
    # A second use of the same block, then a fork of it.
    second = doc.group(_ids(doc, "2"), "Other")
    doc.set_param(second.result["instance"], "block", "BasicBlock")
    assert graph.analyze(doc).ok
    fork = doc.make_unique(second.result["instance"])
    assert doc.nodes[second.result["instance"]].params["block"] == "BasicBlock2"
    body = doc.blocks["BasicBlock2"].body
    conv = next(n.id for n in body.nodes.values() if n.label == "conv2_1")
    body.set_param(conv, "out_channels", 5)  # only the fork changes
    problems = graph.analyze(doc).problems
    assert [p.node_ids for p in problems] == [(second.result["instance"],)]
    body.set_param(conv, "out_channels", 8)
    fork.undo()
    assert "BasicBlock2" not in doc.blocks
    ungroup = doc.ungroup(edit.result["instance"])
    assert graph.analyze(doc).ok
    ungroup.undo()
    assert doc.to_dict()["nodes"] == loads(dumps(doc)).to_dict()["nodes"]


def test_failed_compound_edit_changes_nothing():
    doc = _residual()
    before = doc.to_dict()
    with pytest.raises(StrataError, match="cannot go into a block"):
        doc.group([*_ids(doc, "1"), next(iter(doc.nodes))])
    assert doc.to_dict() == before


def test_a_problem_inside_nested_blocks_names_its_path():
    doc = _residual()
    block = doc.group(_ids(doc, "1"), "BasicBlock", "block1").result
    stage = doc.group([block["instance"]], "Stage", "stage2").result
    inner = doc.blocks["BasicBlock"].body
    conv = next(n.id for n in inner.nodes.values() if n.label == "conv2_1")
    inner.set_param(conv, "out_channels", 5)
    (problem,) = graph.analyze(doc).errors
    assert problem.node_ids == (stage["instance"],)
    assert problem.message.startswith("stage2 > block1 > add1: ")
    assert problem.path == (block["instance"], next(
        n.id for n in inner.nodes.values() if n.label == "add1"))


def test_exposed_parameters_are_constructor_arguments_and_a_block_cannot_hold_itself():
    doc = _residual()
    edit = doc.group(_ids(doc, "1"), "BasicBlock", "block1")
    body = doc.blocks["BasicBlock"].body
    convs = [n.id for n in body.nodes.values() if n.type == "Conv2d"]
    doc.set_exposed("BasicBlock", [ExposedParam("planes", 8, [(c, "out_channels")
                                                               for c in convs])])
    doc.set_repeat(edit.result["instance"], 2)
    source = graph.generate_code(doc).source
    assert "class BasicBlock(nn.Module):" in source
    assert "def __init__(self, planes: int) -> None:" in source
    assert "self.block1 = nn.Sequential(BasicBlock(8), BasicBlock(8))" in source
    keys = graph.compile(doc).state_dict()
    assert "block1.1.conv1_1.weight" in keys
    with pytest.raises(StrataError, match="cannot contain"):
        body.add_node("Block", {"block": "BasicBlock"})


def test_older_files_load_and_blocks_are_written_only_when_there_are_some():
    doc = _residual()
    assert doc.to_dict()["version"] == VERSION and "blocks" not in doc.to_dict()
    doc.group(_ids(doc, "1"), "BasicBlock")
    data = doc.to_dict()
    assert data["version"] == VERSION and data["blocks"][0]["name"] == "BasicBlock"
    assert loads(dumps(_residual())) == _residual()
    old = {**_residual().to_dict(), "version": 1}
    assert loads(json.dumps(old)) == _residual()
