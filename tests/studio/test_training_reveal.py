"""The GUI thread's work while a run starts and goes is spread over frames: the monitor's
plots come on screen one per turn of the event loop (each with its data, none left
blank), their y axes move a few times per run instead of at each redraw, and the
canvas overlay never draws in the frame a plot drew. Fed with the events of a real
training run (in-process)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QAbstractEventDispatcher, QEvent, QObject
from PySide6.QtWidgets import QApplication
from test_training_support import tiny_cnn, tiny_mlp, workbench

from runtime.engine import EngineOptions, Trainer
from runtime.events import EpochEvent, StepEvent
from runtime.run_record import RunRecord
from studio.resources import EXAMPLES

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


def events_of(doc) -> list:
    """Every step reported and sampled (the engine's rate limits are of time: a loaded
    machine would report fewer)."""
    events: list = []
    options = EngineOptions(max_sample_rate=None, sample_budget=None)
    Trainer(doc, emit=events.append, options=options).run()
    return events


def running(doc, events) -> RunRecord:
    """A run of ``doc`` as the studio holds it after its first epoch, still going."""
    run = RunRecord(1, network=doc.name, label="#1 test", document=doc.to_dict())
    first_epoch_end = next(i for i, e in enumerate(events) if isinstance(e, EpochEvent))
    for event in events[:first_epoch_end + 1]:
        run.apply(event)
    assert run.active
    return run


class Turns(QObject):
    """Counts the passes of the event loop, and when each watched plot first painted."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0
        self.first_paint: dict[QObject, int] = {}
        self._owner: dict[QObject, QObject] = {}
        self.dispatcher = QAbstractEventDispatcher.instance()
        self.dispatcher.awake.connect(self._awake)

    def _awake(self) -> None:
        self.count += 1

    def watch(self, plot) -> None:
        for view in plot.findChildren(pg.GraphicsView):
            self._owner[view.viewport()] = plot
            view.viewport().installEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Paint and watched in self._owner:
            self.first_paint.setdefault(self._owner[watched], self.count)
        return False

    def close(self) -> None:
        self.dispatcher.awake.disconnect(self._awake)


def not_blank(plot) -> bool:
    image = plot.grab().toImage()
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    return len(colours) > 3


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_monitor_shows_its_plots_one_per_turn_each_painted_with_its_data(
        make_window, qtbot, size):
    doc = tiny_cnn(epochs=2)
    run = running(doc, events_of(doc))
    window = make_window(EXAMPLES / "shapes_cnn.strata")
    window.resize(*size)
    bench = window.training.workbench()
    view = bench.view
    for _ in range(5):
        QApplication.processEvents()
    assert window.workspaces.current == "design" and not view.isVisible()
    turns = Turns()
    for plot in view.plots:
        turns.watch(plot)
    try:
        bench.show_run(run)  # what a run's start does: its plots, then the monitor
        window.training._bring_forward()
        assert window.workspaces.current == "train"
        qtbot.waitUntil(lambda: view.isVisible() and view.settled, timeout=5000)
        qtbot.wait(100)
        shown = [p for p in view.plots if p.isVisible()]
        # The curves and the tab that fits a CNN, its feature maps (no paint of
        # another tab first); at 1280x720 the gradients are the first tab, at
        # 1920x1080 a column of their own.
        assert {view.curves, view.features} <= set(shown)
        assert (view.gradients in shown) == view.wide
        assert view.tabs.currentWidget() is view.features
        assert view.boundary not in turns.first_paint
        for plot in shown:
            assert plot.updatesEnabled(), f"{type(plot).__name__} left held back"
            assert plot in turns.first_paint, f"{type(plot).__name__} never painted"
            assert not_blank(plot), f"{type(plot).__name__} is blank"
        # Each first paint in a turn of its own.
        first = sorted(turns.first_paint[p] for p in shown)
        assert len(set(first)) == len(first), first
        # With the run's data, drawn before it painted.
        assert len(view.curves.loss_step.yData) > 0
        if view.wide:
            assert view.gradients.image.image is not None
        assert view.features.rows and view.features.rows[0].image.image is not None
    finally:
        turns.close()


def test_the_plots_axes_are_laid_out_in_a_turn_before_their_first_paint(
        make_window, qtbot, monkeypatch):
    # An axis lays out its ticks and labels in its paint when its range or size
    # changed: most of a plot's first paint with data. The reveal does it a turn
    # earlier (``prepaint``): the paint then only plays the axes' pictures.
    laid_out = {"in a paint": 0, "before": 0}
    painting = []
    paint, generate = pg.AxisItem.paint, pg.AxisItem.generateDrawSpecs

    def counted_paint(self, *args):
        painting.append(self)
        try:
            return paint(self, *args)
        finally:
            painting.pop()

    def counted_generate(self, painter):
        laid_out["in a paint" if painting else "before"] += 1
        return generate(self, painter)

    doc = tiny_cnn(epochs=2)
    run = running(doc, events_of(doc))
    window = make_window(EXAMPLES / "shapes_cnn.strata")
    window.resize(1920, 1080)
    bench = window.training.workbench()
    view = bench.view
    for _ in range(5):
        QApplication.processEvents()
    monkeypatch.setattr(pg.AxisItem, "paint", counted_paint)
    monkeypatch.setattr(pg.AxisItem, "generateDrawSpecs", counted_generate)
    turns = Turns()
    for plot in view.plots:
        turns.watch(plot)
    try:
        bench.show_run(run)
        window.training._bring_forward()
        qtbot.waitUntil(lambda: view.isVisible() and view.settled, timeout=5000)
        qtbot.wait(100)
        shown = [p for p in view.plots if p.isVisible()]
        assert len(shown) >= 3 and all(p in turns.first_paint for p in shown)
    finally:
        turns.close()
    assert laid_out["before"] >= 2 * len(shown)  # (two axes at least a plot)
    assert laid_out["in a paint"] == 0


def test_a_plot_shown_by_its_tab_while_held_back_is_still_drawn(qtbot):
    from studio.training.dashboard import TrainingView

    doc = tiny_mlp(epochs=2)
    run = running(doc, events_of(doc))
    view = TrainingView()
    qtbot.addWidget(view)
    view.resize(1100, 420)
    view.set_run(run)
    view.show()
    view.show_plot(view.confusion)  # chosen at once, before its turn came
    qtbot.waitUntil(lambda: view.settled, timeout=5000)
    assert view.confusion.updatesEnabled() and view.confusion.isVisible()
    assert view.confusion.run is run  # drawn with the run, not left empty
    view.show_plot(view.activations)  # later tabs are drawn when shown
    assert view.activations.run is run


def test_the_loss_axis_moves_a_few_times_per_run_not_at_each_redraw(qtbot):
    from studio.training.plots import CurvesPlot, LayerHeatmap

    doc = tiny_mlp(epochs=6)
    events = events_of(doc)
    run = RunRecord(1, network=doc.name, label="#1 test", document=doc.to_dict())
    curves, heat = CurvesPlot(), LayerHeatmap("grad_norm", "Gradients", "norm")
    plots = {"loss": curves.loss_plot, "metric": curves.metric_plot,
             "lines": heat.lines_plot}
    moves = dict.fromkeys(plots, 0)
    last = {name: None for name in plots}
    for widget in (curves, heat):
        qtbot.addWidget(widget)
        widget.resize(500, 400)
        widget.show()
        widget.set_run(run)
    redraws = 0
    for event in events:
        run.apply(event)
        if isinstance(event, StepEvent):
            curves.refresh(set(run.take_changes()))
            heat.refresh({"layers"})
            redraws += 1
            for name, plot in plots.items():
                plot.getViewBox().prepareForPaint()  # what its paint does first
                y_range = tuple(plot.viewRange()[1])
                moves[name] += last[name] is not None and y_range != last[name]
                last[name] = y_range
            loss = curves.loss_step.yData
            low, high = curves.loss_plot.viewRange()[1]
            assert low <= np.nanmin(loss) and np.nanmax(loss) <= high  # all in view
    assert redraws >= 40
    # Autoranging moved the loss axis at nearly every redraw (each new low).
    assert moves["loss"] <= 10 and moves["metric"] <= 10 and moves["lines"] <= 10, moves


def test_rounded_ranges_hold_their_data_and_do_not_drift():
    from studio.training.plots.common import nice_range

    assert nice_range(0.05, 2.31) == (0.0, 2.6)  # a loss: from 0, round steps
    lo, hi = nice_range(-3.21, -1.07)
    assert lo <= -3.21 and hi >= -1.07
    again = nice_range(lo, hi, margin=0.0)
    assert again == (lo, hi) == nice_range(*again, margin=0.0)  # no creeping outward
    lo, hi = nice_range(0.5, 0.5)
    assert lo < 0.5 < hi


def test_the_canvas_overlay_waits_for_a_frame_no_plot_drew_in(qtbot, tmp_path):
    doc = tiny_mlp(epochs=2)
    run = running(doc, events_of(doc))
    _controller, _view, bench = workbench(qtbot, doc, tmp_path)
    overlay = bench.overlay
    assert overlay is not None and overlay.pacer is bench.view.pacer
    overlay.set_run(run)
    drawn = overlay.live_draws
    overlay._last = 0.0  # its own pause is over
    bench.view.pacer.take()  # a plot drew in this frame
    overlay.refresh({"layers"})
    assert overlay.live_draws == drawn
    qtbot.waitUntil(bench.view.pacer.free, timeout=1000)
    plots_frame = bench.view.pacer._at
    overlay.refresh({"layers"})
    assert overlay.live_draws == drawn + 1
    assert bench.view.pacer._at > plots_frame  # and the frame is the overlay's now


def test_the_layer_charts_wait_for_a_frame_no_plot_drew_in(qtbot):
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    from studio.training.layer_charts import LayerCharts
    from studio.training.pacing import FramePacer

    doc = tiny_mlp(epochs=2)
    run = running(doc, events_of(doc))
    holder = QWidget()  # the inspector's place for them
    qtbot.addWidget(holder)
    charts = LayerCharts()
    QVBoxLayout(holder).addWidget(charts)
    holder.resize(400, 600)
    holder.show()
    charts.node_id = next(n for n in run.node_ids if n in run.weighted)
    charts.set_run(run)
    assert charts.isVisible() and charts.draws == 1
    charts.pacer = pacer = FramePacer()
    pacer.take()  # a plot drew in this frame
    plots_frame = pacer._at
    charts.refresh({"layers"})
    charts._timer.timeout.emit()  # its redraw comes due now
    assert charts.draws == 1  # not in the plot's frame
    qtbot.waitUntil(lambda: charts.draws == 2, timeout=2000)  # a frame later
    assert pacer._at > plots_frame  # and that frame was the charts'

