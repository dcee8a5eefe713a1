"""The network view: turns mouse and keyboard gestures on the scene into intents.

Gestures and what they report to the controller:
- drag from a port to a port: ``connect`` (valid target ports light up while dragging;
  an occupied input gets its old wire replaced); drop on empty canvas: quick-add, then
  ``add_node_connected``;
- drag cards: they follow the cursor snapped to the grid; on release one ``move_nodes``
  (one undo step);
- click, Ctrl/Shift-click, rubber band: selection, mirrored to ``controller.select``;
- middle button or Space+drag pans, the wheel zooms around the cursor;
- a layer dropped from the palette, double-click or Tab: ``add_node`` at that spot.
The view never edits the document or moves items for good: the scene follows the
document's events.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QCursor, QMouseEvent, QPainter, QPen, QPixmapCache, QPolygonF
from PySide6.QtWidgets import QGraphicsView

from graph import Edge
from graph.errors import StrataError
from studio import resources
from studio.panels.palette import LAYER_MIME

from .empty_hint import EmptyCanvasHint
from .minimap import Minimap
from .node_item import HEADER, WIDTH, NodeItem
from .quick_add import QuickAddPopup
from .readable import READABLE_MIN, framed_centre, readable_zoom
from .scene import NetworkScene
from .wire_item import DragWireItem, WireItem

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

GRID = 20.0
MIN_ZOOM, MAX_ZOOM = 0.08, 3.0
DRAG_START = 4  # pixels before a press on a card becomes a move


def snap(value: float) -> float:
    return round(value / GRID) * GRID


class NetworkView(QGraphicsView):
    node_activated = Signal(str)  # double-click on a card
    node_opened = Signal(str)  # double-click on a block's card: show its inside
    escape_pressed = Signal()  # Escape with no gesture to cancel: up one block level
    zoom_changed = Signal(float)

    def __init__(self, controller: DocumentController, scene: NetworkScene | None = None, parent=None) -> None:
        self.controller = controller
        super().__init__(parent)
        # The view owns its scene, so the scene outlives every view callback while the
        # window is torn down (a scene deleted first leaves the view painting freed items).
        scene = scene or NetworkScene(controller, self)
        self.setScene(scene)
        self.network_scene = scene
        self.setRenderHints(QPainter.RenderHint.Antialiasing
                            | QPainter.RenderHint.TextAntialiasing)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setCacheMode(QGraphicsView.CacheModeFlag.CacheBackground)
        # Cards and wires paint from per-item pixmaps; room for a full screen of them
        # at any zoom, so panning never re-renders what was just drawn.
        QPixmapCache.setCacheLimit(max(QPixmapCache.cacheLimit(), 64 * 1024))
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemShape)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        # Panning and the minimap move around; scrollbars would only take room.
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._mode: str | None = None  # "pan", "move", "wire" while a gesture runs
        self._press_pos = QPoint()
        self._last_pos = QPoint()
        self._space = False
        self._moving: dict[str, QPointF] = {}  # node id -> position at press
        self._anchor: NodeItem | None = None
        self._moved = False
        self._wire: DragWireItem | None = None
        self._wire_from: tuple[str, str, bool] | None = None  # node, port, from output
        self._targets: set[tuple[str, str]] = set()
        self.quick_add: QuickAddPopup | None = None
        # While true, resizing the view frames the document again (the window settles
        # its layout after the document is shown); the user's first gesture ends it.
        self._auto_frame = False
        # Whether the user moved the view (panned, zoomed, scrolled) since the document
        # was framed: a click that selects a card does not, so another workspace frames
        # the document again for its canvas (``keep_framed_if_whole``).
        self.navigated = False
        self.top_room = 0  # screen pixels kept free over a fitted network (set_top_room)
        self._top_rooms: dict[str, int] = {}  # ... per widget over the canvas there
        self.bottom_room = 0  # ...and under it (set_bottom_room)
        self._keep_centre: QPointF | None = None  # until the user's next gesture
        # Framing keeps titles readable (the Train workspace's short canvas): see
        # ``studio.canvas.readable``.
        self.readable_fit = False
        # An open block's inside is framed readably in any workspace (show_level).
        self._level_readable = False
        self._followed: set[int] = set()  # scenes whose selection the view follows
        for bar in (self.horizontalScrollBar(), self.verticalScrollBar()):
            bar.actionTriggered.connect(self._scrolled_by_user)
        self.minimap = Minimap(self)
        self.empty_hint = EmptyCanvasHint(self)
        controller.document_replaced.connect(self.show_document)
        self._follow_selection_of(scene)

    # ---------------------------------------------------------------- zoom & fit
    def zoom(self) -> float:
        return self.transform().m11()

    def set_zoom(self, value: float) -> None:
        self._keep_centre = None
        value = min(max(value, MIN_ZOOM), MAX_ZOOM)
        factor = value / self.zoom()
        if abs(factor - 1.0) > 1e-9:
            self.scale(factor, factor)
            self.network_scene.set_view_zoom(value)
            self.zoom_changed.emit(value)
            self.minimap.refresh()

    def _scrolled_by_user(self, *_args) -> None:
        self._auto_frame, self.navigated = False, True

    def zoom_in(self) -> None:
        self._auto_frame, self.navigated = False, True
        self._zoom_at_centre(1.25)

    def zoom_out(self) -> None:
        self._auto_frame, self.navigated = False, True
        self._zoom_at_centre(0.8)

    def _zoom_at_centre(self, factor: float) -> None:
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.set_zoom(self.zoom() * factor)
        self.setTransformationAnchor(anchor)

    def fit_rect(self, rect: QRectF, max_zoom: float = 1.0,
                 focus: QRectF | None = None, min_zoom: float = READABLE_MIN) -> None:
        """Frame ``rect`` whole, unless that zooms out below ``min_zoom`` (by default
        READABLE_MIN, where card bodies are blank): then at ``min_zoom``, around ``focus`` (else the start of
        ``rect``, its input end), the rest a pan away (the minimap shows where). Open,
        Fit to Window and Auto-arrange all frame this way (issue 10: a 21-layer chain
        opened at 54% on a 1280x720 screen, every card blank)."""
        if rect.isNull():
            return
        self.network_scene.ensure_bounds()
        rect = rect.adjusted(-40, -60, 40, 40)
        view = self.viewport().rect()
        top, bottom = self.top_room, self.bottom_room  # covered by a banner, a legend
        room_h = max(view.height() - top - bottom, 1)
        scale = min(view.width() / rect.width(), room_h / rect.height(), max_zoom)
        if scale >= min_zoom:
            self.set_zoom(scale)
            centre = rect.center()
        else:
            self.set_zoom(min_zoom)
            centre = framed_centre(rect, focus, view.width() / min_zoom, room_h / min_zoom)
        self.centre_on(centre - QPointF(0, (top - bottom) / 2 / max(self.zoom(), 1e-3)))

    def frame_readable(self, rect: QRectF) -> bool:
        """Frame ``rect`` no smaller than its titles can be read (``readable_fit``):
        around the selection, else at the network's start. False when the whole
        network fits at a readable zoom (``fit_rect`` frames it)."""
        zoom = readable_zoom(item.face.title for item in self.network_scene.nodes.values())
        padded = rect.adjusted(-40, -60, 40, 40)
        view = self.viewport().rect()
        room_h = max(view.height() - self.top_room - self.bottom_room, 1)
        if min(view.width() / padded.width(), room_h / padded.height()) >= zoom:
            return False
        self.network_scene.ensure_bounds()
        self.set_zoom(zoom)
        ids = self.selected_node_ids()
        focus = self.network_scene.nodes_rect(ids) if ids else None
        centre = framed_centre(padded, focus, view.width() / zoom, room_h / zoom)
        self.centre_on(centre - QPointF(0, (self.top_room - self.bottom_room) / 2 / zoom))
        return True

    def set_readable_fit(self, on: bool) -> None:
        """Frame the document readably (True) or whole (False), from now on."""
        if on != self.readable_fit:
            self.readable_fit = on
            if self._auto_frame:
                self.show_document()

    def _follow_selection_of(self, scene: NetworkScene) -> None:
        if id(scene) not in self._followed:
            self._followed.add(id(scene))
            scene.selectionChanged.connect(self._follow_selection)

    def _follow_selection(self) -> None:
        """Framed readably, the view follows the selection (a layer picked in a plot or
        the Problems list) to where it is off screen."""
        if not self.readable_fit or self._mode is not None:
            return
        scene = self.network_scene
        items = [i for i in scene.selectedItems() if isinstance(i, NodeItem)]
        if len(items) != 1:
            return
        shown = self.mapToScene(self.viewport().rect()).boundingRect()
        if not shown.contains(items[0].sceneBoundingRect()):
            self.centre_on(items[0].sceneBoundingRect().center())
            self.minimap.refresh()

    def fit_all(self) -> None:
        """Everything in view (never magnified beyond 100%)."""
        self._auto_frame = False
        self.fit_rect(self.network_scene.nodes_rect())

    def show_document(self) -> None:
        """The starting view of a document: all of it (titles stay drawn at any zoom;
        auto-arrange wraps a long chain so it fits larger)."""
        self._auto_frame, self.navigated = True, False
        rect = self.network_scene.nodes_rect()
        if rect.isNull():
            self.set_zoom(1.0)
            self.centerOn(0, 0)
            return
        readable = self.readable_fit or self._level_readable
        if not (readable and self.frame_readable(rect)):
            self.fit_rect(rect)

    def set_top_room(self, pixels: int, owner: str = "") -> None:
        """Keep ``pixels`` at the top of the canvas free when fitting, for ``owner``
        (the training lock's note and the heat legend share that one thin line: they
        covered the top and bottom rows of a fitted network); the most any owner asks."""
        self._top_rooms[owner] = pixels
        room = max(self._top_rooms.values(), default=0)
        if room != self.top_room:
            self.top_room = room
            if self._auto_frame:
                self.show_document()

    def set_bottom_room(self, pixels: int) -> None:
        """Keep ``pixels`` at the bottom of the canvas free when fitting (the gradient
        heat legend sits there during a run)."""
        if pixels != self.bottom_room:
            self.bottom_room = pixels
            if self._auto_frame:
                self.show_document()

    def keep_framed_if_whole(self, *_args) -> None:
        """The canvas is about to change size (another workspace): a network shown
        whole, or as it was framed (the user clicked, but did not move the view), is
        framed again for the new canvas; a view the user zoomed or panned stays."""
        rect = self.network_scene.nodes_rect()
        shown = self.mapToScene(self.viewport().rect()).boundingRect()
        if not rect.isNull() and (shown.contains(rect) or not self.navigated):
            self._auto_frame = True

    def show_level(self, controller: DocumentController, scene: NetworkScene,
                   readable: bool = False) -> None:
        """Show another level (the network, or an open block's inside): its
        controller takes the gestures, its scene the canvas. ``readable`` (an open
        block) frames it at a zoom where its titles read, from its input port, the
        rest a pan away: a whole body fitted in was a row of blank cards at 34%."""
        if scene is self.network_scene:
            return
        self._level_readable = readable
        if self._mode == "wire":
            self._cancel_wire()
        self._mode, self._moving, self._anchor = None, {}, None
        self.controller = controller
        self.network_scene = scene
        self.setScene(scene)
        scene.set_view_zoom(self.zoom())
        self._follow_selection_of(scene)
        self.show_document()
        self.minimap.refresh()
        self.empty_hint.follow(scene)

    def center_on_node(self, node_id: str) -> None:
        item = self.network_scene.nodes.get(node_id)
        if item is not None:
            self._auto_frame, self.navigated = False, True
            self.network_scene.ensure_bounds()
            self.centre_on(item.sceneBoundingRect().center())
            # Docks may still be settling (Problems appearing): stay centred on it.
            self._keep_centre = item.sceneBoundingRect().center()
            self.minimap.refresh()

    def centre_on(self, point: QPointF) -> None:
        """Centre on ``point`` even near the scene's edge when zoomed far out (the
        scene's margin is in scene units; the view may need more room around it)."""
        half_w = self.viewport().width() / max(self.zoom(), 1e-3) / 2
        half_h = self.viewport().height() / max(self.zoom(), 1e-3) / 2
        room = QRectF(point.x() - half_w, point.y() - half_h, 2 * half_w, 2 * half_h)
        scene = self.network_scene
        if not scene.sceneRect().contains(room):
            scene.setSceneRect(scene.sceneRect().united(room))
        self.centerOn(point)

    def scene_cursor_pos(self) -> QPointF | None:
        """The cursor in scene coordinates, or None when it is outside the view."""
        pos = self.viewport().mapFromGlobal(QCursor.pos())
        if not self.viewport().rect().contains(pos):
            return None
        return self.mapToScene(pos)

    def visible_center(self) -> QPointF:
        return self.mapToScene(self.viewport().rect().center())

    # ---------------------------------------------------------------- hit tests
    def _item_at(self, view_pos: QPoint):
        for item in self.items(view_pos):
            while item.parentItem() is not None:
                item = item.parentItem()
            if isinstance(item, (NodeItem, WireItem)):
                return item
        return None

    def _port_at(self, scene_pos: QPointF):
        """(node item, kind, port) under ``scene_pos`` within a few screen pixels."""
        reach = 10.0 / max(self.zoom(), 0.2)
        area = QRectF(scene_pos.x() - reach, scene_pos.y() - reach, 2 * reach, 2 * reach)
        for item in self.scene().items(area):
            if isinstance(item, NodeItem):
                hit = item.port_at(item.mapFromScene(scene_pos), reach)
                if hit:
                    return item, hit[0], hit[1]
        return None

    # ---------------------------------------------------------------- mouse
    def _select_for_menu(self, pos: QPoint) -> None:
        """Right-click: the menu acts on the node under the cursor, so it becomes the
        selection (a multi-selection it belongs to stays as it is)."""
        item = self._item_at(pos)
        if item is None:
            return
        if not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)

    def node_at(self, view_pos: QPoint) -> str | None:
        item = self._item_at(view_pos)
        return item.node_id if isinstance(item, NodeItem) else None

    def wire_at(self, view_pos: QPoint) -> Edge | None:
        item = self._item_at(view_pos)
        return item.edge if isinstance(item, WireItem) else None

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus()
        self._auto_frame = False
        self._keep_centre = None
        pos = event.position().toPoint()
        if event.button() == Qt.MouseButton.MiddleButton or (
                event.button() == Qt.MouseButton.LeftButton and self._space):
            self._mode, self._last_pos = "pan", pos
            self.navigated = True
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return
        if event.button() == Qt.MouseButton.RightButton:
            self._select_for_menu(pos)
            event.accept()
            return
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        scene_pos = self.mapToScene(pos)
        port = self._port_at(scene_pos)
        if port is not None:
            item, kind, name = port
            wired = [e for e in self.controller.document.edges_into(item.node_id)
                     if e.target_port == name] if kind == "in" else []
            if wired:  # pick the wire up from its input, to drop it elsewhere
                self._pick_up_wire(wired[0])
            else:
                self._start_wire(*port)
            return
        item = self._item_at(pos)
        toggle = bool(event.modifiers() & (Qt.KeyboardModifier.ControlModifier
                                           | Qt.KeyboardModifier.ShiftModifier))
        if item is None:
            if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
                # Qt extends a rubber-band selection with Ctrl; Shift means the same here.
                event = QMouseEvent(event.type(), event.position(), event.globalPosition(),
                                    event.button(), event.buttons(),
                                    Qt.KeyboardModifier.ControlModifier)
            super().mousePressEvent(event)
            return
        if toggle:
            item.setSelected(not item.isSelected())
            return
        if not item.isSelected():
            self.scene().clearSelection()
            item.setSelected(True)
        if isinstance(item, NodeItem):
            self._mode, self._press_pos, self._moved = "move", pos, False
            self._anchor = item
            nodes = self.network_scene.nodes
            self._moving = {i: nodes[i].pos() for i in self.network_scene.selected_node_ids()}

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        if self._mode == "pan":
            delta = pos - self._last_pos
            self._last_pos = pos
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            return
        if self._mode == "move" and self._anchor is not None:
            if not self._moved and (pos - self._press_pos).manhattanLength() < DRAG_START:
                return
            self._moved = True
            offset = self.mapToScene(pos) - self.mapToScene(self._press_pos)
            start = self._moving[self._anchor.node_id]
            # Snap the card under the cursor; the others keep their offsets to it.
            dx = snap(start.x() + offset.x()) - start.x()
            dy = snap(start.y() + offset.y()) - start.y()
            for node_id, origin in self._moving.items():
                self.network_scene.nodes[node_id].setPos(origin.x() + dx, origin.y() + dy)
            return
        if self._mode == "wire" and self._wire is not None:
            self._wire.set_end(self.mapToScene(pos))
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        mode, self._mode = self._mode, None
        pos = event.position().toPoint()
        if mode == "pan":
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor if self._space
                                      else Qt.CursorShape.ArrowCursor)
            return
        if mode == "move":
            moved = {i: (self.network_scene.nodes[i].x(), self.network_scene.nodes[i].y())
                     for i in self._moving if i in self.network_scene.nodes}
            self._moving, self._anchor = {}, None
            if self._moved:
                self.controller.move_nodes(moved)
            return
        if mode == "wire":
            self._finish_wire(self.mapToScene(pos))
            return
        super().mouseReleaseEvent(event)
        event.accept()  # a click on empty canvas is handled (it cleared the selection)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            item = self._item_at(event.position().toPoint())
            if isinstance(item, NodeItem):
                node = self.controller.document.nodes.get(item.node_id)
                if node is not None and node.type == "Block":
                    self.node_opened.emit(item.node_id)
                else:
                    self.node_activated.emit(item.node_id)
                return
            if item is None:
                self.open_quick_add(self.mapToScene(event.position().toPoint()))
                return
        super().mouseDoubleClickEvent(event)

    def wheelEvent(self, event) -> None:
        self._auto_frame, self.navigated = False, True
        self._keep_centre = None
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.zoom_at(event.position().toPoint(), self.zoom() * (1.2 ** steps))
        event.accept()

    def zoom_at(self, view_pos: QPoint, value: float) -> None:
        """Zoom keeping the scene point under ``view_pos`` where it is on screen."""
        fixed = self.mapToScene(view_pos)
        anchor = self.transformationAnchor()
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.set_zoom(value)
        self.setTransformationAnchor(anchor)
        drift = self.viewportTransform().map(fixed) - QPointF(view_pos)
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() + round(drift.x()))
        v.setValue(v.value() + round(drift.y()))

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        super().scrollContentsBy(dx, dy)
        self.minimap.refresh()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.minimap.reposition()
        self.empty_hint.reposition()
        if self._auto_frame:
            self.show_document()
        elif self._keep_centre is not None:
            self.centre_on(self._keep_centre)

    # ---------------------------------------------------------------- keys
    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return
        if event.key() == Qt.Key.Key_Escape and self._mode == "wire":
            self._cancel_wire()
            return
        if event.key() == Qt.Key.Key_Escape and self._mode is None:
            self.escape_pressed.emit()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.viewport().setCursor(Qt.CursorShape.ArrowCursor)
            return
        super().keyReleaseEvent(event)

    def event(self, event) -> bool:
        # Tab would move the focus to the next widget; on the canvas it means quick add.
        if event.type() == event.Type.KeyPress and event.key() == Qt.Key.Key_Tab:
            self.quick_add_here()
            return True
        return super().event(event)

    # ---------------------------------------------------------------- wiring
    def _start_wire(self, item: NodeItem, kind: str, port: str) -> None:
        from_output = kind == "out"
        self._mode = "wire"
        self._wire_from = (item.node_id, port, from_output)
        anchor = item.port_scene_pos(kind, port)
        self._wire = DragWireItem(anchor, from_output)
        self.scene().addItem(self._wire)
        self._targets = self.controller.connectable_ports(item.node_id, port, from_output)
        lit: dict[str, set[str]] = {}
        prefix = "in" if from_output else "out"
        for node_id, name in self._targets:
            lit.setdefault(node_id, set()).add(f"{prefix}:{name}")
        self.network_scene.set_highlights(lit)

    def _pick_up_wire(self, edge: Edge) -> None:
        """Drag an existing wire off its input: it follows the cursor from its source;
        dropped on another input it moves there, dropped elsewhere it is removed."""
        source = self.network_scene.nodes[edge.source]
        wire = self.network_scene.wires.get(edge)
        if wire is not None:
            wire.hide()
        self._start_wire(source, "out", edge.source_port)
        self._picked = edge
        # Its own input stays a valid target (dropping it back changes nothing).
        self._targets.add((edge.target, edge.target_port))

    _picked: Edge | None = None

    def _finish_wire(self, scene_pos: QPointF) -> None:
        if self._wire_from is None:
            return
        node_id, port, from_output = self._wire_from
        hit = self._port_at(scene_pos)
        over_item = self._item_at(self.mapFromScene(scene_pos))
        picked = self._picked
        self._cancel_wire()
        if picked is not None:
            self._drop_picked(picked, hit)
            return
        if hit is not None:
            item, _kind, name = hit
            if (item.node_id, name) in self._targets:
                if from_output:
                    self.controller.connect(node_id, port, item.node_id, name)
                else:
                    self.controller.connect(item.node_id, name, node_id, port)
            return
        if over_item is None:  # dropped on empty canvas: choose a layer to wire up
            link = {"source": (node_id, port)} if from_output else {"target": (node_id, port)}
            self.open_quick_add(scene_pos, link)

    def _drop_picked(self, edge: Edge, hit) -> None:
        target = (hit[0].node_id, hit[2]) if hit is not None and hit[1] == "in" else None
        if target == (edge.target, edge.target_port):
            return  # put back where it was
        if target is not None and target not in self._targets:
            return  # not a place it may go: it stays where it was
        if target is None:
            self.controller.disconnect(edge)
            return
        stack = self.controller.undo_stack
        stack.beginMacro("Move wire")
        self.controller.disconnect(edge)
        self.controller.connect(edge.source, edge.source_port, *target)
        stack.endMacro()

    def _cancel_wire(self) -> None:
        self._mode = None
        if self._picked is not None:
            wire = self.network_scene.wires.get(self._picked)
            if wire is not None:
                wire.show()
            self._picked = None
        if self._wire is not None:
            self.scene().removeItem(self._wire)
            self._wire = None
        self.network_scene.set_highlights({})

    # ---------------------------------------------------------------- adding
    def quick_add_here(self) -> QuickAddPopup | None:
        """Tab / Ctrl+K: with one layer selected the new one follows it, wired;
        otherwise it goes under the cursor (or in the middle of the view)."""
        ids = self.selected_node_ids()
        if len(ids) == 1 and self.network_scene.nodes.get(ids[0]) is not None:
            item = self.network_scene.nodes[ids[0]]
            if item.face.outputs:
                return self.insert_after_dialog(ids[0])
        return self.open_quick_add(self.scene_cursor_pos() or self.visible_center())

    def insert_after_dialog(self, node_id: str) -> QuickAddPopup | None:
        """"Insert after...": the layer search, the chosen layer wired in after
        ``node_id`` (into its outgoing wire when it has one)."""
        item = self.network_scene.nodes.get(node_id)
        if item is None:
            return None
        anchor = item.sceneBoundingRect().topRight() + QPointF(100, 12)
        return self.open_quick_add(anchor, {"after": node_id})

    def open_quick_add(self, scene_pos: QPointF, link: dict | None = None) -> QuickAddPopup:
        """The layer search popup at ``scene_pos``; the chosen layer is added there
        (wired to ``link``'s ``source`` or ``target`` port when given)."""
        if self.quick_add is not None:
            self.quick_add.close()
        accept = None
        if link and "after" in link:
            # An Output ends a chain; it cannot go into the middle of a wire.
            into_wire = self._outgoing_wire(link["after"]) is not None
            accept = lambda spec: bool(spec.inputs) and (bool(spec.outputs) or not into_wire)
        elif link and "source" in link:
            accept = lambda spec: bool(spec.inputs)
        elif link and "target" in link:
            accept = lambda spec: bool(spec.outputs)
        popup = QuickAddPopup(self, accept, "Add and connect" if link else "Add layer")
        if link and "after" in link:
            popup.chosen.connect(lambda type_name: self.add_after(type_name, link["after"]))
        else:
            popup.chosen.connect(lambda type_name: self.add_layer(type_name, scene_pos, link))
        popup.destroyed.connect(lambda *_: setattr(self, "quick_add", None))
        self.quick_add = popup
        popup.popup(self.viewport().mapToGlobal(self.mapFromScene(scene_pos)))
        return popup

    def add_layer(self, type_name: str, scene_pos: QPointF, link: dict | None = None) -> str:
        position = self.card_position(scene_pos)
        if link:
            node_id = self.controller.add_node_connected(type_name, position, **link)
        else:
            node_id = self.controller.add_node(type_name, position)
        self.controller.select([node_id])
        self.reveal([node_id])
        return node_id

    @staticmethod
    def _insertable(type_name: str) -> bool:
        """Whether a layer of this type can sit in the middle of a wire."""
        from graph import get_spec

        spec = get_spec(type_name)
        return bool(spec.inputs) and bool(spec.outputs)

    def _outgoing_wire(self, node_id: str):
        """The one wire leaving ``node_id``'s first output (a layer added after it goes
        into that wire), or None (none, or several: it is fed beside them)."""
        doc = self.controller.document
        node = doc.nodes.get(node_id)
        if node is None or not node.spec.outputs:
            return None
        out = node.spec.output_names(node.params)[0]
        wires = [e for e in doc.edges_from(node_id) if e.source_port == out]
        return wires[0] if len(wires) == 1 else None

    def add_after(self, type_name: str, node_id: str) -> str:
        """Append a layer after ``node_id`` and wire it: into its outgoing wire when it
        has exactly one, else fed from its first output, to its right (an Output too:
        it ends the chain there)."""
        from graph import get_spec

        doc = self.controller.document
        node = doc.nodes.get(node_id)
        if node is None or not node.spec.outputs or not get_spec(type_name).inputs:
            return ""
        wire = self._outgoing_wire(node_id)
        if wire is not None:
            if not self._insertable(type_name):
                return ""
            new = self.controller.insert_on_edge(wire, type_name)
        else:
            out = node.spec.output_names(node.params)[0]
            x, y = node.position
            new = self.controller.add_node_connected(type_name, (x + 240.0, y),
                                                     source=(node_id, out))
        if new:
            self.controller.select([new])
            self.reveal([new])
        return new

    def reveal(self, node_ids: list[str]) -> None:
        """Scroll (never zoom) so the new or pasted cards are in view: a layer appended
        after the last card of a long chain would otherwise land out of sight."""
        items = [self.network_scene.nodes[i] for i in node_ids if i in self.network_scene.nodes]
        if not items:
            return
        rect = items[0].sceneBoundingRect()
        for item in items[1:]:
            rect = rect.united(item.sceneBoundingRect())
        self._auto_frame, self._keep_centre, self.navigated = False, None, True
        self.network_scene.ensure_bounds()
        self.ensureVisible(rect, 40, 40)
        self.minimap.refresh()

    @staticmethod
    def card_position(scene_pos: QPointF) -> tuple[float, float]:
        """Top-left of a new card so its header sits under ``scene_pos``."""
        return snap(scene_pos.x() - WIDTH / 2), snap(scene_pos.y() - HEADER / 2)

    # ---------------------------------------------------------------- palette drops
    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        if not event.mimeData().hasFormat(LAYER_MIME):
            event.ignore()
            return
        type_name = bytes(event.mimeData().data(LAYER_MIME)).decode("utf-8")
        scene_pos = self.mapToScene(event.position().toPoint())
        edge = self.wire_at(event.position().toPoint())
        try:
            if edge is not None and self._insertable(type_name):
                node_id = self.controller.insert_on_edge(edge, type_name)
                if node_id:
                    self.controller.select([node_id])
            else:
                self.add_layer(type_name, scene_pos)
        except StrataError:  # an unknown layer type from a foreign drag: ignore it
            event.ignore()
            return
        event.acceptProposedAction()

    # ---------------------------------------------------------------- background
    def drawBackground(self, painter: QPainter, rect: QRectF | QRect) -> None:
        theme = resources.current()
        painter.fillRect(rect, theme.color("canvas"))
        # A dot grid: quiet enough to read cards over, visible enough to align them.
        zoom = self.zoom()
        step = GRID if GRID * zoom >= 12 else GRID * 5
        if step * zoom < 12:
            return
        pen = QPen(theme.color("grid_major"), 2.0 if step == GRID else 1.5)
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        left = math.floor(rect.left() / step) * step
        top = math.floor(rect.top() / step) * step
        xs = [left + i * step for i in range(int((rect.right() - left) / step) + 1)]
        ys = [top + j * step for j in range(int((rect.bottom() - top) / step) + 1)]
        painter.drawPoints(QPolygonF([QPointF(x, y) for y in ys for x in xs]))

    def refresh_theme(self) -> None:
        self.resetCachedContent()
        for item in self.scene().items():
            item.update()
        self.viewport().update()
        self.minimap.refresh()

    # ---------------------------------------------------------------- selection
    def selected_node_ids(self) -> list[str]:
        return self.network_scene.selected_node_ids()

    def selected_edges(self) -> list[Edge]:
        return self.network_scene.selected_edges()
