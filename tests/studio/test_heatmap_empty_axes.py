"""Right after a run starts, before its first sample, the layer heatmap shows an empty
state (its hint, a 0..1 row axis with no numbers, and no rows of the last run), not
autorange's -0.4..0.4 around nothing; the loss plot says the run has started instead of
"Press Train". Fed with the events of a real training run."""

from __future__ import annotations

from test_training_support import tiny_mlp

from runtime.engine import Trainer
from runtime.run_record import RunRecord


def _row_labels(heat) -> list[str]:
    """The labels drawn on the heatmap's row axis (its explicit ticks; none set means
    pyqtgraph's own numbers)."""
    levels = heat.heat.getAxis("left")._tickLevels
    if levels is None:
        return ["<numbers>"]
    return [str(label) for level in levels for _pos, label in level]


def _record(events, until_samples: bool) -> RunRecord:
    run = RunRecord(1, network="Tiny MLP", label="#1 test")
    for event in events:
        run.apply(event)
        has_rows = bool(run.layer_series("grad_norm")[2])
        if run.active and (has_rows if until_samples else True):
            break
    return run


def test_the_heatmap_before_the_first_sample_has_an_empty_row_axis(qtbot):
    from studio.training.plots import LayerHeatmap

    events: list = []
    Trainer(tiny_mlp(epochs=2), emit=events.append).run()
    heat = LayerHeatmap("grad_norm", "Gradients", "norm")
    qtbot.addWidget(heat)
    heat.resize(500, 400)
    heat.show()

    # A first run with samples: its rows are named on the axis.
    sampled = _record(events, until_samples=True)
    heat.set_run(sampled)
    assert heat.row_ids and _row_labels(heat)

    # A new run, started, no sample yet.
    started = _record(events, until_samples=False)
    assert started.active and not started.layer_series("grad_norm")[2]
    heat.set_run(started)
    qtbot.wait(10)
    low, high = heat.heat.viewRange()[1]
    assert low >= -0.05 and high <= 1.05, (low, high)  # not -0.5..0.5 around nothing
    assert not heat.row_ids and _row_labels(heat) == []  # no names of the last run
    assert heat.hint.isVisible()
    # The lines below show the statistics' range (1e-3 to 1), not around zero.
    line_low, line_high = heat.lines_plot.viewRange()[1]
    assert line_low < -2 and line_high <= 0.5

    # Samples arrive: rows and their names.
    heat.set_run(sampled)
    assert heat.row_ids and _row_labels(heat)


def test_the_loss_plot_says_a_started_run_is_coming_not_press_train(qtbot):
    from studio.training.plots import CurvesPlot

    events: list = []
    Trainer(tiny_mlp(epochs=1), emit=events.append).run()
    curves = CurvesPlot()
    qtbot.addWidget(curves)
    curves.resize(500, 400)
    curves.show()
    curves.set_run(None)
    assert curves.hint.isVisible() and "Press Train" in curves.hint.toPlainText()
    started = _record(events, until_samples=False)
    assert started.active and not len(started.steps)
    curves.set_run(started)
    assert curves.hint.isVisible()
    assert "Press Train" not in curves.hint.toPlainText()
    assert "started" in curves.hint.toPlainText()
    sampled = _record(events, until_samples=True)
    curves.set_run(sampled)
    assert len(sampled.steps) and not curves.hint.isVisible()
