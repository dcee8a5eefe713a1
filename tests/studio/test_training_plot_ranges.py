"""While a run goes, the curves and the layer heatmaps span the whole run on their x
axis, so new points do not move the axis (each move lays out and redraws its ticks);
when the run has ended, the axes fit the data again. Fed with the events of a real
training run (in-process)."""

from __future__ import annotations

from test_training_support import tiny_mlp

from runtime.engine import Trainer
from runtime.events import EpochEvent
from runtime.run_record import RunRecord


def test_a_running_runs_x_axes_span_the_run_and_fit_the_data_after(qtbot):
    from studio.training.plots import CurvesPlot, LayerHeatmap

    doc = tiny_mlp(epochs=4)
    events = []
    Trainer(doc, emit=events.append).run()
    first_epoch_end = next(i for i, e in enumerate(events) if isinstance(e, EpochEvent))
    run = RunRecord(1, network=doc.name, label="#1 test")
    for event in events[:first_epoch_end]:  # a quarter of the way in
        run.apply(event)
    assert run.active and run.epochs == 4
    curves, heat = CurvesPlot(), LayerHeatmap("grad_norm", "Gradients", "norm")
    for widget in (curves, heat):
        qtbot.addWidget(widget)
        widget.resize(500, 400)
        widget.show()
        widget.set_run(run)
    x_curves = curves.loss_plot.viewRange()[0]
    x_heat = heat.heat.viewRange()[0]
    assert x_curves[0] <= 0 and x_curves[1] >= 4  # all four epochs, data or not
    # The heatmap's axis is held too, over a span its samples fill (two thirds at
    # least: a whole run's span left a few samples in its first tenth).
    last = heat.series()[0][-1]
    assert x_heat[0] <= 0 and last <= x_heat[1] <= max(10, 1.5 * last) * 1.05
    assert curves.metric_plot.viewRange()[0] == x_curves  # linked
    for event in events[first_epoch_end:-1]:  # more data, the run still going
        run.apply(event)
    curves.refresh(set(run.take_changes()))
    heat.refresh({"layers"})
    assert curves.loss_plot.viewRange()[0] == x_curves
    last = heat.series()[0][-1]
    x_now = heat.heat.viewRange()[0]
    assert x_now == x_heat or last <= x_now[1] <= 1.5 * last * 1.05
    run.apply(events[-1])  # finished: the axes fit the data
    assert not run.active
    curves.refresh()
    heat.refresh()
    assert curves.loss_plot.getViewBox().autoRangeEnabled()[0]
    assert heat.heat.getViewBox().autoRangeEnabled()[0]


def test_no_training_plot_builds_a_context_menu(qtbot, monkeypatch):
    """The plots' context menus are off, so none is built: a ViewBox's menu was a
    quarter of each plot's construction, which the studio does ahead of need while
    the user works in Design (studio.training.prestart)."""
    import sys

    import pyqtgraph as pg

    from studio.training.dashboard import PLOTS
    from studio.training.layer_charts import LayerCharts

    module = sys.modules[pg.ViewBox.__module__]
    built = []
    real = module.ViewBoxMenu
    monkeypatch.setattr(module, "ViewBoxMenu",
                        lambda view: built.append(view) or real(view))
    views = [make() for make in [*PLOTS.values(), LayerCharts]]
    plots = []
    for view in views:
        qtbot.addWidget(view)
        plots += [item for item in view.findChildren(pg.GraphicsView)
                  for item in item.scene().items() if isinstance(item, pg.PlotItem)
                  and not isinstance(item, pg.ColorBarItem)]
    assert len(plots) >= 14
    # (A ColorBarItem, a PlotItem made inside pyqtgraph, still builds one.)
    assert not {id(p.getViewBox()) for p in plots} & {id(v) for v in built}
