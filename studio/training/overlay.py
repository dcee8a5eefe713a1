"""Training drawn on the canvas: gradient heat on nodes and wires, a health strip under
each measured node, and the runtime's diagnoses on the nodes they concern.

Made of the overlay's own QGraphicsItems, children of the scene's node and wire items
(found through ``NetworkScene.nodes`` / ``.wires``), so they follow moves and zoom, and
clicks on them reach the card underneath (the view resolves a child to its card). The
canvas code knows nothing of them.

- Heat: a glow behind each card and under each wire, coloured like the gradient heatmap
  (dark = small gradient), so vanishing gradients show as dark cards towards the input.
  Layers without weights (activations, pooling) take the colour of the nearest weighted
  layer before them, so the heat reads along the chain.
- Health strip: a sparkline of the layer's gradient norm (or activation spread) with the
  latest value (dead or saturated share for activations) and a dot: green, amber for a
  warning diagnosis, red for an error.
- Diagnosis marks: a tag over the card with the diagnosis title; its tooltip holds the
  explanation and the fix. Marks stay after the run ends (they are what the user reads
  then); heat and strips go when the run ends or the overlay is switched off.

Updates are throttled to a few per second: colours need no more, and the canvas keeps
its frame rate for panning and zooming.
"""

from __future__ import annotations

import math
import time
from html import escape
from typing import TypeGuard, TypeVar

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
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

from graph.blocks import BLOCK
from runtime.layers import RELU_LIKE, SQUASHING
from runtime.run_record import RunRecord
from studio import resources
from studio.theme_colors import SEVERITY_COLORS

from .block_health import STRIP_H, StripItem, block_heat, draw_block
from .plots.common import color_map

_I = TypeVar("_I", bound=QGraphicsItem)
REFRESH_S = 0.2
GLOW = 7.0  # pixels of heat around a card
_LUT = None


def heat_color(t: float) -> QColor:
    """``t`` in 0..1 through the heatmap's colour map (0 dark, 1 bright)."""
    global _LUT
    if _LUT is None:
        _LUT = color_map().getLookupTable(0.0, 1.0, 256, alpha=True)
    r, g, b, _a = _LUT[int(max(0.0, min(1.0, t)) * 255)]
    return QColor(int(r), int(g), int(b))


def _valid(item: _I | None) -> TypeGuard[_I]:
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
    """What the glow means, in a corner of the canvas while it shows."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        metrics = QFontMetricsF(_font(10))
        self._label_w = metrics.horizontalAdvance("Gradient") + 16
        self._tail_w = metrics.horizontalAdvance("small \u2192 large") + 12
        self.resize(int(self._label_w + 110 + self._tail_w), 30)

    def paintEvent(self, event) -> None:
        theme = resources.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(theme.color("border"), 1.0))
        painter.setBrush(theme.color("base"))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        painter.setFont(_font(10))
        painter.setPen(theme.color("muted"))
        painter.drawText(QRectF(8, 0, self._label_w, 30), Qt.AlignmentFlag.AlignVCenter,
                         "Gradient")
        bar = QRectF(self._label_w, 9, 104, 12)
        gradient = QLinearGradient(bar.topLeft(), bar.topRight())
        for k in range(6):
            gradient.setColorAt(k / 5, heat_color(k / 5))
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(gradient)
        painter.drawRoundedRect(bar, 3, 3)
        painter.setPen(theme.color("muted"))
        painter.drawText(QRectF(bar.right() + 6, 0, self._tail_w, 30),
                         Qt.AlignmentFlag.AlignVCenter, "small \u2192 large")
        painter.end()


# ====================================================================== overlay
class CanvasOverlay(QObject):
    """Keeps the overlay items of one scene in step with the run being shown."""

    def __init__(self, scene, parent: QObject | None = None, view=None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.legend: HeatLegend | None = None
        if view is not None:
            self.legend = HeatLegend(view)  # on the view: viewport children scroll
            self.legend.hide()
            view.installEventFilter(self)
        self.enabled = True
        self.run: RunRecord | None = None
        self.live = False  # heat and strips shown (a run is going)
        self.heat: dict[str, HeatItem] = {}
        self.wire_heat: dict = {}
        self.health: dict[str, HealthItem] = {}
        self.marks: dict[str, DiagnosisItem] = {}
        self.diagnoses: list = []
        self.node_heat: dict[str, float] = {}  # 0..1 per node, for tests and tooltips
        self.live_draws = 0  # heat drawn from measurements (how often, in all)
        self.peak_heat: dict[str, float] = {}  # last heat each node showed
        self._last = 0.0
        scene.controller.document_replaced.connect(self._forget)
        self.dimmed = False  # the heat shown is a finished run's, dimmed
        c = scene.controller
        for signal in (c.node_added, c.node_removed, c.edge_added, c.edge_removed,
                       c.params_changed):
            signal.connect(self._network_edited)

    # ------------------------------------------------------------------ feeding
    def set_run(self, run: RunRecord | None) -> None:
        """Show ``run`` live (heat and strips); its earlier marks are cleared."""
        if self.dimmed:
            self._remove_live()  # the last run's dimmed heat gives way to this one
        self.run = run
        self.live = run is not None and run.active
        self.set_diagnoses(list(run.diagnoses) if run is not None else [])
        self.refresh(force=True)

    def end_run(self) -> None:
        """The run ended: its heat and strips stay, dimmed, until the network is edited
        or another run starts; diagnosis marks stay."""
        self.live = False
        self.dimmed = True
        for group in (self.heat, self.wire_heat, self.health):
            for item in group.values():
                if _valid(item):
                    item.setOpacity(DIMMED)

    def _network_edited(self, _event=None) -> None:
        """The last run's measurements no longer describe this network."""
        if self.dimmed and not self.live:
            self._remove_live()

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        if on:
            self.refresh(force=True)
        else:
            self._remove_live()

    def _show_legend(self, on: bool) -> None:
        if self.legend is None:
            return
        if on:
            port = self.legend.parentWidget()
            if port is not None:
                self.legend.move(10, port.height() - self.legend.height() - 10)
            self.legend.show()
            self.legend.raise_()
        else:
            self.legend.hide()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize and self.legend is not None \
                and self.legend.isVisible():
            self._show_legend(True)
        return False

    def refresh(self, changed: set[str] | None = None, force: bool = False) -> None:
        if changed is not None and "diagnoses" in changed and self.run is not None:
            self.set_diagnoses(list(self.run.diagnoses))
        now = time.monotonic()
        if not force and now - self._last < REFRESH_S:
            return
        if self.run is None or not self.live or not self.enabled:
            return
        if self._draw_live(self.run):
            self._last = now  # the pause counts from a real drawing

    # ------------------------------------------------------------------ heat & strips
    def _draw_live(self, run: RunRecord) -> bool:
        """Draw heat and strips from the latest statistics; False if there are none."""
        values = self._levels(run)
        if not values:
            return False
        self.live_draws += 1
        if self.legend is not None and not self.legend.isVisible():
            self._show_legend(True)
        inherited = self._inherit(run, values)
        blocks = self._blocks()
        for node_id in blocks:  # a collapsed block glows with its weakest inner layer
            t = block_heat(run, values, node_id)
            if t is not None:
                inherited[node_id] = t
        self.node_heat = inherited
        self.peak_heat.update(inherited)
        nodes = self.scene.nodes
        for node_id, item in nodes.items():
            t = inherited.get(node_id)
            heat = self.heat.get(node_id)
            if t is None:
                if _valid(heat):
                    heat.setVisible(False)
            else:
                if not _valid(heat) or heat.parentItem() is not item:
                    heat = self.heat[node_id] = HeatItem(item)
                colour = heat_color(t)
                colour.setAlpha(235)
                heat.set_state(item.card_rect(), colour)
                heat.setVisible(True)
            if node_id in run.latest:
                self._strip(run, node_id, item)
            elif node_id in blocks:
                from studio.canvas.node_item import WIDTH

                draw_block(run, node_id, item, self.health, heat_color, WIDTH)
        for edge, wire in self.scene.wires.items():
            t = inherited.get(edge.source)
            item = self.wire_heat.get(edge)
            if t is None:
                if _valid(item):
                    item.setVisible(False)
                continue
            if not _valid(item) or item.parentItem() is not wire:
                item = self.wire_heat[edge] = WireHeatItem(wire)
            colour = heat_color(t)
            colour.setAlpha(170)
            item.set_state(wire.path(), colour)
            item.setVisible(True)
        return True

    def _blocks(self) -> set[str]:
        doc = self.scene.controller.document
        return {n for n, node in doc.nodes.items() if node.type == BLOCK}

    @staticmethod
    def _levels(run: RunRecord) -> dict[str, float]:
        """Latest log10 gradient norm of each weighted layer, scaled 0..1 over the run's
        recent spread (the heatmap's colours)."""
        recent = {}
        for node_id in run.weighted:
            spark = [v for v in list(run.sparks.get(node_id, ()))[-3:]
                     if math.isfinite(v) and v > 0]
            if spark:
                recent[node_id] = math.log10(sum(spark) / len(spark))
        if not recent:
            return {}
        every = [math.log10(v) for n in run.weighted for v in run.sparks.get(n, ())
                 if math.isfinite(v) and v > 0]
        lo, hi = float(np.min(every)), float(np.max(every))
        span = max(hi - lo, 1.0)
        return {n: (v - lo) / span for n, v in recent.items()}

    def _inherit(self, run: RunRecord, values: dict[str, float]) -> dict[str, float]:
        """Heat for every node: its own, else that of the nearest weighted layer before
        it (activations and pooling pass the same gradient on)."""
        doc = self.scene.controller.document
        out = dict(values)
        for node_id in run.node_ids:  # network order: sources come first
            if node_id in out or node_id not in doc.nodes:
                continue
            for edge in doc.edges_into(node_id):
                if edge.source in out:
                    out[node_id] = out[edge.source]
                    break
        return out

    def _strip(self, run: RunRecord, node_id: str, item) -> None:
        strip = self.health.get(node_id)
        if not _valid(strip) or strip.parentItem() is not item:
            from studio.canvas.node_item import WIDTH

            strip = self.health[node_id] = HealthItem(item, WIDTH)
        strip.setPos(0, item.card_rect().height() + 5)
        stats = run.latest[node_id]
        kind = run.node_types[run.layer_rows[node_id]]
        spark = list(run.sparks.get(node_id, ()))
        if stats.grad_norm is not None:
            values = [math.log10(v) if math.isfinite(v) and v > 0 else math.nan
                      for v in spark]
            text = f"\u2207 {stats.grad_norm:.1e}"
            tip = f"Gradient norm {stats.grad_norm:.3g}"
            if stats.update_ratio is not None:
                tip += f", update/weight {stats.update_ratio:.2g}"
        else:
            values = spark
            text = f"std {stats.act_std:.2g}"
            tip = f"Activation mean {stats.act_mean:.3g}, std {stats.act_std:.3g}"
        if kind in RELU_LIKE and stats.dead_fraction is not None:
            text = f"dead {stats.dead_fraction:.0%}"
            tip += f"; {stats.dead_fraction:.0%} of units dead in this batch"
        elif kind in SQUASHING and stats.saturation is not None:
            text = f"sat. {stats.saturation:.0%}"
            tip += f"; {stats.saturation:.0%} of outputs saturated"
        if item.frozen:  # no gradients by design: say why
            text = "frozen"
            tip = "Frozen: its weights do not train (no gradients). " + tip
        found = run.diagnoses_for(node_id)
        status = "ok"
        if found:
            status = "error" if any(d.severity == "error" for d in found) else "warning"
        strip.set_state(values, text, status, tip)
        strip.setVisible(True)

    def _remove_live(self) -> None:
        self._show_legend(False)
        for group in (self.heat, self.wire_heat, self.health):
            for item in group.values():
                if _valid(item) and item.scene() is not None:
                    item.scene().removeItem(item)
            group.clear()
        self.node_heat = {}
        self.dimmed = False

    # ------------------------------------------------------------------ diagnoses
    def set_diagnoses(self, diagnoses: list) -> None:
        """Mark the nodes each diagnosis names (all marks replaced)."""
        self.diagnoses = list(diagnoses)
        by_node: dict[str, list] = {}
        for d in diagnoses:
            for node_id in d.node_ids:
                by_node.setdefault(node_id, []).append(d)
        for node_id in list(self.marks):
            if node_id not in by_node:
                gone = self.marks.pop(node_id)
                if _valid(gone) and gone.scene() is not None:
                    gone.scene().removeItem(gone)
        for node_id, found in by_node.items():
            item = self.scene.nodes.get(node_id)
            if item is None:
                continue
            mark = self.marks.get(node_id)
            if not _valid(mark) or mark.parentItem() is not item:
                mark = self.marks[node_id] = DiagnosisItem(item)
            mark.setPos(0, -22)
            title = found[0].title + (f" +{len(found) - 1}" if len(found) > 1 else "")
            severity = "error" if any(d.severity == "error" for d in found) else "warning"
            tip = "<br><br>".join(f"<b>{escape(d.title)}</b><br>{escape(d.explanation)}"
                                  f"<br><i>Fix: {escape(d.fix)}</i>" for d in found)
            mark.set_state(title, severity, tip)

    def marked_nodes(self) -> dict[str, str]:
        """Node id -> the diagnosis text on it (what the canvas shows)."""
        return {n: m.text for n, m in self.marks.items() if _valid(m)}

    def clear(self) -> None:
        self._remove_live()
        self.set_diagnoses([])

    def _forget(self) -> None:
        """A new document: the scene deleted its items, and ours with them."""
        self.heat.clear()
        self.wire_heat.clear()
        self.health.clear()
        self.marks.clear()
        self.diagnoses = []
        self.node_heat = {}
        self.run = None
        self.live = False

