"""The document controller: owns the document, its undo stack and its latest analysis.

Views report intent here ("connect A.out to B.in", "set out_features to 32"); each intent
becomes exactly one undo step (a command or a macro of commands). The controller relays
the document's typed events as Qt signals, one per kind (``node_added`` carries a
``graph.NodeAdded``, ``params_changed`` a ``graph.ParamsChanged``...), plus
``document_changed`` with every event for listeners that only need "something changed".
It re-analyses the network after edits, coalescing bursts of edits into one analysis on
the next turn of the event loop.

Tracing an edit: a view calls an intent method here (``set_param``, ``connect``...), which
pushes a command (``commands.py``); the command calls the ``Document`` method, which emits
the event; ``_on_document_event`` relays it on the matching signal below, to which the
scene, the inspector and the panels connect.
"""

from __future__ import annotations

import copy
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance
from PySide6.QtGui import QUndoStack

import graph
import graph.limits
from graph import Analysis, Analyzer, Document, Edge, wiring
from graph.block_edits import port_name_problem
from graph.blocks import PORT_TYPES
from graph.edits import (
    AppendLayer,
    Connect,
    InsertLayer,
    ReplaceLayer,
    SetParam,
    SetTraining,
)
from graph.errors import DocumentError, ParamError, StrataError
from graph.events import (
    BlocksEdited,
    DefinitionAdded,
    DefinitionChanged,
    DefinitionRemoved,
    DefinitionRenamed,
    DocumentEvent,
    EdgeAdded,
    EdgeRemoved,
    LabelChanged,
    MetadataChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    ParamsChanged,
    SweepChanged,
    TrainingChanged,
)
from graph.fixes import Fix
from graph.layout import (
    card_size,
    free_offset,
    free_position,
    room_for_insert,
    wrapped_positions,
)

from ..qt_workarounds import protect_singletons
from .block_intents import BlockIntents
from .commands import (
    AddNodeCommand,
    ConnectCommand,
    DisconnectCommand,
    MoveNodesCommand,
    RemoveNodeCommand,
    SetLabelCommand,
    SetMetadataCommand,
    SetParamCommand,
    SetSweepCommand,
    SetTrainingCommand,
)

# PySide6 6.12 drops references to None and True on every Qt call from Python 3.11.
protect_singletons()

CLIPBOARD_FORMAT = "strata-clipboard"
CLIPBOARD_MIME = "application/x-strata-nodes"


class DocumentController(BlockIntents, QObject):
    document_replaced = Signal()  # a new or opened document: rebuild views
    # The document's events, one signal per kind, each carrying the graph.events object.
    node_added = Signal(NodeAdded)
    node_removed = Signal(NodeRemoved)
    edge_added = Signal(EdgeAdded)
    edge_removed = Signal(EdgeRemoved)
    params_changed = Signal(ParamsChanged)
    label_changed = Signal(LabelChanged)
    node_moved = Signal(NodeMoved)
    training_changed = Signal(TrainingChanged)
    sweep_changed = Signal(SweepChanged)
    metadata_changed = Signal(MetadataChanged)
    definition_added = Signal(DefinitionAdded)  # blocks (graph.blocks)
    definition_removed = Signal(DefinitionRemoved)
    definition_renamed = Signal(DefinitionRenamed)
    definition_changed = Signal(DefinitionChanged)
    blocks_edited = Signal(BlocksEdited)
    document_changed = Signal(DocumentEvent)  # every event of any kind, after the above
    analysis_changed = Signal(object)  # graph.Analysis
    selection_changed = Signal(list)  # selected node ids
    path_changed = Signal(object)  # Path | None
    edit_refused = Signal(str)  # a structural edit was refused while locked (why)

    def __init__(self, document: Document | None = None, parent: QObject | None = None,
                 undo_stack: QUndoStack | None = None, analyzer: Analyzer | None = None):
        super().__init__(parent)
        # An open block's controller edits the block's body on the network's own undo
        # stack (one history for every level), which it neither clears nor owns.
        self._shared_stack = undo_stack is not None
        self.undo_stack = undo_stack if undo_stack is not None else QUndoStack(self)
        self.analyzer = analyzer or Analyzer()
        self.document: Document = Document()
        self.analysis: Analysis | None = None
        self.path: Path | None = None
        self.selected: list[str] = []
        self._unsubscribe: Callable[[], None] | None = None
        self._analysis_pending = False
        self._relays: dict[type[DocumentEvent], SignalInstance] = {
            NodeAdded: self.node_added, NodeRemoved: self.node_removed,
            EdgeAdded: self.edge_added, EdgeRemoved: self.edge_removed,
            ParamsChanged: self.params_changed, LabelChanged: self.label_changed,
            NodeMoved: self.node_moved, TrainingChanged: self.training_changed,
            SweepChanged: self.sweep_changed,
            MetadataChanged: self.metadata_changed,
            DefinitionAdded: self.definition_added,
            DefinitionRemoved: self.definition_removed,
            DefinitionRenamed: self.definition_renamed,
            DefinitionChanged: self.definition_changed,
            BlocksEdited: self.blocks_edited,
        }
        # While locked (a run trains this network), intents that change its structure
        # are refused; selection, moves, labels and training settings stay free. The
        # controller of an open block follows the network's lock (``lock_owner``).
        self._locked = False
        self._lock_reason = ""
        self.lock_owner: DocumentController | None = None
        self.set_document(document or Document())

    # ------------------------------------------------------------------ documents
    def set_document(self, document: Document, path: str | Path | None = None) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        self.document = document
        self._unsubscribe = document.subscribe(_WeakRelay(self))
        if not self._shared_stack:
            self.undo_stack.clear()
            self.undo_stack.setClean()
        self.path = Path(path) if path else None
        self.selected = []
        self.document_replaced.emit()
        self.path_changed.emit(self.path)
        self.selection_changed.emit([])
        self.analyze_now()

    def new(self, name: str = "Untitled") -> None:
        self.set_document(Document(name))

    def open(self, path: str | Path) -> None:
        """Load ``path``; on a bad file raise DocumentError and keep the current one."""
        document = graph.load(path)
        self.set_document(document, path)

    def save(self, path: str | Path | None = None) -> Path:
        target = Path(path) if path else self.path
        if target is None:
            raise StrataError("choose where to save the network first")
        graph.save(self.document, target)
        self.path = target
        self.undo_stack.setClean()
        self.path_changed.emit(self.path)
        return target

    def detach(self) -> None:
        """Stop following the document (an open block's controller, when closed)."""
        if self._unsubscribe:
            self._unsubscribe()
            self._unsubscribe = None

    @property
    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    # ------------------------------------------------------------------ analysis
    def _on_document_event(self, event: DocumentEvent) -> None:
        if isinstance(event, NodeRemoved) and event.node_id in self.selected:
            self.selected = [i for i in self.selected if i != event.node_id]
            self.selection_changed.emit(list(self.selected))
        relay = self._relays.get(type(event))
        if relay is not None:
            relay.emit(event)
        self.document_changed.emit(event)
        if not isinstance(event, NodeMoved) and not self._analysis_pending:
            self._analysis_pending = True
            QTimer.singleShot(0, self.analyze_now)

    def analyze_now(self) -> Analysis:
        self._analysis_pending = False
        self.analysis = self.analyzer.analyze(self.document)
        self.analysis_changed.emit(self.analysis)
        return self.analysis

    # ------------------------------------------------------------------ selection
    def select(self, node_ids: list[str]) -> None:
        ids = [i for i in node_ids if i in self.document.nodes]
        if ids != self.selected:
            self.selected = ids
            self.selection_changed.emit(list(ids))

    # ------------------------------------------------------------------ lock
    def set_locked(self, locked: bool, reason: str = "") -> None:
        """Refuse structural edits (``edit_refused(reason)``) until unlocked."""
        self._locked = bool(locked)
        self._lock_reason = reason if locked else ""

    @property
    def locked(self) -> bool:
        owner = self.lock_owner
        return self._locked or (owner is not None and owner.locked)

    @property
    def lock_reason(self) -> str:
        owner = self.lock_owner
        if not self._lock_reason and owner is not None:
            return owner.lock_reason
        return self._lock_reason

    def _refused(self) -> bool:
        if self.locked:
            self.edit_refused.emit(self.lock_reason or "The network is locked")
        return self.locked

    # ------------------------------------------------------------------ edits
    def add_node(self, type_name: str, position=(0.0, 0.0), params: dict | None = None,
                 label: str | None = None) -> str:
        if self._refused():
            return ""
        # A new card never lands on another: the nearest free spot instead.
        size = card_size(None, self._spec(type_name, params), params)
        position = free_position(self.document, position, size)
        command = AddNodeCommand(self.document, type_name, params, label, position)
        self.undo_stack.push(command)
        return command.node_id

    def delete(self, node_ids=(), edges=()) -> None:
        if self._refused():
            return
        node_ids = [i for i in node_ids if i in self.document.nodes]
        edges = [e for e in edges if e in self.document.edges
                 and e.source not in node_ids and e.target not in node_ids]
        if not node_ids and not edges:
            return
        self.undo_stack.beginMacro(_plural("Delete", len(node_ids) + len(edges), "item"))
        for edge in edges:
            self.undo_stack.push(DisconnectCommand(self.document, edge))
        for node_id in node_ids:
            self.undo_stack.push(RemoveNodeCommand(self.document, node_id))
        self.undo_stack.endMacro()

    def can_connect(self, source: str, source_port: str, target: str,
                    target_port: str) -> bool:
        """Whether a wire from an output to an input makes sense while dragging
        (``graph.wiring.can_connect``: the document's rule)."""
        return wiring.can_connect(self.document, source, source_port, target, target_port)

    def connectable_ports(self, node_id: str, port: str,
                          from_output: bool = True) -> set[tuple[str, str]]:
        """Every (node, port) a wire dragged from ``node_id.port`` may end on
        (``graph.wiring.connectable_ports``)."""
        return wiring.connectable_ports(self.document, node_id, port, from_output)

    def add_node_connected(self, type_name: str, position, source=None,
                           target=None) -> str:
        """Add a layer wired to ``source`` (node, output port) feeding it, or feeding
        ``target`` (node, input port): one undo step, as after dropping a wire on empty
        canvas and choosing a layer."""
        if self._refused():
            return ""
        spec = self._spec(type_name, None)
        self.undo_stack.beginMacro(f"Add {spec.display_name}")
        node_id = self.add_node(type_name, position)
        node = self.document.node(node_id)
        if source is not None and spec.inputs:
            self.connect(source[0], source[1], node_id, spec.input_names(node.params)[0])
        if target is not None and spec.outputs:
            self.connect(node_id, spec.output_names(node.params)[0], target[0], target[1])
        self.undo_stack.endMacro()
        return node_id

    def connect(  # type: ignore[override]  # intent, not QObject.connect (never used)
            self, source: str, source_port: str, target: str, target_port: str) -> Edge:
        """Wire an output to an input; an occupied input port gets its old wire replaced."""
        edge = Edge(source, source_port, target, target_port)
        if self._refused() or edge in self.document.edges:
            return edge
        old = [e for e in self.document.edges_into(target) if e.target_port == target_port]
        self.undo_stack.beginMacro("Connect")
        for e in old:
            self.undo_stack.push(DisconnectCommand(self.document, e))
        self.undo_stack.push(ConnectCommand(self.document, edge))
        self.undo_stack.endMacro()
        return edge

    def disconnect(self, edge: Edge) -> None:  # type: ignore[override]  # as connect
        if self._refused():
            return
        self.undo_stack.push(DisconnectCommand(self.document, edge))

    def check_param(self, node_id: str, name: str, value: Any) -> Any:
        """The value as it would be stored, or ParamError with the reason (including
        the file format's limits: what is accepted here can be saved and reopened)."""
        checked = self.document.node(node_id).spec.param(name).check(value)
        problem = graph.limits.value_problem(checked)
        if problem is not None:
            raise ParamError(problem)
        return checked

    def set_param(self, node_id: str, name: str, value: Any) -> Any:
        """Set a parameter as one undo step; refuses invalid values with ParamError."""
        node = self.document.node(node_id)
        value = self.check_param(node_id, name, value)
        stored = list(value) if isinstance(value, tuple) else value
        if self._refused():
            return node.params.get(name)
        if node.params.get(name) == stored:
            return value
        self.undo_stack.beginMacro(f"Set {name}")
        self.undo_stack.push(SetParamCommand(self.document, node_id, name, stored))
        # Fewer ports (e.g. an Add with fewer inputs): their wires go in the same step.
        ports = set(node.spec.input_names(node.params))
        for e in self.document.edges_into(node_id):
            if e.target_port not in ports:
                self.undo_stack.push(DisconnectCommand(self.document, e))
        self.undo_stack.endMacro()
        return value

    def set_label(self, node_id: str, label: str) -> None:
        """Rename a layer (one undo step); DocumentError says why a label that the
        file could not hold is refused."""
        label = label.strip()
        problem = graph.limits.label_problem(label)
        node = self.document.node(node_id)
        if problem is None and node.type in PORT_TYPES and label != node.label:
            problem = port_name_problem(self.document, node_id, label)
        if problem is not None:
            raise DocumentError(problem)
        if not label or label == node.label:
            return
        if node.type in PORT_TYPES and self.document.block_name is not None:
            # A block's port: every instance's wire on it moves too (one step).
            self._compound("Rename port",
                           lambda: self.document.rename_port(node_id, label))
            return
        self.undo_stack.push(SetLabelCommand(self.document, node_id, label))

    def move_nodes(self, positions: dict[str, tuple[float, float]],
                   text: str = "Move") -> None:
        moves = {}
        for node_id, new in positions.items():
            old = self.document.node(node_id).position
            if (round(old[0], 2), round(old[1], 2)) != (round(new[0], 2), round(new[1], 2)):
                moves[node_id] = (old, (float(new[0]), float(new[1])))
        if moves:
            self.undo_stack.push(MoveNodesCommand(self.document, moves, text))

    def auto_arrange(self, node_ids=None, view: tuple[float, float] | None = None) -> None:
        """Lay out the nodes (all, or ``node_ids``) in columns; a long chain wraps into
        rows so that it fits a ``view`` of that size (pixels) at a readable zoom."""
        ids = node_ids if node_ids else None
        self.move_nodes(wrapped_positions(self.document, ids, view), "Auto-arrange")

    def set_training(self, key: str, value: Any) -> None:
        problem = graph.limits.value_problem({key: value})
        if problem is not None:
            raise DocumentError(problem)
        if self.document.training.get(key) != value:
            self.undo_stack.push(SetTrainingCommand(self.document, key, value))

    def set_sweep(self, sweep: dict[str, Any]) -> None:
        """What a sweep searches (``doc.sweep``), as one undo step."""
        if self.document.sweep != sweep:
            self.undo_stack.push(SetSweepCommand(self.document, sweep))

    def frozen(self) -> set[str]:
        """Node ids whose weights do not train (``training["frozen"]``)."""
        return set(self.document.training.get("frozen") or [])

    def weighted(self, node_ids: list[str]) -> list[str]:
        """Those of ``node_ids`` that are layers with weights (the ones freezing means
        something for), by the catalog's parameter counts."""
        if self.analysis is None or self.analysis.doc is not self.document:
            return []
        from graph.memory import param_counts

        counts = param_counts(self.analysis)
        return [n for n in node_ids if counts.get(n, 0) > 0]

    def toggle_frozen(self, node_ids: list[str]) -> bool:
        """Freeze the layers among ``node_ids`` (or unfreeze them when all already are);
        one undo step. False when none of them has weights."""
        ids = self.weighted(node_ids)
        if not ids:
            return False
        frozen = self.frozen()
        changed = frozen - set(ids) if set(ids) <= frozen else frozen | set(ids)
        self.undo_stack.beginMacro(("Unfreeze" if set(ids) <= frozen else "Freeze")
                                   + (" layer" if len(ids) == 1 else " layers"))
        try:
            self.set_training("frozen", sorted(changed))
        finally:
            self.undo_stack.endMacro()
        return True

    def set_metadata(self, name: str | None = None, description: str | None = None) -> None:
        """Rename or describe the network (one undo step); DocumentError says why a
        text the file could not hold is refused."""
        problem = ((graph.limits.name_problem(name) if name is not None else None)
                   or (graph.limits.description_problem(description)
                       if description is not None else None))
        if problem is not None:
            raise DocumentError(problem)
        self.undo_stack.push(SetMetadataCommand(self.document, name, description))

    def delete_and_reconnect(self, node_id: str) -> list[Edge]:
        """Remove a layer and join what fed it to what it fed (one undo step)."""
        if self._refused() or node_id not in self.document.nodes:
            return []
        from graph.edits import bypass_edges

        node = self.document.nodes[node_id]
        joins = bypass_edges(self.document, node_id)
        self.undo_stack.beginMacro(f"Delete {node.label or node.spec.display_name} "
                                   "and reconnect")
        self.undo_stack.push(RemoveNodeCommand(self.document, node_id))
        for e in joins:
            self.connect(e.source, e.source_port, e.target, e.target_port)
        self.undo_stack.endMacro()
        return joins

    def insert_on_edge(self, edge: Edge, type_name: str, params: dict | None = None,
                       text: str | None = None) -> str:
        """Put a new layer in the middle of a wire (one undo step)."""
        if self._refused():
            return ""
        doc = self.document
        # Beside the source; what follows shifts right when the new card needs room.
        position, moves = room_for_insert(doc, edge.source, edge.target)
        self.undo_stack.beginMacro(text or f"Insert {type_name}")
        if moves:
            self.move_nodes(moves, "Make room")
        self.undo_stack.push(DisconnectCommand(doc, edge))
        add = AddNodeCommand(doc, type_name, params, None, position)
        self.undo_stack.push(add)
        new = doc.node(add.node_id)
        self.undo_stack.push(ConnectCommand(doc, Edge(edge.source, edge.source_port,
                                                      add.node_id,
                                                      new.spec.input_names(new.params)[0])))
        self.undo_stack.push(ConnectCommand(doc, Edge(add.node_id, "out", edge.target,
                                                      edge.target_port)))
        self.undo_stack.endMacro()
        return add.node_id

    def replace_layer(self, node_id: str, type_name: str, params: dict | None = None
                      ) -> str:
        """Another layer type in the same place with the same wires (one undo step)."""
        if self._refused() or node_id not in self.document.nodes:
            return ""
        doc = self.document
        old = doc.nodes[node_id]
        wires_in, wires_out = doc.edges_into(node_id), doc.edges_from(node_id)
        self.undo_stack.beginMacro(f"Replace {old.label or old.spec.display_name}")
        self.undo_stack.push(RemoveNodeCommand(doc, node_id))
        add = AddNodeCommand(doc, type_name, params, None, old.position)
        self.undo_stack.push(add)
        new = doc.node(add.node_id)
        for e in wires_in:
            self.undo_stack.push(ConnectCommand(doc, Edge(
                e.source, e.source_port, new.id, new.spec.input_names(new.params)[0])))
        for e in wires_out:
            self.undo_stack.push(ConnectCommand(doc, Edge(
                new.id, new.spec.output_names(new.params)[0], e.target, e.target_port)))
        self.undo_stack.endMacro()
        return new.id

    def apply_fix(self, fix: Fix) -> None:
        """Perform a one-click fix (``graph.fixes``) as one undo step named after it."""
        if self._refused():
            return
        self.undo_stack.beginMacro(fix.title)
        try:
            for edit in fix.edits:
                if isinstance(edit, InsertLayer):
                    self.insert_on_edge(edit.edge, edit.type_name, dict(edit.params),
                                        fix.title)
                elif isinstance(edit, SetParam):
                    self.set_param(edit.node_id, edit.name, edit.value)
                elif isinstance(edit, AppendLayer):
                    new = self.add_node(edit.type_name, edit.position, dict(edit.params))
                    node = self.document.node(new)
                    self.connect(edit.source, edit.source_port, new,
                                 node.spec.input_names(node.params)[0])
                elif isinstance(edit, Connect):
                    e = edit.edge
                    self.connect(e.source, e.source_port, e.target, e.target_port)
                elif isinstance(edit, ReplaceLayer):
                    self.replace_layer(edit.node_id, edit.type_name, dict(edit.params))
                elif isinstance(edit, SetTraining):
                    self.set_training(edit.key, edit.value)
        finally:
            self.undo_stack.endMacro()

    # ------------------------------------------------------------------ clipboard
    def copy_nodes(self, node_ids) -> dict[str, Any]:
        """Plain data for the clipboard: the nodes and the wires between them."""
        chosen = [i for i in self.document.nodes if i in set(node_ids)]
        data = graph.fileformat.document_to_dict(self.document)
        return {
            "format": CLIPBOARD_FORMAT,
            "nodes": [n for n in data["nodes"] if n["id"] in chosen],
            "edges": [e for e in data["edges"]
                      if e["source"] in chosen and e["target"] in chosen],
        }

    def paste(self, data: dict[str, Any], position=None) -> list[str]:
        """Add copied nodes (from any document) with fresh ids and labels; select them."""
        if not isinstance(data, dict) or data.get("format") != CLIPBOARD_FORMAT:
            raise StrataError("the clipboard does not hold Strata layers")
        try:
            # Check through the file loader: a hostile clipboard is no different.
            probe = graph.fileformat.document_from_dict({
                "format": "strata", "version": graph.fileformat.VERSION,
                "nodes": data["nodes"], "edges": data["edges"]})
        except (KeyError, TypeError):
            raise StrataError("the clipboard data is damaged") from None
        nodes = list(probe.nodes.values())
        if not nodes or self._refused():
            return []
        left = min(n.position[0] for n in nodes)
        top = min(n.position[1] for n in nodes)
        dx, dy = ((position[0] - left, position[1] - top) if position is not None
                  else (40.0, 40.0))
        # The pasted group moves down until none of its cards covers one already there.
        dx, dy = free_offset(self.document, [(*n.position, *card_size(n)) for n in nodes],
                             (dx, dy))
        mapping: dict[str, str] = {}
        self.undo_stack.beginMacro(_plural("Paste", len(nodes), "layer"))
        for n in nodes:
            label = self.document.unique_label(n.label) if n.label else None
            add = AddNodeCommand(self.document, n.type, copy.deepcopy(n.params), label,
                                 (n.position[0] + dx, n.position[1] + dy))
            self.undo_stack.push(add)
            mapping[n.id] = add.node_id
        for e in probe.edges:
            self.undo_stack.push(ConnectCommand(self.document, Edge(
                mapping[e.source], e.source_port, mapping[e.target], e.target_port)))
        self.undo_stack.endMacro()
        self.select(list(mapping.values()))
        return list(mapping.values())

    def duplicate(self, node_ids) -> list[str]:
        return self.paste(self.copy_nodes(node_ids))



class _WeakRelay:
    """The controller's document listener, holding the controller weakly.

    A bound method would put the controller (a QObject owning the undo stack and its
    commands) in a reference cycle with the document; the cyclic collector then freed
    them in an arbitrary order, and the undo stack deleted commands already gone
    (SIGSEGV, typically at interpreter exit). Held weakly, the controller is freed by
    its last reference, in order.
    """

    def __init__(self, controller: DocumentController) -> None:
        self._controller = weakref.ref(controller)

    def __call__(self, event: DocumentEvent) -> None:
        controller = self._controller()
        if controller is not None:
            controller._on_document_event(event)


def _plural(verb: str, n: int, noun: str) -> str:
    return f"{verb} {n} {noun}{'s' if n != 1 else ''}"
