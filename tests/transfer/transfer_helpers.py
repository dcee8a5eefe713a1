"""Shared helpers of the import/export tests: fixtures, structure, random weights."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from strata_paths import EXAMPLES as EXAMPLES_DIR

import graph

FIXTURES = Path(__file__).resolve().parent / "fixtures"
EXAMPLES = sorted(EXAMPLES_DIR.glob("*.strata"))


def structure(doc: graph.Document) -> list[str]:
    """The network up to node ids, labels and order: each node's type, checked params
    and (recursively) what feeds each of its ports. Equal lists, equal networks."""
    analysis = graph.analyze(doc)
    memo: dict[str, tuple] = {}

    def sig(node_id: str) -> tuple:
        if node_id not in memo:
            node = doc.nodes[node_id]
            params = json.dumps(analysis.shapes[node_id].params, sort_keys=True,
                                default=list)
            feeds = {e.target_port: e.source for e in doc.edges_into(node_id)}
            ports = node.spec.input_names(node.params)
            memo[node_id] = (node.type, params, tuple(sig(feeds[p]) for p in ports))
        return memo[node_id]

    return sorted(repr(sig(n)) for n in doc.nodes)


def module_labels(doc: graph.Document) -> list[str]:
    """Labels of nodes that are submodules in the generated code (the ones the code
    names: layers written as expressions, like Add, or as function calls, like
    ``torch.relu``, have no name in it)."""
    code = graph.generate_code(doc)
    called = {m.path for m in code.modules if m.function}
    return sorted(doc.nodes[i].label for i in code.attributes if i not in called)


def randomize(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Every parameter and buffer random (variances positive), so equal outputs mean
    the weights really travelled, not that both sides kept an initialisation."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, tensor in list(module.named_parameters()) + list(module.named_buffers()):
            if not tensor.is_floating_point():
                continue
            values = torch.randn(tensor.shape, generator=g) * 0.5
            if name.endswith("running_var"):
                values = values.abs() + 0.5
            tensor.copy_(values)
    return module


def inputs_for(doc: graph.Document, batch: int, seed: int = 0) -> list[torch.Tensor]:
    analysis = graph.analyze(doc)
    code = graph.generate_code(doc, analysis)
    g = torch.Generator().manual_seed(seed)
    out = []
    for node_id in code.inputs:
        info = analysis.shapes[node_id].outputs["out"]
        shape = (batch, *info.shape[1:])
        if info.dtype == "long":
            out.append(torch.randint(0, 10, shape, generator=g))
        else:
            out.append(torch.randn(shape, generator=g))
    return out


def run(module: torch.nn.Module, inputs) -> list[torch.Tensor]:
    module.eval()
    with torch.no_grad():
        result = module(*inputs)
    return list(result) if isinstance(result, tuple) else [result]


def max_difference(a: list[torch.Tensor], b: list[torch.Tensor]) -> float:
    assert [t.shape for t in a] == [t.shape for t in b]
    return max((x - y).abs().max().item() for x, y in zip(a, b))


def import_spec(doc: graph.Document):
    """Input shapes (batch 2), dtypes and tasks to import ``doc``'s exported code."""
    analysis = graph.analyze(doc)
    code = graph.generate_code(doc, analysis)
    infos = [analysis.shapes[i].outputs["out"] for i in code.inputs]
    shapes = [(2, *info.shape[1:]) for info in infos]
    return shapes, [info.dtype for info in infos], [doc.nodes[i].params["task"]
                                                     for i in code.outputs]
