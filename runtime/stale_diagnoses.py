"""Which of a finished run's diagnoses an edit of the network makes out of date.

A run's diagnoses stay on the canvas and in Problems after it ends ("insight that
stays"), but one about a layer that an edit has since replaced or changed describes a
network that no longer exists: a one-click fix that turned the Sigmoids into ReLUs left
"Vanishing gradients" on every Linear of the chain until the next run. The rule:

- a diagnosis naming layers is out of date once an edit removes (or replaces) one of
  them, changes one of its parameters, or changes what it receives (a wire into it: a
  layer inserted or replaced just before it); a layer named by path inside a block
  (``n5:1/n3``) also by such an edit of that layer in the block's definition, or of the
  nested instance holding it; and when the path no longer names a layer at all;
- a diagnosis about the whole network (no layer: overfitting, a learning rate too high)
  is out of date once the network's structure or its training setup changes;
- moves, renames and edits of other layers leave a diagnosis as it is.

Headless: the studio asks ``outdated`` for each event of the document it shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise

from graph.block_body import resolve_path
from graph.blocks import BLOCK
from graph.document import Document
from graph.events import (
    STRUCTURAL_EVENTS,
    DefinitionChanged,
    DocumentEvent,
    EdgeAdded,
    EdgeRemoved,
    NodeRemoved,
    ParamsChanged,
    TrainingChanged,
)

from .events import DiagnosisEvent


@dataclass
class Touched:
    """What one edit changed: network node ids, (definition, body node id) pairs, whole
    definitions, and whether the network or its setup changed at all."""

    nodes: set[str] = field(default_factory=set)
    inner: set[tuple[str, str]] = field(default_factory=set)
    definitions: set[str] = field(default_factory=set)
    network: bool = False

    def __bool__(self) -> bool:
        return bool(self.nodes or self.inner or self.definitions or self.network)


def _layers(event: DocumentEvent) -> set[str]:
    """The layers an elementary edit changed (a new layer is no diagnosed one)."""
    if isinstance(event, (NodeRemoved, ParamsChanged)):
        return {event.node_id}
    if isinstance(event, (EdgeAdded, EdgeRemoved)):  # the layer whose input changed
        return {event.edge.target}
    return set()


def touched_by(event: DocumentEvent) -> Touched:
    """What ``event`` (of the network's document) changed."""
    touched = Touched(network=isinstance(event, (*STRUCTURAL_EVENTS, TrainingChanged)))
    if isinstance(event, DefinitionChanged):
        if event.inner is None:  # its exposed parameters: every instance changed
            touched.definitions.add(event.name)
        else:
            touched.inner |= {(event.name, n) for n in _layers(event.inner)}
    else:
        touched.nodes |= _layers(event)
    return touched


def outdated(diagnosis: DiagnosisEvent, touched: Touched, doc: Document) -> bool:
    """Whether the edit ``touched`` makes ``diagnosis`` describe a network that no
    longer exists (see the module's rule); ``doc`` is the network after the edit."""
    if not touched:
        return False
    if not diagnosis.node_ids:
        return touched.network
    for path in diagnosis.node_ids:
        parts = [p.split(":", 1)[0] for p in path.split("/")]
        if parts[0] in touched.nodes or resolve_path(doc, path) is None:
            return True
        body = doc
        for instance, inner in pairwise(parts):
            node = body.nodes.get(instance)
            name = node.params.get("block") if node is not None and node.type == BLOCK \
                else None
            if not isinstance(name, str) or name not in doc.blocks:
                return True
            if name in touched.definitions or (name, inner) in touched.inner:
                return True
            body = doc.blocks[name].body
    return False
