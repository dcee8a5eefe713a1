"""The Probe dock in a real window: examples, hand-made inputs, canvas thumbnails."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDropEvent

from studio import resources
from studio.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise",
                                       "does not support grabbing")
EXAMPLES = Path(__file__).resolve().parents[2] / "resources" / "examples"
SLOW = 120_000


@pytest.fixture
def open_window(qtbot, tmp_path, qapp):
    def make(example: str):
        path = tmp_path / f"{example}.strata"
        shutil.copy(EXAMPLES / f"{example}.strata", path)
        window = MainWindow(str(path), settings=QSettings(
            str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
            autosave_dir=tmp_path / "recovery")
        qtbot.addWidget(window)
        window.resize(1280, 720)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    resources.apply(qapp, "light")


def probed(qtbot, panel, count: int = 1):
    """Wait until the panel has shown ``count`` more answers."""
    start = panel.answers_shown
    qtbot.waitUntil(lambda: panel.answers_shown >= start + count, timeout=SLOW)
    qtbot.waitUntil(lambda: not panel.service.task.running, timeout=SLOW)
    return panel.answer


def test_probe_an_image_example_then_a_drawing_and_step_through(qtbot, open_window):
    window = open_window("edges_cnn")
    window.probe.action.trigger()
    panel = window.probe.panel
    assert panel is not None and window.probe.dock.isVisible()
    answer = probed(qtbot, panel)
    doc = window.controller.document
    # Every node has a value; the canvas shows a thumbnail on each card it passed.
    assert set(answer.result.nodes) == set(doc.nodes) - {
        n.id for n in doc.nodes.values() if n.type == "Output"}
    conv = next(n.id for n in doc.nodes.values() if n.type == "Conv2d")
    assert panel.canvas.items[conv].image is not None
    assert panel.canvas.items[conv].parentItem() is window.scene.nodes[conv]
    assert len(panel.prediction.rows) == 4 and panel.gallery.list.count() > 0
    assert not panel.gallery.list.item(0).icon().isNull()  # image examples as thumbnails
    assert panel.gradients.rows and panel.klass.count() == 4

    # The selected node's value shows large, with its statistics.
    window.controller.select([conv])
    assert "mean" in panel.selected.text() and panel.selected_image.pixmap() is not None
    assert window.inspector.isAncestorOf(panel.selected_box)  # in its footer
    assert not panel.selected_box.isHidden()

    # Arrow keys step through the split; "next of class" lands on that class.
    panel.setFocus()
    qtbot.keyClick(panel, Qt.Key.Key_Right)
    answer = probed(qtbot, panel)
    assert answer.request.index == 1
    panel.klass.setCurrentIndex(2)
    panel.next_class.click()
    answer = probed(qtbot, panel)
    assert int(answer.result.target) == 2

    # Grad-CAM over the input.
    panel.attribution.setCurrentIndex(panel.attribution.findData("grad_cam"))
    panel.probe()
    answer = probed(qtbot, panel)
    assert answer.attribution is not None and answer.attribution.values.shape == (1, 28, 28)

    # A drawing: strokes with the mouse probe the drawn image.
    pad = panel.editors.pad
    qtbot.mousePress(pad, Qt.MouseButton.LeftButton, pos=QPoint(30, 70))
    for x in range(30, 110, 10):
        qtbot.mouseMove(pad, QPoint(x, 70))
    qtbot.mouseRelease(pad, Qt.MouseButton.LeftButton, pos=QPoint(110, 70))
    answer = probed(qtbot, panel)
    assert answer.request.custom is not None and answer.inputs.max() > 0.5
    assert answer.result.target is None

    # The gallery: clicking an example probes it.
    panel.custom = None
    item = panel.gallery.list.item(0)
    panel.gallery.list.itemClicked.emit(item)
    answer = probed(qtbot, panel)
    assert answer.request.index == item.data(Qt.ItemDataRole.UserRole)


def test_a_dropped_image_file_is_probed_and_a_bad_one_is_refused(qtbot, open_window,
                                                                  tmp_path):
    from PIL import Image

    window = open_window("edges_cnn")
    window.probe.show()
    panel = window.probe.panel
    probed(qtbot, panel)
    picture = tmp_path / "cross.png"
    img = np.zeros((64, 64), np.uint8)
    img[28:36, 8:56] = 255
    img[8:56, 28:36] = 255
    Image.fromarray(img).save(picture)
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")

    def drop(path: Path) -> None:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path))])
        event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime,
                           Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
        panel.dropEvent(event)

    drop(bad)
    assert "not an image" in panel.status.text()
    drop(picture)
    answer = probed(qtbot, panel)
    assert answer.inputs.shape == (1, 28, 28) and answer.inputs.max() == pytest.approx(1)


def test_a_clicked_point_and_typed_values_on_a_2d_network(qtbot, open_window):
    window = open_window("spiral_mlp")
    window.probe.show()
    panel = window.probe.panel
    answer = probed(qtbot, panel)
    assert answer.points is not None and panel.editors.plane.dots.points() is not None
    panel.editors.plane.click_at(0.25, -0.5)
    answer = probed(qtbot, panel)
    assert np.allclose(answer.inputs, [0.25, -0.5])
    panel.editors.values.edit.setText("1, 2, 3")
    panel.editors.values.submit()
    assert "expected 2 values" in panel.editors.values.error
    panel.editors.values.edit.setText("0.5 0.5")
    panel.editors.values.submit()
    answer = probed(qtbot, panel)
    assert np.allclose(answer.inputs, [0.5, 0.5])
    assert sum(p for _, p, _ in panel.prediction.rows) == pytest.approx(1, abs=1e-4)
    # Why: Integrated Gradients per feature, drawn as bars.
    panel.attribution.setCurrentIndex(panel.attribution.findData("integrated_gradients"))
    panel.probe()
    answer = probed(qtbot, panel)
    assert answer.attribution.values.shape == (2,)
    assert not panel.input_view.pixmap().isNull()


def test_a_token_sequence_is_typed_and_probed(qtbot, open_window):
    window = open_window("transformer_classifier")
    window.probe.show()
    panel = window.probe.panel
    answer = probed(qtbot, panel)
    assert answer.input_dtype == "long"
    tokens = " ".join(["1"] * answer.input_shape[0])
    panel.editors.values.edit.setText(tokens)
    panel.editors.values.submit()
    answer = probed(qtbot, panel)
    assert answer.inputs.dtype == np.int64 and (answer.inputs == 1).all()


def test_the_probe_follows_a_training_run_while_paused(qtbot, open_window, tmp_path):
    import json

    import graph

    path = tmp_path / "spiral_mlp.strata"
    shutil.copy(EXAMPLES / "spiral_mlp.strata", path)
    doc = graph.load(path)
    doc.training["epochs"] = 500
    graph.save(doc, path)
    window = MainWindow(str(path), settings=QSettings(
        str(tmp_path / "s.ini"), QSettings.Format.IniFormat), autosave_dir=tmp_path / "r")
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    bench = window.training.workbench()
    window.probe.show()
    panel = window.probe.panel
    probed(qtbot, panel)
    assert panel.service.source.checkpoint is None  # no run yet: the initial weights
    bench.train()
    qtbot.waitUntil(lambda: bench.runner.current is not None
                    and bench.runner.current.step > 0, timeout=SLOW)
    bench.runner.pause()
    qtbot.waitUntil(lambda: bench.runner.current.status == "paused", timeout=SLOW)
    # Paused, the visible panel still asks the worker for its weights and probes them.
    qtbot.waitUntil(lambda: panel.service.source is not None
                    and panel.service.source.checkpoint is not None
                    and panel.answer is not None
                    and panel.answer.request is not None
                    and not panel.service.task.running, timeout=SLOW)
    run = bench.runner.current
    assert panel.service.source.checkpoint == run.checkpoints[-1].path
    assert panel.weights.count() >= 3  # latest, initial, and the run's checkpoint
    assert json.loads(json.dumps(panel.answer.result.to_json()))["layers"]
    bench.runner.stop()
    qtbot.waitUntil(lambda: not bench.runner.active, timeout=SLOW)


def test_confusion_cells_and_the_decision_boundary_drive_the_probe(qtbot, open_window):
    window = open_window("spiral_mlp")
    view = window.training.workbench().view
    window.probe.show()
    panel = window.probe.panel
    probed(qtbot, panel)
    wrong = [panel.gallery.list.item(i).text() for i in range(panel.gallery.list.count())
             if panel.gallery.list.item(i).text().startswith("\u2717")]
    assert wrong  # the untrained network gets some of the spiral wrong
    view.confusion.cell_clicked.emit(0, 1)
    answer = probed(qtbot, panel)
    assert answer.request.cell == (0, 1) and answer.gallery
    assert all(int(i.target) == 0 and i.predicted == 1 for i in answer.gallery)
    view.boundary.point_hovered.emit(0.1, -0.2)
    answer = probed(qtbot, panel)
    assert np.allclose(answer.inputs, [0.1, -0.2]) and answer.result.target is None


def test_no_two_actions_of_the_window_share_a_shortcut(open_window):
    from PySide6.QtGui import QAction

    window = open_window("spiral_mlp")
    seen: dict[str, str] = {}
    clashes = []
    for action in window.findChildren(QAction):
        for key in action.shortcuts():
            text = key.toString()
            if text in seen and seen[text] != action.text():
                clashes.append(f"{text}: {seen[text]!r} and {action.text()!r}")
            seen.setdefault(text, action.text())
    assert not clashes
