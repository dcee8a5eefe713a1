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
  then) until an edit changes a layer they are about (``keep``: ``stale_marks``); heat
  and strips go when the run ends or the overlay is switched off.

Updates are throttled to a few per second: colours need no more, and the canvas keeps
its frame rate for panning and zooming.

An open block's level has an overlay of its own (``level_overlay``) whose ``prefix`` is
the instance's node path (``n5``, ``n5:1/n7``): its cards' statistics are the run's under
that path, and a diagnosis of a layer deeper inside marks the nested instance holding
it, as one of an inner layer marks its collapsed instance at the network level.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from html import escape
from typing import TYPE_CHECKING, Any

import numpy as np
from PySide6.QtCore import QEvent, QObject

from graph.blocks import BLOCK
from runtime.layers import RELU_LIKE, SQUASHING
from runtime.run_record import RunRecord
from studio.canvas.view import NetworkView

from .block_health import STRIP_H, block_heat, draw_block
from .lock import LINE_GAP
from .overlay_items import (
    DIMMED,
    DiagnosisItem,
    HealthItem,
    HeatItem,
    HeatLegend,
    WireHeatItem,
    alive,
    heat_color,
)
from .pacing import FramePacer

if TYPE_CHECKING:
    from graph import Edge
    from studio.canvas.scene import NetworkScene

__all__ = ["DIMMED", "STRIP_H", "CanvasOverlay", "HealthItem", "heat_color"]

REFRESH_S = 0.2


# ====================================================================== overlay
class CanvasOverlay(QObject):
    """Keeps the overlay items of one scene in step with the run being shown."""

    def __init__(self, scene: NetworkScene, parent: QObject | None = None,
                 view: NetworkView | None = None,
                 prefix: str = "", legend: HeatLegend | None = None) -> None:
        super().__init__(parent)
        self.scene = scene
        self.prefix = prefix  # the node path of the open block shown ("": the network)
        self.legend: HeatLegend | None = legend
        self._own_legend = legend is None  # a level's overlay shares the network's
        if view is not None and legend is None:
            self.legend = HeatLegend(view)  # on the view: viewport children scroll
            self.legend.hide()
            view.installEventFilter(self)
        self.enabled = True
        # Shared with the plots (``pacing``): one drawing per frame, theirs or ours.
        self.pacer: FramePacer | None = None
        self.run: RunRecord | None = None
        self.live = False  # heat and strips shown (a run is going)
        self.heat: dict[str, HeatItem] = {}
        self.wire_heat: dict[Edge, WireHeatItem] = {}
        self.health: dict[str, HealthItem] = {}
        self.marks: dict[str, DiagnosisItem] = {}
        self.given: list = []  # the diagnoses asked to be marked ...
        self.diagnoses: list = []  # ... and those marked: still about the network
        # Which diagnoses still describe the network (``stale_marks``); None: all.
        self.keep: Callable[[Any], bool] | None = None
        self.node_heat: dict[str, float] = {}  # 0..1 per node, for tests and tooltips
        self.live_draws = 0  # heat drawn from measurements (how often, in all)
        self.peak_heat: dict[str, float] = {}  # last heat each node showed
        self._last = 0.0
        scene.controller.document_replaced.connect(self._forget)
        self.dimmed = False  # the heat shown is a finished run's, dimmed
        c = scene.controller
        for signal in (c.node_added, c.node_removed, c.edge_added, c.edge_removed,
                       c.params_changed, c.definition_changed):  # (inside a block too)
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

    def show_finished(self, run: RunRecord) -> None:
        """Draw finished ``run``'s last heat and strips, dimmed (a block opened after
        the run ended shows what the network level shows)."""
        if self.dimmed:
            self._remove_live()
        self.run, self.live = run, True
        if self.enabled:
            self._draw_live(run)
        self.end_run()

    def end_run(self) -> None:
        """The run ended: its heat and strips stay, dimmed, until the network is edited
        or another run starts; diagnosis marks stay."""
        self.live = False
        self.dimmed = True
        for group in (self.heat, self.wire_heat, self.health):
            for item in group.values():
                if alive(item):
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
        """The legend in the canvas's top right corner, on the thin line it shares
        with the training lock's note (``lock``)."""
        if self.legend is None:
            return
        port = self.legend.parentWidget()
        if on:
            if port is not None:
                top = port.viewport().y() if isinstance(port, NetworkView) else 0
                self.legend.move(port.width() - self.legend.width() - LINE_GAP,
                                 top + LINE_GAP)
            self.legend.show()
            self.legend.raise_()
        else:
            self.legend.hide()
        if isinstance(port, NetworkView):  # a fitted network stays clear of it
            port.set_top_room(self.legend.height() + 2 * LINE_GAP if on else 0,
                              "heat_legend")

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
        if not force and self.pacer is not None and not self.pacer.free():
            return  # this frame has its drawing (a plot): at the next tick
        if self._draw_live(self.run):
            self._last = now  # the pause counts from a real drawing
            if self.pacer is not None:
                self.pacer.take()

    # ------------------------------------------------------------------ heat & strips
    def _draw_live(self, run: RunRecord) -> bool:
        """Draw heat and strips from the latest statistics; False if there are none."""
        values = self._levels(run)
        if not values:
            return False
        self.live_draws += 1
        if self.legend is not None and not self.legend.isVisible():
            self._show_legend(True)
        nodes = self.scene.nodes
        local = {n: values[self.key(n)] for n in nodes if self.key(n) in values}
        inherited = self._inherit(run, local)
        blocks = self._blocks()
        for node_id in blocks:  # a collapsed block glows with its weakest inner layer
            t = block_heat(run, values, self.key(node_id))
            if t is not None:
                inherited[node_id] = t
        self.node_heat = inherited
        self.peak_heat.update(inherited)
        for node_id, item in nodes.items():
            t = inherited.get(node_id)
            heat = self.heat.get(node_id)
            if t is None:
                if alive(heat):
                    heat.setVisible(False)
            else:
                if not alive(heat) or heat.parentItem() is not item:
                    heat = self.heat[node_id] = HeatItem(item)
                colour = heat_color(t)
                colour.setAlpha(235)
                heat.set_state(item.card_rect(), colour)
                heat.setVisible(True)
            if self.key(node_id) in run.latest:
                self._strip(run, node_id, item)
            elif node_id in blocks:
                from studio.canvas.node_item import WIDTH

                draw_block(run, self.key(node_id), item, self.health, heat_color, WIDTH)
        for edge, wire in self.scene.wires.items():
            t = inherited.get(edge.source)
            wire_heat = self.wire_heat.get(edge)
            if t is None:
                if alive(wire_heat):
                    wire_heat.setVisible(False)
                continue
            if not alive(wire_heat) or wire_heat.parentItem() is not wire:
                wire_heat = self.wire_heat[edge] = WireHeatItem(wire)
            colour = heat_color(t)
            colour.setAlpha(170)
            wire_heat.set_state(wire.path(), colour)
            wire_heat.setVisible(True)
        return True

    def key(self, node_id: str) -> str:
        """How the run names node ``node_id`` of the level shown (its node path)."""
        return f"{self.prefix}/{node_id}" if self.prefix else node_id

    def local(self, run_id: str) -> str | None:
        """The node of the level shown that measured layer ``run_id`` is, or is inside
        (a collapsed instance); None when it is elsewhere in the network."""
        if self.prefix:
            head = self.prefix + "/"
            if not run_id.startswith(head):
                return None
            run_id = run_id[len(head):]
        return run_id.split("/", 1)[0].split(":", 1)[0]

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
        for run_id in run.node_ids:  # network order: sources come first
            node_id = self.local(run_id)
            if node_id is None or self.key(node_id) != run_id or node_id in out \
                    or node_id not in doc.nodes:
                continue
            for edge in doc.edges_into(node_id):
                if edge.source in out:
                    out[node_id] = out[edge.source]
                    break
        return out

    def _strip(self, run: RunRecord, node_id: str, item) -> None:
        strip = self.health.get(node_id)
        if not alive(strip) or strip.parentItem() is not item:
            from studio.canvas.node_item import WIDTH

            strip = self.health[node_id] = HealthItem(item, WIDTH)
        strip.setPos(0, item.card_rect().height() + 5)
        key = self.key(node_id)
        stats = run.latest[key]
        kind = run.node_types[run.layer_rows[key]]
        spark = list(run.sparks.get(key, ()))
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
        if run.frozen(key):  # no gradients by design (this run's setup): say why
            text = "frozen"
            tip = "Frozen: its weights do not train (no gradients). " + tip
        found = run.diagnoses_for(key)
        status = "ok"
        if found:
            status = "error" if any(d.severity == "error" for d in found) else "warning"
        strip.set_state(values, text, status, tip)
        strip.setVisible(True)

    def _remove_live(self) -> None:
        if self._own_legend:
            self._show_legend(False)
        for group in (self.heat, self.wire_heat, self.health):
            for item in group.values():
                if alive(item) and item.scene() is not None:
                    item.scene().removeItem(item)
            group.clear()
        self.node_heat = {}
        self.dimmed = False

    # ------------------------------------------------------------------ diagnoses
    def set_diagnoses(self, diagnoses: list, run: RunRecord | None = None) -> None:
        """Mark the nodes each diagnosis names (all marks replaced); a diagnosis of a
        layer inside a block marks the collapsed instance holding it, its tooltip
        naming the layer by path (``run`` gives the names)."""
        self.given = list(diagnoses)
        if self.keep is not None:  # not those an edit made out of date
            diagnoses = [d for d in diagnoses if self.keep(d)]
        self.diagnoses = list(diagnoses)
        names = run or self.run
        by_node: dict[str, list] = {}
        inside: dict[str, list[str]] = {}
        for d in diagnoses:
            for run_id in d.node_ids:
                node_id = self.local(run_id)
                if node_id is None:
                    continue
                if d not in by_node.setdefault(node_id, []):
                    by_node[node_id].append(d)
                if run_id != self.key(node_id):
                    inside.setdefault(node_id, []).append(
                        names.layer_name(run_id) if names is not None else run_id)
        for node_id in list(self.marks):
            if node_id not in by_node:
                gone = self.marks.pop(node_id)
                if alive(gone) and gone.scene() is not None:
                    gone.scene().removeItem(gone)
        for node_id, found in by_node.items():
            item = self.scene.nodes.get(node_id)
            if not alive(item):  # (a scene being torn down: its cards are gone)
                continue
            mark = self.marks.get(node_id)
            if not alive(mark) or mark.parentItem() is not item:
                mark = self.marks[node_id] = DiagnosisItem(item)
            # Above the card's training tag ("frozen", "1 inner frozen") when it has one.
            mark.setPos(0, -44 if item.frozen_tag.isVisible() else -22)
            title = found[0].title + (f" +{len(found) - 1}" if len(found) > 1 else "")
            severity = "error" if any(d.severity == "error" for d in found) else "warning"
            tip = "<br><br>".join(f"<b>{escape(d.title)}</b><br>{escape(d.explanation)}"
                                  f"<br><i>Fix: {escape(d.fix)}</i>" for d in found)
            if node_id in inside:
                where = ", ".join(dict.fromkeys(inside[node_id]))
                tip = f"Inside this block: <b>{escape(where)}</b><br><br>" + tip
            mark.set_state(title, severity, tip)

    def marked_nodes(self) -> dict[str, str]:
        """Node id -> the diagnosis text on it (what the canvas shows)."""
        return {n: m.text for n, m in self.marks.items() if alive(m)}

    def clear(self) -> None:
        self._remove_live()
        self.set_diagnoses([])

    def _forget(self) -> None:
        """A new document: the scene deleted its items, and ours with them."""
        self.heat.clear()
        self.wire_heat.clear()
        self.health.clear()
        self.marks.clear()
        self.given, self.diagnoses = [], []
        self.node_heat = {}
        self.run = None
        self.live = False

