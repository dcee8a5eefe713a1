"""The plots and the canvas share one selection: selecting a node selects its plots, and
clicking a layer in a plot selects its node. Fed with the events of a real training
run (in-process, so no worker is needed here)."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from test_training_support import node_id, tiny_cnn, tiny_mlp, workbench

from runtime.engine import Trainer
from runtime.run_record import RunRecord


def record(doc) -> RunRecord:
    events = []
    Trainer(doc, emit=events.append).run()
    run = RunRecord(1, network=doc.name, label="#1 test")
    for event in events:
        run.apply(event)
    assert run.status == "finished", run.message
    return run


@pytest.fixture(scope="module")
def mlp_run():
    doc = tiny_mlp(epochs=2)
    return doc, record(doc)


def click_view_point(qtbot, canvas, viewbox, x: float, y: float) -> None:
    scene_point = viewbox.mapViewToScene(QPointF(x, y))
    pos = canvas.mapFromScene(scene_point)
    qtbot.mouseClick(canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)


def test_selecting_a_node_selects_its_plots(qtbot, tmp_path, mlp_run):
    doc, run = mlp_run
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    bench.show_run(run)
    fc2 = node_id(doc, "fc2")
    grads = bench.view.gradients
    assert grads.chosen() == [node_id(doc, "fc1"), node_id(doc, "head")]  # default pair
    controller.select([fc2])
    assert grads.selected == [fc2] and grads.chosen() == [fc2]
    assert len(grads.outlines) == 1  # the row is outlined
    bench.view.tabs.setCurrentWidget(bench.view.updates)  # a hidden plot catches up
    assert bench.view.updates.chosen() == [fc2]
    bench.view.tabs.setCurrentWidget(bench.view.activations)
    assert bench.view.activations.focus_layer() == fc2
    assert "fc2" in bench.view.activations.act_hist_plot.titleLabel.text


def test_clicking_a_heatmap_row_selects_the_node(qtbot, tmp_path, mlp_run):
    doc, run = mlp_run
    controller, view, bench = workbench(qtbot, doc, tmp_path)
    bench.show_run(run)
    grads = bench.view.gradients
    steps = run.layer_series("grad_norm")[0]
    viewbox = grads.heat.getViewBox()
    qtbot.waitUntil(lambda: viewbox.viewRect().right() >= steps[-1])  # painted once
    row = grads.row_ids.index(node_id(doc, "fc2"))
    click_view_point(qtbot, grads.canvas, viewbox, float(np.mean(steps)), row + 0.5)
    assert controller.selected == [node_id(doc, "fc2")]
    assert view.network_scene.selected_node_ids() == [node_id(doc, "fc2")]


def test_clicking_a_feature_map_selects_its_conv_layer(qtbot, tmp_path):
    doc = tiny_cnn()
    run = record(doc)
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    bench.show_run(run)
    features = bench.view.features
    bench.view.tabs.setCurrentWidget(features)
    box = features.rows[0].box
    qtbot.waitUntil(lambda: box.viewRect().width() >= 16)  # painted once
    click_view_point(qtbot, features.canvas, box, 8.0, 8.0)
    assert controller.selected == [node_id(doc, "conv1")]


def test_an_earlier_run_is_overlaid_for_comparison(qtbot, tmp_path, mlp_run):
    doc, run = mlp_run
    other = record(tiny_mlp(epochs=2, activation="Sigmoid"))
    _controller, _view, bench = workbench(qtbot, doc, tmp_path)
    bench.show_run(run)
    bench.compare(other)
    curves = bench.view.curves
    xs, _ys = curves.ref_loss_val.getOriginalDataset()
    assert len(xs) == 2
    assert "dashed" in curves.compare_label.text()
    bench.compare(None)
    assert curves.ref_loss_val.getOriginalDataset()[0] is None or not len(
        curves.ref_loss_val.getOriginalDataset()[0])


def test_narrow_plots_put_the_gradients_in_a_tab(qtbot, mlp_run):
    from studio.training.dashboard import TrainingView

    _doc, run = mlp_run
    view = TrainingView()
    qtbot.addWidget(view)
    view.resize(1100, 420)
    view.show()
    qtbot.waitUntil(lambda: view.wide is True)
    assert view.tabs.indexOf(view.gradients) < 0  # a column of its own
    view.resize(600, 420)
    qtbot.waitUntil(lambda: view.wide is False)
    assert view.tabs.indexOf(view.gradients) == 0
    view.set_run(run)
    view.show_plot(view.gradients)
    view.flush(everything=True)
    assert view.gradients.isVisible() and view.gradients.image.image is not None
