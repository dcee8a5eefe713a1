"""The gradient heatmap's "Fold blocks": each top-level block instance becomes one row
whose colour is the mean of its inner layers' log10 gradient norms (a geometric mean of
the norms), every copy of a repeated instance and every nested block folded into it; the
fold holds while a run goes on, and unfolding gives the layers' own rows back.

Fed a run record with known numbers (the events a worker streams), so each pixel of the
folded image can be checked against the arithmetic; a fold that dropped, duplicated,
picked one inner row or took the wrong mean fails here."""

from __future__ import annotations

import numpy as np
import pytest

from runtime.events import LayerStats, LayerStatsEvent, StartedEvent
from runtime.run_record import RunRecord
from studio.training.plots.layer_heatmap import LayerHeatmap

# A stem, a block repeated twice holding a nested block, another block, a head.
IDS = ("n1", "n5:0/n2", "n5:0/n7/n3", "n5:1/n2", "n5:1/n7/n3", "n6/n2", "n9")
NAMES = ("stem", "layer1[0] > conv1", "layer1[0] > inner > fc", "layer1[1] > conv1",
         "layer1[1] > inner > fc", "layer2 > conv1", "head")
# log10 of each layer's gradient norm, per sampled step.
LOGS = {
    10: (-1.0, -1.0, -3.0, -5.0, -2.0, -4.0, -0.5),
    20: (-1.5, -2.0, -6.0, -4.0, -2.0, -3.0, -0.25),
    30: (-2.0, -0.5, -0.5, -7.0, -4.0, -6.0, -1.0),
}


def _stats(node_id: str, log: float) -> LayerStats:
    return LayerStats(node_id, {}, 10.0 ** log, 1.0, None, 0.0, 1.0, -1.0, 1.0, None,
                      None, None, np.zeros(32, np.int64), np.zeros(33, np.float32))


def _sample(run: RunRecord, step: int) -> None:
    run.apply(LayerStatsEvent(step, 1, tuple(
        _stats(n, v) for n, v in zip(IDS, LOGS[step]))))


@pytest.fixture
def heatmap(qtbot):
    run = RunRecord(1, label="#1 blocks")
    run.apply(StartedEvent("cpu", 1000, IDS, NAMES, ("Linear",) * len(IDS), {}, 1, 30))
    _sample(run, 10)
    _sample(run, 20)
    widget = LayerHeatmap("grad_norm", "Gradient norm", "|\u2207|")
    qtbot.addWidget(widget)
    widget.resize(600, 400)
    widget.show()
    widget.set_run(run)
    return widget, run


def _image(widget) -> np.ndarray:
    """The drawn values as rows (layers, input first) by columns (samples)."""
    return np.asarray(widget.image.image).T


def test_folding_draws_each_instance_as_the_mean_of_its_inner_layers(heatmap):
    widget, run = heatmap
    assert widget.row_ids == list(IDS) and widget.fold.isVisibleTo(widget)
    assert np.allclose(_image(widget), np.array([LOGS[10], LOGS[20]]).T)

    widget.fold.setChecked(True)
    # Copies and the nested block fold into their top-level instance, in order.
    assert widget.row_ids == ["n1", "n5", "n6", "n9"]
    folded = _image(widget)
    assert folded.shape == (4, 2)
    for column, step in enumerate((10, 20)):
        logs = dict(zip(IDS, LOGS[step]))
        inside = [logs[n] for n in IDS if n.startswith("n5")]
        assert folded[0, column] == pytest.approx(logs["n1"])
        assert folded[1, column] == pytest.approx(sum(inside) / 4)  # mean of the logs
        assert folded[2, column] == pytest.approx(logs["n6/n2"])
        assert folded[3, column] == pytest.approx(logs["n9"])
    # The folded row is labelled by the instance, not by one of its layers.
    ticks = {round(p - 0.5): name  # pyqtgraph keeps the labels set with setTicks
             for p, name in widget.heat.getAxis("left")._tickLevels[0]}
    assert ticks[1] == "layer1" and ticks[2] == "layer2"

    # The run goes on: the next sample arrives folded too.
    _sample(run, 30)
    widget.refresh(run.take_changes())
    folded = _image(widget)
    assert widget.row_ids == ["n1", "n5", "n6", "n9"] and folded.shape == (4, 3)
    inside = [v for n, v in zip(IDS, LOGS[30]) if n.startswith("n5")]
    assert folded[1, 2] == pytest.approx(np.mean(inside))

    widget.fold.setChecked(False)
    assert widget.row_ids == list(IDS)
    assert np.allclose(_image(widget), np.array([LOGS[10], LOGS[20], LOGS[30]]).T)
