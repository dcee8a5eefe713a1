"""Pressing Train brings the Train workspace forward in steps, no turn of the GUI thread
holding it long: the docks laid out in one turn, the canvas painted off screen at its
new size in another, the window's one paint in a third, the plots after it; the window
keeps its design look on screen until the new layout is whole, then shows all of it,
painted (``studio.training.forward``)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QObject, QRect, Qt, QTimer
from PySide6.QtWidgets import QApplication
from test_training_reveal import events_of, not_blank, running
from test_training_support import tiny_cnn

from studio.resources import EXAMPLES

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


class Timeline(QObject):
    """What happens, in order: ``tick`` each time a 1 ms timer gets its turn (the GUI
    thread served timers: what came before and after it are in different turns), the
    canvas resized (the layout), the canvas painted (on screen or off), the window
    painted."""

    def __init__(self, window) -> None:
        super().__init__()
        self.window = window
        self.canvas = window.view.viewport()
        self.log: list[str] = []
        self.painted_rects: list[QRect] = []  # the canvas's geometry at each window paint
        self.laid_out = False  # the canvas was resized (the switch's layout ran)
        self.canvas.installEventFilter(self)
        window.installEventFilter(self)
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(1)
        self.timer.timeout.connect(lambda: self.log.append("tick"))
        self.timer.start()

    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if watched is self.canvas and kind == QEvent.Type.Resize:
            self.log.append("layout")
            self.laid_out = True
        elif watched is self.canvas and kind == QEvent.Type.Paint:
            self.log.append("canvas paint")
        elif watched is self.window and kind == QEvent.Type.Paint:
            self.log.append("window paint")
            if self.laid_out:
                self.painted_rects.append(self.window.centralWidget().geometry())
        return False

    def turns(self) -> list[list[str]]:
        """The events between two ticks, from the first after the switch."""
        out: list[list[str]] = [[]]
        for entry in self.log:
            if entry == "tick":
                if out[-1]:
                    out.append([])
            else:
                out[-1].append(entry)
        return [turn for turn in out if turn]

    def close(self) -> None:
        self.timer.stop()
        self.canvas.removeEventFilter(self)
        self.window.removeEventFilter(self)


def on_screen(window):
    """The window as its backing store holds it (what the screen shows)."""
    return QApplication.primaryScreen().grabWindow(window.winId()).toImage()


@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_the_switch_to_train_is_spread_over_turns_and_painted_whole(make_window, qtbot,
                                                                     size):
    doc = tiny_cnn(epochs=2)
    run = running(doc, events_of(doc))
    window = make_window(EXAMPLES / "shapes_cnn.strata")
    window.resize(*size)
    bench = window.training.workbench()
    view = bench.view
    qtbot.wait(200)  # the window's first paints done
    assert window.workspaces.current == "design"
    before = on_screen(window)
    timeline = Timeline(window)
    try:
        bench.show_run(run)
        # As a run's start does: in a turn after the click's.
        QTimer.singleShot(0, window, window.training._bring_forward)
        qtbot.waitUntil(lambda: window.workspaces.current == "train", timeout=2000)
        qtbot.waitUntil(lambda: window.updatesEnabled() and view.isVisible()
                        and view.settled, timeout=5000)
        qtbot.wait(50)
        turns = timeline.turns()
    finally:
        timeline.close()
    # The layout, the canvas's paint at its new size and the window's paint each in a
    # turn of its own (a turn that did all three held the GUI thread 90-105 ms).
    layout_turn = next(i for i, t in enumerate(turns) if "layout" in t)
    assert "window paint" not in turns[layout_turn], turns
    assert "canvas paint" not in turns[layout_turn], turns
    later = turns[layout_turn + 1:]
    paint_turn = next(i for i, t in enumerate(later) if "window paint" in t)
    # The canvas was painted (off screen, filling its caches) before the window's
    # paint, in a turn of its own.
    warm_turn = next(i for i, t in enumerate(later) if "canvas paint" in t)
    assert warm_turn < paint_turn, turns
    assert "window paint" not in later[warm_turn], turns
    # The window's first paint after the layout shows it finished.
    final = window.centralWidget().geometry()
    assert timeline.painted_rects and timeline.painted_rects[0] == final
    # The whole window on screen is painted as it should be, the plots included.
    assert window.updatesEnabled()
    qtbot.waitUntil(lambda: on_screen(window) == window.grab().toImage(), timeout=3000)
    assert on_screen(window) != before
    shown = [p for p in view.plots if p.isVisible()]
    assert view.curves in shown
    for plot in shown:
        assert not_blank(plot), f"{type(plot).__name__} is blank"


def test_another_workspace_asked_for_during_the_steps_finishes_them(make_window, qtbot):
    window = make_window(EXAMPLES / "shapes_cnn.strata")
    window.resize(1280, 720)
    window.training.workbench()
    qtbot.wait(50)
    window.training._bring_forward()
    forward = window.training.forward
    assert forward is not None and forward.active
    assert not window.updatesEnabled()  # frozen while the steps go
    window.workspaces.switch("design")  # Ctrl+1 before the monitor painted
    assert not forward.active and window.updatesEnabled()
    assert window.layout().isEnabled()
    assert window.workspaces.current == "design"
    assert not window.docks["training_plots"].isVisible()
    assert window.docks["palette"].isVisible()
    # Painted as it is (nothing left held back).
    qtbot.waitUntil(lambda: on_screen(window) == window.grab().toImage(), timeout=3000)

