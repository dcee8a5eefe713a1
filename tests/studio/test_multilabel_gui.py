"""A multi-label CSV in the studio: the preview says the label lists were found and
counts examples per label; a run from the GUI shows each label's F1 where a
classification run shows its confusion matrix, and names them in its summary."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from test_training_support import wait_ended, workbench

from graph.builder import Builder
from tests.runtime.test_multilabel import tagged


def test_the_preview_of_label_lists_says_what_auto_found(tmp_path, monkeypatch):
    from runtime.datasets import csv_stream
    from studio.training.dataset_preview import summarize

    path = tagged(tmp_path / "t.csv", rows=100, lists=True)
    for data_path in ("memory", "stream"):
        if data_path == "stream":  # a "large" file: the scan's counts, not the tensors
            monkeypatch.setattr(csv_stream, "STREAM_FILE_BYTES", 100)
        out = summarize({"name": "csv", "path": str(path)}, seed=0, val_fraction=0.2,
                        test_fraction=0.1)
        assert ("streams from disk" in out["describe"]) == (data_path == "stream")
        assert out["task"] == "multilabel" and out["classes"] == ["big", "hot", "none"]
        assert "multi-label, 3 labels" in out["describe"]
        assert "holds lists of labels" in out["notes"][0]
        assert len(out["counts"]) == 3 and 0 < out["counts"].sum()
        # Each row's target written as its labels' names.
        shown = [r.split("\u2192")[1].strip() for r in out["rows"]]
        assert shown and all(set(t.split(", ")) <= {"big", "hot", "none"} for t in shown)


def test_a_multilabel_run_shows_each_labels_f1(qtbot, tmp_path):
    path = tagged(tmp_path / "t.csv", rows=120, lists=True)
    b = Builder("Tagger")
    x = b.add("Input", shape=[3])
    b.chain(x, ("Linear", {"out_features": 8}), "ReLU", ("Linear", {"out_features": 3}),
            ("Output", {"task": "multilabel"}))
    doc = b.done({"dataset": {"name": "csv", "path": str(path)}, "batch_size": 16,
                  "epochs": 2, "workers": 0})
    _controller, _view, bench = workbench(qtbot, doc, tmp_path)
    qtbot.mouseClick(bench.panel.controls.train, Qt.MouseButton.LeftButton)
    run = wait_ended(qtbot, bench)
    assert run.status == "finished", run.message
    assert len(run.label_f1) == 3
    view = bench.view
    assert view.tabs.currentWidget() is view.confusion  # the story tab of the run
    plot = view.confusion
    plot.refresh()
    assert plot.bars.isVisible() and not plot.image.isVisible() and plot.labels == 3
    widths = plot.bars.opts["width"]
    assert np.allclose(widths, run.label_f1)
    assert "F1 per label: micro" in plot.plot.titleLabel.text
    assert plot.plot.getAxis("left").labelText == "label"
    message = bench.panel.controls.message.text()
    assert "F1 (micro)" in message and "F1 per label (validation): big" in message


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise",
                           "does not support grabbing")
def test_the_probe_shows_each_labels_probability(qtbot, qapp, tmp_path):
    from PySide6.QtCore import QSettings

    import graph
    from studio import resources
    from studio.main_window import MainWindow
    from tests.runtime.test_multilabel import network

    path = tagged(tmp_path / "t.csv", rows=80, lists=True)
    graph.save(network({"name": "csv", "path": str(path)}, labels=3),
               tmp_path / "tagger.strata")
    window = MainWindow(str(tmp_path / "tagger.strata"), settings=QSettings(
        str(tmp_path / "settings.ini"), QSettings.Format.IniFormat),
        autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(window)
    window.resize(1280, 720)
    window.show()
    qtbot.waitExposed(window)
    try:
        window.probe.action.trigger()
        panel = window.probe.panel
        qtbot.waitUntil(lambda: panel.answers_shown >= 1, timeout=120_000)
        qtbot.waitUntil(lambda: not panel.service.task.running, timeout=120_000)
        result = panel.answer.result
        assert result.task == "multilabel"
        rows = panel.prediction.rows
        assert [r[0] for r in rows] == ["big", "hot", "none"]
        assert np.allclose([r[1] for r in rows], result.prediction)
        assert [r[2] for r in rows] == [bool(p >= 0.5) for p in result.prediction]
        assert panel.prediction.full == 1.0  # each label on its own scale
        assert "true labels" in panel.status.text()
    finally:
        resources.apply(qapp, "light")
