"""The controller's clipboard intents: copy layers as plain data, paste them (from any
document, or a hostile clipboard: the data goes through the file loader) with fresh
ids and labels as one undo step, duplicate.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

import graph
from graph import Document, Edge
from graph.errors import StrataError
from graph.layout import card_size, free_offset

from .commands import AddNodeCommand, ConnectCommand

if TYPE_CHECKING:
    from PySide6.QtGui import QUndoStack

CLIPBOARD_FORMAT = "strata-clipboard"
CLIPBOARD_MIME = "application/x-strata-nodes"


class ClipboardIntents:
    """Mixed into ``DocumentController``."""

    document: Document
    undo_stack: QUndoStack

    if TYPE_CHECKING:  # the controller's (declared for the type checker only)
        def _refused(self) -> bool: ...
        def select(self, node_ids: list[str]) -> None: ...

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


def _plural(verb: str, n: int, noun: str) -> str:
    return f"{verb} {n} {noun}{'s' if n != 1 else ''}"
