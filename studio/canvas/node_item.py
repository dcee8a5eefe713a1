"""A layer drawn as a card: category-coloured header, type and key parameters, ports.

The item holds its node id plus a display cache (``NodeFace``) that the scene rebuilds
from the document on ``params_changed``/``label_changed``; it never edits anything. Ports
are painted by the card itself rather than being child items, which keeps a 1,000-node
scene at one item per layer. The error/warning badge is a child that ignores the view's
transformation, so the mark keeps its on-screen size at every zoom level; such a mark is
a child of its card only while it shows (``show_mark``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from html import escape

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QStaticText,
)
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsView,
    QStyleOptionGraphicsItem,
)

from graph.layout import COLUMN
from studio import resources

WIDTH = 140.0
HEADER = 24.0
ROW = 17.0
PAD_TOP = 5.0
PAD_BOTTOM = 6.0
PORT_RADIUS = 4.5
PORT_HIT = 10.0  # generous, so ports are easy to grab when zoomed out
RADIUS = 6.0

# Below these zoom levels the card drops detail: text first, then everything but a block.
LOD_TEXT = 0.55
LOD_BLOCK = 0.3
TITLE_PX = 12  # scene pixels of a card title at 100%
FAR_TITLE_PX = 13  # screen pixels of the line a title takes when zoomed out
MIN_TITLE_PX = FAR_TITLE_PX - 2  # screen pixels: no title is drawn smaller


def _font(pixels: int, bold: bool = False) -> QFont:
    font = resources.ui_font()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


_TITLE_FONTS: dict[int, QFont] = {}


def title_font(lod: float) -> QFont:
    """The bold title font at ``lod``: TITLE_PX scene pixels while that is at least
    MIN_TITLE_PX on screen, else MIN_TITLE_PX on screen. The title's size on screen
    only ever shrinks as one zooms out, never jumps, and stays legible at every zoom
    (a title in scene units at 55% was 6.6 px, smaller than the far-zoom title)."""
    return _title_font_px(max(TITLE_PX, round(MIN_TITLE_PX / max(lod, 0.05))))


@lru_cache(maxsize=8192)
def elided_title(title: str, pixels: int, width: float) -> str:
    """``title`` cut to ``width`` in the bold title font of ``pixels`` (cached: every
    zoom step paints every visible card again, and eliding was a quarter of that)."""
    return QFontMetricsF(_title_font_px(pixels)).elidedText(
        title, Qt.TextElideMode.ElideRight, width)


@lru_cache(maxsize=8192)
def title_text(title: str, pixels: int, width: float) -> tuple[QStaticText, float]:
    """The elided title laid out once (QStaticText) and its line's height: drawn
    again at every zoom step for every visible card."""
    text = QStaticText(elided_title(title, pixels, width))
    text.setTextFormat(Qt.TextFormat.PlainText)
    text.prepare(font=_title_font_px(pixels))
    return text, QFontMetricsF(_title_font_px(pixels)).height()


def draw_title(painter: QPainter, title: str, pixels: int, rect: QRectF) -> None:
    """``title`` in white, left and vertically centred in ``rect`` (as ``drawText``
    with AlignLeft | AlignVCenter draws it)."""
    text, line = title_text(title, pixels, rect.width())
    painter.setFont(_title_font_px(pixels))
    painter.setPen(WHITE)
    painter.drawStaticText(QPointF(rect.left(), rect.top() + (rect.height() - line) / 2),
                           text)


def _title_font_px(pixels: int) -> QFont:
    font = _TITLE_FONTS.get(pixels)
    if font is None:
        font = _TITLE_FONTS[pixels] = _font(pixels, True)
    return font


TITLE_FONT = None
BODY_FONT = None
PORT_FONT = None


def fonts() -> tuple[QFont, QFont, QFont]:
    """Created on first paint: a QFont needs the application to exist."""
    global TITLE_FONT, BODY_FONT, PORT_FONT
    if TITLE_FONT is None:
        TITLE_FONT, BODY_FONT, PORT_FONT = _font(TITLE_PX, True), _font(11), _font(9)
    return TITLE_FONT, BODY_FONT, PORT_FONT


def format_value(value) -> str:
    if isinstance(value, (list, tuple)):
        return " \u00d7 ".join(format_value(v) for v in value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "auto"
    return str(value)


@dataclass
class NodeFace:
    """What a card shows, derived from the document node (never edited here)."""

    title: str
    type_name: str
    category: str
    params: list[tuple[str, str]]
    inputs: list[str]
    outputs: list[str]
    help: str

    @classmethod
    def of(cls, node) -> NodeFace:
        spec = node.spec
        params = [(p.name, format_value(node.params.get(p.name))) for p in spec.key_params]
        type_name = spec.display_name
        if spec.compact:
            # Plumbing (Permute, Slice, ScaleShift...) stays a small card: its key
            # values join the type line instead of taking a row each.
            shown = [f"{name}={value}" for name, value in params if value != "auto"]
            type_name = " ".join([type_name.split(" (")[0], *shown])
            params = []
        return cls(
            title=node.label or spec.display_name,
            type_name=type_name,
            category=spec.category,
            params=params,
            inputs=spec.input_names(node.params),
            outputs=spec.output_names(node.params),
            help=spec.help,
        )

    @property
    def rows(self) -> int:
        return max(1 + len(self.params), len(self.inputs), len(self.outputs))

    @property
    def height(self) -> float:
        return HEADER + PAD_TOP + ROW * self.rows + PAD_BOTTOM


POSITION_CHANGED = QGraphicsItem.GraphicsItemChange.ItemPositionHasChanged
SELECTION_CHANGED = QGraphicsItem.GraphicsItemChange.ItemSelectedHasChanged


def port_y(index: int) -> float:
    return HEADER + PAD_TOP + ROW * index + ROW / 2


class BadgeItem(QGraphicsItem):
    """A round ``!`` mark in screen pixels: red for errors, amber for warnings."""

    SIZE = 16.0

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.severity = "error"
        self.setZValue(2)

    def boundingRect(self) -> QRectF:
        s = self.SIZE
        return QRectF(-s / 2 - 1, -s / 2 - 1, s + 2, s + 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        theme = resources.current()
        colour = theme.color("error" if self.severity == "error" else "warning")
        s = self.SIZE
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.color("card"), 1.5))
        painter.setBrush(colour)
        painter.drawEllipse(QRectF(-s / 2, -s / 2, s, s))
        painter.setPen(QPen(QColor("white"), 2.0, Qt.PenStyle.SolidLine,
                            Qt.PenCapStyle.RoundCap))
        painter.drawLine(QPointF(0, -4.0), QPointF(0, 1.5))
        painter.drawPoint(QPointF(0, 4.5))


class FrozenTagItem(QGraphicsItem):
    """A pill in screen pixels above a card that trains differently: "frozen" (its
    weights do not train; a block says how many inner layers that is), or, quieter, its
    learning-rate factor ("lr \u00d70.1")."""

    TEXT = "\u2744 frozen"

    def __init__(self, parent: QGraphicsItem | None = None) -> None:
        super().__init__(parent)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setZValue(2)
        self.font = _font(11, bold=True)
        self.text = self.TEXT
        self.short = ""  # said instead when the text is wider than the card on screen
        self.strong = True  # frozen: accent pill; a learning-rate factor: outlined
        self.width = QFontMetricsF(self.font).horizontalAdvance(self.TEXT) + 12

    def set_text(self, text: str, strong: bool, short: str = "") -> None:
        if (text, strong, short) != (self.text, self.strong, self.short):
            self.prepareGeometryChange()
            self.text, self.strong, self.short = text, strong, short
            self.width = QFontMetricsF(self.font).horizontalAdvance(text) + 12
            self.update()

    def shown_text(self, zoom: float) -> tuple[str, float]:
        """The words drawn at ``zoom`` and the pill's width: the short form when the
        whole would reach the next column's card (zoomed out, neighbours' pills would
        overlap)."""
        if self.short and self.width > (COLUMN - 16) * zoom:
            return self.short, QFontMetricsF(self.font).horizontalAdvance(self.short) + 12
        return self.text, self.width

    def boundingRect(self) -> QRectF:
        return QRectF(0, -18, self.width + 1, 18)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        theme = resources.current()
        view = widget.parentWidget() if widget is not None else None
        text, width = self.shown_text(view.transform().m11()
                                      if isinstance(view, QGraphicsView) else 1.0)
        rect = QRectF(0, -17, width, 16)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if self.strong:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(theme.color("accent"))
        else:
            painter.setPen(QPen(theme.color("accent"), 1.0))
            painter.setBrush(theme.color("panel"))
        painter.drawRoundedRect(rect, 5, 5)
        painter.setFont(self.font)
        painter.setPen(theme.color("accent_text" if self.strong else "accent"))
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)


NO_PEN = QPen(Qt.PenStyle.NoPen)
WHITE = QColor("white")


class NodeItem(QGraphicsRectItem):
    """A card. Its bounds are the C++ rectangle of a QGraphicsRectItem (``setRect``;
    its own pen and brush are never drawn): Qt asks an item for its bounding rectangle
    about three times per frame, and a Python ``boundingRect`` override made that
    ~3,000 calls into Python per repaint of a 1,000-layer network."""

    def __init__(self, node_id: str, face: NodeFace) -> None:
        super().__init__()
        self.setPen(NO_PEN)
        self.node_id = node_id
        self.face = face
        self.wires: list = []  # WireItems touching this node, kept by the scene
        self.severity: str | None = None
        self.problem_text = ""
        # Port keys such as "in:in1" or "out:out".
        self.highlighted: set[str] = set()  # ports that accept the wire being dragged
        self.connected: set[str] = set()
        self.hover_port: str | None = None
        self.frozen = False  # its weights do not train (the setup's ``frozen``)
        self.lr_scale = 1.0  # its learning-rate factor (the setup's ``lr_scale``)
        self.lr_from = ""  # the enclosing block it inherits the factor from ("": its own)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
        self.setAcceptHoverEvents(True)
        # Repaints during pans and moves come from the cache; text is drawn again only
        # when the zoom or the card changes.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self.setRect(self._outer_rect())
        self.badge = BadgeItem()  # children while they show: ``show_mark``
        self.badge.setPos(WIDTH - 2, 0)
        self.badge.hide()
        self.frozen_tag = FrozenTagItem()
        self.frozen_tag.setPos(0, -3)
        self.frozen_tag.hide()
        self._update_tooltip()

    # ---------------------------------------------------------------- updates
    def set_face(self, face: NodeFace) -> None:
        if face == self.face:
            return
        self.face = face
        self.setRect(self._outer_rect())  # prepares the geometry change if it is one
        self._update_tooltip()
        self.update()
        for wire in self.wires:
            wire.adjust()

    def set_frozen(self, frozen: bool, tag: str = "", lr_scale: float = 1.0,
                   lr_from: str = "") -> None:
        """Frozen weights (dashed frame and a tag; ``tag`` replaces the tag's words),
        or a learning-rate factor other than 1 (a quiet tag only), its own or
        inherited from the enclosing block ``lr_from``."""
        text = tag or (FrozenTagItem.TEXT if frozen else
                       f"lr \u00d7{lr_scale:g}" if lr_scale != 1.0 else "")
        short = f"lr \u00d7{lr_scale:g} \u2026" if lr_from else ""
        self.frozen_tag.set_text(text or FrozenTagItem.TEXT, frozen, short)
        self.show_mark(self.frozen_tag, bool(text))
        if (frozen, lr_scale, lr_from) != (self.frozen, self.lr_scale, self.lr_from):
            self.frozen, self.lr_scale, self.lr_from = frozen, lr_scale, lr_from
            self._update_tooltip()
            self.update()

    def set_problems(self, severity: str | None, text: str) -> None:
        if (severity, text) == (self.severity, self.problem_text):
            return
        self.severity, self.problem_text = severity, text
        self.show_mark(self.badge, severity is not None)
        if severity:
            self.badge.severity = severity
            self.badge.setToolTip(text)
            self.badge.update()
        self._update_tooltip()
        self.update()

    def show_mark(self, mark: QGraphicsItem, shown: bool) -> None:
        """Show ``mark`` (the badge, the frozen tag) as a child, or take it off the
        card. A hidden child that ignores transformations still costs every frame:
        Qt's BSP index merges each such item's top-level item into the exposed
        items with a linear search, which was most of a 1,000-layer repaint."""
        if shown:
            if mark.parentItem() is not self:
                mark.setParentItem(self)
            mark.show()
        elif mark.parentItem() is not None:
            mark.hide()
            scene = mark.scene()
            if scene is not None:
                scene.removeItem(mark)  # off its card too
            else:
                mark.setParentItem(None)

    def set_highlighted(self, ports: set[str]) -> None:
        if ports != self.highlighted:
            self.highlighted = set(ports)
            self.update()

    def set_connected(self, ports: set[str]) -> None:
        if ports != self.connected:
            self.connected = set(ports)
            self.update()

    def _update_tooltip(self) -> None:
        f = self.face
        tip = f"<b>{escape(f.title)}</b> ({escape(f.type_name)})<br>{escape(f.help)}"
        if self.frozen:
            tip += "<br><br>Frozen: its weights do not train (toggle with Freeze Weights)."
        elif self.lr_from:
            tip += (f"<br><br>Learns at {self.lr_scale:g} \u00d7 the learning rate, "
                    f"inherited from block '{escape(self.lr_from)}' (a factor set here, "
                    "in the inspector's Training box, overrides it).")
        elif self.lr_scale != 1.0:
            tip += (f"<br><br>Learns at {self.lr_scale:g} \u00d7 the learning rate (set "
                    "in the inspector's Training box).")
        if self.problem_text:
            tip += f"<br><br>{self.problem_text}"
        self.setToolTip(tip)

    # ---------------------------------------------------------------- geometry
    def height(self) -> float:
        return self.face.height

    def header_height(self, lod: float) -> float:
        """The coloured header's height at ``lod`` (scene units): grown when zoomed
        out, so the title's line fits it."""
        if lod >= LOD_TEXT:
            return HEADER
        return min(max(HEADER, (FAR_TITLE_PX + 4) / lod), self.face.height)

    def card_rect(self) -> QRectF:
        return QRectF(0, 0, WIDTH, self.face.height)

    def _outer_rect(self) -> QRectF:
        m = PORT_RADIUS + 3
        return QRectF(-m, -3, WIDTH + 2 * m, self.face.height + 6)

    def shape(self) -> QPainterPath:
        path = QPainterPath()
        path.addRoundedRect(self.rect(), RADIUS, RADIUS)
        return path

    def port_pos(self, kind: str, name: str) -> QPointF:
        """Item coordinates of a port (``kind`` is ``"in"`` or ``"out"``)."""
        names = self.face.inputs if kind == "in" else self.face.outputs
        index = names.index(name) if name in names else 0
        return QPointF(0.0 if kind == "in" else WIDTH, port_y(index))

    def port_scene_pos(self, kind: str, name: str) -> QPointF:
        return self.mapToScene(self.port_pos(kind, name))

    def port_at(self, pos: QPointF, reach: float = PORT_HIT) -> tuple[str, str] | None:
        """The port nearest ``pos`` (item coordinates) within ``reach``."""
        best, best_d = None, reach * reach
        for kind, names in (("in", self.face.inputs), ("out", self.face.outputs)):
            for name in names:
                p = self.port_pos(kind, name)
                d = (p.x() - pos.x()) ** 2 + (p.y() - pos.y()) ** 2
                if d <= best_d:
                    best, best_d = (kind, name), d
        return best

    # ---------------------------------------------------------------- events
    def itemChange(self, change, value):
        # Called for every kind of change, often: compare with prebound constants.
        if change == POSITION_CHANGED:
            for wire in self.wires:
                wire.adjust()
        elif change == SELECTION_CHANGED:
            self.update()
        return value

    def hoverMoveEvent(self, event) -> None:
        hit = self.port_at(event.pos())
        name = f"{hit[0]}:{hit[1]}" if hit else None
        if name != self.hover_port:
            self.hover_port = name
            self.setCursor(Qt.CursorShape.CrossCursor if hit else Qt.CursorShape.ArrowCursor)
            self.update()

    def hoverLeaveEvent(self, event) -> None:
        if self.hover_port:
            self.hover_port = None
            self.update()

    # ---------------------------------------------------------------- painting
    def paint(self, painter: QPainter, option: QStyleOptionGraphicsItem, widget=None) -> None:
        theme = resources.current()
        lod = option.levelOfDetailFromTransform(painter.worldTransform())
        face = self.face
        rect = self.card_rect()
        colour = resources.category_color(face.category)
        selected = self.isSelected()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)

        if lod < LOD_BLOCK:  # a coloured block and its title is all one can read
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRect(rect)
            self._paint_far_title(painter, lod)
            self._paint_outline(painter, rect, theme, selected)
            return

        # Card with a coloured header.
        painter.setPen(QPen(theme.color("card_border"), 1.0))
        painter.setBrush(theme.color("card"))
        painter.drawRoundedRect(rect, RADIUS, RADIUS)
        header = QPainterPath()
        header.addRoundedRect(QRectF(0, 0, WIDTH, HEADER + RADIUS), RADIUS, RADIUS)
        clip = QPainterPath()
        clip.addRect(QRectF(0, 0, WIDTH, HEADER))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colour)
        painter.drawPath(header.intersected(clip))

        _title, body_font, port_font = fonts()
        if lod >= LOD_TEXT:
            draw_title(painter, face.title, title_font(lod).pixelSize(),
                       QRectF(10, 0, WIDTH - 20, HEADER))
            self._paint_body(painter, theme, body_font, port_font)
        else:
            self._paint_far_title(painter, lod)

        self._paint_ports(painter, theme, colour)
        self._paint_outline(painter, rect, theme, selected)
        if self.frozen:
            self._paint_frozen(painter, rect, theme)

    def _paint_frozen(self, painter: QPainter, rect: QRectF, theme) -> None:
        """Frozen weights: a dashed frame (the tag above the card says the word)."""
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(QPen(theme.color("accent"), 1.5, Qt.PenStyle.DashLine))
        painter.drawRoundedRect(rect.adjusted(-3, -3, 3, 3), RADIUS + 2, RADIUS + 2)

    def _paint_far_title(self, painter: QPainter, lod: float) -> None:
        """The title at a readable size on screen whatever the zoom (as the error
        badges are), on a header grown to hold it."""
        font = title_font(lod)
        height = self.header_height(lod)
        rect = QRectF(3 / lod, 0, WIDTH - 6 / lod, height)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(resources.category_color(self.face.category))
        painter.drawRect(QRectF(0, 0, WIDTH, height))
        draw_title(painter, self.face.title, font.pixelSize(), rect)

    def _paint_body(self, painter: QPainter, theme, body_font: QFont, port_font: QFont) -> None:
        face = self.face
        many_inputs = len(face.inputs) > 1
        left = 34.0 if many_inputs else 11.0
        right = WIDTH - 11.0
        metrics = QFontMetricsF(body_font)
        painter.setFont(body_font)
        painter.setPen(theme.color("muted"))
        y = HEADER + PAD_TOP
        painter.drawText(QRectF(left, y, right - left, ROW), Qt.AlignmentFlag.AlignVCenter,
                         metrics.elidedText(face.type_name, Qt.TextElideMode.ElideRight,
                                            right - left))
        for i, (name, value) in enumerate(face.params, start=1):
            row = QRectF(left, y + ROW * i, right - left, ROW)
            name_width = min(metrics.horizontalAdvance(name), row.width() * 0.45)
            value_width = min(metrics.horizontalAdvance(value) + 2,
                              row.width() - name_width - 6)
            painter.setPen(theme.color("muted"))
            painter.drawText(row.adjusted(0, 0, -value_width - 6, 0),
                             Qt.AlignmentFlag.AlignVCenter,
                             metrics.elidedText(name, Qt.TextElideMode.ElideRight,
                                                row.width() - value_width - 6))
            painter.setPen(theme.color("card_text"))
            painter.drawText(row, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
                             metrics.elidedText(value, Qt.TextElideMode.ElideRight,
                                                value_width))
        if many_inputs:
            painter.setFont(port_font)
            painter.setPen(theme.color("muted"))
            for i, name in enumerate(face.inputs):
                painter.drawText(QRectF(8, port_y(i) - ROW / 2, 26, ROW),
                                 Qt.AlignmentFlag.AlignVCenter, name)

    def _paint_ports(self, painter: QPainter, theme, colour: QColor) -> None:
        accent = theme.color("accent")
        for kind, names in (("in", self.face.inputs), ("out", self.face.outputs)):
            for name in names:
                p = self.port_pos(kind, name)
                key = f"{kind}:{name}"
                lit = key in self.highlighted
                radius = PORT_RADIUS + (1.5 if lit or self.hover_port == key else 0)
                if lit:
                    painter.setPen(QPen(accent, 2.0))
                    painter.setBrush(QBrush(accent.lighter(150)))
                else:
                    painter.setPen(QPen(colour, 1.8))
                    painter.setBrush(colour if key in self.connected else theme.color("card"))
                painter.drawEllipse(p, radius, radius)

    def _paint_outline(self, painter: QPainter, rect: QRectF, theme, selected: bool) -> None:
        # Cosmetic pens keep their width in screen pixels, so the marks never vanish
        # when the view is zoomed out.
        if self.severity:
            pen = QPen(theme.color("error" if self.severity == "error" else "warning"), 2.0)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, RADIUS, RADIUS)
        if selected:
            pen = QPen(theme.color("accent"), 2.5)
            pen.setCosmetic(True)
            painter.setPen(pen)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect.adjusted(-2.5, -2.5, 2.5, 2.5), RADIUS + 2, RADIUS + 2)
