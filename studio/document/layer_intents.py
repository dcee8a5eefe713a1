"""The controller's compound layer edits: each is one undo step (a macro of the basic
commands), built from the controller's own intents.

``add_node_connected`` (a layer wired to a port, as after dropping a wire on empty
canvas), ``delete_and_reconnect`` (the chain closes over the gap), ``insert_on_edge``,
``replace_layer`` and ``apply_fix`` (a ``graph.fixes.Fix`` performed edit by edit; an
edit inside a block's definition through ``edit_block``, ``block_intents``).
Every one checks the training lock first (``_refused``) and leaves the document as it
was when refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from graph import Document, Edge
from graph.block_body import check_in_block
from graph.edits import (
    AppendLayer,
    Connect,
    InBlock,
    InsertLayer,
    ReplaceLayer,
    SetParam,
    SetTraining,
)
from graph.fixes import Fix
from graph.layout import room_for_insert

from .commands import (
    AddNodeCommand,
    ConnectCommand,
    DisconnectCommand,
    RemoveNodeCommand,
)

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoStack


class LayerIntents:
    """Mixed into ``DocumentController``, which provides the basic intents below."""

    document: Document
    undo_stack: QUndoStack

    if TYPE_CHECKING:  # the controller's (declared for the type checker only)
        def _refused(self) -> bool: ...
        def _spec(self, type_name: str, params: dict | None) -> Any: ...
        def add_node(self, type_name: str, position=(0.0, 0.0), params: dict | None = None,
                     label: str | None = None) -> str: ...
        def connect(self, source: str, source_port: str, target: str,
                    target_port: str) -> Edge: ...
        def set_param(self, node_id: str, name: str, value: Any) -> Any: ...
        def set_training(self, key: str, value: Any) -> None: ...
        def move_nodes(self, positions: dict[str, tuple[float, float]],
                       text: str = "Move") -> None: ...
        def edit_block(self, edit: InBlock, text: str = "Edit block") -> bool: ...
        def _setup_owner(self) -> Any: ...

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
        """Perform a one-click fix (``graph.fixes``) as one undo step named after it.
        Edits inside blocks (``InBlock``) are checked first: a fix the block refuses is
        refused whole, with the reason, before anything changes."""
        if self._refused():
            return
        from graph.errors import StrataError

        try:
            for edit in fix.edits:
                if isinstance(edit, InBlock):
                    check_in_block(self.document, edit)
        except StrataError as error:
            self.edit_refused.emit(f"{fix.title}: {error}")  # type: ignore[attr-defined]
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
                elif isinstance(edit, SetTraining):  # the network's, from any level
                    self._setup_owner().set_training(edit.key, edit.value)
                elif isinstance(edit, InBlock):  # the definition: every instance follows
                    self.edit_block(edit, fix.title)
        finally:
            self.undo_stack.endMacro()
