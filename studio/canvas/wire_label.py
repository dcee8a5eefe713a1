"""Where and how big a wire's shape label is drawn, so it stays legible on short wires.

A label is 10 scene pixels at 100% and never smaller than MIN_LABEL_PX on screen: zoomed
out it keeps that size on screen (as card titles do) instead of shrinking to an
unreadable 5 px at 50%. Between two neighbouring cards the room is the gap between
them; the label takes one line when it fits there, else two lines broken at a
``\u00d7`` (``N \u00d7 16 \u00d7`` over ``14 \u00d7 14``), else it is not drawn and hovering
the wire shows it whole on top (the tooltip says it too). A label never reaches under
or over the cards beside it, so nothing of it is cut. Wires whose middle is away from
the cards (a wrapped row's return, an arch over a row) have room for one line.

Pure geometry on top of font metrics, so tests can ask what a wire shows at a zoom.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QFont, QFontMetricsF

from studio import resources

LABEL_PX = 10  # scene pixels of a label at 100%
MIN_LABEL_PX = 9  # screen pixels: no label is drawn smaller
LOD_LABEL = 0.3  # below this zoom cards are blocks: no labels (hovering shows them)
PAD = 3.0  # font pixels between the text and its box's sides
MARGIN = 2.0  # font pixels the text keeps clear of the cards (the box may run under them)
RISE = 1.5  # screen pixels between the wire and the box above it
MAX_RISE = 60.0  # scene units a label between two cards may take above its wire: a
# first port sits 37.5 below its card's top; much more would reach the band between
# rows, where a wrapped row's return wire has its own label
SEPARATOR = " \u00d7 "
UNLIMITED = float("inf")

_FONTS: dict[int, QFont] = {}
_WIDTHS: dict[tuple[str, int], float] = {}


def label_font(pixels: int = LABEL_PX) -> QFont:
    font = _FONTS.get(pixels)
    if font is None:
        font = _FONTS[pixels] = resources.ui_font()
        font.setPixelSize(pixels)
    return font


def text_width(text: str, pixels: int) -> float:
    """Advance of ``text`` in the label font of ``pixels`` (cached: few shapes recur)."""
    key = (text, pixels)
    width = _WIDTHS.get(key)
    if width is None:
        width = _WIDTHS[key] = QFontMetricsF(label_font(pixels)).horizontalAdvance(text)
    return width


def line_height(pixels: int) -> float:
    return QFontMetricsF(label_font(pixels)).height()


def screen_pixels(zoom: float) -> tuple[int, float]:
    """The font's pixel size and the scale from its units to scene units at ``zoom``:
    scene units (scale 1) while that is at least MIN_LABEL_PX on screen, else screen
    pixels (scale 1/zoom)."""
    if LABEL_PX * zoom >= MIN_LABEL_PX:
        return LABEL_PX, 1.0
    return MIN_LABEL_PX, 1.0 / zoom


def fits(text: str, pixels: int, room: float) -> bool:
    """Whether ``text`` fits ``room`` (font units). The box's padding may run under
    the cards beside the gap (they are drawn over wires), the text may not."""
    return text_width(text, pixels) + MARGIN <= room


def two_lines(label: str, pixels: int, room: float) -> list[str] | None:
    """``label`` broken at one ``\u00d7`` into two lines that fit ``room`` (font units),
    the most even split; None when none fits."""
    parts = label.split(SEPARATOR)
    splits = []
    for i in range(1, len(parts)):
        first = SEPARATOR.join(parts[:i]) + SEPARATOR.rstrip()
        second = SEPARATOR.join(parts[i:])
        widths = (text_width(first, pixels), text_width(second, pixels))
        if fits(first, pixels, room) and fits(second, pixels, room):
            splits.append((abs(widths[0] - widths[1]), [first, second]))
    return min(splits)[1] if splits else None


@dataclass(frozen=True)
class LabelLayout:
    """A label as drawn: its lines, font size, the scale from font units to scene
    units, and its box in scene coordinates."""

    lines: tuple[str, ...]
    pixels: int
    scale: float
    rect: QRectF


def layout_label(label: str, middle: QPointF, room: float, zoom: float,
                 force: bool = False) -> LabelLayout | None:
    """How ``label`` is drawn above the wire's ``middle`` at ``zoom`` with ``room``
    scene units free across (UNLIMITED away from cards); None when it is not drawn
    (too far out, or no room: ``force``, as while hovering, draws it on one line
    anyway)."""
    zoom = round(zoom, 6)  # a painter's level of detail is 0.29999... at 30%
    if not label or (zoom < LOD_LABEL and not force):
        return None
    pixels, scale = screen_pixels(zoom)
    lines: list[str] | None = [label]
    if not force and not fits(label, pixels, room / scale):
        lines = two_lines(label, pixels, room / scale)
        if lines is None or (line_height(pixels) * 2 + 2 + RISE) * scale > MAX_RISE:
            return None
    assert lines is not None
    widest = max(text_width(line, pixels) for line in lines) + 2 * PAD
    height = line_height(pixels) * len(lines) + 2
    w, h, rise = widest * scale, height * scale, RISE * scale
    # Between two cards the label sits above the wire, in the gap; away from them it
    # sits on the wire's middle (the wire passes under it), halfway between the rows
    # a wrapped row's return crosses.
    top = middle.y() - h / 2 if room == UNLIMITED else middle.y() - h - rise
    rect = QRectF(middle.x() - w / 2, top, w, h)
    return LabelLayout(tuple(lines), pixels, scale, rect)


def envelope(label: str, middle: QPointF, room: float) -> QRectF:
    """A rectangle holding every layout of ``label`` at any zoom it is drawn at (from
    LOD_LABEL up; the box is largest in scene units at LOD_LABEL): the wire's bounds
    include it, so they need not follow the zoom (hovering, which draws a label
    anywhere, widens them for its time)."""
    if not label:
        return QRectF()
    scale = 1.0 / LOD_LABEL
    w = min(room + 2 * PAD * scale, (text_width(label, MIN_LABEL_PX) + 2 * PAD) * scale)
    if room == UNLIMITED:  # one line on the middle
        h = (line_height(MIN_LABEL_PX) + 2) * scale
        return QRectF(middle.x() - w / 2, middle.y() - h / 2, w, h)
    h = min((line_height(MIN_LABEL_PX) * 2 + 2 + RISE) * scale, MAX_RISE)
    return QRectF(middle.x() - w / 2, middle.y() - h, w, h)
