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

from .blocks import BLOCK, Library
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
    # The document's block library: an instance (type "Block") takes its spec from it.
    library: Library | None = field(default=None, compare=False, repr=False)

    @property
    def spec(self):
        if self.type == BLOCK:
            if self.library is None:
                raise StrataError(f"the block instance '{self.label or self.id}' belongs "
                                  "to no document")
            return self.library.spec(self.params.get("block"))
        return get_spec(self.type)

    @property
    def is_block(self) -> bool:
        return self.type == BLOCK

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

    def __init__(self, name: str = "Untitled", description: str = "",
                 library: Library | None = None, block: str | None = None) -> None:
        super().__init__()
        # Block definitions (graph.blocks). A definition's body is a Document sharing its
        # root's library; ``block_name`` is then the definition's name (None: the network).
        self.blocks: Library = library if library is not None else Library(self)
        self.block_name = block
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
        """``conv``, ``conv2``, ``conv3``... the first label no node uses yet; a label
        ending in a digit takes ``_2``, ``_3`` (a copy of ``fc3`` is ``fc3_2``: it was
        ``fc32``, read as a layer of 32)."""
        used = {n.label for n in self.nodes.values()}
        if base not in used:
            return base
        sep = "_" if base[-1:].isdigit() else ""
        i = 2
        while f"{base}{sep}{i}" in used:
            i += 1
        return f"{base}{sep}{i}"

    def new_id(self) -> str:
        while f"n{self._next_id}" in self.nodes:
            self._next_id += 1
        return f"n{self._next_id}"

    # ----------------------------------------------------------------- edits
    def _changed(self, event: DocumentEvent) -> None:
        self.revision += 1
        self.emit(event)

    def _record(self, redo, undo) -> None:
        """Journal an elementary edit while a compound edit (graph.block_edits) runs."""
        if self.blocks.journal is not None:
            self.blocks.record(redo, undo)

    def add_node(
        self,
        type: str,
        params: dict[str, Any] | None = None,
        label: str | None = None,
        position: tuple[float, float] = (0.0, 0.0),
        node_id: str | None = None,
    ) -> Node:
        """Add a layer; missing parameters take the catalog defaults."""
        if type == BLOCK:
            name = (params or {}).get("block")
            if not isinstance(name, str) or name not in self.blocks:
                raise StrataError(f"there is no block named '{name}'")
            if self.block_name is not None and self.blocks.depends_on(name, self.block_name):
                raise StrataError(f"the block '{self.block_name}' cannot contain an "
                                  f"instance of '{name}', which contains it")
            spec = self.blocks.spec(name)
        else:
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
        node = Node(node_id, type, merged, label, clamp_position(position), self.blocks)
        self.nodes[node_id] = node
        self._changed(NodeAdded(node_id))
        if self.blocks.journal is not None:
            kept, index = copy.deepcopy(node), len(self.nodes) - 1
            self._record(lambda: self.insert_node(kept, index),
                         lambda: self.remove_node(node_id))
        return node

    def insert_node(self, node: Node, index: int | None = None) -> None:
        """Put back a node removed earlier (undo), keeping its id and its place in the
        node order (which breaks ties in the generated code's order)."""
        if node.id in self.nodes:
            raise StrataError(f"a node with id '{node.id}' already exists")
        items = list(self.nodes.items())
        index = len(items) if index is None else index
        kept = copy.deepcopy(node)
        kept.library = self.blocks
        items.insert(index, (node.id, kept))
        self.nodes = dict(items)
        self._changed(NodeAdded(node.id))
        self._record(lambda: self.insert_node(node, index), lambda: self.remove_node(node.id))

    def remove_node(self, node_id: str) -> tuple[Node, list[Edge]]:
        """Remove a node and its wires; returns both so undo can restore them."""
        node = self.node(node_id)
        removed = self.edges_of(node_id)
        for edge in removed:
            self.disconnect(edge)
        index = self.node_index(node_id)
        del self.nodes[node_id]
        self._changed(NodeRemoved(node_id))
        self._record(lambda: self.remove_node(node_id), lambda: self.insert_node(node, index))
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
        self._record(lambda: self.connect(edge, index), lambda: self.disconnect(edge))
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
        self._record(lambda: self.disconnect(edge), lambda: self.connect(edge, index))
        return index

    def set_param(self, node_id: str, name: str, value: Any) -> Any:
        """Set one parameter; returns the old value."""
        node = self.node(node_id)
        node.spec.param(name)  # refuses unknown names
        check_value(value, f"$.params.{name}")  # what the file could not hold
        if node.type == BLOCK and name == "block":
            if value not in self.blocks:
                raise StrataError(f"there is no block named '{value}'")
            if self.block_name is not None and self.blocks.depends_on(value,
                                                                      self.block_name):
                raise StrataError(f"the block '{self.block_name}' cannot contain an "
                                  f"instance of '{value}', which contains it")
        old = node.params.get(name)
        node.params[name] = copy.deepcopy(value)
        self._changed(ParamsChanged(node_id, name))
        self._record(lambda: self.set_param(node_id, name, value),
                     lambda: self.set_param(node_id, name, old))
        return old

    def set_label(self, node_id: str, label: str) -> str:
        node = self.node(node_id)
        _refuse(label_problem(label))
        old, node.label = node.label, label
        self._changed(LabelChanged(node_id))
        self._record(lambda: self.set_label(node_id, label),
                     lambda: self.set_label(node_id, old))
        return old

    def move_node(self, node_id: str, position: tuple[float, float]) -> tuple[float, float]:
        node = self.node(node_id)
        old = node.position
        node.position = clamp_position(position)
        # Moving changes nothing the compiler sees, so the revision stays.
        self.emit(NodeMoved(node_id))
        self._record(lambda: self.move_node(node_id, position),
                     lambda: self.move_node(node_id, old))
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

    # ----------------------------------------------------------------- blocks
    # Compound edits (graph.block_edits): each returns an Edit, one undo step.
    def group(self, node_ids, name: str | None = None, label: str | None = None):
        """Group nodes into a new block; boundary wires become its ports."""
        from .block_grouping import group

        return group(self, node_ids, name, label)

    def ungroup(self, instance_id: str):
        """Expand an instance in place (its definition stays in the library)."""
        from .block_grouping import ungroup

        return ungroup(self, instance_id)

    def make_unique(self, instance_id: str, name: str | None = None):
        """Fork an instance's definition so edits to it affect this instance only."""
        from .block_edits import make_unique

        return make_unique(self, instance_id, name)

    def add_definition(self, definition, index: int | None = None):
        from .block_edits import add_definition

        return add_definition(self, definition, index)

    def new_definition(self, name: str = "Block"):
        """An empty block (one input and one output port, wired together)."""
        from .blocks import Definition

        name = self.blocks.unique_name(name)
        body = Document(name, library=self.blocks, block=name)
        a = body.add_node("BlockInput", {}, "in", (0.0, 0.0))
        b = body.add_node("BlockOutput", {}, "out", (400.0, 0.0))
        body.connect(Edge(a.id, "out", b.id, "in"))
        return self.add_definition(Definition(name, body))

    def remove_definition(self, name: str):
        from .block_edits import remove_definition

        return remove_definition(self, name)

    def rename_definition(self, old: str, new: str):
        from .block_edits import rename_definition

        return rename_definition(self, old, new)

    def set_exposed(self, name: str, exposed):
        """Replace the exposed parameters (``ExposedParam`` list) of block ``name``."""
        from .block_edits import set_exposed

        return set_exposed(self, name, exposed)

    def rename_port(self, node_id: str, name: str):
        """Rename a port of this block's body; every instance's wires follow."""
        from .block_edits import rename_port

        return rename_port(self, node_id, name)

    def set_repeat(self, instance_id: str, count: int) -> Any:
        return self.set_param(instance_id, "repeat", count)

    # ----------------------------------------------------------------- copies
    def to_dict(self) -> dict[str, Any]:
        """The document as the plain data a ``.strata`` file holds."""
        return document_to_dict(self)

    def copy(self) -> Document:
        """An independent copy with the same ids, order and data, and no listeners."""
        if len(self.blocks):  # definitions and their bodies too: through plain data
            from .fileformat import document_from_dict

            twin = document_from_dict(self.to_dict())
            twin._next_id = self._next_id
            twin.revision = self.revision
            return twin
        twin = Document(self.name, self.description)
        twin.nodes = copy.deepcopy(self.nodes)
        for node in twin.nodes.values():  # a deep copy shares the library: rebind
            node.library = twin.blocks
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
