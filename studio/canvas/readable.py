"""Framing a network at a zoom where its card titles can be read.

Fitting a deep network into a short canvas (the Train workspace's, above the plots)
zoomed it to 28-35%, where every title was cut to "ste\u2026". Like Netron and
TensorBoard's graph view, a readable frame keeps the zoom at which the longest title
fits its card, shows the part of the network around the selection (else its start, the
input end), and leaves the rest a pan away (the minimap shows where).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QFontMetricsF

from studio import resources

from .node_item import LOD_TEXT, MIN_TITLE_PX, WIDTH

READABLE_MIN = LOD_TEXT + 0.02  # never framed smaller: below LOD_TEXT cards are blank
READABLE_MAX = 0.85  # a very long title is elided rather than zoom in further
TITLE_ROOM = WIDTH - 20  # scene units of a card's header that the title may take


def readable_zoom(titles) -> float:
    """The least zoom at which each of ``titles`` fits its card's header: a title
    drawn below 100% takes MIN_TITLE_PX screen pixels a line (``title_font``)."""
    font = resources.ui_font()
    font.setPixelSize(MIN_TITLE_PX)
    font.setBold(True)
    metrics = QFontMetricsF(font)
    widest = max((metrics.horizontalAdvance(t) for t in titles), default=0.0)
    # 10% to spare: on screen the hinted glyphs at ~11 px run wider than the metrics
    # (under xcb "block1_conv1" was cut at the zoom computed without it).
    return min(READABLE_MAX, max(READABLE_MIN, (widest * 1.1 + 2) / TITLE_ROOM))


def framed_centre(rect: QRectF, focus: QRectF | None, shown_w: float, shown_h: float
                  ) -> QPointF:
    """Where to centre a view that shows ``shown_w`` x ``shown_h`` scene units of the
    network's ``rect``: on ``focus`` (the selection) if given, else at the network's
    start (top left), and never with empty room beside a network larger than the view."""
    centre = QPointF(rect.left() + shown_w / 2, rect.top() + shown_h / 2)
    if focus is not None and not focus.isNull():
        centre = focus.center()
    x = _clamp(centre.x(), rect.left() + shown_w / 2, rect.right() - shown_w / 2,
               rect.center().x())
    y = _clamp(centre.y(), rect.top() + shown_h / 2, rect.bottom() - shown_h / 2,
               rect.center().y())
    return QPointF(x, y)


def _clamp(value: float, low: float, high: float, middle: float) -> float:
    if low > high:  # the network is narrower than the view: centred
        return middle
    return min(max(value, low), high)
