"""A block instance expanded inline: its inner layers drawn under its card, read-only.

The user sees inside an instance without leaving the level they edit (Model Explorer's
expand in place, Netron's collapse request). The preview is a child of the instance's
card, so it moves with it, and a click or a double-click on it acts on the instance
(the view maps children to their card): nothing inside can be edited from here, the
block is opened for that.

What it shows comes from the network's analysis, not from a second analysis: the
instance's first ``BlockRun`` (``shapes.values["runs"]``) holds the body with this
instance's values, in topological order, with each inner layer's output shape. The
inner layers are laid out in that order in rows of ``COLUMNS`` small cards inside a
dashed frame headed "BasicBlock × 2 · inside (read-only)"; nested blocks are cards like
the others (open the block to go deeper). Expansion is a view state of the scene
(``NetworkScene.set_expanded``), never saved and never an undo step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFontMetricsF, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem

from graph.blocks import BLOCK, PORT_TYPES
from studio import resources

COLUMNS = 4
CARD_W, CARD_H = 112.0, 36.0
GAP_X, GAP_Y = 22.0, 18.0
PAD, TITLE_H = 10.0, 22.0


@dataclass
class PreviewCard:
    node_id: str
    title: str
    detail: str  # the output shape, or the type when the shape is unknown
    category: str
    error: bool = False


@dataclass
class Preview:
    """What an expanded instance shows (plain data: tests read it)."""

    heading: str
    cards: list[PreviewCard] = field(default_factory=list)
    wires: list[tuple[str, str]] = field(default_factory=list)  # inner (source, target)


def preview_of(doc, node_id: str, analysis) -> Preview | None:
    """The inside of instance ``node_id`` of ``doc`` (None if it is no block)."""
    node = doc.nodes.get(node_id)
    if node is None or node.type != BLOCK:
        return None
    name = node.params.get("block")
    definition = doc.blocks.definitions.get(name) if isinstance(name, str) else None
    if definition is None:
        return Preview(f"{name} (not defined)")
    repeat = int(node.params.get("repeat", 1) or 1)
    heading = definition.name + (f" \u00d7 {repeat}" if repeat > 1 else "")
    shapes = analysis.shapes.get(node_id) if analysis is not None \
        and analysis.doc is doc else None
    runs = shapes.values.get("runs", ()) if shapes is not None else ()
    body, inner = definition.body, None
    if runs:
        body, inner = runs[0].doc, runs[0].analysis
    order = list(inner.order) if inner is not None else list(body.nodes)
    order = [n for n in order if n in body.nodes and body.nodes[n].type not in PORT_TYPES]
    troubled = {i for p in inner.problems for i in p.node_ids[:1]} if inner else set()
    preview = Preview(heading)
    for inner_id in order:
        n = body.nodes[inner_id]
        out = None
        if inner is not None and inner_id in inner.shapes:
            out = next(iter(inner.shapes[inner_id].outputs.values()), None)
        preview.cards.append(PreviewCard(
            inner_id, n.label or n.spec.display_name,
            out.wire_label() if out is not None else n.spec.display_name,
            n.spec.category, inner_id in troubled))
    shown = set(order)
    preview.wires = [(e.source, e.target) for e in body.edges
                     if e.source in shown and e.target in shown]
    return preview


class BlockPreviewItem(QGraphicsItem):
    """The dashed frame with an instance's inner layers, under its card."""

    def __init__(self, parent: QGraphicsItem, preview: Preview) -> None:
        super().__init__(parent)
        self.preview = preview
        self.setZValue(5)  # over the wires and cards it may cover
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
        self._rects: dict[str, QRectF] = {}
        self._bounds = QRectF()
        self._layout()
        self.setToolTip(f"The inside of {preview.heading}, read-only. Double-click the "
                        "block to edit it; Collapse Inline hides this.")

    def set_preview(self, preview: Preview) -> None:
        if preview == self.preview:
            return
        self.prepareGeometryChange()
        self.preview = preview
        self._layout()
        self.update()

    def _layout(self) -> None:
        self._rects = {}
        for k, card in enumerate(self.preview.cards):
            row, col = divmod(k, COLUMNS)
            self._rects[card.node_id] = QRectF(PAD + col * (CARD_W + GAP_X),
                                               PAD + TITLE_H + row * (CARD_H + GAP_Y),
                                               CARD_W, CARD_H)
        cols = min(COLUMNS, max(1, len(self.preview.cards)))
        rows = max(1, -(-len(self.preview.cards) // COLUMNS))
        self._bounds = QRectF(0, 0, 2 * PAD + cols * CARD_W + (cols - 1) * GAP_X,
                              2 * PAD + TITLE_H + rows * CARD_H + (rows - 1) * GAP_Y)

    def card_rect(self, inner_id: str) -> QRectF | None:
        return self._rects.get(inner_id)

    def boundingRect(self) -> QRectF:
        return self._bounds.adjusted(-2, -2, 2, 2)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        theme = resources.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        frame = QColor(theme.color("card"))
        frame.setAlpha(235)
        pen = QPen(theme.color("accent"), 1.4, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.setBrush(frame)
        painter.drawRoundedRect(self._bounds, 8, 8)
        title_font, body_font, port_font = _fonts()
        painter.setFont(title_font)
        painter.setPen(theme.color("muted"))
        head = QRectF(PAD, 4, self._bounds.width() - 2 * PAD, TITLE_H - 2)
        painter.drawText(head, Qt.AlignmentFlag.AlignVCenter, QFontMetricsF(title_font)
                         .elidedText(f"{self.preview.heading} \u00b7 inside (read-only)",
                                     Qt.TextElideMode.ElideRight, head.width()))
        wire = QPen(theme.color("wire"), 1.2)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.setPen(wire)
        for source, target in self.preview.wires:
            a, b = self._rects.get(source), self._rects.get(target)
            if a is None or b is None:
                continue
            painter.drawPath(_wire_path(a, b))
        for card in self.preview.cards:
            rect = self._rects[card.node_id]
            painter.setPen(QPen(theme.color("error") if card.error
                                else theme.color("card_border"), 1.0))
            painter.setBrush(theme.color("card"))
            painter.drawRoundedRect(rect, 4, 4)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(resources.category_color(card.category))
            painter.drawRoundedRect(QRectF(rect.left(), rect.top(), 5, rect.height()), 2, 2)
            text = rect.adjusted(10, 2, -4, -2)
            painter.setFont(body_font)
            painter.setPen(theme.color("card_text"))
            painter.drawText(QRectF(text.left(), text.top(), text.width(), text.height() / 2),
                             Qt.AlignmentFlag.AlignVCenter, QFontMetricsF(body_font)
                             .elidedText(card.title, Qt.TextElideMode.ElideRight,
                                         text.width()))
            painter.setFont(port_font)
            painter.setPen(theme.color("muted"))
            painter.drawText(QRectF(text.left(), text.center().y(), text.width(),
                                    text.height() / 2),
                             Qt.AlignmentFlag.AlignVCenter, QFontMetricsF(port_font)
                             .elidedText(card.detail, Qt.TextElideMode.ElideRight,
                                         text.width()))


def _wire_path(a: QRectF, b: QRectF) -> QPainterPath:
    """A wire from card ``a``'s right side to card ``b``'s left: a curve when ``b`` is
    further right, else (the next row) down the gap under ``a``'s row and back left."""
    start = QPointF(a.right(), a.center().y())
    end = QPointF(b.left(), b.center().y())
    path = QPainterPath(start)
    if end.x() > start.x():
        bend = max(8.0, (end.x() - start.x()) / 2)
        path.cubicTo(start + QPointF(bend, 0), end - QPointF(bend, 0), end)
        return path
    gap = (a.bottom() + GAP_Y / 2) if b.top() > a.top() else (a.top() - GAP_Y / 2)
    out, back = start.x() + GAP_X / 2 - 2, end.x() - GAP_X / 2 + 2
    for point in ((out, start.y()), (out, gap), (back, gap), (back, end.y())):
        path.lineTo(QPointF(*point))
    path.lineTo(end)
    return path


def _fonts():
    from .node_item import fonts

    return fonts()
