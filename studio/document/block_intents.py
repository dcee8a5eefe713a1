"""The controller's block intents: group, ungroup, make unique, and an edit inside a
block's definition (``edit_block``: a one-click fix on an inner layer).

Each wraps one compound graph edit (``graph.block_edits``) in one undo command, so a
whole grouping is one step of the shared undo stack. A selection the graph refuses
(the network's Input, nothing selected...) comes back as the controller's usual
``edit_refused`` message, never as an exception in a view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from graph.block_body import apply_in_block
from graph.blocks import BLOCK
from graph.catalog import get_spec
from graph.errors import StrataError

from .commands import CompoundEditCommand

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoStack

    from graph import Document
    from graph.edits import InBlock


class BlockIntents:
    """Mixed into ``DocumentController`` (which provides these attributes)."""

    document: Document
    undo_stack: QUndoStack
    selected: list[str]

    if TYPE_CHECKING:  # the controller's own
        def _refused(self) -> bool: ...
        def select(self, node_ids: list[str]) -> None: ...

    def _compound(self, text: str, make) -> dict | None:
        if self._refused():
            return None
        try:
            edit = make()
        except (StrataError, KeyError) as error:  # the edit rolled itself back
            self.edit_refused.emit(f"{text}: {_reason(error)}")  # type: ignore[attr-defined]
            return None
        self.undo_stack.push(CompoundEditCommand(edit, text))
        return edit.result

    def _spec(self, type_name: str, params: dict | None):
        """A layer type's spec; a block instance's comes from the document's library."""
        if type_name == BLOCK:
            return self.document.blocks.spec((params or {}).get("block"))
        return get_spec(type_name)

    def is_block(self, node_id: str) -> bool:
        node = self.document.nodes.get(node_id)
        return node is not None and node.type == BLOCK

    def group_selection(self, node_ids: list[str] | None = None,
                        name: str | None = None) -> str:
        """Group the selected layers (or ``node_ids``) into a new block; the new
        instance is selected. Returns its id ("" when refused)."""
        ids = list(node_ids if node_ids is not None else self.selected)
        if not ids:
            self.edit_refused.emit(  # type: ignore[attr-defined]
                "Group into Block: select the layers to group first")
            return ""
        result = self._compound("Group into Block",
                                lambda: self.document.group(ids, name))
        if not result:
            return ""
        self.select([result["instance"]])
        return result["instance"]

    def ungroup(self, node_id: str) -> list[str]:
        """Put an instance's layers in its place (one undo step); selects them."""
        if not self.is_block(node_id):
            self.edit_refused.emit("Ungroup Block: select a block to ungroup")  # type: ignore[attr-defined]
            return []
        result = self._compound("Ungroup Block", lambda: self.document.ungroup(node_id))
        if result is None:
            return []
        made = [i for i in result.get("nodes", {}).values() if i in self.document.nodes]
        self.select(made)
        return made

    def make_unique(self, node_id: str) -> str:
        """Give this instance its own copy of its definition; returns the new name."""
        if not self.is_block(node_id):
            self.edit_refused.emit("Make Unique: select a block")  # type: ignore[attr-defined]
            return ""
        result = self._compound("Make Block Unique",
                                lambda: self.document.make_unique(node_id))
        return result["definition"] if result else ""

    def edit_block(self, edit: InBlock, text: str = "Edit block") -> bool:
        """Make ``edit`` in its block's definition (every instance follows), one undo
        step; False when refused (the reason goes out on ``edit_refused``)."""
        return self._compound(text, lambda: apply_in_block(self.document, edit, text)) \
            is not None


def _reason(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"no layer {error.args[0]!r} in this network"
    return str(error)
