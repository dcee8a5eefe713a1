"""Small painted views of one probe: class probabilities and the per-layer gradient."""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QSizePolicy, QWidget

ROW = 16


class Bars(QWidget):
    """Labelled horizontal bars; ``log`` spaces values over decades (gradients)."""

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.rows: list[tuple[str, float, bool]] = []  # label, value, highlighted
        self.log = False
        self.fmt = "{:.1%}"
        self.full: float | None = None  # the value of a whole bar (None: the largest)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_rows(self, rows: list[tuple[str, float, bool]], log: bool = False,
                 fmt: str = "{:.1%}", full: float | None = None) -> None:
        """``full``: the value a whole bar stands for (default: the largest)."""
        self.rows, self.log, self.fmt, self.full = rows, log, fmt, full
        self.setFixedHeight(max(1, len(rows)) * ROW + 4)
        self.update()

    def _fraction(self, value: float, low: float, high: float) -> float:
        if not self.log:
            return max(0.0, value) / high if high > 0 else 0.0
        if value <= 0 or high <= 0:
            return 0.0
        lo = math.log10(max(low, high * 1e-8))
        span = math.log10(high) - lo
        return 1.0 if span <= 0 else max(0.02, (math.log10(value) - lo) / span)

    def paintEvent(self, event) -> None:
        if not self.rows:
            return
        painter = QPainter(self)
        values = [v for _, v, _ in self.rows if v > 0 and math.isfinite(v)]
        high = self.full if self.full is not None else max(values, default=0.0)
        low = min(values, default=0.0)
        metrics = self.fontMetrics()
        widest = max(metrics.horizontalAdvance(label) for label, _, _ in self.rows)
        label_w = min(widest + 8, int(self.width() * 0.45))
        text_w = 58
        bar_w = max(10, self.width() - label_w - text_w - 8)
        palette = self.palette()
        for i, (label, value, hot) in enumerate(self.rows):
            y = 2 + i * ROW
            painter.setPen(palette.windowText().color())
            painter.drawText(QRectF(0, y, label_w - 4, ROW),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                             self.fontMetrics().elidedText(label, Qt.TextElideMode.ElideMiddle,
                                                           label_w - 6))
            frac = self._fraction(value, low, high) if math.isfinite(value) else 0.0
            colour = QColor(214, 96, 77) if hot else QColor(67, 147, 195)
            painter.fillRect(QRectF(label_w, y + 3, bar_w * frac, ROW - 6), colour)
            painter.drawText(QRectF(label_w + bar_w + 4, y, text_w, ROW),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             self.fmt.format(value) if math.isfinite(value) else "-")
