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
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPainterPathStroker,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem

from studio import resources

from .node_item import WIDTH

LOD_LABEL = 0.5
LABEL_PAD = 3.0
_FONT: QFont | None = None


def label_font() -> QFont:
    global _FONT
    if _FONT is None:
        _FONT = resources.ui_font()
        _FONT.setPixelSize(10)
    return _FONT


def label_size(text: str) -> tuple[float, float]:
    """Width and height of a wire label's box (cached: there are few distinct shapes)."""
    size = _SIZES.get(text)
    if size is None:
        metrics = QFontMetricsF(label_font())
        size = _SIZES[text] = (metrics.horizontalAdvance(text) + 2 * LABEL_PAD,
                               metrics.height() + 2)
    return size


_SIZES: dict[str, tuple[float, float]] = {}


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


class WireItem(QGraphicsItem):
    def __init__(self, edge, source_item, target_item) -> None:
        super().__init__()
        self.edge = edge
        self.source_item = source_item
        self.target_item = target_item
        self.label = ""
        self.error = False
        self._path = QPainterPath()
        self._shape: QPainterPath | None = None
        self._label_rect = QRectF()
        self._bounds = QRectF()
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setZValue(-1)  # under the cards
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
        self.prepareGeometryChange()
        self._path = path
        # The curve's middle, B(1/2) = (p1 + 3 c1 + 3 c2 + p2) / 8, without asking Qt.
        self._middle = (p1 + c1 * 3 + c2 * 3 + p2) / 8
        self._shape = None
        self._place_label()

    def _place_label(self) -> None:
        bounds = self._path.boundingRect()
        if self.label:
            w, h = label_size(self.label)
            # Just above the wire's middle: the wire stays visible and a label wider
            # than the gap between two cards does not hide their ports.
            mid = self._middle
            self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h - 1.5, w, h)
            bounds = bounds.united(self._label_rect)
            # A label wider than the gap between the cards would be hidden under them:
            # such a wire is drawn above the cards (it only touches their edges). A
            # wire running back (a wrapped row's return) crosses the cards between its
            # ends, over their titles: it stays under them.
            gap = self._path.elementAt(self._path.elementCount() - 1).x \
                - self._path.elementAt(0).x
            self.setZValue(0.5 if 0 <= gap < w + 8 else -1)
        else:
            self._label_rect = QRectF()
        self.prepareGeometryChange()
        self._bounds = bounds.adjusted(-4, -4, 4, 4)

    def path(self) -> QPainterPath:
        return self._path

    # ---------------------------------------------------------------- geometry
    def boundingRect(self) -> QRectF:
        return self._bounds

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
        if self.label and lod >= LOD_LABEL:
            painter.setPen(NO_PEN)
            painter.setBrush(theme.color("wire_label_bg"))
            r = self._label_rect
            painter.drawRoundedRect(r, 3, 3)
            painter.setFont(label_font())
            painter.setPen(theme.color("error") if self.error else theme.color("wire_label"))
            painter.drawText(r, ALIGN_CENTER, self.label)


WIDTHS = {"accent": 2.6, "error": 2.4, "wire": 1.6}
ANTIALIASING = QPainter.RenderHint.Antialiasing
NO_BRUSH, NO_PEN = Qt.BrushStyle.NoBrush, Qt.PenStyle.NoPen
ALIGN_CENTER = Qt.AlignmentFlag.AlignCenter


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
