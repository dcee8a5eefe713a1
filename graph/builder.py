"""A compact way to write networks in Python (examples, tests, importers)::

    b = Builder("Spiral MLP")
    x = b.add("Input", shape=[2])
    h = b.chain(x, ("Linear", {"out_features": 64}), "ReLU")
    b.chain(h, ("Linear", {"out_features": 2}), ("Output", {"task": "classification"}))
    doc = b.done()
"""

from __future__ import annotations

from typing import Any

from .document import Document, Edge
from .layout import layered_positions, wrapped_positions

Step = str | tuple[str, dict[str, Any]] | tuple[str, dict[str, Any], str]


class Builder:
    def __init__(self, name: str = "Untitled", description: str = "") -> None:
        self.doc = Document(name, description)
        # A view size (pixels) to wrap a long chain into rows for; None: one row.
        self.view: tuple[float, float] | None = None

    def add(self, type_name: str, label: str | None = None, **params: Any) -> str:
        return self.doc.add_node(type_name, params, label).id

    def wire(self, source: str, target: str, port: str | None = None) -> None:
        node = self.doc.nodes[target]
        if port is None:
            taken = {e.target_port for e in self.doc.edges_into(target)}
            port = next(p for p in node.spec.input_names(node.params) if p not in taken)
        self.doc.connect(Edge(source, "out", target, port))

    def chain(self, start: str, *steps: Step) -> str:
        """Append layers one after another from ``start``; returns the last node id."""
        current = start
        for step in steps:
            if isinstance(step, str):
                step = (step, {})
            type_name, params, *label = step
            node = self.add(type_name, label[0] if label else None, **params)
            self.wire(current, node)
            current = node
        return current

    def done(self, training: dict[str, Any] | None = None) -> Document:
        positions = (wrapped_positions(self.doc, None, self.view) if self.view
                     else layered_positions(self.doc))
        for node_id, pos in positions.items():
            self.doc.nodes[node_id].position = pos
        if training:
            self.doc.training.update(training)
        return self.doc
