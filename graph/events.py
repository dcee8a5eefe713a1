"""The document's events: one frozen dataclass per kind of edit, and a tiny observer.

Every edit method of ``Document`` emits exactly one of these after the edit is made
(``NodeAdded``, ``EdgeRemoved``, ``ParamsChanged``...). A listener receives the event
object and dispatches on its class::

    def on_event(event: graph.DocumentEvent) -> None:
        match event:
            case graph.NodeAdded(node_id=node_id): ...
            case graph.ParamsChanged(node_id=node_id, name=name): ...

    unsubscribe = doc.subscribe(on_event)            # every kind
    doc.subscribe(on_added, NodeAdded)               # one kind (or several)

Events are classes, not strings, so a misspelt kind fails at import (``NameError``) or
at the attribute (``AttributeError``), a type checker checks the fields, and an IDE
follows a listener to the ``Document`` method that emits it. The studio's
``DocumentController`` relays each kind as its own Qt signal carrying the same object.

To add a kind: a frozen dataclass deriving from ``DocumentEvent`` here, emitted by one
``Document`` method, listed in ``EVENT_KINDS``; the controller relays it. Nothing here
imports Qt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # the document imports this module; Edge is only an annotation here
    from .document import Edge


@dataclass(frozen=True)
class DocumentEvent:
    """Base of every document event (never emitted itself)."""


@dataclass(frozen=True)
class NodeAdded(DocumentEvent):
    """A node was added (or put back by undo)."""

    node_id: str


@dataclass(frozen=True)
class NodeRemoved(DocumentEvent):
    """A node was removed; its wires were removed first, each with ``EdgeRemoved``."""

    node_id: str


@dataclass(frozen=True)
class EdgeAdded(DocumentEvent):
    edge: Edge


@dataclass(frozen=True)
class EdgeRemoved(DocumentEvent):
    edge: Edge


@dataclass(frozen=True)
class ParamsChanged(DocumentEvent):
    """Parameter ``name`` of ``node_id`` was set."""

    node_id: str
    name: str


@dataclass(frozen=True)
class LabelChanged(DocumentEvent):
    node_id: str


@dataclass(frozen=True)
class NodeMoved(DocumentEvent):
    """A node's canvas position changed; the network itself did not (no revision)."""

    node_id: str


@dataclass(frozen=True)
class TrainingChanged(DocumentEvent):
    """Training setting ``key`` (dataset, optimizer, device...) was set or cleared."""

    key: str


@dataclass(frozen=True)
class SweepChanged(DocumentEvent):
    """The sweep setup (search space, trials, storage) was replaced."""


@dataclass(frozen=True)
class MetadataChanged(DocumentEvent):
    """The document's name or description changed."""


# ---------------------------------------------------------------------- blocks
# Emitted by the root document (graph.blocks): the library of block definitions changed.
@dataclass(frozen=True)
class DefinitionAdded(DocumentEvent):
    """Block definition ``name`` was added to the document (or put back by undo)."""

    name: str


@dataclass(frozen=True)
class DefinitionRemoved(DocumentEvent):
    name: str


@dataclass(frozen=True)
class DefinitionRenamed(DocumentEvent):
    """Definition ``old`` is now ``name``; its instances' ``block`` parameters follow,
    each with its own ``ParamsChanged``."""

    old: str
    name: str


@dataclass(frozen=True)
class DefinitionChanged(DocumentEvent):
    """The inside of definition ``name`` changed: ``inner`` is the event its body
    document emitted (None when the exposed parameters changed). Every instance of it
    may now have other ports, parameters and shapes."""

    name: str
    inner: DocumentEvent | None = None


@dataclass(frozen=True)
class BlocksEdited(DocumentEvent):
    """A compound block edit (group, ungroup, make unique...) finished; its elementary
    events came before. ``edit`` names it; ``result`` is what it made
    (``{"instance": node id, "definition": name}``)."""

    edit: str
    result: dict = field(default_factory=dict, compare=False, hash=False)


EVENT_KINDS: tuple[type[DocumentEvent], ...] = (
    NodeAdded, NodeRemoved, EdgeAdded, EdgeRemoved, ParamsChanged, LabelChanged,
    NodeMoved, TrainingChanged, SweepChanged, MetadataChanged, DefinitionAdded,
    DefinitionRemoved, DefinitionRenamed, DefinitionChanged, BlocksEdited,
)

# Edits that change the network's structure (what a running training would not see).
STRUCTURAL_EVENTS: tuple[type[DocumentEvent], ...] = (
    NodeAdded, NodeRemoved, EdgeAdded, EdgeRemoved, ParamsChanged, DefinitionAdded,
    DefinitionRemoved, DefinitionRenamed, DefinitionChanged,
)

E = TypeVar("E", bound=DocumentEvent)
Listener = Callable[[DocumentEvent], None]


class EventSource:
    """Holds listeners and calls each with the event object, in subscription order."""

    def __init__(self) -> None:
        self._listeners: list[tuple[Callable[[DocumentEvent], None],
                                    tuple[type[DocumentEvent], ...]]] = []

    def subscribe(self, listener: Callable[[E], None], *kinds: type[E]) -> Callable[[], None]:
        """Call ``listener`` with every event, or only with events of ``kinds``;
        the returned function removes it again."""
        for kind in kinds:
            if not (isinstance(kind, type) and issubclass(kind, DocumentEvent)):
                raise TypeError(f"subscribe() takes DocumentEvent classes, got {kind!r}")
        entry = (listener, kinds)
        self._listeners.append(entry)  # type: ignore[arg-type]
        return lambda: self._listeners.remove(entry)  # type: ignore[arg-type]

    def emit(self, event: DocumentEvent) -> None:
        if not isinstance(event, DocumentEvent):
            raise TypeError(f"emit() takes a DocumentEvent, got {event!r}")
        for listener, kinds in list(self._listeners):
            if not kinds or isinstance(event, kinds):
                listener(event)
