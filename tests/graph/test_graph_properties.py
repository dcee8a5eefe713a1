"""Property tests: random valid networks validate clean, compile and run; random edits
keep the persistent Analyzer equal to a fresh one; random corruptions of files either
load or raise DocumentError, never anything else."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random

import torch
from graph_helpers import EXAMPLES, as_tuple, concrete, random_inputs, ruff
from graph_randomnets import random_network
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import graph
from graph import Analyzer, DocumentError
from graph.cli import main

# CI runs a fixed, quick sample; STRATA_FUZZ=500 explores 500 fresh examples per test.
FUZZ = int(os.environ.get("STRATA_FUZZ", "0"))
SETTINGS = settings(max_examples=FUZZ or 30, deadline=None, derandomize=not FUZZ,
                    database=None, suppress_health_check=[HealthCheck.too_slow])
EXAMPLE_TEXT = {p.stem: p.read_text(encoding="utf-8") for p in EXAMPLES}


def _drawer(data):
    return lambda options: data.draw(st.sampled_from(list(options)))


# ---------------------------------------------------------------------- valid networks
@SETTINGS
@given(data=st.data(), steps=st.integers(1, 9))
def test_random_valid_networks_validate_compile_and_run(data, steps):
    doc = random_network(_drawer(data), steps)
    analysis = graph.analyze(doc)
    assert analysis.problems == [], [p.message for p in analysis.problems]
    compiled = graph.compile_network(doc, analysis)
    outs = as_tuple(compiled.module(*random_inputs(doc, compiled.code, batch=3)))
    assert len(outs) == len(compiled.code.outputs)
    for out, node_id in zip(outs, compiled.code.outputs):
        (edge,) = analysis.edges_into(node_id)
        assert tuple(out.shape) == concrete(analysis.edge_tensor(edge).shape, 3)
    total = sum(o.float().sum() for o in outs)
    if total.requires_grad:
        total.backward()
    # Determinism: the same document always gives the same text.
    assert graph.generate_code(doc.copy()).source == compiled.code.source


def test_random_networks_generate_ruff_clean_code(tmp_path):
    rng = random.Random(11)
    for i in range(25):
        doc = random_network(rng.choice, rng.randint(1, 12))
        (tmp_path / f"net_{i}.py").write_text(graph.generate_code(doc).source, "utf-8")
    files = sorted(str(p) for p in tmp_path.glob("*.py"))
    check = ruff("check", *files)
    assert check.returncode == 0, check.stdout
    fmt = ruff("format", "--check", "--diff", *files)
    assert fmt.returncode == 0, fmt.stdout


VALUES = [0, 1, 2, 3, 5, 8, -1, 2.5, "x", None, [3, 3], [1, 2], True, "sequence"]


@SETTINGS
@given(data=st.data(), steps=st.integers(2, 8),
       edits=st.lists(st.tuples(st.sampled_from(["param"] * 6 + ["label", "unwire",
                                                                 "remove", "move"]),
                                st.integers(0, 10**6), st.sampled_from(VALUES)),
                      max_size=10))
def test_persistent_analyzer_equals_a_fresh_one_after_random_edits(data, steps, edits):
    doc = random_network(_drawer(data), steps)
    analyzer = Analyzer()
    analyzer.analyze(doc)
    for action, pick, value in edits:
        nodes = list(doc.nodes.values())
        node = nodes[pick % len(nodes)]
        if action == "param" and node.spec.params:
            param = node.spec.params[pick % len(node.spec.params)]
            doc.set_param(node.id, param.name, value)
        elif action == "label":
            doc.set_label(node.id, str(value))
        elif action == "unwire" and doc.edges:
            doc.disconnect(doc.edges[pick % len(doc.edges)])
        elif action == "remove":
            doc.remove_node(node.id)
        elif action == "move":
            doc.move_node(node.id, (pick % 500, 3))
        incremental, fresh = analyzer.analyze(doc), graph.analyze(doc)
        assert incremental.problems == fresh.problems
        assert incremental.order == fresh.order
        for node_id, shapes in fresh.shapes.items():
            mine = incremental.shapes[node_id]
            assert (mine.inputs, mine.outputs, mine.values) == (
                shapes.inputs, shapes.outputs, shapes.values)


# ---------------------------------------------------------------------- corrupt files
def _survives(text: str | bytes) -> None:
    """Loading either works or raises DocumentError; what loads can be analysed, and
    generated when valid; the CLI answers with an exit code, not a traceback."""
    try:
        doc = graph.loads(text)
    except DocumentError as e:
        assert e.message and e.where.startswith("$")
        assert "\n" not in str(e)
        return
    analysis = graph.analyze(doc)
    if analysis.ok:
        graph.generate_code(doc, analysis)
    graph.fileformat.dumps(doc)


def _cli_survives(tmp_path, text: bytes) -> None:
    path = tmp_path / "fuzz.strata"
    path.write_bytes(text)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(path)])
    assert code in (0, 1, 2)
    assert "Traceback" not in err.getvalue() and "internal error" not in err.getvalue()


@SETTINGS
@given(name=st.sampled_from(sorted(EXAMPLE_TEXT)),
       flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(0, 255)),
                      min_size=1, max_size=6))
def test_byte_flips(name, flips):
    data = bytearray(EXAMPLE_TEXT[name].encode())
    for where, byte in flips:
        data[int(where * len(data))] = byte
    _survives(bytes(data))


@SETTINGS
@given(name=st.sampled_from(sorted(EXAMPLE_TEXT)), cut=st.floats(0, 1, exclude_max=True))
def test_truncation(name, cut):
    text = EXAMPLE_TEXT[name]
    _survives(text[: int(cut * len(text))])


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                               max_size=4),
    max_leaves=12)


def _paths(value, path=()):
    yield path
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*path, i))


@SETTINGS
@given(name=st.sampled_from(sorted(EXAMPLE_TEXT)), data=st.data(),
       mutations=st.lists(st.tuples(st.integers(0, 10**6), st.sampled_from(
           ["replace", "delete", "insert"]), JSON), min_size=1, max_size=4))
def test_json_mutations(name, data, mutations):
    doc = json.loads(EXAMPLE_TEXT[name])
    for pick, action, value in mutations:
        paths = list(_paths(doc))
        path = paths[pick % len(paths)]
        if not path:
            continue
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        key = path[-1]
        if action == "replace":
            parent[key] = value
        elif action == "delete":
            del parent[key]
        elif isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8))] = value
        else:
            parent.insert(key, value)
    try:
        text = json.dumps(doc)
    except ValueError:  # pragma: no cover - json.dumps refuses nothing we build
        assume(False)
    _survives(text)


@settings(max_examples=FUZZ or 15, deadline=None, derandomize=not FUZZ, database=None)
@given(name=st.sampled_from(sorted(EXAMPLE_TEXT)), cut=st.floats(0, 1, exclude_max=True),
       flip=st.integers(0, 255))
def test_cli_check_never_crashes_on_corrupt_files(tmp_path_factory, name, cut, flip):
    data = bytearray(EXAMPLE_TEXT[name].encode())
    data[int(cut * len(data))] = flip
    _cli_survives(tmp_path_factory.mktemp("fuzz"), bytes(data))


def test_examples_survive_the_checks_themselves():
    for text in EXAMPLE_TEXT.values():
        _survives(text)
    assert torch.get_num_threads() >= 1
