"""Every zoo architecture survives import -> export -> re-import unchanged, and keeps its
blocks: the user's submodule classes arrive as block definitions, the original
state_dict (keys nested as in the original) loads strictly into the exported module with
equal outputs (eval mode, non-default BatchNorm statistics), and importing the exported
code gives a document equal to the first one: labels (those of anonymous operations
inside blocks too), parameters, wiring, definitions and exposed parameters.

One thing is normalised before comparing: node ids. They are the document's internal
handles, numbered in the order the traced code runs its operations, and the exported
code may run independent branches in another order (SE-ResNet's shortcut before the
squeeze-and-excitation), which renumbers the nodes and changes nothing else. Node order,
labels, parameters, wiring and even layout positions are compared as they are."""

from __future__ import annotations

import json
from difflib import unified_diff
from pathlib import Path

import pytest
import torch
from transfer_helpers import max_difference, run
from zoo_models import ZOO, randomise_batchnorm

import graph
from graph.catalog import get_spec, has_spec
from graph.importers import build_module, import_file
from runtime.transfer.python import write_python

ZOO_FILE = Path(__file__).resolve().parent / "zoo_models.py"

# Which models arrive with blocks. Not nested: the LSTM tagger has no submodules; the
# Siamese network calls one tower twice, and a block instance cannot share another's
# weights yet (its layers share, flat).
FLAT = {"lstm_tagger", "siamese"}
# Buffers of the original that become a layer setting instead of a state_dict entry.
FOLDED = {"gpt": {"h.0.attn.mask", "h.1.attn.mask"}}


def _inputs(doc: graph.Document, shapes, seed: int = 3):
    code = graph.generate_code(doc)
    dtypes = [doc.nodes[i].params["dtype"] for i in code.inputs]
    g = torch.Generator().manual_seed(seed)
    return [torch.randint(0, 10, (3, *s[1:]), generator=g) if d == "long"
            else torch.randn((3, *s[1:]), generator=g) for s, d in zip(shapes, dtypes)]


def _canonical(doc: graph.Document):
    """``doc`` as plain data with node ids renumbered by first appearance, without the
    labels of activations the code writes as function calls (``torch.relu(x)`` names
    nothing, so an import names them anew)."""
    data = doc.to_dict()
    ids: dict[str, str] = {}

    def collect(value) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("id"), str):
                ids.setdefault(value["id"], f"#{len(ids)}")
            for key in sorted(value):
                collect(value[key])
        elif isinstance(value, list):
            for item in value:
                collect(item)

    def rename(value):
        if isinstance(value, dict):
            called = _called(value.get("type"))
            return {k: rename(v) for k, v in value.items()
                    if not (called and k == "label")}
        if isinstance(value, list):
            return [rename(v) for v in value]
        return ids.get(value, value) if isinstance(value, str) else value

    collect(data)
    return rename(data)


def _called(type_name) -> bool:
    return isinstance(type_name, str) and has_spec(type_name) \
        and get_spec(type_name).function is not None


def _difference(a: graph.Document, b: graph.Document) -> str:
    left = json.dumps(_canonical(a), indent=1, sort_keys=True).splitlines()
    right = json.dumps(_canonical(b), indent=1, sort_keys=True).splitlines()
    return "\n".join(list(unified_diff(left, right, "first", "again", lineterm="", n=3))[:80])


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_model_keeps_its_blocks_and_round_trips(tmp_path, name):
    make, shapes, _dtypes, task = ZOO[name]
    torch.manual_seed(0)
    original = make()
    randomise_batchnorm(original)
    state = original.state_dict()
    first = import_file(f"{ZOO_FILE}:{make.__name__}", shapes, tasks=task, weights=state)
    doc = first.document
    assert graph.validate(doc) == [], name
    if name in FLAT:
        assert not len(doc.blocks), name
        if name == "siamese":  # said, not silently flat
            assert any("'tower' is called more than once" in n for n in first.notes)
    else:
        assert len(doc.blocks), (name, first.notes)
        assert not any("blocks were not kept" in n for n in first.notes), first.notes

    # The exported module takes the original's own state_dict (nested keys) strictly.
    code = graph.generate_code(doc)
    path = write_python(doc, tmp_path / f"{name}_export.py")
    exported = build_module(path, code.class_name)
    if name in FLAT:
        exported.load_state_dict(first.state_dict, strict=True)
    else:
        folded = FOLDED.get(name, set())
        assert set(state) - set(exported.state_dict()) == folded
        exported.load_state_dict({k: v for k, v in state.items() if k not in folded},
                                 strict=True)
    x = _inputs(doc, shapes)
    assert max_difference(run(original, x), run(exported, x)) <= 1e-5

    # Import -> export -> re-import gives the same document.
    again = import_file(f"{path}:{code.class_name}", shapes, tasks=task, verify=False)
    assert _canonical(again.document) == _canonical(doc), _difference(doc, again.document)
