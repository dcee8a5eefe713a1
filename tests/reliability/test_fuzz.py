"""Property tests: whatever save writes, load reads (hostile text and values edited in
through the document's methods), and generated code from hostile strings parses and
is ruff-formatted. ``STRATA_FUZZ=500`` explores 500 fresh examples per test."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graph
from graph.errors import DocumentError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "graph"))
from graph_randomnets import random_network

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")
FUZZ = int(os.environ.get("STRATA_FUZZ", "0"))
SETTINGS = settings(max_examples=FUZZ or 25, deadline=None, derandomize=not FUZZ,
                    database=None, suppress_health_check=[HealthCheck.too_slow])

# Text as hostile senders write it: any code point (surrogates included), long runs.
HOSTILE = st.one_of(
    st.text(st.characters(codec=None), max_size=40),
    st.sampled_from(['"""', "\\N", "\x00", "\u200b", "\u2028", "\ud800", "@DATA@",
                     "\r\n", "'''", "#", "\\", "x" * 250]),
    st.text(st.sampled_from('"\'\\\n\x00\u200b#{}@ aZ'), max_size=30),
)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70)
    | st.floats(allow_nan=True, allow_infinity=True) | HOSTILE,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(HOSTILE, inner,
                                                                 max_size=4),
    max_leaves=12)


def _drawer(data):
    return lambda options: data.draw(st.sampled_from(list(options)))


def _try(edit) -> None:
    try:
        edit()
    except DocumentError:
        pass  # refused where it entered, with the reason: nothing to save


@SETTINGS
@given(data=st.data())
def test_whatever_save_writes_load_reads(data, tmp_path_factory):
    doc = random_network(_drawer(data), data.draw(st.integers(1, 6)))
    _try(lambda: doc.set_metadata(name=data.draw(HOSTILE)))
    _try(lambda: doc.set_metadata(description=data.draw(HOSTILE)))
    for node_id in list(doc.nodes)[:4]:
        _try(lambda n=node_id: doc.set_label(n, data.draw(HOSTILE)))
        _try(lambda n=node_id: doc.move_node(n, (data.draw(st.floats()),
                                                 data.draw(st.floats()))))
    for _ in range(data.draw(st.integers(0, 3))):
        _try(lambda: doc.set_training(data.draw(HOSTILE), data.draw(JSON)))
    path = tmp_path_factory.mktemp("fuzz") / "net.strata"
    graph.save(doc, path)  # never refused: every edit that entered can be saved
    assert graph.load(path) == doc


@SETTINGS
@given(data=st.data(), name=HOSTILE, description=HOSTILE, label=HOSTILE)
def test_generated_code_from_hostile_strings_parses_and_is_formatted(data, name,
                                                                     description,
                                                                     label):
    doc = random_network(_drawer(data), data.draw(st.integers(1, 4)))
    _try(lambda: doc.set_metadata(name=name, description=description))
    for node_id in doc.nodes:
        _try(lambda n=node_id: doc.set_label(n, label or "x"))
    source = graph.generate_code(doc).source
    ast.parse(source)
    result = subprocess.run([str(RUFF), "format", "--check", "--no-cache",
                             "--stdin-filename", "model.py", "-"], input=source,
                            text=True, capture_output=True, cwd=ROOT, check=False,
                            timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr + source[:400]
