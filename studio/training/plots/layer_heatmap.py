"""A per-layer statistic over time: a heatmap of every layer, lines for chosen layers.

Rows are the layers in network order with the input at the bottom, columns are time
(bounded: ``run.layers`` merges old columns as a run grows). Values are log10, coloured
from dark (small) to bright (large) over the spread of the data, so gradients that
vanish towards the input show as a dark band along the bottom rows. Clicking a row picks
that layer (``layer_clicked``); the chosen layers are outlined and drawn as lines below,
on a log axis.

In a network built from blocks, a block's inner layers are consecutive rows, set off
from the rest by thin lines; "Fold blocks" draws each instance as one row (the mean of
its layers' log values), named after the instance.
"""

from __future__ import annotations

import re

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QCheckBox, QVBoxLayout, QWidget

from runtime.run_record import RunRecord
from runtime.series import block_of, fold_blocks

from .common import (
    LINE_COLORS,
    StickyRange,
    color_map,
    curve,
    data_range,
    empty_range,
    grow_span,
    heat_levels,
    hold_x_range,
    key_title,
    layout_widget,
    log_tick_strings,
    nice_range,
    placeholder,
    small_font,
    style_plot,
    theme_colors,
)

MAX_LINES = len(LINE_COLORS)
MAX_ROW_LABELS = 12


class LayerHeatmap(QWidget):
    layer_clicked = Signal(str)  # node id

    def __init__(self, stat: str, title: str, unit: str, parent=None) -> None:
        super().__init__(parent)
        self.stat = stat
        self.run: RunRecord | None = None
        self.selected: list[str] = []
        self.row_ids: list[str] = []
        self.levels: tuple[float, float] | None = None
        self._legend_ids: list[str] = []
        self._x_held: float | None = None  # the steps the x axis spans, while a run goes
        self.fold = QCheckBox("Fold blocks", self)
        self.fold.setObjectName("fold_blocks")
        self.fold.setToolTip("Draw each block instance as one row (the mean of its "
                             "layers), or each of its inner layers")
        self.fold.hide()  # shown when the run has layers inside blocks
        self.fold.toggled.connect(lambda _on: self.set_run(self.run))
        self.separators: list[pg.InfiniteLine] = []

        self.canvas = layout_widget(self)
        self.heat = style_plot(self.canvas.addPlot(enableMenu=False, row=0, col=0), title)
        self.heat.showGrid(x=False, y=False)
        self.heat.getViewBox().setMouseEnabled(x=True, y=False)
        self.image = pg.ImageItem()
        self.image.setColorMap(color_map())
        self.heat.addItem(self.image)
        self.outlines: list[pg.QtWidgets.QGraphicsRectItem] = []
        self.bar = pg.ColorBarItem(values=(-6, 0), colorMap=color_map(), width=12,
                                   interactive=False, label=unit)
        self.bar.setImageItem(self.image)
        self.canvas.addItem(self.bar, row=0, col=1)
        self.bar.axis.tickStrings = log_tick_strings
        self.bar.axis.setTickFont(small_font())
        _bg, fg, _grid = theme_colors()
        self.bar.axis.setTextPen(pg.mkPen(fg))
        self.heat.getAxis("left").setStyle(tickTextWidth=80, autoExpandTextSpace=True)

        self.lines_plot = style_plot(self.canvas.addPlot(enableMenu=False, row=1, col=0), "",
                                     bottom="step")
        self.lines_plot.setXLink(self.heat)
        # log10 values on a linear axis with 1e-3-style labels: pyqtgraph's own log
        # mode crowds the minor ticks into an unreadable pile within one decade.
        self.lines_plot.getAxis("left").tickStrings = log_tick_strings
        self.lines_plot.getAxis("left").setWidth(
            self.heat.getAxis("left").width())
        self.lines = [curve(self.lines_plot, c, 1.6) for c in LINE_COLORS]
        self.lines_range = StickyRange(self.lines_plot)
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(1, 2)
        self.hint = placeholder(self.heat, "One row per layer appears while training")
        self.heat.scene().sigMouseClicked.connect(self._clicked)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.fold)
        layout.addWidget(self.canvas)
        self._set_rows([])  # no rows yet: an empty axis, not autorange's -0.5..0.5
        self._empty_axes()

    # ------------------------------------------------------------------ feeding
    def set_run(self, run: RunRecord | None) -> None:
        self.run = run
        # The rows (and their names on the axis) are the new run's, none until its
        # first sample: the last run's names, or -0.4..0.4, said nothing true.
        self._set_rows([])
        self.levels = None
        self._legend_ids = []
        self.lines_range.reset()
        self.refresh()

    def set_selection(self, node_ids: list[str]) -> None:
        if node_ids != self.selected:
            self.selected = list(node_ids)
            self._draw_outlines()
            self._draw_lines()

    def refresh(self, changed: set[str] | None = None) -> None:
        if changed is not None and "layers" not in changed:
            return
        run = self.run
        if run is None:
            self._x_held = hold_x_range(self.heat, None, self._x_held)
            self.image.clear()
            self._set_rows([])
            for line in self.lines:
                line.setData([], [])
            if self._legend_ids or self.lines_plot.titleLabel.text:
                # No run (another document shown): the last run's layer names go too.
                self._legend_ids = []
                key_title(self.lines_plot, "Layers", [])
            self.hint.show()
            self._empty_axes()
            return
        steps, values, ids = self.series()
        # While the run goes the x axis is held (see ``hold_x_range``), over a span the
        # data fills (a few samples of a long run drawn in its first tenth looked lost).
        span = grow_span(float(steps[-1]) if steps.size else 0.0, self._x_held,
                         run.total_steps) if run.active else None
        self._x_held = hold_x_range(self.heat, span, self._x_held)
        if steps.size:
            # x: linked to the heatmap's; y: ``lines_range`` (a StickyRange)
            data_range(self.lines_plot, x=False, y=False)
            data_range(self.heat, x=not run.active, y=False)  # y: one row per layer
        else:
            self._empty_axes()
        if ids != self.row_ids:
            self._set_rows(ids)
        if not steps.size or not ids:
            self.image.clear()
            self.hint.setVisible(True)
            self._draw_lines()
            return
        self.hint.hide()
        levels = heat_levels(values, span=1.0)
        if levels is not None:
            # Levels only widen during a run, so colours keep their meaning over time.
            if self.levels is not None:
                levels = (min(levels[0], self.levels[0]), max(levels[1], self.levels[1]))
            # Rounded outward (a tenth of the span): widened now and then, not by a
            # hair at each new extreme.
            levels = nice_range(*levels, margin=0.0)
            if levels != self.levels:  # the bar's axis is laid out again at each set
                self.levels = levels
                self.bar.setLevels(levels)
        x0, x1 = float(steps[0]), float(steps[-1])
        width = max(x1 - x0, 1.0)
        columns = values.shape[1]
        step = width / max(columns - 1, 1)
        # Column-major image: axis 0 is time (x), axis 1 the layer (y, input at 0).
        self.image.setImage(values.T, levels=self.levels, autoLevels=False)
        self.image.setRect(QRectF(x0 - step / 2, 0, width + step, len(ids)))
        self._draw_lines(steps, values, ids)

    def _empty_axes(self) -> None:
        """Before the first sample: steps from 0 and statistics from 1e-3 to 1."""
        if self._x_held is None:
            empty_range(self.heat, (0, 100), (0, 1))
        empty_range(self.lines_plot, None, (-3, 0))

    def series(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """The run's series of this statistic, blocks folded if asked."""
        assert self.run is not None
        steps, values, ids = self.run.layer_series(self.stat)
        has_blocks = any(block_of(n) for n in ids)
        self.fold.setVisible(has_blocks)
        if has_blocks and self.fold.isChecked() and values.size:
            values, ids = fold_blocks(values, ids)
        return steps, values, ids

    # ------------------------------------------------------------------ rows
    def _row_name(self, node_id: str) -> str:
        run = self.run
        if run is None:
            return node_id
        if node_id in run.layer_rows:
            return run.layer_name(node_id)
        # A folded block: its inner layers are named "instance > layer", a repeated
        # instance's "instance[k] > layer" (the row holds every copy).
        inner = next((n for n in run.node_ids if block_of(n) == node_id), None)
        if inner is None:
            return node_id
        return re.sub(r"\[\d+\]$", "", run.layer_name(inner).split(" > ")[0])

    def _set_rows(self, ids: list[str]) -> None:
        self.row_ids = list(ids)
        names = [self._row_name(n) for n in ids]
        for line in self.separators:
            self.heat.removeItem(line)
        self.separators = []
        pen = pg.mkPen(theme_colors()[1], width=1)
        for k in range(1, len(ids)):  # a line where a block's rows start or end
            if block_of(ids[k]) != block_of(ids[k - 1]):
                line = pg.InfiniteLine(pos=k, angle=0, pen=pen, movable=False)
                self.heat.addItem(line, ignoreBounds=True)
                self.separators.append(line)
        every = max(1, -(-len(names) // MAX_ROW_LABELS))  # thin out crowded labels
        ticks = [(i + 0.5, name) for i, name in enumerate(names)
                 if i % every == 0 or i == len(names) - 1]
        self.heat.getAxis("left").setTicks([ticks, []])
        self.heat.setYRange(0, max(len(ids), 1), padding=0)
        self._draw_outlines()

    def _draw_outlines(self) -> None:
        for item in self.outlines:
            self.heat.removeItem(item)
        self.outlines = []
        accent = pg.mkPen("#4c8dff", width=2)
        accent.setCosmetic(True)
        for node_id in self.selected:
            if node_id in self.row_ids:
                row = self.row_ids.index(node_id)
                rect = pg.QtWidgets.QGraphicsRectItem(QRectF(-1e12, row, 2e12, 1))
                rect.setPen(accent)
                rect.setZValue(10)
                self.heat.addItem(rect, ignoreBounds=True)
                self.outlines.append(rect)

    def chosen(self) -> list[str]:
        """Layers drawn as lines: the selection, else the first and last rows."""
        picked = [n for n in self.selected if n in self.row_ids][:MAX_LINES]
        if picked:
            return picked
        if len(self.row_ids) >= 2:
            return [self.row_ids[0], self.row_ids[-1]]
        return list(self.row_ids)

    def _draw_lines(self, steps=None, values=None, ids=None) -> None:
        run = self.run
        if run is None:
            return
        if steps is None:
            steps, values, ids = self.series()
        chosen = [n for n in self.chosen() if n in ids] if steps.size else []
        if chosen != self._legend_ids:  # retitled only when the chosen layers change
            self._legend_ids = chosen
            key_title(self.lines_plot, "Layers", [
                (self._row_name(n), c) for n, c in zip(chosen, LINE_COLORS)])
        shown = []
        for k, line in enumerate(self.lines):
            if k < len(chosen):
                ys = values[ids.index(chosen[k])]
                ok = np.isfinite(ys)
                line.setData(steps[ok], ys[ok])
                shown.append(ys[ok])
            else:
                line.setData([], [])
        self.lines_range.fit(*shown)

    # ------------------------------------------------------------------ picking
    def _clicked(self, event) -> None:
        if not self.row_ids:
            return
        vb = self.heat.getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        y = vb.mapSceneToView(event.scenePos()).y()
        row = int(np.floor(y))
        if 0 <= row < len(self.row_ids):
            self.layer_clicked.emit(self.row_ids[row])

    def row_values(self, node_id: str) -> np.ndarray:
        """The stored log10 values of one layer (for tests and tooltips)."""
        if self.run is None:
            return np.zeros(0)
        _steps, values, ids = self.run.layer_series(self.stat)
        return values[ids.index(node_id)] if node_id in ids else np.zeros(0)
