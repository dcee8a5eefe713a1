"""The selected layer's training, in the inspector: small charts under its form.

Selecting a node during or after a run shows how that layer trained: its gradient norm
and update-to-weight ratio (log scale), its activation mean ± std and dead / saturated
share, and its activation histogram over time (an image: steps across, values up,
brighter = more of the layer's outputs there). The numbers are the run record's
(``runtime.run_record``), the same series the plots area draws.

The charts redraw at most a few times a second while a run goes, and only when they
are on screen; without a run, or for a layer the run does not measure, they hide.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from runtime.layers import RELU_LIKE, SQUASHING
from runtime.run_record import RunRecord
from studio.panels.wheel_guard import pass_wheel_on

from .pacing import FramePacer
from .plots.common import (
    TRAIN,
    VALIDATION,
    color_map,
    curve,
    finite_xy,
    layout_widget,
    log_tick_strings,
    set_title,
    style_plot,
)

REDRAW_MS = 300  # live redraws: a few per second are plenty for small charts
PACED_RETRY_MS = 16  # a frame
# Four charts, each with its title: at 300 pixels each plot was 40 pixels tall and its
# axis labels overlapped ("1", "0.32", "0.1" in one pile).
CHART_HEIGHT = 440
HIST_BINS = 40


class LayerCharts(QWidget):
    """Charts of one layer of one run; ``set_run``, ``set_node``, ``refresh``."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("layer_charts")
        self.run: RunRecord | None = None
        self.node_id: str | None = None
        self.draws = 0  # how often the charts were drawn (tests read it)
        self.title = QLabel(self)
        self.title.setObjectName("layer_charts_title")
        self.title.setWordWrap(True)
        self.canvas = layout_widget(self)
        self.canvas.setMinimumHeight(CHART_HEIGHT)
        c = self.canvas
        self.grad_plot = style_plot(c.addPlot(enableMenu=False, row=0, col=0), "Gradient norm")
        self.ratio_plot = style_plot(c.addPlot(enableMenu=False, row=1, col=0), "Update / weight")
        self.act_plot = style_plot(c.addPlot(enableMenu=False, row=2, col=0), "Activation mean ± std")
        self.hist_plot = style_plot(c.addPlot(enableMenu=False, row=3, col=0), "Activation histogram",
                                    bottom="step")
        for plot in (self.grad_plot, self.ratio_plot):
            plot.getAxis("left").tickStrings = log_tick_strings
        for plot in (self.ratio_plot, self.act_plot, self.hist_plot):
            plot.setXLink(self.grad_plot)
        for plot in (self.grad_plot, self.ratio_plot, self.act_plot):
            plot.hideAxis("bottom")  # linked: the histogram's step axis serves all
        for plot in (self.grad_plot, self.ratio_plot, self.act_plot, self.hist_plot):
            plot.getAxis("left").setWidth(38)
            plot.getAxis("left").setStyle(maxTickLevel=0)  # a few ticks: small plots
        self.grad = curve(self.grad_plot, TRAIN, 1.6)
        self.ratio = curve(self.ratio_plot, VALIDATION, 1.6)
        self.mean = curve(self.act_plot, TRAIN, 1.6)
        self.band_high = curve(self.act_plot, TRAIN, 0.6, alpha=140)
        self.band_low = curve(self.act_plot, TRAIN, 0.6, alpha=140)
        self.share = curve(self.act_plot, VALIDATION, 1.2)  # dead / saturated, 0..1
        self.image = pg.ImageItem()
        self.image.setLookupTable(color_map().getLookupTable(0.0, 1.0, 256))
        self.hist_plot.addItem(self.image)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.canvas)
        # The charts sit in the scrolling inspector: a wheel turned to scroll it zoomed
        # whichever chart passed under the pointer (its curve shrank to a third of the
        # width). The wheel scrolls the inspector; a drag still pans a chart.
        pass_wheel_on(self.canvas.viewport())
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REDRAW_MS)
        self._timer.timeout.connect(self._redraw)
        # Shared with the plots and the canvas overlay (``pacing``): a live redraw
        # waits for a frame none of them drew in.
        self.pacer: FramePacer | None = None
        self._stale = False
        self.hide()

    # ------------------------------------------------------------------ feeding
    def set_run(self, run: RunRecord | None) -> None:
        self.run = run
        self.draw()

    def set_node(self, node_id: str | None) -> None:
        if node_id != self.node_id:
            self.node_id = node_id
            self.draw()

    def refresh(self, changed: set[str]) -> None:
        """The run changed: redraw soon (at most every ``REDRAW_MS``)."""
        if ("layers" in changed or "status" in changed) and not self._timer.isActive():
            self._timer.start()

    def measured(self) -> bool:
        run, node = self.run, self.node_id
        return run is not None and node is not None and node in run.latest

    # ------------------------------------------------------------------ drawing
    def _redraw(self) -> None:
        if self.pacer is not None and not self.pacer.free():
            self._timer.start(PACED_RETRY_MS)  # this frame has its drawing
            return
        self._timer.setInterval(REDRAW_MS)
        self.draw()
        if self.pacer is not None and self.isVisible():
            self.pacer.take()

    def draw(self) -> None:
        if not self.measured():
            self.hide()
            return
        if self.parentWidget() is None:  # not placed yet: never a window of its own
            self._stale = True
            return
        self.show()
        if not self.isVisible():  # the inspector itself is not on screen
            self._stale = True
            return
        run, node = self.run, self.node_id
        assert run is not None and node is not None
        self.draws += 1
        row = run.layer_rows[node]
        kind = run.node_types[row]
        state = "live" if run.active else "after the run"
        self.title.setText(f"<b>Training of {run.layer_name(node)}</b> "
                           f"<span style='color:gray'>({run.label}, {state})</span>")
        grads = run.layers["grad_norm"]
        xs = grads.xs()
        has_grad = node in run.weighted
        self.grad.setData(*finite_xy(xs, grads.values(row)) if has_grad else ([], []))
        ratios = run.layers["update_ratio"]
        self.ratio.setData(*finite_xy(ratios.xs(), ratios.values(row))
                           if has_grad else ([], []))
        set_title(self.grad_plot, "Gradient norm" if has_grad
                  else "Gradient norm (frozen)" if run.frozen(node)
                  else "Gradient norm (no weights)")
        mean = run.layers["act_mean"].values(row)
        std = run.layers["act_std"].values(row)
        ax = run.layers["act_mean"].xs()
        self.mean.setData(*finite_xy(ax, mean))
        self.band_high.setData(*finite_xy(ax, mean + std))
        self.band_low.setData(*finite_xy(ax, mean - std))
        share_stat = "saturation" if kind in SQUASHING else "dead_fraction"
        if kind in RELU_LIKE or kind in SQUASHING:
            share = run.layers[share_stat]
            self.share.setData(*finite_xy(share.xs(), share.values(row)))
            word = "saturated" if kind in SQUASHING else "dead"
            set_title(self.act_plot, f"Activation mean ± std, {word} share (orange)")
        else:
            self.share.setData([], [])
            set_title(self.act_plot, "Activation mean ± std")
        self._draw_histograms(run, node)

    def _draw_histograms(self, run: RunRecord, node: str) -> None:
        history = run.histograms.get(node)
        if history is None or not len(history):
            self.image.clear()
            return
        steps, edges, density = history.grid(HIST_BINS)
        if density.shape[1] == 0:
            self.image.clear()
            return
        # Columns are samples (steps across), rows value bins (values up).
        self.image.setImage(density.T, levels=(0.0, max(float(density.max()), 1e-6)),
                            autoLevels=False)
        x0 = float(steps[0])
        width = float(steps[-1] - steps[0]) or 1.0
        step = width / max(len(steps) - 1, 1)
        self.image.setRect(QRectF(x0 - step / 2, float(edges[0]), width + step,
                                  float(edges[-1] - edges[0])))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self._stale = False
            QTimer.singleShot(0, self.draw)


def density_columns(charts: LayerCharts) -> np.ndarray | None:
    """The histogram image shown (value bins x samples), for tests."""
    image = charts.image.image
    return None if image is None else np.asarray(image).T
