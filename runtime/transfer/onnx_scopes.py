"""ONNX node names that follow the module nesting: ``/layer1/layer1.0/conv1/Conv``.

torch's dynamo exporter names nodes flatly (``node_Conv_125``) but records, on each
node, the module scopes it came from (metadata ``pkg.torch.onnx.name_scopes``: the
qualified names ``['', 'layer1', 'layer1.0', 'layer1.0.conv1', 'conv2d']``). Viewers
such as Netron group nodes by ``/`` in their names, as the TorchScript exporter wrote
them, so a network built from blocks shows as its blocks. ``scope_node_names`` renames
the top graph's nodes from that metadata in the TorchScript style: each level by its
attribute name, a numbered child (an ``nn.Sequential`` entry, a repeated block) by its
qualified name (``layer1.0``), then the operator type; ``_1``, ``_2`` on clashes. A node
without the metadata keeps its name. Names are labels only: inputs, outputs and values
are untouched, so the model computes exactly what it did.
"""

from __future__ import annotations

import ast
from typing import Any

SCOPES_KEY = "pkg.torch.onnx.name_scopes"


def scope_path(scopes: list[str]) -> list[str]:
    """The levels of a node's name from its qualified scopes (the root and the
    operator itself left out)."""
    levels = []
    parent = ""
    for qualified in scopes[1:-1]:
        if not qualified:
            continue
        short = qualified[len(parent) + 1:] if parent and qualified.startswith(
            parent + ".") else qualified
        levels.append(qualified if short.isdigit() else short)
        parent = qualified
    return levels


def _scopes(node: Any) -> list[str] | None:
    for prop in node.metadata_props:
        if prop.key == SCOPES_KEY:
            try:
                value = ast.literal_eval(prop.value)
            except (ValueError, SyntaxError):
                return None
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
    return None


def scope_node_names(model: Any) -> int:
    """Rename the nodes of ``model.graph`` (an ``onnx.ModelProto``) after their module
    scopes; returns how many were renamed."""
    nodes = list(model.graph.node)
    taken = {n.name for n in nodes}
    renamed = 0
    for node in nodes:
        scopes = _scopes(node)
        if scopes is None:
            continue
        base = "/" + "/".join([*scope_path(scopes), node.op_type])
        if base == node.name:
            continue
        name, k = base, 0
        while name in taken:
            k += 1
            name = f"{base}_{k}"
        taken.discard(node.name)
        taken.add(name)
        node.name = name
        renamed += 1
    return renamed


__all__ = ["scope_node_names", "scope_path"]
