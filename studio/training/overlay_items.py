"""The canvas items of the training overlay (``overlay``): the heat glow behind a card
and under a wire, a layer's health strip, a diagnosis tag, and the heat legend.

Each is a small QGraphicsItem (or widget) with a ``set_state`` that repaints only when
what it shows changed; the overlay creates them as children of the scene's cards.
"""

from __future__ import annotations

import math
from typing import TypeGuard, TypeVar

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QLinearGradient,
    QPainter,
    QPainterPath,
    QPen,
)
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QWidget

from studio import resources
from studio.theme_colors import SEVERITY_COLORS

from .block_health import STRIP_H, StripItem
from .lock import LINE_H
from .plots.common import color_map

_I = TypeVar("_I", bound=QGraphicsItem)
GLOW = 7.0  # pixels of heat around a card
_LUT = None


def heat_color(t: float) -> QColor:
    """``t`` in 0..1 through the heatmap's colour map (0 dark, 1 bright)."""
    global _LUT
    if _LUT is None:
        _LUT = color_map().getLookupTable(0.0, 1.0, 256, alpha=True)
    r, g, b, _a = _LUT[int(max(0.0, min(1.0, t)) * 255)]
    return QColor(int(r), int(g), int(b))


def alive(item: _I | None) -> TypeGuard[_I]:
    """``item`` exists and Qt has not deleted it (a card removed with its children)."""
    try:
        import shiboken6

        return item is not None and shiboken6.isValid(item)
    except ImportError:  # pragma: no cover - PySide6 always ships shiboken6
        return item is not None


def _font(pixels: int, bold: bool = False) -> QFont:
    font = resources.ui_font()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


# ====================================================================== items
DIMMED = 0.4  # opacity of a finished run's heat and strips

class HeatItem(QGraphicsItem):
    """A glow behind a card, in the colour of its gradient."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.color = QColor(0, 0, 0, 0)
        self._rect = QRectF()

    def set_state(self, rect: QRectF, color: QColor) -> None:
        rect = rect.adjusted(-GLOW, -GLOW, GLOW, GLOW)
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = rect
        if color != self.color:
            self.color = color
            self.update()

    def boundingRect(self) -> QRectF:
        return self._rect

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self.color)
        painter.drawRoundedRect(self._rect, 10, 10)


class WireHeatItem(QGraphicsPathItem):
    """A broad stroke under a wire, in the colour of the gradient it carries back."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)

    def set_state(self, path: QPainterPath, color: QColor) -> None:
        if path != self.path():
            self.setPath(path)
        pen = QPen(color, 7.0, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        if pen != self.pen():
            self.setPen(pen)


class HealthItem(StripItem):
    """The strip under a card: status dot, sparkline, latest value."""

    def __init__(self, parent: QGraphicsItem, width: float) -> None:
        super().__init__(parent, width)
        self.values: list[float] = []
        self.text = ""

    def set_state(self, values: list[float], text: str, status: str, tip: str) -> None:
        if (values, text, status) != (self.values, self.text, self.status):
            self.values, self.text, self.status = values, text, status
            self.update()
        if tip != self.toolTip():
            self.setToolTip(tip)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        theme = resources.current()
        self.paint_frame(painter)
        spark = QRectF(self.LEFT, 3, self.width * 0.45, STRIP_H - 6)
        finite = [v for v in self.values if math.isfinite(v)]
        if len(finite) >= 2:
            lo, hi = min(finite), max(finite)
            span = hi - lo or 1.0
            n = len(self.values)
            path = QPainterPath()
            started = False
            for i, v in enumerate(self.values):
                if not math.isfinite(v):
                    continue
                p = QPointF(spark.left() + spark.width() * i / max(n - 1, 1),
                            spark.bottom() - spark.height() * (v - lo) / span)
                if started:
                    path.lineTo(p)
                else:
                    path.moveTo(p)
                    started = True
            pen = QPen(theme.color("accent"), 1.4)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(path)
        painter.setPen(theme.color("card_text"))
        painter.setFont(_font(10))
        painter.drawText(QRectF(spark.right() + 4, 0, self.width - spark.right() - 8,
                                STRIP_H),
                         Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                         self.text)


class DiagnosisItem(QGraphicsItem):
    """A tag over a card naming what the runtime found; tooltip: explanation and fix."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self.text = ""
        self.severity = "warning"
        self.setZValue(3)
        self._width = 100.0

    def set_state(self, text: str, severity: str, tip: str) -> None:
        if (text, severity) != (self.text, self.severity):
            self.prepareGeometryChange()
            self.text, self.severity = text, severity
            self._width = QFontMetricsF(_font(10, True)).horizontalAdvance(text) + 26
            self.update()
        self.setToolTip(tip)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self._width, 18)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        colour = QColor(SEVERITY_COLORS["error" if self.severity == "error" else "warning"])
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawRoundedRect(self.boundingRect(), 9, 9)
        painter.setPen(QColor("white"))
        painter.setFont(_font(10, True))
        painter.drawText(self.boundingRect().adjusted(8, 0, -6, 0),
                         Qt.AlignmentFlag.AlignVCenter, "\u26a0 " + self.text)




class HeatLegend(QWidget):
    """What the glow means: a small pill in the canvas's top right corner while it
    shows, on the one thin line it shares with the training lock's note (a 30-pixel
    legend at the bottom and a banner at the top took 90 pixels of a 285-pixel canvas
    at 1280x720)."""

    BAR_W = 72

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("heat_legend")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        metrics = QFontMetricsF(_font(10))
        self._label_w = metrics.horizontalAdvance("Gradient") + 14
        self._tail_w = metrics.horizontalAdvance("small \u2192 large") + 12
        self.resize(self.preferred_width(), LINE_H)

    def preferred_width(self) -> int:
        return int(self._label_w + self.BAR_W + 6 + self._tail_w)

    def paintEvent(self, event) -> None:
        theme = resources.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.color("border"), 1.0))
        painter.setBrush(theme.color("base"))
        h = float(self.height())
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5),
                                h / 2, h / 2)
        painter.setFont(_font(10))
        painter.setPen(theme.color("muted"))
        painter.drawText(QRectF(8, 0, self._label_w, h), Qt.AlignmentFlag.AlignVCenter,
                         "Gradient")
        bar = QRectF(self._label_w, h / 2 - 4, self.BAR_W, 8)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for k in range(6):
            gradient.setColorAt(k / 5, heat_color(k / 5))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(gradient)
        painter.drawRoundedRect(bar, 3, 3)
        painter.setPen(theme.color("muted"))
        painter.drawText(QRectF(bar.right() + 6, 0, self._tail_w, h),
                         Qt.AlignmentFlag.AlignVCenter, "small \u2192 large")
        painter.end()
