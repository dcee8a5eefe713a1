"""Room for a block expanded inline: the cards its frame would cover move out of the way.

Expanding an instance inline draws its inside in a frame under its card
(``block_preview``). Where that frame would lie over other cards, those cards (and the
cards under them in the same columns, so the layout below keeps its shape) move down
until the frame clears them, as paste and quick-add make room. Collapsing puts back
the cards that are still where the expansion put them (one the user has moved since
stays where the user put it).

The moves are document edits; the expansion is a view state. One undo step holds both
(``InlineCommand``): undoing an expansion that moved cards puts them back *and*
collapses the frame, or the frame would cover them again. An expansion that moves
nothing is no undo step at all (as before: a view state only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QRectF
from PySide6.QtGui import QUndoCommand

from graph.layout import GRID

if TYPE_CHECKING:
    from graph import Document

    from .scene import NetworkScene

MARGIN = 20.0  # clear space kept between the frame and the cards around it
Moves = dict[str, tuple[tuple[float, float], tuple[float, float]]]  # id -> (old, new)


def card_rect(scene: NetworkScene, node_id: str) -> QRectF:
    """A card's scene rectangle with its own inline frame, when it has one."""
    item = scene.nodes[node_id]
    rect = item.sceneBoundingRect()
    child = scene.expanded.get(node_id)
    if child is not None:
        rect = rect.united(child.sceneBoundingRect())
    return rect


def room_moves(scene: NetworkScene, node_id: str) -> Moves:
    """The moves that clear the (already shown) frame of ``node_id``: {} if none."""
    child = scene.expanded.get(node_id)
    if child is None:
        return {}
    frame = child.sceneBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN)
    card = scene.nodes[node_id].sceneBoundingRect()
    others = {i: card_rect(scene, i) for i in scene.nodes if i != node_id}
    hit = [i for i, r in others.items() if r.intersects(frame)]
    if not hit:
        return {}
    top = min(others[i].top() for i in hit)
    # Cards above the frame's top that it still covers (beside the card, lower down)
    # move too: everything from the highest card hit downwards in the frame's columns.
    dy = frame.bottom() - top
    dy = -(-dy // GRID) * GRID
    doc = scene.document
    moves: Moves = {}
    for i, r in others.items():
        in_columns = r.right() > frame.left() and r.left() < frame.right()
        if in_columns and r.top() >= top - 0.5 and r.top() > card.top():
            x, y = doc.nodes[i].position
            moves[i] = ((x, y), (x, y + dy))
    return moves


def restore_moves(doc: Document, moves: Moves) -> Moves:
    """What collapsing puts back: the moved cards still where the expansion put them."""
    out: Moves = {}
    for node_id, (old, new) in moves.items():
        node = doc.nodes.get(node_id)
        if node is not None and _same(node.position, new):
            out[node_id] = (new, old)
    return out


def _same(a, b) -> bool:
    return abs(a[0] - b[0]) < 0.5 and abs(a[1] - b[1]) < 0.5


class InlineCommand(QUndoCommand):
    """Expand (``on``) or collapse ``node_id`` inline and move cards by ``moves``.

    The one command that also touches a view state: see the module docstring."""

    def __init__(self, scene: NetworkScene, node_id: str, on: bool, moves: Moves,
                 text: str, parent: QUndoCommand | None = None) -> None:
        super().__init__(parent)
        self.scene, self.node_id, self.on, self.moves = scene, node_id, on, dict(moves)
        self.doc = scene.document
        self._room = scene.inline_room.get(node_id, {}) if not on else dict(moves)
        self.setText(text)

    def _apply(self, on: bool, forward: bool) -> None:
        for node_id, (old, new) in self.moves.items():
            if node_id in self.doc.nodes:
                self.doc.move_node(node_id, new if forward else old)
        scene = self.scene
        # The level's scene is gone (the block was left) or shows something else:
        # the cards move all the same, there is no frame to show.
        if not shiboken6.isValid(scene) or scene.document is not self.doc:
            return
        scene.set_expanded(self.node_id, on)
        if on:
            scene.inline_room[self.node_id] = dict(self._room)
        else:
            scene.inline_room.pop(self.node_id, None)

    def redo(self) -> None:
        self._apply(self.on, True)

    def undo(self) -> None:
        self._apply(not self.on, False)


def set_inline(scene: NetworkScene, node_ids: list[str], on: bool) -> None:
    """Expand (or collapse) ``node_ids`` inline, making room (or giving it back) as
    one undo step when cards move; a plain view change when none do."""
    stack = scene.controller.undo_stack
    commands: list[tuple[str, Moves]] = []
    for node_id in node_ids:
        if on:
            if scene.is_expanded(node_id):
                continue
            scene.set_expanded(node_id, True)  # drawn first: its size says what it covers
            moves = room_moves(scene, node_id)
            if moves:
                scene.set_expanded(node_id, False)  # the command shows it again
                commands.append((node_id, moves))
        else:
            room = scene.inline_room.get(node_id)
            back = restore_moves(scene.document, room) if room else {}
            if back:
                commands.append((node_id, back))
            else:
                scene.inline_room.pop(node_id, None)
                scene.set_expanded(node_id, False)
    if not commands:
        return
    text = "Expand Inline" if on else "Collapse Inline"
    stack.beginMacro(text)
    try:
        for node_id, moves in commands:
            stack.push(InlineCommand(scene, node_id, on, moves, text))
    finally:
        stack.endMacro()


__all__ = ["InlineCommand", "card_rect", "restore_moves", "room_moves", "set_inline"]
