"""Shared helpers of the graph tests: small networks, random inputs, ruff on a file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from strata_paths import EXAMPLES as EXAMPLES_DIR

import graph
from graph import Document, Edge

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.strata"))
RUFF = Path(sys.executable).with_name("ruff")


def chain_doc(*steps, shape=(4,), dtype="float", task="regression", name="Test Net"):
    """Input -> steps... -> Output. A step is a type or (type, params[, label])."""
    doc = Document(name)
    current = doc.add_node("Input", {"shape": list(shape), "dtype": dtype}).id
    for step in steps:
        if isinstance(step, str):
            step = (step, {})
        type_name, params, *label = step
        node = doc.add_node(type_name, params, label[0] if label else None).id
        wire(doc, current, node)
        current = node
    out = doc.add_node("Output", {"task": task}).id
    wire(doc, current, out)
    return doc


def wire(doc: Document, source: str, target: str, port: str | None = None) -> Edge:
    """Connect ``source`` to ``target``'s first free input port (or ``port``)."""
    node = doc.nodes[target]
    if port is None:
        taken = {e.target_port for e in doc.edges_into(target)}
        port = next(p for p in node.spec.input_names(node.params) if p not in taken)
    return doc.connect(Edge(source, "out", target, port))


def random_inputs(doc: Document, code, batch: int = 3, seed: int = 0):
    """One random tensor per Input, in forward argument order."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    tensors = []
    for node_id in code.inputs:
        params = doc.nodes[node_id].params
        shape = (batch, *params["shape"])
        if params["dtype"] == "long":
            high = _vocabulary(doc, node_id)
            tensors.append(torch.randint(0, high, shape, generator=gen))
        else:
            tensors.append(torch.randn(shape, generator=gen))
    return tensors


def _vocabulary(doc: Document, input_id: str) -> int:
    """Token ids must stay below every Embedding's vocabulary that reads them."""
    sizes = [doc.nodes[e.target].params["num_embeddings"] for e in doc.edges_from(input_id)
             if doc.nodes[e.target].type == "Embedding"]
    return min(sizes, default=10)


def as_tuple(out):
    return out if isinstance(out, tuple) else (out,)


def concrete(shape, batch: int) -> tuple[int, ...]:
    return tuple(batch if d == "N" else d for d in shape)


def ruff(command: str, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The venv's ruff with its default settings (as a user's fresh project has)."""
    return subprocess.run([str(RUFF), command, "--isolated", "--no-cache", *args],
                          input=stdin, capture_output=True, text=True, timeout=120,
                          check=False)


def problems_of_kind(doc: Document, kind: str) -> list[graph.Problem]:
    return [p for p in graph.validate(doc) if p.kind == kind]
