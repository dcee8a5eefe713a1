"""Colours with a meaning, shared by every view: layer categories and problem severities.

One table so the palette swatch, the canvas card and the inspector header of a Conv2d are
the same blue. Hues are chosen to stay readable on both the light and the dark theme (mid
saturation and lightness); views derive lighter or darker shades from them rather than
adding colours of their own.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap

CATEGORY_COLORS: dict[str, str] = {
    "Input / Output": "#5f6b7a",  # slate: where data enters and leaves
    "Dense": "#3b82c4",  # blue
    "Convolution": "#2f9e8f",  # teal
    "Pooling": "#4fa36b",  # green
    "Normalization": "#8a6fc9",  # violet
    "Activation": "#d08a2e",  # amber
    "Regularization": "#b8607e",  # rose
    "Reshape": "#7d8794",  # grey: plumbing
    "Merge": "#c26a3d",  # terracotta
    "Sequence": "#3d8fb0",  # cyan-blue
    "Attention": "#a55bb5",  # purple
    "Blocks": "#4a6fa5",  # steel blue: block instances and their ports
}
FALLBACK_COLOR = "#8a8f98"  # categories added by plugins

SEVERITY_COLORS: dict[str, str] = {
    "error": "#d64545",
    "warning": "#d9a11e",
    "ok": "#3a9d5d",
}


def category_color(category: str) -> QColor:
    return QColor(CATEGORY_COLORS.get(category, FALLBACK_COLOR))


def severity_color(severity: str) -> QColor:
    return QColor(SEVERITY_COLORS.get(severity, FALLBACK_COLOR))


def swatch_icon(color: QColor, size: int = 12, radius: float = 3.0) -> QIcon:
    """A small rounded square of ``color``, for lists and headers."""
    key = (color.name(), size, radius)
    icon = _SWATCHES.get(key)
    if icon is None:
        icon = _SWATCHES[key] = _draw_swatch(color, size, radius)
    return icon


_SWATCHES: dict[tuple[str, int, float], QIcon] = {}


def _draw_swatch(color: QColor, size: int, radius: float) -> QIcon:
    pixmap = QPixmap(size * 2, size * 2)  # drawn at 2x so it stays crisp on high-DPI
    pixmap.setDevicePixelRatio(2.0)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(color.darker(125))
    painter.setBrush(color)
    painter.drawRoundedRect(QRectF(0.5, 0.5, size - 1.0, size - 1.0), radius, radius)
    painter.end()
    return QIcon(pixmap)
