"""Wires: smooth cubic curves from an output port to an input port.

A wire holds its ``graph.Edge`` and the two card items it joins; it asks the cards for
their port positions, so moving a card only recomputes the wires touching it. The label
is the inferred tensor on the wire (``N × 16 × 14 × 14``); the wire turns red when the
layer it feeds cannot take that shape. ``DragWireItem`` is the dashed wire that follows
the cursor while the user is wiring.
"""

from __future__ import annotations

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


def curve(p1: QPointF, p2: QPointF, arch: bool = True) -> QPainterPath:
    """A horizontal S-curve; a long wire between cards on one row arches over the cards
    between them instead of running behind them."""
    path = QPainterPath(p1)
    dx, dy = p2.x() - p1.x(), p2.y() - p1.y()
    if arch and dx > 2.2 * WIDTH and abs(dy) < 40:
        lift = min(100.0 + dx * 0.04, 200.0)
        top = min(p1.y(), p2.y()) - lift
        path.cubicTo(QPointF(p1.x() + 60, top), QPointF(p2.x() - 60, top), p2)
        return path
    bend = max(abs(dx) * 0.5, 50.0)
    path.cubicTo(QPointF(p1.x() + bend, p1.y()), QPointF(p2.x() - bend, p2.y()), p2)
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
        self.prepareGeometryChange()
        self._path = curve(p1, p2)
        self._shape = None
        self._place_label()

    def _place_label(self) -> None:
        bounds = self._path.boundingRect()
        if self.label:
            metrics = QFontMetricsF(label_font())
            w = metrics.horizontalAdvance(self.label) + 2 * LABEL_PAD
            h = metrics.height() + 2
            # Just above the wire's middle: the wire stays visible and a label wider
            # than the gap between two cards does not hide their ports.
            mid = self._path.pointAtPercent(0.5)
            self._label_rect = QRectF(mid.x() - w / 2, mid.y() - h - 1.5, w, h)
            bounds = bounds.united(self._label_rect)
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
        theme = resources.current()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        if self.isSelected():
            colour, width = theme.color("accent"), 2.6
        elif self.error:
            colour, width = theme.color("error"), 2.4
        else:
            colour, width = theme.color("wire"), 1.6
        # Cosmetic: the width is in screen pixels, so wires stay visible zoomed out.
        pen = QPen(colour, width * min(max(lod, 1.0), 2.0))
        pen.setCosmetic(True)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawPath(self._path)
        if self.label and lod >= LOD_LABEL:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.color("wire_label_bg"))
            r = self._label_rect
            painter.drawRoundedRect(r, 3, 3)
            painter.setFont(label_font())
            painter.setPen(theme.color("error") if self.error else theme.color("wire_label"))
            painter.drawText(r, Qt.AlignmentFlag.AlignCenter, self.label)


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
