"""Pressing Train costs the GUI little: the training monitor is laid out ahead, unseen,
while the studio is idle; the run's progress bar repaints with the next frame instead
of at once; the monitor comes forward in the turn after the click."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, Qt
from test_training_support import settle

from studio.resources import EXAMPLES

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


def test_the_monitor_is_laid_out_before_the_first_train(make_window, qtbot,
                                                         monkeypatch):
    monkeypatch.setenv("STRATA_PRESTART", "1")  # the runner's own switch stays off
    from studio.training import ahead

    monkeypatch.setattr(ahead, "IDLE_MS", 50)
    window = make_window(EXAMPLES / "shapes_cnn.strata")
    window.resize(1280, 720)
    bench = window.training.workbench()
    settle(qtbot)
    view, plots_dock = bench.view, window.docks["training_plots"]
    assert not plots_dock.isVisible()  # designing: no plots on screen
    qtbot.waitUntil(lambda: window.training.monitor_ahead.done, timeout=5000)
    # Unseen: the window is back in its workspace, as the user left it, and the
    # settings hold no Train layout the user never made.
    assert window.workspaces.current == "design" and not plots_dock.isVisible()
    assert window.settings.value("workspace/train") is None
    assert window.updatesEnabled()
    # But the plots have been shown, polished and sized for the monitor.
    laid_out = view.size()
    assert view.testAttribute(Qt.WidgetAttribute.WA_WState_Polished)
    assert laid_out.width() > 400 and laid_out.height() > 200
    window.workspaces.switch("train")  # what Train does
    settle(qtbot)
    assert plots_dock.isVisible() and view.size() == laid_out


def test_a_window_still_designing_when_train_is_pressed_switches_after_the_click(
        make_window, qtbot, monkeypatch, tmp_path):
    window = make_window(EXAMPLES / "shapes_cnn.strata")
    bench = window.training.workbench()
    bench.runner.out_root = tmp_path / "runs"
    run = bench.train()
    assert run is not None
    assert window.workspaces.current == "design"  # the click's own turn stays short
    qtbot.waitUntil(lambda: window.workspaces.current == "train", timeout=2000)
    # The plots, hidden while the docks moved, come back in a later turn.
    qtbot.waitUntil(bench.view.isVisible, timeout=2000)
    bench.stop()
    qtbot.waitUntil(lambda: not bench.runner.active, timeout=60_000)


class PaintCounter(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.paints = 0

    def eventFilter(self, _obj, event) -> bool:
        if event.type() == QEvent.Type.Paint:
            self.paints += 1
        return False


def test_the_progress_bar_repaints_with_the_next_frame(qtbot):
    from studio.training.controls import RunControls

    controls = RunControls()
    qtbot.addWidget(controls)
    controls.show()
    qtbot.waitExposed(controls)
    settle(qtbot)
    counter = PaintCounter()
    controls.bar.installEventFilter(counter)
    controls.bar.setValue(120)
    assert controls.bar.value() == 120
    assert counter.paints == 0  # QProgressBar would have painted right here
    qtbot.waitUntil(lambda: counter.paints > 0, timeout=2000)
    controls.bar.setValue(500)  # clamped to the range
    assert controls.bar.value() == controls.bar.maximum() == 200


def test_the_monitor_laid_out_ahead_leaves_no_resize_event_waiting(make_window, qtbot,
                                                                    monkeypatch):
    """Qt keeps a hidden widget's resize events until something shows or paints it:
    the first off-screen paint of Train's switch (``forward``) sent them all (the plots
    in tabs, the inspector's charts, the menus), half of that step. Sent ahead now."""
    from PySide6.QtWidgets import QWidget

    monkeypatch.setenv("STRATA_PRESTART", "1")
    from studio.training import ahead

    monkeypatch.setattr(ahead, "IDLE_MS", 50)
    window = make_window(EXAMPLES / "shapes_cnn.strata")
    window.resize(1280, 720)
    window.training.workbench()
    qtbot.waitUntil(lambda: window.training.monitor_ahead.done, timeout=5000)
    waiting = [w for w in window.findChildren(QWidget)
               if w.testAttribute(Qt.WidgetAttribute.WA_PendingResizeEvent)]
    def path(w):
        names = []
        while w is not None:
            names.append(w.objectName() or type(w).__name__)
            w = w.parentWidget()
        return "<".join(names[:5])
    # (253 before; a list's viewport in a hidden tab may be resized again after)
    assert len(waiting) <= 3, (len(waiting), [path(w) for w in waiting][:12])
