"""What one layer outputs: mean and spread over time, dead or saturated units, and the
current histograms of its activations and of its gradients.

The layer shown is the focus (the first selected node that the run measures); dead and
saturated fractions are drawn for every ReLU-like and Sigmoid/Tanh layer so a dying layer
stands out next to healthy ones, with the focus drawn thicker.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from runtime.layers import RELU_LIKE, SQUASHING
from runtime.run_record import RunRecord

from .common import (
    LINE_COLORS,
    TRAIN,
    VALIDATION,
    curve,
    data_range,
    empty_range,
    finite_xy,
    key_title,
    layout_widget,
    placeholder,
    set_title,
    style_plot,
)


class ActivationsPlot(QWidget):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.run: RunRecord | None = None
        self.focus: str | None = None
        self.canvas = layout_widget(self)
        c = self.canvas
        self.spread_plot = style_plot(c.addPlot(enableMenu=False, row=0, col=0), "Activation mean ± std",
                                      bottom="step")
        self.dead_plot = style_plot(c.addPlot(enableMenu=False, row=0, col=1),
                                    "Dead (ReLU) / saturated (Sigmoid, Tanh) units",
                                    bottom="step")
        self.dead_plot.setYRange(0, 1)
        self.act_hist_plot = style_plot(c.addPlot(enableMenu=False, row=1, col=0), "Activations now",
                                        bottom="value")
        self.grad_hist_plot = style_plot(c.addPlot(enableMenu=False, row=1, col=1), "Gradients now",
                                         bottom="value")
        self.dead_plot.setXLink(self.spread_plot)

        self.mean = curve(self.spread_plot, TRAIN, 1.8)
        self.upper_curve = curve(self.spread_plot, TRAIN, 0.6, alpha=120)
        self.lower_curve = curve(self.spread_plot, TRAIN, 0.6, alpha=120)
        fill = QColor(TRAIN)
        fill.setAlpha(50)
        self.band = pg.FillBetweenItem(self.upper_curve, self.lower_curve, brush=fill)
        self.spread_plot.addItem(self.band)
        self.dead_lines = [curve(self.dead_plot, col, 1.4) for col in LINE_COLORS]
        self._dead_ids: list[str] = []
        self.act_hist = self.act_hist_plot.plot(
            [0, 1], [0], stepMode="center", fillLevel=0, brush=_alpha(TRAIN, 110),
            pen=pg.mkPen(TRAIN, width=1.2))
        self.grad_hist = self.grad_hist_plot.plot(
            [0, 1], [0], stepMode="center", fillLevel=0, brush=_alpha(VALIDATION, 110),
            pen=pg.mkPen(VALIDATION, width=1.2))
        self.hint = placeholder(self.spread_plot, "Select a layer to see its activations")
        self.grad_hint = placeholder(self.grad_hist_plot, "")
        self.hist_steps: dict[str, int] = {}  # which step each histogram shows

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)

    # ------------------------------------------------------------------ feeding
    def set_run(self, run: RunRecord | None) -> None:
        self.run = run
        self._dead_ids = []
        self.refresh()

    def set_focus(self, node_id: str | None) -> None:
        if node_id != self.focus:
            self.focus = node_id
            self._dead_ids = []  # redraw the key (the focus is drawn thicker)
            self.refresh()

    def focus_layer(self) -> str | None:
        run = self.run
        if run is None or not run.latest:
            return None
        if self.focus in run.latest:
            return self.focus
        return next(iter(n for n in run.node_ids if n in run.latest), None)

    def refresh(self, changed: set[str] | None = None) -> None:
        if changed is not None and "layers" not in changed:
            return
        run = self.run
        node_id = self.focus_layer()
        if run is None or node_id is None:
            for item in (self.mean, self.upper_curve, self.lower_curve):
                item.setData([], [])
            self.act_hist.setData([0, 1], [0])
            self.grad_hist.setData([0, 1], [0])
            self.hint.show()
            self._empty_axes()
            return
        self.hint.hide()
        self._data_axes()
        name = run.layer_name(node_id)
        row = run.layer_rows[node_id]
        grid_mean, grid_std = run.layers["act_mean"], run.layers["act_std"]
        xs = grid_mean.xs()
        mean = grid_mean.values(row)
        std = grid_std.values(row)
        self.mean.setData(*finite_xy(xs, mean))
        self.upper_curve.setData(*finite_xy(xs, mean + std))
        self.lower_curve.setData(*finite_xy(xs, mean - std))
        set_title(self.spread_plot, f"Activation mean ± std: {name}")
        self._draw_dead(run, node_id)
        stats = run.latest[node_id]
        set_title(self.act_hist_plot, f"Activations now: {name}")
        self.act_hist.setData(np.asarray(stats.act_edges, float),
                              np.asarray(stats.act_hist, float))
        if stats.grad_hist is not None and stats.grad_edges is not None:
            self.grad_hist.setData(np.asarray(stats.grad_edges, float),
                                   np.asarray(stats.grad_hist, float))
            self.grad_hint.setText("")
            set_title(self.grad_hist_plot, f"Gradients now: {name}")
        else:
            self.grad_hist.setData([0, 1], [0])
            self.grad_hint.setText(f"'{name}' has no weights: no gradient histogram")
        self.hist_steps[node_id] = run.step

    def _empty_axes(self) -> None:
        """Nothing to show: steps from 0, no histogram (its empty bar read as a value
        of 0), shares from 0 to 1."""
        for item in (self.act_hist, self.grad_hist):
            item.setVisible(False)
        empty_range(self.spread_plot, (0, 100), (-1, 1))
        for plot in (self.act_hist_plot, self.grad_hist_plot):
            empty_range(plot, (-1, 1), (0, 1))

    def _data_axes(self) -> None:
        for item in (self.act_hist, self.grad_hist):
            item.setVisible(True)
        for plot in (self.spread_plot, self.act_hist_plot, self.grad_hist_plot):
            data_range(plot)

    def _draw_dead(self, run: RunRecord, focus: str) -> None:
        ids = [n for n, t in zip(run.node_ids, run.node_types)
               if t in RELU_LIKE or t in SQUASHING][:len(self.dead_lines)]
        if ids != self._dead_ids:
            self._dead_ids = ids
            for line, node_id in zip(self.dead_lines, ids):
                pen = line.opts["pen"]
                pen.setWidthF(3.0 if node_id == focus else 1.4)
                line.setPen(pen)
            key_title(self.dead_plot, "Dead (ReLU) / saturated (Sigmoid, Tanh)", [
                (run.layer_name(n), c) for n, c in zip(ids, LINE_COLORS)])
        dead, sat = run.layers["dead_fraction"], run.layers["saturation"]
        xs = dead.xs()
        dead_values, sat_values = dead.values(), sat.values()
        for k, line in enumerate(self.dead_lines):
            if k < len(ids):
                row = run.layer_rows[ids[k]]
                ys = sat_values[:, row] if run.node_types[row] in SQUASHING \
                    else dead_values[:, row]
                line.setData(*finite_xy(xs, ys))
            else:
                line.setData([], [])


def _alpha(color: str, alpha: int) -> QColor:
    c = QColor(color)
    c.setAlpha(alpha)
    return c
