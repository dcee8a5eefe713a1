"""The network scene: one card per node, one wire per edge, following the document.

Items are created, moved and removed only in reaction to the controller's document
events (its ``node_added``, ``edge_removed``, ``node_moved``... signals, each carrying
a ``graph.events`` object), so undo, redo, paste and
edits from any panel all show up the same way. Analysis results (tensor shapes, problems)
arrive with ``analysis_changed`` and only touch the items whose marks changed. The scene
never edits the document; the view turns gestures into controller intents.

A block instance may be expanded inline (``set_expanded``): its inner layers are drawn
under its card, read-only (``block_preview``), refreshed with each analysis. That is a
view state of this scene, not part of the document.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, QTimer, Signal
from PySide6.QtWidgets import QGraphicsScene

from graph import Edge
from graph.events import (
    EdgeAdded,
    EdgeRemoved,
    LabelChanged,
    NodeAdded,
    NodeMoved,
    NodeRemoved,
    ParamsChanged,
)

from .block_preview import BlockPreviewItem, preview_of
from .node_item import NodeFace, NodeItem
from .wire_item import WireItem
from .wire_label import LOD_LABEL

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

SCENE_MARGIN = 2000.0
ERROR_MARK, WARNING_MARK = "\u2716", "\u26a0"


class NetworkScene(QGraphicsScene):
    contents_changed = Signal()  # cards added, removed or moved (coalesced)

    def __init__(self, controller: DocumentController, parent=None) -> None:
        super().__init__(parent)
        # No BSP index: a full repaint then walks the cards in their kept stacking
        # order instead of querying and sorting the tree every frame (~7% of the
        # instructions of a 1,000-layer repaint), and auto-arrange moving every card
        # rebuilds no tree; lookups under the cursor stay well under a millisecond.
        self.setItemIndexMethod(QGraphicsScene.ItemIndexMethod.NoIndex)
        self.controller = controller
        self.nodes: dict[str, NodeItem] = {}
        self.wires: dict[Edge, WireItem] = {}
        self.extra_problems: dict[str, list] = {}
        self.expanded: dict[str, BlockPreviewItem] = {}  # instances expanded inline
        # The moves each expanded instance made to clear room for its frame
        # (``inline_room``): what collapsing it puts back.
        self.inline_room: dict[str, dict] = {}
        self._syncing_selection = False
        self.labels_shown = True  # the view is zoomed in enough for wire labels
        self._nodes_rect: QRectF | None = None  # cache of nodes_rect(), None when stale
        self._bounds_timer = QTimer(self)
        self._bounds_timer.setSingleShot(True)
        self._bounds_timer.setInterval(0)
        self._bounds_timer.timeout.connect(self._update_bounds)
        controller.document_replaced.connect(self.rebuild)
        controller.node_added.connect(self._on_node_added)
        controller.node_removed.connect(self._on_node_removed)
        controller.edge_added.connect(self._on_edge_added)
        controller.edge_removed.connect(self._on_edge_removed)
        controller.params_changed.connect(self._on_face_changed)
        controller.label_changed.connect(self._on_face_changed)
        controller.node_moved.connect(self._on_node_moved)
        controller.definition_changed.connect(self._on_definition_changed)
        controller.analysis_changed.connect(self.apply_analysis)
        controller.selection_changed.connect(self._select_from_controller)
        controller.training_changed.connect(lambda _event: self.show_frozen())
        self.selectionChanged.connect(self._report_selection)
        self.rebuild()

    @property
    def document(self):
        return self.controller.document

    # ---------------------------------------------------------------- building
    def rebuild(self) -> None:
        """Items for the whole document in one pass (a new or opened document)."""
        self._syncing_selection = True
        try:
            self.clear()
            self.expanded.clear()
            self.nodes.clear()
            self.wires.clear()
            for node in self.document.nodes.values():
                self._add_node(node.id)
            for edge in self.document.edges:
                self._add_wire(edge, refresh_ports=False)
            for item in self.nodes.values():
                self._refresh_connected(item)
        finally:
            self._syncing_selection = False
        if self.controller.analysis is not None \
                and self.controller.analysis.doc is self.document:
            self.apply_analysis(self.controller.analysis)
        self.show_frozen()
        self._update_bounds()

    def show_frozen(self) -> None:
        """Mark the cards of layers whose weights are frozen (``training["frozen"]``),
        or that learn at another rate (``training["lr_scale"]``); a frozen block says
        that all its inner layers are. Inside an open block, the layers that inherit
        the factor of the instance shown (or one around it) say so and where from."""
        c = self.controller
        frozen = c.frozen()
        scales = c.lr_scales()
        around = c.frozen_with()  # inside a block frozen as a whole
        # The factor an enclosing instance passes down, on the layers that take it.
        inherited = c.inherited_lr_scale() if around is None else None
        passed = set(c.weighted(list(self.nodes))) - set(scales) if inherited else set()
        for node_id, item in self.nodes.items():
            tag = ""
            if node_id in frozen and around is not None:
                tag = "\u2744 frozen with its block"
            elif node_id in frozen:
                layers = block_layers(self.document, node_id)
                if layers:
                    tag = (f"\u2744 frozen: all {layers} inner layer"
                           f"{'' if layers == 1 else 's'}")
            elif node_id not in scales and block_layers(self.document, node_id):
                # Single layers inside set apart: the collapsed card says so.
                inner_frozen, inner_scaled = c.inner_settings(node_id)
                parts = ([f"{inner_frozen} inner frozen"] if inner_frozen else []) + (
                    [f"{inner_scaled} inner lr \u00d7"] if inner_scaled else [])
                tag = ("\u2744 " if inner_frozen else "") + ", ".join(parts)
            if node_id in passed and not tag and node_id not in frozen:
                assert inherited is not None
                factor, source = inherited
                item.set_frozen(False, f"lr \u00d7{factor:g} (from block '{source}')",
                                factor, source)
                continue
            item.set_frozen(node_id in frozen, tag, scales.get(node_id, 1.0))

    def _add_node(self, node_id: str) -> NodeItem:
        node = self.document.nodes[node_id]
        item = NodeItem(node_id, NodeFace.of(node))
        item.setPos(*node.position)
        item.set_frozen(node_id in self.controller.frozen())
        self.addItem(item)
        self.nodes[node_id] = item
        return item

    def _add_wire(self, edge: Edge, refresh_ports: bool = True) -> WireItem:
        source, target = self.nodes[edge.source], self.nodes[edge.target]
        wire = WireItem(edge, source, target, self.labels_shown)
        self.addItem(wire)
        self.wires[edge] = wire
        source.wires.append(wire)
        target.wires.append(wire)
        if refresh_ports:
            self._refresh_connected(source)
            self._refresh_connected(target)
        return wire

    def _remove_wire(self, edge: Edge) -> None:
        wire = self.wires.pop(edge, None)
        if wire is None:
            return
        for end in (wire.source_item, wire.target_item):
            if wire in end.wires:
                end.wires.remove(wire)
            self._refresh_connected(end)
        self.removeItem(wire)

    @staticmethod
    def _refresh_connected(item: NodeItem) -> None:
        keys = set()
        for wire in item.wires:
            if wire.source_item is item:
                keys.add(f"out:{wire.edge.source_port}")
            if wire.target_item is item:
                keys.add(f"in:{wire.edge.target_port}")
        item.set_connected(keys)

    # ---------------------------------------------------------------- events
    def _bounds_stale(self) -> None:
        self._nodes_rect = None
        self._bounds_timer.start()

    def _on_node_added(self, event: NodeAdded) -> None:
        self._bounds_stale()
        self._add_node(event.node_id)

    def _on_node_removed(self, event: NodeRemoved) -> None:
        self._bounds_stale()
        item = self.nodes.pop(event.node_id, None)
        self.expanded.pop(event.node_id, None)  # a child of the card: goes with it
        if item is not None:
            for wire in list(item.wires):
                self._remove_wire(wire.edge)
            self.removeItem(item)

    def _on_edge_added(self, event: EdgeAdded) -> None:
        self._add_wire(event.edge)

    def _on_edge_removed(self, event: EdgeRemoved) -> None:
        self._remove_wire(event.edge)

    def _on_face_changed(self, event: ParamsChanged | LabelChanged) -> None:
        if isinstance(event, ParamsChanged):  # a card's size may change
            self._bounds_stale()
        item = self.nodes.get(event.node_id)
        if item is not None:
            item.set_face(NodeFace.of(self.document.nodes[event.node_id]))

    def _on_definition_changed(self, event) -> None:
        """A block's inside changed: its instances' cards may have other ports."""
        for node_id, item in self.nodes.items():
            node = self.document.nodes.get(node_id)
            if node is not None and node.params.get("block") == event.name:
                item.set_face(NodeFace.of(node))
        self._bounds_stale()

    def _on_node_moved(self, event: NodeMoved) -> None:
        self._bounds_stale()
        item = self.nodes.get(event.node_id)
        if item is not None:
            x, y = self.document.nodes[event.node_id].position
            if (item.x(), item.y()) != (x, y):
                item.setPos(x, y)

    def set_expanded(self, node_id: str, on: bool) -> bool:
        """Show (or hide) the inside of block instance ``node_id`` under its card;
        False when it is not a block."""
        item = self.nodes.get(node_id)
        preview = preview_of(self.document, node_id, self.controller.analysis) \
            if on and item is not None else None
        old = self.expanded.pop(node_id, None)
        if old is not None:
            self.removeItem(old)  # off the card too
        if item is not None:  # an expanded card (with its preview) over its neighbours
            item.setZValue(1.0 if preview is not None else 0.0)
        if preview is None or item is None:
            return False
        child = self.expanded[node_id] = BlockPreviewItem(item, preview)
        child.setPos(0.0, item.height() + 10.0)
        return True

    def is_expanded(self, node_id: str) -> bool:
        return node_id in self.expanded

    def _refresh_previews(self, analysis) -> None:
        for node_id, child in list(self.expanded.items()):
            preview = preview_of(self.document, node_id, analysis)
            item = self.nodes.get(node_id)
            if preview is None or item is None:  # no longer a block (undo, replace)
                self.set_expanded(node_id, False)
                self.inline_room.pop(node_id, None)
                continue
            child.set_preview(preview)
            child.setPos(0.0, item.height() + 10.0)

    def set_extra_problems(self, source: str, problems: list) -> None:
        """Marks from another check (the dataset check) beside the analysis's own."""
        self.extra_problems[source] = list(problems)
        self.apply_analysis(self.controller.analysis)

    def apply_analysis(self, analysis) -> None:
        """Shapes on wires, badges on cards; only changed items repaint."""
        if analysis is None or analysis.doc is not self.document:
            return
        marks: dict[str, list] = {}
        extra = [p for found in self.extra_problems.values() for p in found]
        for problem in [*analysis.problems, *extra]:
            for node_id in problem.node_ids[:1]:  # the node the problem is about
                marks.setdefault(node_id, []).append(problem)
        for node_id, item in self.nodes.items():
            found = marks.get(node_id, [])
            if not found:
                item.set_problems(None, "")
                continue
            severity = "error" if any(p.is_error for p in found) else "warning"
            text = "<br>".join(
                f"{ERROR_MARK if p.is_error else WARNING_MARK} {escape(p.message)}"
                + (f"<br><i>{escape(p.hint)}</i>" if p.hint else "") for p in found)
            item.set_problems(severity, text)
        shape_errors = {pid for pid, found in marks.items()
                        if any(p.kind == "shape" for p in found)}
        for edge, wire in self.wires.items():
            tensor = analysis.edge_tensor(edge)
            label = tensor.wire_label() if tensor is not None else ""
            error = edge.target in shape_errors
            tip = label
            if error:
                tip = "<br>".join(escape(p.message) for p in marks[edge.target]
                                  if p.kind == "shape")
            wire.set_state(label, error, tip)
        if self.expanded:
            self._refresh_previews(analysis)

    # ---------------------------------------------------------------- selection
    def _report_selection(self) -> None:
        if self._syncing_selection:
            return
        self.controller.select(self.selected_node_ids())

    def _select_from_controller(self, ids: list) -> None:
        if set(ids) == set(self.selected_node_ids()):
            return
        wanted = set(ids)
        self._syncing_selection = True
        try:
            for item in self.selectedItems():
                if not (isinstance(item, NodeItem) and item.node_id in wanted):
                    item.setSelected(False)
            for node_id in ids:
                card = self.nodes.get(node_id)
                if card is not None:
                    card.setSelected(True)
        finally:
            self._syncing_selection = False

    def selected_node_ids(self) -> list[str]:
        chosen = {i.node_id for i in self.selectedItems() if isinstance(i, NodeItem)}
        return [node_id for node_id in self.document.nodes if node_id in chosen]

    def selected_edges(self) -> list[Edge]:
        return [i.edge for i in self.selectedItems() if isinstance(i, WireItem)]

    def select_all(self) -> None:
        self._syncing_selection = True
        try:
            for item in self.nodes.values():
                item.setSelected(True)
        finally:
            self._syncing_selection = False
        self._report_selection()

    # ---------------------------------------------------------------- geometry
    def ensure_bounds(self) -> None:
        """Apply a pending scene-rect update now (before centring or fitting)."""
        if self._bounds_timer.isActive():
            self._bounds_timer.stop()
            self._update_bounds()

    def nodes_rect(self, node_ids=None) -> QRectF:
        """Bounding rectangle of the cards (all, or ``node_ids``)."""
        if node_ids is None and self._nodes_rect is not None:
            return QRectF(self._nodes_rect)
        items = (self.nodes.values() if node_ids is None
                 else [self.nodes[i] for i in node_ids if i in self.nodes])
        left = top = float("inf")
        right = bottom = float("-inf")
        for item in items:
            b, x, y = item.boundingRect(), item.x(), item.y()
            left, top = min(left, x + b.left()), min(top, y + b.top())
            right, bottom = max(right, x + b.right()), max(bottom, y + b.bottom())
        rect = QRectF() if left == float("inf") else QRectF(left, top, right - left,
                                                            bottom - top)
        if node_ids is None:
            self._nodes_rect = QRectF(rect)
        return rect

    def _update_bounds(self) -> None:
        self._nodes_rect = None
        rect = self.nodes_rect()
        if rect.isNull():
            rect = QRectF(0, 0, 800, 600)
        self.setSceneRect(rect.adjusted(-SCENE_MARGIN, -SCENE_MARGIN,
                                        SCENE_MARGIN, SCENE_MARGIN))
        self.contents_changed.emit()

    def set_view_zoom(self, zoom: float) -> None:
        """The view's zoom (from ``NetworkView.set_zoom``): wires keep room for their
        labels in their bounds only while labels can be drawn."""
        shown = round(zoom, 6) >= LOD_LABEL
        if shown != self.labels_shown:
            self.labels_shown = shown
            for wire in self.wires.values():
                wire.set_labels_shown(shown)

    def set_highlights(self, keys_by_node: dict[str, set[str]]) -> None:
        """Light up the ports that accept the wire being dragged (empty: none)."""
        for node_id, item in self.nodes.items():
            item.set_highlighted(keys_by_node.get(node_id, set()))


def block_layers(document, node_id: str) -> int:
    """Layers inside the block instance ``node_id`` (repeats counted), 0 for a layer."""
    from graph.blocks import BLOCK

    node = document.nodes.get(node_id)
    if node is None or node.type != BLOCK:
        return 0
    definition = document.blocks.definitions.get(node.params.get("block"))
    if definition is None:
        return 0
    return definition.layer_count() * int(node.params.get("repeat", 1) or 1)
