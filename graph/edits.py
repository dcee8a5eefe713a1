"""Document edits as data: what a one-click fix (``graph.fixes``) changes.

A fix is a title and a tuple of edits. The studio's controller turns each edit into its
own intents, so the fix is one undo step; ``apply_edits`` performs them on a plain
``Document`` (``strata check --fix``), placing new layers where the studio would.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalog import get_spec
from .document import Document, Edge
from .layout import card_size, free_position, room_for_insert


@dataclass(frozen=True)
class InsertLayer:
    """A new layer in the middle of the wire ``edge``."""

    edge: Edge
    type_name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SetParam:
    node_id: str
    name: str
    value: Any


@dataclass(frozen=True)
class AppendLayer:
    """A new layer fed by ``source.source_port``, placed near ``position``."""

    source: str
    source_port: str
    type_name: str
    params: dict[str, Any]
    position: tuple[float, float]


@dataclass(frozen=True)
class Connect:
    edge: Edge


@dataclass(frozen=True)
class ReplaceLayer:
    """Another layer type in the same place, with the same wires (Sigmoid -> ReLU)."""

    node_id: str
    type_name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SetTraining:
    """A training setting (``doc.training[key] = value``), e.g. a lower learning rate."""

    key: str
    value: Any


@dataclass(frozen=True)
class InBlock:
    """``edit`` (a ``ReplaceLayer``, ``InsertLayer`` or ``SetParam`` naming the body's
    node ids and wires) made inside the definition ``block``: every instance follows.
    Checked and performed by ``graph.block_body``."""

    block: str
    edit: Edit


Edit = InsertLayer | SetParam | AppendLayer | Connect | ReplaceLayer | SetTraining | InBlock


def apply_edits(doc: Document, edits: tuple[Edit, ...]) -> None:
    """Perform ``edits`` on ``doc`` (no undo: the headless path)."""
    for edit in edits:
        if isinstance(edit, InsertLayer):
            _insert(doc, edit)
        elif isinstance(edit, SetParam):
            doc.set_param(edit.node_id, edit.name, edit.value)
        elif isinstance(edit, AppendLayer):
            spec_size = card_size(None, get_spec(edit.type_name), edit.params)
            node = doc.add_node(edit.type_name, dict(edit.params),
                                position=free_position(doc, edit.position, spec_size))
            doc.connect(Edge(edit.source, edit.source_port, node.id,
                             node.spec.input_names(node.params)[0]))
        elif isinstance(edit, ReplaceLayer):
            replace_layer(doc, edit)
        elif isinstance(edit, SetTraining):
            doc.set_training(edit.key, edit.value)
        elif isinstance(edit, InBlock):
            from .block_body import perform_in_block

            perform_in_block(doc, edit)
        else:
            doc.connect(edit.edge)


def replace_layer(doc: Document, edit: ReplaceLayer, keep_id: bool = False) -> str:
    """Swap a layer for another type keeping its place and wires; the new node's id
    (the old one with ``keep_id``: inside a block, where exposed parameters and the
    training setup's node paths name it)."""
    old = doc.nodes[edit.node_id]
    wires_in, wires_out = doc.edges_into(old.id), doc.edges_from(old.id)
    position = old.position
    doc.remove_node(old.id)
    node = doc.add_node(edit.type_name, dict(edit.params), position=position,
                        node_id=old.id if keep_id else None)
    inputs = node.spec.input_names(node.params)
    for e in wires_in:
        doc.connect(Edge(e.source, e.source_port, node.id, inputs[0]))
    out = node.spec.output_names(node.params)[0]
    for e in wires_out:
        doc.connect(Edge(node.id, out, e.target, e.target_port))
    return node.id


def _insert(doc: Document, edit: InsertLayer) -> None:
    edge = edit.edge
    position, moves = room_for_insert(doc, edge.source, edge.target)
    for node_id, moved in moves.items():
        doc.move_node(node_id, moved)
    doc.disconnect(edge)
    node = doc.add_node(edit.type_name, dict(edit.params), position=position)
    doc.connect(Edge(edge.source, edge.source_port, node.id,
                     node.spec.input_names(node.params)[0]))
    doc.connect(Edge(node.id, node.spec.output_names(node.params)[0], edge.target,
                     edge.target_port))



def bypass_edges(doc: Document, node_id: str) -> list[Edge]:
    """"Delete and reconnect": the wires from the layer's (first wired) input source
    to every input its outputs fed, as they would be once the layer is gone."""
    node = doc.nodes[node_id]
    incoming = doc.edges_into(node_id)
    if not incoming:
        return []
    ports = node.spec.input_names(node.params)
    incoming.sort(key=lambda e: ports.index(e.target_port) if e.target_port in ports else 99)
    feed = incoming[0]
    return [Edge(feed.source, feed.source_port, e.target, e.target_port)
            for e in doc.edges_from(node_id) if e.target != feed.source]
