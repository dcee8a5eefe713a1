"""Real data in the studio: choose an image folder, add augmentation steps, see their
preview, train on it; freeze a layer from the canvas."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from test_training_support import node_id, tiny_mlp, wait_ended, workbench

from graph.builder import Builder


def image_folder(root, per_class=10, size=12):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(("ants", "bees")):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            pixels[:, :, c] = 250
            Image.fromarray(pixels).save(root / name / f"{i}.png")
    return root


def folder_cnn():
    b = Builder("Folder CNN")
    x = b.add("Input", shape=[3, 16, 16])
    b.chain(x, ("Conv2d", {"out_channels": 4, "kernel_size": [3, 3]}, "conv"), "ReLU",
            "Flatten", ("Linear", {"out_features": 2}, "head"), "Output")
    return b.done({"dataset": {"name": "spirals"}, "epochs": 2, "batch_size": 8,
                   "sample_every": 1})


def test_image_folder_augmentation_preview_and_training(qtbot, tmp_path, monkeypatch):
    root = image_folder(tmp_path / "insects")
    doc = folder_cnn()
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    setup = bench.panel.setup
    setup.load()
    combo = setup.dataset.combo
    combo.setCurrentIndex(combo.findData("image_folder"))
    combo.activated.emit(combo.currentIndex())
    monkeypatch.setattr(QFileDialog, "getExistingDirectory",
                        staticmethod(lambda *a, **k: str(root)))
    setup.dataset.browse(setup.dataset.info())
    for key, value in (("image_size", 16), ("color", "rgb")):
        with qtbot.waitSignal(setup.preview.loaded, timeout=60_000):
            setup.dataset._commit(key, value)
    assert setup.preview.summary["shapes"] == [(3, 16, 16)]
    assert list(setup.preview.summary["counts"]) == [7, 7]  # 70% of each class trains

    augment = setup.augment
    assert augment.samples is not None and augment.samples.shape[1:] == (3, 16, 16)
    with qtbot.waitSignal(augment.preview_ready, timeout=60_000):
        assert augment.add_step("flip")
    with qtbot.waitSignal(augment.preview_ready, timeout=60_000):
        assert augment.add_step("rotation")
    assert [s["op"] for s in doc.training["augment"]] == ["flip", "rotation"]
    assert augment.list.count() == 2 and "Rotation" in augment.list.item(1).text()
    grid = augment.grid  # the samples, then two augmented rows
    assert grid is not None and grid.shape[0] == 3 * 44 and grid.shape[1] == 4 * 44
    assert not np.array_equal(grid[:44], grid[44:88])  # the rows differ: augmented
    # A parameter edited in the list's form is one undo step.
    augment.editors["degrees"].committed.emit(30.0)
    assert doc.training["augment"][1]["degrees"] == 30.0
    controller.undo_stack.undo()
    assert doc.training["augment"][1]["degrees"] == 15.0
    augment.list.setCurrentRow(1)
    augment.up.click()
    assert [s["op"] for s in doc.training["augment"]] == ["rotation", "flip"]

    qtbot.mouseClick(bench.panel.controls.train, Qt.MouseButton.LeftButton)
    run = wait_ended(qtbot, bench)
    assert run.status == "finished", run.message
    assert run.epoch == 2


def test_freeze_a_layer_from_the_canvas(qtbot, tmp_path):
    doc = tiny_mlp(epochs=1)
    controller, view, _bench = workbench(qtbot, doc, tmp_path)
    qtbot.waitUntil(lambda: controller.analysis is not None)
    fc1 = node_id(doc, "fc1")
    item = view.network_scene.nodes[fc1]
    assert not item.frozen
    controller.select([fc1])
    assert controller.toggle_frozen(view.selected_node_ids())
    assert doc.training["frozen"] == [fc1] and item.frozen
    assert "Frozen" in item.toolTip()
    # Activations have no weights: nothing to freeze.
    assert not controller.toggle_frozen([node_id(doc, "act1")])
    controller.undo_stack.undo()
    assert doc.training.get("frozen") in (None, []) and not item.frozen
    controller.undo_stack.redo()
    assert item.frozen
    assert controller.toggle_frozen([fc1])  # toggles back
    assert not item.frozen


def test_a_large_folder_listing_shows_progress_and_can_be_stopped(qtbot, tmp_path,
                                                                  monkeypatch):
    from runtime.datasets import files_images
    from studio.training.dataset_preview import DatasetPreview

    monkeypatch.setattr(files_images, "SCAN_REPORT_EVERY", 50)
    root = image_folder(tmp_path / "many", per_class=60)
    preview = DatasetPreview()
    qtbot.addWidget(preview)
    preview.show()
    spec = {"name": "image_folder", "path": str(root), "image_size": 12, "color": "rgb"}
    seen: list[int] = []
    preview.task.progress.connect(seen.append)
    with qtbot.waitSignal(preview.loaded, timeout=60_000):
        preview.request(spec)
    assert seen[:2] == [50, 100] and seen[-1] == 120
    assert preview.summary["counts"].tolist() == [42, 42]
    preview.request(spec)
    preview.stop.click()  # the scan under way stops; its result is never shown
    assert "Stopped" in preview.info.text() and preview.stop.isHidden()
    assert preview.task.wait(60_000)  # the scan saw it was cancelled and ended


def test_a_frozen_layer_trains_not_and_its_overlay_says_so(qtbot, tmp_path):
    doc = tiny_mlp(epochs=1)
    fc1 = node_id(doc, "fc1")
    doc.training["frozen"] = [fc1]
    _controller, view, bench = workbench(qtbot, doc, tmp_path)
    qtbot.mouseClick(bench.panel.controls.train, Qt.MouseButton.LeftButton)
    run = wait_ended(qtbot, bench)
    assert run.status == "finished", run.message
    assert run.latest[fc1].grad_norm is None  # no gradients reach a frozen layer
    item = view.network_scene.nodes[fc1]
    bench.overlay._strip(run, fc1, item)
    strip = bench.overlay.health[fc1]
    assert strip.text == "frozen" and "Frozen" in strip.toolTip()
