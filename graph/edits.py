"""Structural edits described as data, for the studio and the CLI alike.

``bypass_edges(doc, node_id)`` answers "delete this layer and keep the chain": the wires
that join what fed the layer to what it fed, as they would be after the layer is gone.
"""

from __future__ import annotations

from .document import Document, Edge


def bypass_edges(doc: Document, node_id: str) -> list[Edge]:
    """Wires from the layer's (first wired) input source to every input its outputs
    fed; empty when the layer has no wired input or feeds nothing."""
    node = doc.nodes[node_id]
    incoming = doc.edges_into(node_id)
    if not incoming:
        return []
    ports = node.spec.input_names(node.params)
    incoming.sort(key=lambda e: ports.index(e.target_port) if e.target_port in ports else 99)
    feed = incoming[0]
    return [Edge(feed.source, feed.source_port, e.target, e.target_port)
            for e in doc.edges_from(node_id) if e.target != feed.source]
