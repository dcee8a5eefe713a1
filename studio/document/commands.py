"""Undo commands. Each one mutates only the document, through its methods.

Removing a node captures its wires as sub-commands, so undo restores them in their
original order (Orange's RemoveNodeCommand). Commands keep node ids stable across undo
and redo, so later commands on the stack still find their nodes.
"""

from __future__ import annotations

import copy
from typing import Any

from PySide6.QtGui import QUndoCommand

from graph import Document, Edge, Node


class AddNodeCommand(QUndoCommand):
    def __init__(self, doc: Document, type_name: str, params: dict[str, Any] | None = None,
                 label: str | None = None, position=(0.0, 0.0), node_id: str | None = None,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self._args = (type_name, params, label, position)
        self.node_id = node_id or doc.new_id()
        self._node: Node | None = None
        self.setText(f"Add {type_name}")

    def redo(self) -> None:
        if self._node is None:
            type_name, params, label, position = self._args
            node = self.doc.add_node(type_name, params, label, position, self.node_id)
            self._node = copy.deepcopy(node)
        else:
            self.doc.insert_node(self._node)
        super().redo()

    def undo(self) -> None:
        super().undo()
        self.doc.remove_node(self.node_id)


class ConnectCommand(QUndoCommand):
    def __init__(self, doc: Document, edge: Edge, parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.doc, self.edge = doc, edge
        self.setText("Connect")

    def redo(self) -> None:
        self.doc.connect(self.edge)

    def undo(self) -> None:
        self.doc.disconnect(self.edge)


class DisconnectCommand(QUndoCommand):
    def __init__(self, doc: Document, edge: Edge, parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.doc, self.edge = doc, edge
        self._index: int | None = None
        self.setText("Delete wire")

    def redo(self) -> None:
        self._index = self.doc.disconnect(self.edge)

    def undo(self) -> None:
        self.doc.connect(self.edge, self._index)


class RemoveNodeCommand(QUndoCommand):
    def __init__(self, doc: Document, node_id: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.doc, self.node_id = doc, node_id
        self._node = copy.deepcopy(doc.node(node_id))
        self._index = doc.node_index(node_id)
        # The wires go first and come back (in reverse) on undo. They are plain Python
        # sub-commands owned by this command alone, not Qt children that both Qt and
        # Python would hold.
        self._wires = [DisconnectCommand(doc, edge) for edge in doc.edges_of(node_id)]
        self.setText(f"Delete {self._node.title}")

    def redo(self) -> None:
        for wire in self._wires:
            wire.redo()
        self.doc.remove_node(self.node_id)

    def undo(self) -> None:
        self.doc.insert_node(self._node, self._index)
        for wire in reversed(self._wires):
            wire.undo()


class SetParamCommand(QUndoCommand):
    def __init__(self, doc: Document, node_id: str, name: str, value: Any,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.doc, self.node_id, self.name = doc, node_id, name
        self.new = copy.deepcopy(value)
        self.old = copy.deepcopy(doc.node(node_id).params.get(name))
        self.setText(f"Set {name}")

    def redo(self) -> None:
        super().redo()
        self.doc.set_param(self.node_id, self.name, self.new)

    def undo(self) -> None:
        self.doc.set_param(self.node_id, self.name, self.old)
        super().undo()


class SetLabelCommand(QUndoCommand):
    def __init__(self, doc: Document, node_id: str, label: str,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.doc, self.node_id = doc, node_id
        self.new, self.old = label, doc.node(node_id).label
        self.setText("Rename")

    def redo(self) -> None:
        self.doc.set_label(self.node_id, self.new)

    def undo(self) -> None:
        self.doc.set_label(self.node_id, self.old)


class MoveNodesCommand(QUndoCommand):
    """A whole drag, pushed once on mouse release."""

    def __init__(self, doc: Document, moves: dict[str, tuple[tuple[float, float],
                                                               tuple[float, float]]],
                 text: str = "Move", parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.doc, self.moves = doc, dict(moves)  # node id -> (old, new)
        self.setText(text)

    def redo(self) -> None:
        for node_id, (_old, new) in self.moves.items():
            self.doc.move_node(node_id, new)

    def undo(self) -> None:
        for node_id, (old, _new) in self.moves.items():
            self.doc.move_node(node_id, old)


class SetTrainingCommand(QUndoCommand):
    def __init__(self, doc: Document, key: str, value: Any,
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.doc, self.key = doc, key
        self.new, self.old = copy.deepcopy(value), copy.deepcopy(doc.training.get(key))
        self.setText(f"Set {key.replace('_', ' ')}")

    def redo(self) -> None:
        self.doc.set_training(self.key, self.new)

    def undo(self) -> None:
        self.doc.set_training(self.key, self.old)


class SetSweepCommand(QUndoCommand):
    """Replace the document's sweep setup (what is searched, objective, sampler)."""

    def __init__(self, doc: Document, sweep: dict[str, Any],
                 parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.new, self.old = copy.deepcopy(sweep), copy.deepcopy(doc.sweep)
        self.setText("Edit sweep")

    def redo(self) -> None:
        self.doc.set_sweep(self.new)

    def undo(self) -> None:
        self.doc.set_sweep(self.old)


class SetMetadataCommand(QUndoCommand):
    def __init__(self, doc: Document, name: str | None = None,
                 description: str | None = None, parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.doc = doc
        self.new = (name, description)
        self.old = (doc.name, doc.description)
        self.setText("Edit network details")

    def redo(self) -> None:
        self.doc.set_metadata(*self.new)

    def undo(self) -> None:
        self.doc.set_metadata(*self.old)


class CompoundEditCommand(QUndoCommand):
    """One compound graph edit (``graph.block_edits.Edit``: group, ungroup, make
    unique...) as one undo step. The edit has already run when the command is pushed,
    so the stack's first ``redo`` does nothing; later ones replay the edit's journal."""

    def __init__(self, edit, text: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.edit = edit
        self._done = True
        self.setText(text)

    def redo(self) -> None:
        if self._done:
            self._done = False
            return
        self.edit.redo()

    def undo(self) -> None:
        self.edit.undo()
