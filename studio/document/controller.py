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

This module holds the basic intents (one command each), the lock and the relays; the
intents built from them live beside it, mixed into the one controller class:
``layer_intents`` (insert on a wire, replace, delete and reconnect, one-click fixes),
``clipboard`` (copy, paste, duplicate), ``block_intents`` (group, ungroup, make
unique) and ``training_intents`` (frozen layers, learning-rate factors).
"""

from __future__ import annotations

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
from graph.layout import (
    card_size,
    free_position,
    wrapped_positions,
)

from ..qt_workarounds import protect_singletons
from .block_intents import BlockIntents
from .clipboard import CLIPBOARD_FORMAT, CLIPBOARD_MIME, ClipboardIntents
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
from .layer_intents import LayerIntents
from .training_intents import TrainingIntents

# PySide6 6.12 drops references to None and True on every Qt call from Python 3.11.
protect_singletons()

__all__ = ["CLIPBOARD_FORMAT", "CLIPBOARD_MIME", "DocumentController"]


class DocumentController(BlockIntents, LayerIntents, ClipboardIntents, TrainingIntents,
                         QObject):
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
        node = self.document.node(node_id)
        checked = node.spec.param(name).check(value)
        problem = graph.limits.value_problem(checked)
        if problem is None and node.is_block and name == "block":
            problem = self._block_choice_problem(checked)
        if problem is not None:
            raise ParamError(problem)
        return checked

    def _block_choice_problem(self, name: Any) -> str | None:
        """Why an instance cannot use the block ``name`` here (None: it can)."""
        lib, here = self.document.blocks, self.document.block_name
        if name not in lib:
            return (f"Expected the name of a block of this network "
                    f"({', '.join(lib.definitions) or 'it has none'}). Received: '{name}'")
        if here is not None and lib.depends_on(name, here):
            return f"the block '{here}' cannot contain an instance of '{name}', which contains it"
        return None

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

    def set_metadata(self, name: str | None = None, description: str | None = None) -> None:
        """Rename or describe the network (one undo step); DocumentError says why a
        text the file could not hold is refused."""
        problem = ((graph.limits.name_problem(name) if name is not None else None)
                   or (graph.limits.description_problem(description)
                       if description is not None else None))
        if problem is not None:
            raise DocumentError(problem)
        self.undo_stack.push(SetMetadataCommand(self.document, name, description))


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
