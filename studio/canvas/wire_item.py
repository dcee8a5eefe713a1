"""Wires: smooth cubic curves from an output port to an input port.

A wire holds its ``graph.Edge`` and the two card items it joins; it asks the cards for
their port positions, so moving a card only recomputes the wires touching it. The label
is the inferred tensor on the wire (``N × 16 × 14 × 14``); the wire turns red when the
layer it feeds cannot take that shape. ``DragWireItem`` is the dashed wire that follows
the cursor while the user is wiring.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsView

from studio import resources

from .node_item import WIDTH
from .wire_label import UNLIMITED, LabelLayout, envelope, label_font, layout_label

Z_WIRE, Z_HOVERED = -1.0, 2.0  # under the cards; a hovered wire's label over them


def controls(p1: QPointF, p2: QPointF, arch: bool = True) -> tuple[QPointF, QPointF]:
    """Control points of a horizontal S-curve; a long wire between cards on one row
    arches over the cards between them instead of running behind them."""
    dx, dy = p2.x() - p1.x(), p2.y() - p1.y()
    if arch and dx > 2.2 * WIDTH and abs(dy) < 40:
        top = min(p1.y(), p2.y()) - min(100.0 + dx * 0.04, 200.0)
        return QPointF(p1.x() + 60, top), QPointF(p2.x() - 60, top)
    bend = max(abs(dx) * 0.5, 50.0)
    return QPointF(p1.x() + bend, p1.y()), QPointF(p2.x() - bend, p2.y())


def curve(p1: QPointF, p2: QPointF, arch: bool = True) -> QPainterPath:
    path = QPainterPath(p1)
    path.cubicTo(*controls(p1, p2, arch), p2)
    return path


class WireItem(QGraphicsRectItem):
    """A wire. Its bounds are the C++ rectangle of a QGraphicsRectItem (``setRect``;
    its own pen is never drawn), so painting a frame calls no Python for them (see
    ``NodeItem``)."""

    def __init__(self, edge, source_item, target_item, labels: bool = True) -> None:
        super().__init__()
        # Whether the view is zoomed in enough for labels (``set_labels_shown``): when
        # not, the bounds leave out the room a label would take, so each frame blends
        # a smaller cached pixmap per wire.
        self.labels_shown = labels
        self.setPen(NO_PEN_OBJECT)
        self.edge = edge
        self.source_item = source_item
        self.target_item = target_item
        self.label = ""
        self.error = False
        self._path = QPainterPath()
        self._shape: QPainterPath | None = None
        self._label_rect = QRectF()  # the label's box at 100% (for picking)
        self._middle = QPointF()
        self._room = UNLIMITED  # scene units across the label's spot (``wire_label``)
        self._hover_zoom: float | None = None  # the zoom hovered at, while hovered
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setAcceptHoverEvents(True)  # a label with no room shows while hovered
        self.setZValue(Z_WIRE)
        # Pans and repaints blit the cached curve; it is drawn again only when the wire
        # moves, changes state or the zoom changes.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.adjust()

    # ---------------------------------------------------------------- state
    def set_state(self, label: str, error: bool, tooltip: str = "") -> None:
        if (label, error) == (self.label, self.error):
            return
        self.label, self.error = label, error
        self.setToolTip(tooltip or label)
        self._place_label()
        self.update()

    def adjust(self) -> None:
        """Follow the ports after a card moved or changed its ports."""
        p1 = self.source_item.port_scene_pos("out", self.edge.source_port)
        p2 = self.target_item.port_scene_pos("in", self.edge.target_port)
        c1, c2 = controls(p1, p2)
        path = QPainterPath(p1)
        path.cubicTo(c1, c2, p2)
        self._path = path
        # The curve's middle, B(1/2) = (p1 + 3 c1 + 3 c2 + p2) / 8, without asking Qt.
        self._middle = (p1 + c1 * 3 + c2 * 3 + p2) / 8
        # A wire running forward between two cards has the gap between them for its
        # label; one running back (a wrapped row's return) or arching over a row has
        # its middle away from the cards.
        dx = p2.x() - p1.x()
        arched = c1.y() != p1.y()
        self._room = dx if dx >= 0 and not arched else UNLIMITED
        self._shape = None
        self._place_label()
        self.update()  # a new curve inside unchanged bounds still needs drawing

    def _place_label(self) -> None:
        bounds = self._path.boundingRect()
        at_100 = layout_label(self.label, self._middle, self._room, 1.0)
        self._label_rect = at_100.rect if at_100 is not None else QRectF()
        self._shape = None
        if self.label:
            if self.labels_shown:
                bounds = bounds.united(envelope(self.label, self._middle, self._room))
            hovered = self.hovered_layout()
            if hovered is not None:
                bounds = bounds.united(hovered.rect)
        self.setRect(bounds.adjusted(-4, -4, 4, 4))  # prepares the geometry change

    def set_labels_shown(self, shown: bool) -> None:
        """The view crossed LOD_LABEL (the scene passes it on): below it no label is
        drawn unless hovered, and the bounds need not hold one."""
        if shown != self.labels_shown:
            self.labels_shown = shown
            self._place_label()
            self.update()

    def label_layout(self, zoom: float) -> LabelLayout | None:
        """The label as drawn at ``zoom`` (None: not drawn), hovered or not."""
        if self._hover_zoom is not None:
            return self._forced_layout(zoom) if self.label else None
        if not self.labels_shown:
            return None
        return layout_label(self.label, self._middle, self._room, zoom)

    def hovered_layout(self) -> LabelLayout | None:
        if self._hover_zoom is None or not self.label:
            return None
        return self._forced_layout(self._hover_zoom)

    def _forced_layout(self, zoom: float) -> LabelLayout | None:
        """The whole label on one line, as while hovered: between two cards it floats
        just over their tops, so it hides neither title."""
        layout = layout_label(self.label, self._middle, self._room, zoom, force=True)
        if layout is None or self._room == UNLIMITED:
            return layout
        top = min(self.source_item.y(), self.target_item.y()) - 3 / zoom
        rect = layout.rect
        if rect.bottom() > top:
            rect = rect.translated(0, top - rect.bottom())
        return LabelLayout(layout.lines, layout.pixels, layout.scale, rect)

    # ---------------------------------------------------------------- hover
    def hoverEnterEvent(self, event) -> None:
        view = event.widget().parentWidget() if event.widget() is not None else None
        zoom = view.transform().m11() if isinstance(view, QGraphicsView) else 1.0
        if self.label and layout_label(self.label, self._middle, self._room, zoom) is None:
            # No room for it here: the whole label, over the cards, while hovered.
            self._hover_zoom = zoom
            self.setZValue(Z_HOVERED)
            self._place_label()
            self.update()
        super().hoverEnterEvent(event)

    def hoverLeaveEvent(self, event) -> None:
        if self._hover_zoom is not None:
            self._hover_zoom = None
            self.setZValue(Z_WIRE)
            self._place_label()
            self.update()
        super().hoverLeaveEvent(event)

    def path(self) -> QPainterPath:
        return self._path

    # ---------------------------------------------------------------- geometry
    def shape(self) -> QPainterPath:
        if self._shape is None:
            stroker = QPainterPathStroker()
            stroker.setWidth(9)
            self._shape = stroker.createStroke(self._path)
            if not self._label_rect.isNull():
                self._shape.addRect(self._label_rect)
        return self._shape

    # ---------------------------------------------------------------- painting
    def paint(self, painter: QPainter, option, widget=None) -> None:
        # Runs for every visible wire on every frame: no allocations beyond the cached
        # pens, no enum lookups.
        theme = resources.current()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        role = "accent" if self.isSelected() else "error" if self.error else "wire"
        painter.setRenderHint(ANTIALIASING)
        painter.setPen(_pen(theme, role, min(max(lod, 1.0), 2.0)))
        painter.setBrush(NO_BRUSH)
        painter.drawPath(self._path)
        layout = self.label_layout(lod) if self.label else None
        if layout is not None:
            r, scale = layout.rect, layout.scale
            painter.setPen(NO_PEN)
            painter.setBrush(theme.color("wire_label_bg"))
            painter.drawRoundedRect(r, 3 * scale, 3 * scale)
            painter.setFont(label_font(layout.pixels))
            painter.setPen(theme.color("error") if self.error else theme.color("wire_label"))
            text = "\n".join(layout.lines)
            if scale == 1.0:
                painter.drawText(r, ALIGN_CENTER, text)
            else:  # in screen pixels: a legible size whatever the zoom
                painter.save()
                painter.translate(r.topLeft())
                painter.scale(scale, scale)
                painter.drawText(QRectF(0, 0, r.width() / scale, r.height() / scale),
                                 ALIGN_CENTER, text)
                painter.restore()


WIDTHS = {"accent": 2.6, "error": 2.4, "wire": 1.6}
ANTIALIASING = QPainter.RenderHint.Antialiasing
NO_BRUSH, NO_PEN = Qt.BrushStyle.NoBrush, Qt.PenStyle.NoPen
ALIGN_CENTER = Qt.AlignmentFlag.AlignCenter
NO_PEN_OBJECT = QPen(Qt.PenStyle.NoPen)


@lru_cache(maxsize=64)
def _pen(theme, role: str, scale: float) -> QPen:
    # Cosmetic: the width is in screen pixels, so wires stay visible when zoomed out.
    pen = QPen(theme.color(role), WIDTHS[role] * scale)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


class DragWireItem(QGraphicsItem):
    """The wire under the cursor while dragging from a port (dashed, accent colour)."""

    def __init__(self, anchor: QPointF, from_output: bool) -> None:
        super().__init__()
        self.anchor = QPointF(anchor)
        self.from_output = from_output
        self.end = QPointF(anchor)
        self._path = QPainterPath(anchor)
        self.setZValue(10)

    def set_end(self, end: QPointF) -> None:
        self.prepareGeometryChange()
        self.end = QPointF(end)
        self._path = (curve(self.anchor, self.end, arch=False) if self.from_output
                      else curve(self.end, self.anchor, arch=False))

    def boundingRect(self) -> QRectF:
        return self._path.boundingRect().adjusted(-4, -4, 4, 4)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        pen = QPen(resources.current().color("accent"), 2.0, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
