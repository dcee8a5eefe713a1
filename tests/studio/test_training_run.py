"""Real training from the GUI: a worker process trains a small network on a generated
dataset while the panel, the plots and the canvas follow it.

Each test spawns the real worker (``runtime.worker``) through the workbench and waits on
Qt events (``qtbot.waitUntil``), never on sleep. Runs are a few seconds of training.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_training_support import (
    node_id,
    tiny_cnn,
    tiny_mlp,
    wait_ended,
    wait_status,
    workbench,
)

from graph.builder import Builder


def test_a_run_fills_curves_heatmap_histograms_boundary_and_confusion(qtbot, tmp_path):
    doc = tiny_mlp(epochs=3)
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    before = doc.to_dict()
    qtbot.mouseClick(bench.panel.controls.train, Qt.MouseButton.LeftButton)
    assert bench.runner.active
    assert not bench.panel.controls.train.isEnabled()
    run = wait_ended(qtbot, bench)
    assert run.status == "finished", run.message
    # While it ran, the canvas glowed: every layer with weights got a heat colour.
    assert bench.overlay.live_draws > 0
    assert {node_id(doc, n) for n in ("fc1", "fc2", "head")} <= set(bench.overlay.peak_heat)

    view = bench.view
    curves = view.curves
    xs, ys = curves.loss_step.getOriginalDataset()
    assert xs is not None and len(xs) >= 3 and np.isfinite(ys).all()
    assert len(curves.loss_val.getOriginalDataset()[0]) == 3  # one point per epoch
    assert len(curves.metric_val.getOriginalDataset()[0]) == 3
    # One heatmap row per layer with weights, input first (bottom).
    grads = view.gradients
    assert [run.layer_name(i) for i in grads.row_ids] == ["fc1", "fc2", "head"]
    assert grads.image.image is not None and grads.image.image.shape[1] == 3
    view.tabs.setCurrentWidget(view.updates)
    assert view.updates.image.image is not None
    # Histograms of the selected layer.
    fc2 = node_id(doc, "fc2")
    controller.select([fc2])
    view.tabs.setCurrentWidget(view.activations)
    qtbot.waitUntil(lambda: view.activations.hist_steps.get(fc2) == run.step)
    _edges, counts = view.activations.act_hist.getOriginalDataset()
    assert counts.sum() > 0
    assert view.activations.grad_hist.getOriginalDataset()[1].sum() > 0
    # Decision boundary and confusion matrix of the last epoch.
    view.tabs.setCurrentWidget(view.boundary)
    assert view.boundary.image.image is not None and view.boundary.shown_epoch == 3
    assert sum(len(item.data) for item in view.boundary.points) == 300 * 0.7  # train
    view.tabs.setCurrentWidget(view.confusion)
    assert view.confusion.image.image is not None and view.confusion.texts
    # Finished: controls back to Train, summary shown, heat gone, document untouched.
    c = bench.panel.controls
    assert c.train.isEnabled() and not c.stop.isEnabled()
    assert c.message_kind == "ok" and "accuracy" in c.message.text()
    assert "Epoch 3 of 3" in c.progress.text()
    # The last run's heat stays, dimmed, until the network is edited.
    assert bench.overlay.heat and bench.overlay.dimmed
    assert all(item.opacity() < 1 for item in bench.overlay.heat.values())
    assert doc.to_dict() == before
    assert bench.panel.runs.tree.topLevelItemCount() == 1
    controller.set_param(fc2, "out_features", 7)
    assert not bench.overlay.heat and not bench.overlay.health


def test_feature_maps_of_a_cnn_arrive(qtbot, tmp_path):
    doc = tiny_cnn()
    _controller, _view, bench = workbench(qtbot, doc, tmp_path)
    bench.view.tabs.setCurrentWidget(bench.view.features)
    bench.train()
    run = wait_ended(qtbot, bench)
    assert run.status == "finished", run.message
    features = bench.view.features
    conv = node_id(doc, "conv1")
    assert features.row_ids == [conv]
    row = features.rows[0]
    # Four 16x16 channels in the grid that draws them largest in the row's box (side
    # by side, or 2 x 2), two transparent pixels between them.
    columns = row.columns or 4
    rows = -(-4 // columns)
    assert row.image.image.shape == (columns * 18 - 2, rows * 18 - 2)
    assert features.shown[conv] == run.step  # refreshed after the last epoch


def test_pause_resume_and_stop(qtbot, tmp_path):
    doc = tiny_mlp(epochs=400)
    controller, view, bench = workbench(qtbot, doc, tmp_path)
    c = bench.panel.controls
    bench.train()
    wait_status(qtbot, bench, "running")
    qtbot.waitUntil(lambda: bench.runner.current.step > 0, timeout=120_000)
    qtbot.mouseClick(c.pause, Qt.MouseButton.LeftButton)
    wait_status(qtbot, bench, "paused", 30_000)
    assert c.pause.text() == "Resume" and "Paused" in c.status.text()
    step = bench.runner.current.step
    qtbot.mouseClick(c.pause, Qt.MouseButton.LeftButton)
    wait_status(qtbot, bench, "running", 30_000)
    qtbot.waitUntil(lambda: bench.runner.current.step > step, timeout=30_000)
    # The editor stays usable meanwhile: select and zoom work.
    controller.select([node_id(doc, "fc1")])
    view.zoom_in()
    assert controller.selected == [node_id(doc, "fc1")]
    qtbot.mouseClick(c.stop, Qt.MouseButton.LeftButton)
    run = wait_ended(qtbot, bench, 60_000)
    assert run.status == "stopped" and run.message.startswith("Stopped")
    assert any(ck.reason == "stop" for ck in run.checkpoints)
    assert not bench.lock.engaged and c.train.isEnabled()


def test_a_forced_nan_ends_in_a_clear_message_and_the_editor_works(qtbot, tmp_path):
    b = Builder("Exploding")
    x = b.add("Input", shape=[1])
    b.chain(x, ("Linear", {"out_features": 16}, "fc1"), "Tanh",
            ("Linear", {"out_features": 1}, "head"), ("Output", {"task": "regression"}))
    doc = b.done({"dataset": {"name": "sine", "size": 200}, "epochs": 5, "lr": 10.0,
                  "optimizer": "sgd", "batch_size": 32})
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    before = doc.to_dict()
    bench.train()
    run = wait_ended(qtbot, bench)
    assert run.status == "failed"
    text = bench.panel.controls.message.text()
    assert "learning rate" in text.lower() and "head" in text
    assert bench.panel.controls.message_kind == "error"
    assert QApplication.activeModalWidget() is None  # a message, not a dialog
    # The failing layer is marked on the canvas; the document is untouched.
    assert node_id(doc, "head") in bench.overlay.marked_nodes()
    assert doc.to_dict() == before and not controller.is_modified
    assert not bench.lock.engaged
    controller.add_node("ReLU", (0.0, 400.0))  # editing works again
    assert len(doc.nodes) == len(before["nodes"]) + 1


def test_a_dataset_that_does_not_fit_is_named_on_both_sides(qtbot, tmp_path):
    doc = tiny_mlp(dataset={"name": "blobs", "size": 200, "classes": 3})
    _controller, _view, bench = workbench(qtbot, doc, tmp_path)
    bench.train()
    run = wait_ended(qtbot, bench)
    assert run.status == "failed"
    text = bench.panel.controls.message.text()
    assert "3 classes" in text and "head" in text


def test_a_killed_worker_is_reported_and_the_editor_survives(qtbot, tmp_path):
    doc = tiny_mlp(epochs=400)
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    before = doc.to_dict()
    bench.train()
    qtbot.waitUntil(lambda: bench.runner.current.step > 0, timeout=120_000)
    bench.runner.kill()
    run = wait_ended(qtbot, bench, 60_000)
    assert run.status == "failed"
    text = bench.panel.controls.message.text()
    assert "ended unexpectedly" in text and "killed" in text
    assert doc.to_dict() == before
    assert bench.panel.controls.train.isEnabled()
    controller.set_training("epochs", 2)  # the setup is editable again
    assert doc.training["epochs"] == 2


def test_the_runs_notices_show_with_its_message(qtbot, tmp_path):
    """A layer frozen and then deleted: the run trains the rest and says, in the panel,
    that the setting was ignored (the run's notices were kept only in its log file)."""
    doc = tiny_mlp(epochs=1)
    doc.training["frozen"] = [node_id(doc, "fc1"), "n404"]  # n404: deleted since
    _controller, _view, bench = workbench(qtbot, doc, tmp_path)
    qtbot.mouseClick(bench.panel.controls.train, Qt.MouseButton.LeftButton)
    run = wait_ended(qtbot, bench)
    assert run.status == "finished", run.message
    assert [n.kind for n in run.notices] == ["training_setup"]
    c = bench.panel.controls
    text = c.message.text()
    assert c.message_kind == "ok" and "accuracy" in text
    assert "n404" in text and "ignored" in text and not c.message.isHidden()
