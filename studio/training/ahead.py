"""The training monitor laid out ahead of need, unseen, so pressing Train does not.

The first time the Train workspace comes forward, every plot is shown, polished and
resized for the first time: pyqtgraph lays out each plot's items again on each resize
(several per view while the window's dock layout settles) and the dashboard moves its
gradient plot between its tabs and its columns as the width passes its threshold. In a
profile of ``benchmarks/bench_gui.py`` that was most of the 170-250 ms the GUI thread
spent after Train was pressed. Done once while the studio is idle, with the window's
updates off (nothing is painted, so nothing flickers), the later switch finds every
widget polished and sized, and only paints.

It runs when the studio starts things ahead of need (``STRATA_PRESTART``, off in the
test suite, which builds many windows), once per window, and never while a run is
going, a mouse button is down or a popup is open; otherwise it tries again later.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QRect, QTimer
from PySide6.QtWidgets import QApplication

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from studio.workspaces import WorkspaceSwitcher

IDLE_MS = 1500  # after the workbench is built: the user is not waiting for anything
RETRY_MS = 2000
MONITOR = "train"


def enabled() -> bool:
    return os.environ.get("STRATA_PRESTART", "1") != "0"


def settle_layouts(rounds: int = 4) -> None:
    """Run the layout requests now (a dock layout nests several levels of them), so
    the widgets get their sizes in this turn."""
    for _ in range(rounds):
        QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)


def lay_out_monitor(window: QMainWindow, workspaces: WorkspaceSwitcher,
                    settle: Callable[[], None] = lambda: None) -> bool:
    """Switch to the monitor's workspace and back with the window's updates off;
    ``settle`` runs while the monitor is laid out (the plots arrange their columns for
    its size). Returns True when done (or nothing to do), False to try again later."""
    if workspaces.current == MONITOR or MONITOR not in workspaces.workspaces:
        return True
    if not window.isVisible() or window.isMinimized():
        return False
    if QApplication.mouseButtons() or QApplication.activePopupWidget() is not None \
            or QApplication.activeModalWidget() is not None:
        return False  # in the middle of something: not now
    previous = workspaces.current
    key = f"workspace/{MONITOR}"
    saved = workspaces.settings.value(key)
    window.setUpdatesEnabled(False)
    try:
        workspaces.switch(MONITOR)
        settle_layouts()
        settle()
        settle_layouts()
        workspaces.switch(previous)
        settle_layouts()
        # The resize events Qt keeps for hidden widgets (the plots in tabs, the
        # inspector's charts, the menus) are all sent by the first ``grab`` of any
        # part of the window: here, rather than when Train's switch warms the canvas
        # (``forward``), where they were half of that step.
        window.grab(QRect(0, 0, 1, 1))
    finally:
        window.setUpdatesEnabled(True)
    # Leave the settings as they were: the real switch lays the monitor out as it
    # would have (its defaults are also cheaper to apply than a saved state to
    # restore), and finds the widgets at the sizes it gives them.
    if saved is None:
        workspaces.settings.remove(key)
    return True


class MonitorAhead(QObject):
    """Schedules ``lay_out_monitor`` once, when idle; ``busy()`` says when not to."""

    def __init__(self, window: QMainWindow, workspaces: WorkspaceSwitcher,
                 busy: Callable[[], bool] = lambda: False,
                 settle: Callable[[], None] = lambda: None) -> None:
        super().__init__(window)
        self.window = window
        self.workspaces = workspaces
        self.busy = busy
        self.settle = settle
        self.done = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._try)

    def schedule(self, ms: int = IDLE_MS) -> None:
        if not self.done and enabled():
            self._timer.start(ms)

    def _try(self) -> None:
        if self.done:
            return
        if self.busy() or not lay_out_monitor(self.window, self.workspaces, self.settle):
            self._timer.start(RETRY_MS)
            return
        self.done = True
