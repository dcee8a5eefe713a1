"""The network document: nodes, wires, metadata and the training setup.

The document is the single source of truth. Every edit the studio offers is one method
here, and each method emits one small typed event after the edit (``NodeAdded``,
``EdgeRemoved``, ``ParamsChanged``...: frozen dataclasses from ``graph.events``) so views
can follow without holding state of their own. Listen with ``doc.subscribe(listener)``
(every event) or ``doc.subscribe(listener, ParamsChanged)`` (one kind); the listener gets
the event object. Methods return what undo needs to restore (a removed node comes back
with its wires). Edits bump ``revision`` (caches key on it), except moves.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .catalog import get_spec
from .document_data import document_to_dict
from .errors import DocumentError, StrataError
from .events import (
    DocumentEvent,
    EdgeAdded,
    EdgeRemoved,
    EventSource,
    LabelChanged,
    MetadataChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    ParamsChanged,
    SweepChanged,
    TrainingChanged,
)
from .limits import (
    check_value,
    clamp_position,
    description_problem,
    label_problem,
    name_problem,
)


@dataclass
class Node:
    id: str
    type: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""
    position: tuple[float, float] = (0.0, 0.0)

    @property
    def spec(self):
        return get_spec(self.type)

    @property
    def title(self) -> str:
        """What the user calls this node: its label, else its type's display name."""
        return self.label or self.spec.display_name

    def describe(self) -> str:
        """``Linear 'fc'``: type and label, as messages name a node."""
        return f"{self.spec.display_name} '{self.label or self.id}'"


@dataclass(frozen=True)
class Edge:
    """A wire from an output port to an input port."""

    source: str
    source_port: str
    target: str
    target_port: str

    def __str__(self) -> str:
        return f"{self.source}.{self.source_port} -> {self.target}.{self.target_port}"


class Document(EventSource):
    """A network being designed. Mutate it only through its methods."""

    def __init__(self, name: str = "Untitled", description: str = "") -> None:
        super().__init__()
        self.name = name
        self.description = description
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        # Training setup (dataset, optimizer, ...) as plain data; runtime interprets it.
        self.training: dict[str, Any] = {}
        # Hyperparameter search (searched settings and layer parameters, objective,
        # sampler) as plain data; runtime.sweeps interprets it. Empty: no sweep set up.
        self.sweep: dict[str, Any] = {}
        self._next_id = 1
        # Bumped on every edit; caches (shapes, validation) key on it.
        self.revision = 0
        self._index = _EdgeIndex()

    # ----------------------------------------------------------------- queries
    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise StrataError(f"there is no node with id '{node_id}'") from None

    def node_index(self, node_id: str) -> int:
        return list(self.nodes).index(node_id)

    def edges_into(self, node_id: str) -> list[Edge]:
        return list(self._index.get(self.edges).into.get(node_id, ()))

    def edges_from(self, node_id: str) -> list[Edge]:
        return list(self._index.get(self.edges).out.get(node_id, ()))

    def edges_of(self, node_id: str) -> list[Edge]:
        index = self._index.get(self.edges)
        edges = [*index.out.get(node_id, ()), *index.into.get(node_id, ())]
        if any(e.source == e.target for e in edges):  # a self-loop is listed twice
            edges = list(dict.fromkeys(edges))
        return sorted(edges, key=self.edges.index) if len(edges) > 1 else edges

    def find_label(self, label: str) -> Node | None:
        return next((n for n in self.nodes.values() if n.label == label), None)

    def unique_label(self, base: str) -> str:
        """``conv``, ``conv2``, ``conv3``... the first label no node uses yet."""
        used = {n.label for n in self.nodes.values()}
        if base not in used:
            return base
        i = 2
        while f"{base}{i}" in used:
            i += 1
        return f"{base}{i}"

    def new_id(self) -> str:
        while f"n{self._next_id}" in self.nodes:
            self._next_id += 1
        return f"n{self._next_id}"

    # ----------------------------------------------------------------- edits
    def _changed(self, event: DocumentEvent) -> None:
        self.revision += 1
        self.emit(event)

    def add_node(
        self,
        type: str,
        params: dict[str, Any] | None = None,
        label: str | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        node_id: str | None = None,
    ) -> Node:
        """Add a layer; missing parameters take the catalog defaults."""
        spec = get_spec(type)
        node_id = node_id or self.new_id()
        if node_id in self.nodes:
            raise StrataError(f"a node with id '{node_id}' already exists")
        merged = spec.default_params()
        merged.update(params or {})
        for name, value in (params or {}).items():
            check_value(value, f"$.params.{name}")
        if label is None:
            label = self.unique_label(spec.default_label)
        _refuse(label_problem(label))
        node = Node(node_id, type, merged, label, clamp_position(position))
        self.nodes[node_id] = node
        self._changed(NodeAdded(node_id))
        return node

    def insert_node(self, node: Node, index: int | None = None) -> None:
        """Put back a node removed earlier (undo), keeping its id and its place in the
        node order (which breaks ties in the generated code's order)."""
        if node.id in self.nodes:
            raise StrataError(f"a node with id '{node.id}' already exists")
        items = list(self.nodes.items())
        index = len(items) if index is None else index
        items.insert(index, (node.id, copy.deepcopy(node)))
        self.nodes = dict(items)
        self._changed(NodeAdded(node.id))

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its wires; returns both so undo can restore them."""
        node = self.node(node_id)
        removed = self.edges_of(node_id)
        for edge in removed:
            self.disconnect(edge)
        del self.nodes[node_id]
        self._changed(NodeRemoved(node_id))
        return node, removed

    def connect(self, edge: Edge, index: int | None = None) -> Edge:
        """Add a wire. Checks only that both ends exist; validation judges the rest."""
        for end, port, ports in (
            (edge.source, edge.source_port, "output"),
            (edge.target, edge.target_port, "input"),
        ):
            node = self.node(end)
            names = (
                node.spec.output_names(node.params)
                if ports == "output"
                else node.spec.input_names(node.params)
            )
            if port not in names:
                raise StrataError(
                    f"{node.describe()} has no {ports} port '{port}'"
                    f" (it has: {', '.join(names) or 'none'})"
                )
        edge_index = self._index.get(self.edges)
        if edge in edge_index.into.get(edge.target, ()):
            raise StrataError(f"the wire {edge} already exists")
        if index is None:
            self.edges.append(edge)
            edge_index.added(edge)
        else:
            self.edges.insert(index, edge)
            self._index.clear()  # rare (undo): rebuilt in document order on next use
        self._changed(EdgeAdded(edge))
        return edge

    def disconnect(self, edge: Edge) -> int:
        """Remove a wire; returns its index so undo can put it back in order."""
        try:
            index = self.edges.index(edge)
        except ValueError:
            raise StrataError(f"there is no wire {edge}") from None
        edge_index = self._index.get(self.edges)
        del self.edges[index]
        edge_index.removed(edge)
        self._changed(EdgeRemoved(edge))
        return index

    def set_param(self, node_id: str, name: str, value: Any) -> Any:
        """Set one parameter; returns the old value."""
        node = self.node(node_id)
        node.spec.param(name)  # refuses unknown names
        check_value(value, f"$.params.{name}")  # what the file could not hold
        old = node.params.get(name)
        node.params[name] = copy.deepcopy(value)
        self._changed(ParamsChanged(node_id, name))
        return old

    def set_label(self, node_id: str, label: str) -> str:
        node = self.node(node_id)
        _refuse(label_problem(label))
        old, node.label = node.label, label
        self._changed(LabelChanged(node_id))
        return old

    def move_node(self, node_id: str, position: tuple[float, float]) -> tuple[float, float]:
        node = self.node(node_id)
        old = node.position
        node.position = clamp_position(position)
        # Moving changes nothing the compiler sees, so the revision stays.
        self.emit(NodeMoved(node_id))
        return old

    def set_training(self, key: str, value: Any) -> Any:
        check_value({key: value}, "$.training")
        old = self.training.get(key)
        if value is None:
            self.training.pop(key, None)
        else:
            self.training[key] = copy.deepcopy(value)
        self._changed(TrainingChanged(key))
        return old

    def set_sweep(self, sweep: dict[str, Any]) -> dict[str, Any]:
        """Replace the sweep setup (plain data); returns the old one for undo."""
        check_value(dict(sweep), "$.sweep")
        old = self.sweep
        self.sweep = copy.deepcopy(dict(sweep))
        self._changed(SweepChanged())
        return old

    def set_metadata(self, name: str | None = None, description: str | None = None) -> None:
        _refuse(name_problem(name) if name is not None else None)
        _refuse(description_problem(description) if description is not None else None)
        if name is not None:
            self.name = name
        if description is not None:
            self.description = description
        self._changed(MetadataChanged())

    def clear(self) -> None:
        for node_id in list(self.nodes):
            self.remove_node(node_id)

    # ----------------------------------------------------------------- copies
    def to_dict(self) -> dict[str, Any]:
        """The document as the plain data a ``.strata`` file holds."""
        return document_to_dict(self)

    def copy(self) -> Document:
        """An independent copy with the same ids, order and data, and no listeners."""
        twin = Document(self.name, self.description)
        twin.nodes = copy.deepcopy(self.nodes)
        twin.edges = list(self.edges)  # frozen wires are shared safely
        twin.training = copy.deepcopy(self.training)
        twin.sweep = copy.deepcopy(self.sweep)
        twin._next_id = self._next_id
        twin.revision = self.revision
        return twin

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Document) and self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]


class _EdgeIndex:
    """Wires by node, so queries cost the node's degree, not the whole network.

    Kept up to date by ``connect``/``disconnect``; rebuilt when ``edges`` was replaced
    or changed behind the document's back (the file reader fills it directly).
    """

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.into: dict[str, list[Edge]] = {}
        self.out: dict[str, list[Edge]] = {}
        self._edges: list[Edge] | None = None
        self._length = -1

    def get(self, edges: list[Edge]) -> _EdgeIndex:
        if edges is not self._edges or len(edges) != self._length:
            self.clear()
            for e in edges:
                self.into.setdefault(e.target, []).append(e)
                self.out.setdefault(e.source, []).append(e)
            self._edges, self._length = edges, len(edges)
        return self

    def added(self, edge: Edge) -> None:
        self.into.setdefault(edge.target, []).append(edge)
        self.out.setdefault(edge.source, []).append(edge)
        self._length += 1

    def removed(self, edge: Edge) -> None:
        self.into[edge.target].remove(edge)
        self.out[edge.source].remove(edge)
        self._length -= 1


def _refuse(problem: str | None) -> None:
    """An edit the file could not hold is refused where it enters (graph.limits)."""
    if problem is not None:
        raise DocumentError(problem)
