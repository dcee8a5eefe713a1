"""The health of a collapsed block on the canvas: what its inner layers went through.

The runtime measures a block's inner layers under their node paths (``n5/n3``; a
repeated instance's copies ``n5:1/n3``), never the instance itself. A collapsed
instance card shows them together: a glow of the weakest inner gradient (the heat
colour, as layers have), and a strip under the card with a status dot (the worst
diagnosis among its inner layers, red when a gradient is not finite) and one bar per
inner weighted layer, its height and colour the layer's latest gradient norm.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from runtime.run_record import RunRecord
from studio import resources
from studio.theme_colors import SEVERITY_COLORS

STRIP_H = 20.0


def inner_ids(run: RunRecord, instance_id: str) -> list[str]:
    """The measured layers inside instance ``instance_id`` (nested blocks included),
    in network order."""
    prefixes = (f"{instance_id}/", f"{instance_id}:")
    return [n for n in run.node_ids if n.startswith(prefixes)]


def worst_status(run: RunRecord, ids: list[str]) -> str:
    """"error", "warning" or "ok": the worst of the layers' diagnoses and gradients."""
    inside = set(ids)
    if inside & set(run.nonfinite):
        return "error"
    found = [d for d in run.diagnoses if inside & set(d.node_ids)]
    if any(d.severity == "error" for d in found):
        return "error"
    return "warning" if found else "ok"


def block_heat(run: RunRecord, values: dict[str, float], instance_id: str
               ) -> float | None:
    """The instance's heat (0..1): its weakest inner gradient, the one that stalls."""
    inner = [values[n] for n in inner_ids(run, instance_id) if n in values]
    return min(inner) if inner else None


class StripItem(QGraphicsItem):
    """A strip under a card (a layer's or a block instance's): a rounded card-coloured
    frame with a status dot at the left; subclasses draw what follows the dot."""

    LEFT = 18.0  # where a subclass's drawing starts, right of the dot

    def __init__(self, parent: QGraphicsItem, width: float) -> None:
        super().__init__(parent)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.width = width
        self.status = "ok"
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.width, STRIP_H)

    def paint_frame(self, painter: QPainter) -> None:
        theme = resources.current()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.boundingRect().adjusted(0.5, 0.5, -0.5, -0.5)
        painter.setPen(QPen(theme.color("card_border"), 1.0))
        painter.setBrush(theme.color("card"))
        painter.drawRoundedRect(rect, 5, 5)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(SEVERITY_COLORS.get(self.status, SEVERITY_COLORS["ok"])))
        painter.drawEllipse(QPointF(9, STRIP_H / 2), 4, 4)


class BlockHealthItem(StripItem):
    """The strip under a block card: status dot and a bar per inner weighted layer."""

    def __init__(self, parent: QGraphicsItem, width: float) -> None:
        super().__init__(parent, width)
        self.bars: list[tuple[float, QColor]] = []  # height 0..1, colour

    def set_state(self, bars: list[tuple[float, QColor]], status: str, tip: str) -> None:
        key = [(round(h, 3), c.rgba()) for h, c in bars]
        if (key, status) != ([(round(h, 3), c.rgba()) for h, c in self.bars], self.status):
            self.bars, self.status = bars, status
            self.update()
        if tip != self.toolTip():
            self.setToolTip(tip)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        self.paint_frame(painter)
        if not self.bars:
            return
        left, right = self.LEFT, self.width - 6.0
        step = (right - left) / len(self.bars)
        for k, (height, colour) in enumerate(self.bars):
            h = max(2.0, (STRIP_H - 6) * height)
            painter.setBrush(colour)
            painter.drawRect(QRectF(left + k * step + 0.5, STRIP_H - 3 - h,
                                    max(step - 1.0, 1.0), h))


def draw_block(run: RunRecord, instance_id: str, item, health: dict, heat_of,
               width: float) -> bool:
    """Draw (or update) the strip of block instance ``instance_id`` under its card
    ``item``, kept in ``health``; ``heat_of(t)`` is the overlay's colour map. False
    when the run measured nothing inside it."""
    ids = inner_ids(run, instance_id)
    weighted = [n for n in ids if n in run.weighted and n in run.latest]
    if not ids or not any(n in run.latest for n in ids):
        return False
    strip = health.get(instance_id)
    if not isinstance(strip, BlockHealthItem) or strip.parentItem() is not item:
        strip = health[instance_id] = BlockHealthItem(item, width)
    strip.setPos(0, item.card_rect().height() + 5)
    norms = {n: run.latest[n].grad_norm for n in weighted}
    logs = {n: math.log10(v) for n, v in norms.items()
            if v is not None and math.isfinite(v) and v > 0}
    bars: list[tuple[float, QColor]] = []
    if logs:
        lo, hi = min(logs.values()), max(logs.values())
        span = max(hi - lo, 1.0)
        for n in weighted:
            t = (logs[n] - lo) / span if n in logs else 0.0
            bars.append((0.15 + 0.85 * t, heat_of(t)))
    status = worst_status(run, ids)
    frozen = [n for n in ids if run.frozen(n)]
    lines = [f"{len(ids)} measured layers inside, {len(weighted)} with weights"
             + (f", {len(frozen)} frozen (no gradients)" if frozen else "")]
    for n in weighted:
        g = norms[n]
        lines.append(f"{run.layer_name(n)}: gradient norm "
                     + (f"{g:.3g}" if g is not None else "n/a"))
    strip.set_state(bars, status, "\n".join(lines))
    strip.setVisible(True)
    return True
