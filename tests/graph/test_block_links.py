"""Grouping and ungrouping inside a block keep its exposed parameters working: a random
network grouped into a block whose exposed parameters set its layers (with instance
values the body does not have), then grouped and ungrouped at random nesting levels,
computes the same outputs with the same parameter count after every edit, and undo
restores the document exactly."""

from __future__ import annotations

import random

import pytest
import torch
from graph_helpers import as_tuple, random_inputs
from graph_randomnets import random_network

import graph
from graph.blocks import BLOCK, ExposedParam
from graph.builder import Builder
from graph.fileformat import dumps, loads

IO = ("Input", "Output", "BlockInput", "BlockOutput")
WIDTHS = {"Linear": "out_features", "Conv2d": "out_channels"}


def _convex_range(doc, rng: random.Random) -> list[str]:
    """A run of consecutive layers in topological order: grouping it makes no cycle."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(doc.nodes)
    g.add_edges_from((e.source, e.target) for e in doc.edges)
    order = [n for n in nx.lexicographical_topological_sort(g)
             if doc.nodes[n].type not in IO]
    if not order:
        return []
    i = rng.randrange(len(order))
    return order[i:i + rng.randint(1, 4)]


def _instance_paths(doc) -> dict[str, tuple[str, ...]]:
    """Each definition's body -> the node path of its one instance from the network."""
    out: dict[str, tuple[str, ...]] = {}

    def visit(d, path: tuple[str, ...]) -> None:
        for n in d.nodes.values():
            if n.type == BLOCK:
                out[n.params["block"]] = (*path, n.id)
                visit(doc.blocks[n.params["block"]].body, (*path, n.id))

    visit(doc, ())
    return out


def _same_network(before, after, rename) -> None:
    """``after`` computes what ``before`` does, its weights moved by ``rename``
    (a module path of ``before`` -> the same layer's path in ``after``)."""
    a, b = graph.analyze(before), graph.analyze(after)
    assert a.ok and b.ok, [p.message for p in b.problems]
    net_a, net_b = graph.compile_network(before), graph.compile_network(after)
    count = sum(p.numel() for p in net_a.module.parameters())
    assert sum(p.numel() for p in net_b.module.parameters()) == count
    assert graph.summarize(after).total_params == count
    paths_b = net_b.code.module_paths
    by_attribute = {attribute: path for path, attribute in net_a.code.module_paths.items()}
    state = {}
    for key, value in net_a.module.state_dict().items():
        # The layer a weight belongs to: the longest module attribute it starts with.
        attribute = max((a for a in by_attribute if key.startswith(a + ".")), key=len)
        state[paths_b[rename(by_attribute[attribute])] + key[len(attribute):]] = value
    net_b.module.load_state_dict(state, strict=True)
    net_a.module.eval()
    net_b.module.eval()
    xs = random_inputs(before, net_a.code, batch=2)
    with torch.no_grad():
        expected = dict(zip(net_a.code.outputs, as_tuple(net_a.module(*xs))))
        got = dict(zip(net_b.code.outputs, as_tuple(net_b.module(*xs))))
    for node_id, value in expected.items():
        torch.testing.assert_close(got[node_id], value)


def _exposing_block(rng: random.Random):
    """A random network with one block whose exposed parameters set its layers' widths,
    with instance values that differ from the body's where the network allows."""
    for _ in range(50):
        doc = random_network(rng.choice, rng.randint(4, 12))
        ids = _convex_range(doc, rng)
        if any(doc.nodes[i].type in WIDTHS for i in ids):
            break
    else:  # pragma: no cover - the draws above always find one
        pytest.skip("no layer with a width")
    instance = doc.group(ids, "Outer").result["instance"]
    body = doc.blocks["Outer"].body
    exposed = [ExposedParam(f"width_{n.id}", n.params[WIDTHS[n.type]],
                            [(n.id, WIDTHS[n.type])])
               for n in body.nodes.values() if n.type in WIDTHS]
    doc.set_exposed("Outer", exposed)
    for e in exposed:
        doc.set_param(instance, e.name, e.default + rng.randint(1, 3))
        if not graph.analyze(doc).ok:  # the width must match something outside
            doc.set_param(instance, e.name, e.default)
    assert graph.analyze(doc).ok
    return doc


@pytest.mark.parametrize("seed", range(16))
def test_grouping_and_ungrouping_inside_blocks_keep_their_parameters(seed):
    rng = random.Random(700 + seed)
    doc = _exposing_block(rng)
    for _ in range(rng.randint(2, 4)):  # group inside a random body (deeper each time)
        name = rng.choice(sorted(_instance_paths(doc)))
        body = doc.blocks[name].body
        ids = _convex_range(body, rng)
        if not ids:
            continue
        before = doc.copy()
        prefix = _instance_paths(doc)[name]
        edit = body.group(ids, "Inner")
        made = edit.result["instance"]

        chosen = frozenset(ids)

        def grouped(path: str, prefix=prefix, ids=chosen, made=made) -> str:
            parts = path.split("/")
            k = len(prefix)
            if tuple(parts[:k]) == prefix and len(parts) > k and parts[k] in ids:
                parts.insert(k, made)
            return "/".join(parts)

        _same_network(before, doc, grouped)
        grouped_doc = doc.copy()
        edit.undo()
        assert doc == before
        edit.redo()
        assert doc == grouped_doc
    assert loads(dumps(doc)) == doc
    for _ in range(rng.randint(1, 3)):  # ungroup a random nested instance
        used = _instance_paths(doc)
        nested = [(d.name, n.id) for d in doc.blocks if d.name in used
                  for n in d.body.nodes.values() if n.type == BLOCK]
        if not nested:
            break
        name, instance = rng.choice(nested)
        before = doc.copy()
        prefix = (*_instance_paths(doc)[name], instance)
        edit = doc.blocks[name].body.ungroup(instance)
        mapping = edit.result["nodes"]

        def ungrouped(path: str, prefix=prefix, mapping=mapping) -> str:
            parts = path.split("/")
            k = len(prefix)
            if tuple(parts[:k]) == prefix and len(parts) > k:
                return "/".join([*parts[:k - 1], mapping[parts[k]], *parts[k + 1:]])
            return path

        _same_network(before, doc, ungrouped)
        edit.undo()
        assert doc == before
        edit.redo()


def _widened():
    """A network whose block ``Head`` has a hidden width set by its instance (32),
    not the 16 its body holds."""
    b = Builder("Net")
    x = b.add("Input", shape=[8])
    h = b.chain(x, ("Linear", {"out_features": 16}, "fc1"), ("ReLU", {}, "relu"),
                ("Linear", {"out_features": 4}, "fc2"))
    b.chain(h, "Output")
    doc = b.done()
    ids = [n.id for n in doc.nodes.values() if n.label in ("fc1", "relu", "fc2")]
    instance = doc.group(ids, "Head").result["instance"]
    body = doc.blocks["Head"].body
    fc1 = next(n.id for n in body.nodes.values() if n.label == "fc1")
    doc.set_exposed("Head", [ExposedParam("hidden", 16, [(fc1, "out_features")])])
    doc.set_param(instance, "hidden", 32)
    return doc, body, fc1


def test_a_group_inside_a_block_exposes_the_outer_parameter_it_took():
    doc, body, fc1 = _widened()
    count = graph.summarize(doc).total_params
    assert count == 8 * 32 + 32 + 32 * 4 + 4
    relu = next(n.id for n in body.nodes.values() if n.label == "relu")
    result = body.group([fc1, relu], "Hidden").result
    inner = doc.blocks["Hidden"]
    assert [(e.name, e.default, e.targets) for e in inner.exposed] == [
        ("hidden", 16, [(fc1, "out_features")])]
    (outer,) = doc.blocks["Head"].exposed
    assert outer.targets == [(result["instance"], "hidden")]
    assert body.nodes[result["instance"]].params["hidden"] == 16
    assert graph.summarize(doc).total_params == count
    source = graph.generate_code(doc).source
    assert "class Hidden(nn.Module):" in source or "class Hidden(nn.Sequential):" in source
    assert "Hidden(hidden)" in source and "Head(32)" in source
    # Ungrouping puts the link back on the layer itself.
    body.ungroup(result["instance"])
    (outer,) = doc.blocks["Head"].exposed
    ((node, param),) = outer.targets
    assert body.nodes[node].label.startswith("fc1") and param == "out_features"
    assert graph.summarize(doc).total_params == count


def test_ungrouping_a_repeated_instance_links_every_copy():
    doc, body, fc1 = _widened()
    relu = next(n.id for n in body.nodes.values() if n.label == "relu")
    fc2 = next(n.id for n in body.nodes.values() if n.label == "fc2")
    # Square the block so it repeats: fc2 back to the width it gets.
    body.set_param(fc2, "out_features", 8)
    sq = body.group([fc1, relu, fc2], "Square").result["instance"]
    body.set_repeat(sq, 2)
    count = graph.summarize(doc).total_params
    assert count == 2 * (8 * 32 + 32 + 32 * 8 + 8)
    made = body.ungroup(sq).result["nodes"]
    (outer,) = doc.blocks["Head"].exposed
    assert sorted(outer.targets) == sorted([(made[f"{fc1}:0"], "out_features"),
                                            (made[f"{fc1}:1"], "out_features")])
    assert graph.summarize(doc).total_params == count
