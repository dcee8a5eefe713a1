"""The Sweep panel's plots: optimisation history, parameter importance, parallel
coordinates. Created once and fed with ``setData``/``setOpts`` (never rebuilt)."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pyqtgraph as pg

from studio.training.plots.common import (
    COMPARE,
    TRAIN,
    VALIDATION,
    style_plot,
    theme_colors,
)

BANDS = 5  # parallel-coordinate lines are coloured in this many objective bands
BAND_COLORS = ("#2f9e8f", "#5a9e3a", "#d9a11e", "#e0713c", "#c2415a")  # best -> worst


class HistoryPlot(pg.PlotWidget):
    """Objective per trial (pruned trials at their last report) and the best so far."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("sweep_history")
        _style(self, "Optimisation history", "objective", "trial")
        self.complete = pg.ScatterPlotItem(size=7, brush=pg.mkBrush(TRAIN), pen=None)
        self.pruned = pg.ScatterPlotItem(size=7, symbol="x", brush=pg.mkBrush(COMPARE),
                                         pen=pg.mkPen(COMPARE))
        self.best = pg.PlotDataItem(pen=pg.mkPen(VALIDATION, width=2), stepMode=None)
        for item in (self.best, self.complete, self.pruned):
            self.addItem(item)

    def show_rows(self, rows, direction: str) -> None:
        done = [(r.number, r.value) for r in rows if r.state == "complete"
                and r.value is not None]
        pruned = [(r.number, r.history[-1]) for r in rows if r.state == "pruned"
                  and r.history]
        self.complete.setData(*_xy(done))
        self.pruned.setData(*_xy(pruned))
        pick = min if direction == "minimize" else max
        best, xs, ys = None, [], []
        for number, value in sorted(done):
            best = value if best is None else pick(best, value)
            xs.append(number)
            ys.append(best)
        self.best.setData(xs, ys)


class ImportancePlot(pg.PlotWidget):
    """Optuna's parameter importance as horizontal bars."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("sweep_importance")
        _style(self, "Parameter importance", "", "importance")
        self.bars = pg.BarGraphItem(x0=[], y=[], height=0.6, width=[],
                                    brush=pg.mkBrush(TRAIN))
        self.addItem(self.bars)
        self.names: list[str] = []

    def show_importance(self, importance: dict[str, float],
                        display: Callable[[str], str] = str) -> None:
        self.names = list(importance)[::-1]  # the most important on top
        values = [importance[n] for n in self.names]
        self.bars.setOpts(x0=[0] * len(values), y=list(range(len(values))),
                          width=values, height=0.6)
        axis = self.getAxis("left")
        axis.setTicks([list(enumerate(map(display, self.names)))])
        self.setYRange(-0.5, max(0.5, len(values) - 0.5), padding=0)
        self.setXRange(0, max([1e-3, *values]) * 1.05, padding=0)


class ParallelPlot(pg.PlotWidget):
    """Parallel coordinates: one axis per parameter and one for the objective; each
    finished trial is a line, coloured from best (green) to worst (red)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("sweep_parallel")
        _style(self, "Parallel coordinates", "scaled value", "")
        self.lines = [pg.PlotDataItem(pen=pg.mkPen(c, width=1.5), connect="finite")
                      for c in BAND_COLORS]
        for item in self.lines:
            self.addItem(item)
        self.axes: list[str] = []  # the searched targets, then the objective
        self.labels: list[str] = []  # the same, as the axes are labelled

    def show_rows(self, rows, direction: str, objective: str, log_params=(),
                  display: Callable[[str], str] = str) -> None:
        done = [r for r in rows if r.state == "complete" and r.value is not None]
        names = sorted({k for r in done for k in r.params})
        self.axes = [*names, objective]
        columns = [_scaled([r.params.get(n) for r in done], n in log_params)
                   for n in names]
        columns.append(_scaled([r.value for r in done], False))
        order = np.argsort([r.value for r in done]) if done else np.array([], int)
        if direction == "maximize":
            order = order[::-1]
        band_of = np.empty(len(done), int)
        for rank, index in enumerate(order):
            band_of[index] = min(BANDS - 1, rank * BANDS // max(1, len(done)))
        width = len(self.axes)
        for band, item in enumerate(self.lines):
            xs, ys = [], []
            for i in np.flatnonzero(band_of == band):
                xs += [*range(width), math.nan]
                ys += [*(c[i] for c in columns), math.nan]
            item.setData(xs, ys)
        self.labels = [*map(display, names), objective]
        self.getAxis("bottom").setTicks([list(enumerate(self.labels))])
        # Half an axis of room each side, so the outer axes keep their (long) names.
        self.setXRange(-0.5, max(1, width - 1) + 0.5, padding=0)
        self.setYRange(-0.05, 1.05, padding=0)


def _xy(points) -> tuple[list, list]:
    return [p[0] for p in points], [p[1] for p in points]


def _scaled(values, log: bool) -> list[float]:
    """Values on a 0..1 axis: numbers by their range (log10 for log-uniform ones),
    categories by their sorted position."""
    if values and not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                          for v in values if v is not None):
        labels = sorted({str(v) for v in values})
        last = max(1, len(labels) - 1)
        return [labels.index(str(v)) / last if v is not None else math.nan
                for v in values]
    numbers = [math.log10(v) if log and v is not None and v > 0 else v for v in values]
    finite = [v for v in numbers if v is not None and math.isfinite(v)]
    if not finite:
        return [math.nan] * len(values)
    low, high = min(finite), max(finite)
    span = high - low or 1.0
    return [(v - low) / span if v is not None and math.isfinite(v) else math.nan
            for v in numbers]


def _style(widget: pg.PlotWidget, title: str, left: str, bottom: str) -> None:
    """The studio's plot look; numbers as they are (no SI prefixes on the axes)."""
    widget.setBackground(theme_colors()[0])
    plot = style_plot(widget.getPlotItem(), title, left, bottom)
    for name in ("left", "bottom"):
        plot.getAxis(name).enableAutoSIPrefix(False)
