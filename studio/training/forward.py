"""The Train workspace brought forward in steps, so no turn of the GUI thread holds it.

When a run starts, the window switches to the Train workspace (the full-size monitor).
Done in one turn of the event loop, the switch (the docks moved and laid out again at
their new sizes), the first paint of the whole window and the canvas's first paint at
its new size held the GUI thread for 90-105 ms (``benchmarks/bench_gui.py``, the one
delay of a run above 50 ms). ``BringForward`` spreads it over a few turns, each well
under 25 ms on a quiet machine, with a timer between two steps so that input and
timers (the drain of the run's events) are served in between:

1. the switch: the window is frozen (its updates off: the screen keeps the design
   layout, never half of the new one), the plots are hidden (the layout settles
   without them) and the docks are placed with the window's layout held (each dock
   shown would lay the whole window out again);
2. the layout, once, at the docks' new sizes;
3. the scroll areas on screen (the canvas first) painted off screen (``grab``) at
   their new sizes: their caches are filled (the canvas's cards are cached at its
   zoom, its background at its size; a list lays its items out; a plot its ranges),
   which was more than half of the window's first paint; a step per ``WARM_MS``;
4. the window's updates back on: one paint of the whole new layout, from the caches;
5. a frame later, the plots are shown, sized and arranged, and then paint one per
   frame (``reveal.StagedReveal``).

Each step takes the shared frame (``pacing.FramePacer``), so the plots' and the canvas
overlay's drawings fall between the steps rather than on them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRect, Qt, QTimer, Signal
from PySide6.QtWidgets import QDockWidget, QLayout, QWidget

from .ahead import settle_layouts

if TYPE_CHECKING:
    from PySide6.QtWidgets import QGraphicsView, QMainWindow

    from studio.workspaces import WorkspaceSwitcher

    from .pacing import FramePacer

MONITOR = "train"
STEP_MS = 1  # a timer, not a posted call: posted calls run before timers that wait
WARM_MS = 8  # off-screen paints per step, beyond the first (the canvas: ~10-15 ms)
FRAME_MS = 30  # the plots show after the frame that paints the new layout


class BringForward(QObject):
    """Brings the monitor's workspace forward in steps (``start``); ``done`` is emitted
    once the window paints again and the plots are back on screen."""

    done = Signal()

    def __init__(self, window: QMainWindow, workspaces: WorkspaceSwitcher | None,
                 docks: list[QDockWidget], canvas: QGraphicsView | None = None,
                 plots: QWidget | None = None,
                 settle_plots: Callable[[], None] = lambda: None,
                 pacer: FramePacer | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.workspaces = workspaces
        self.docks = docks  # shown and raised in any workspace: the run's controls, plots
        self.canvas = canvas
        self.plots = plots
        self.settle_plots = settle_plots
        self.pacer = pacer
        self._steps: list[Callable[[], None]] = []
        self._frozen = False
        self._held: QLayout | None = None  # the window's layout, held for a step
        # What to paint off screen (``_warm``): a widget and its part.
        self._cold: list[tuple[QWidget, QRect]] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._next)
        if workspaces is not None:
            workspaces.switching.connect(self._switching)

    @property
    def active(self) -> bool:
        """Steps remain (the window may still be frozen)."""
        return bool(self._steps)

    def start(self) -> None:
        """Switch now (the workspace is current on return); lay out and paint in later
        turns."""
        if self._steps:
            return  # already on its way
        workspaces = self.workspaces
        if workspaces is None or workspaces.current == MONITOR:
            self._show_docks()
            return
        window, plots = self.window, self.plots
        # Frozen only if it was not already (laid out unseen, ``ahead``): the window
        # is given back as it was found.
        self._frozen = window.updatesEnabled()
        if self._frozen:
            _freeze(window, True)
        # The plots sit out the layout: hidden, they take one resize (to their final
        # size) when shown again, instead of one per step of the layout.
        if plots is not None:
            plots.hide()
        self._steps = [self._lay_out, self._warm, self._unfreeze, self._show_plots]
        layout = window.layout()
        if layout is not None and layout.isEnabled():
            # Held until the next step: the docks are placed now, laid out then.
            layout.setEnabled(False)
            self._held = layout
        try:
            workspaces.switch(MONITOR)
        except BaseException:
            self.finish()
            raise
        self._take_frame()
        self._timer.start(STEP_MS)

    def finish(self) -> None:
        """The remaining steps now, but the off-screen paints (another workspace is
        asked for meanwhile, a test wants the result)."""
        self._timer.stop()
        steps, self._steps = self._steps, []
        for step in steps:
            if step != self._warm:
                step()
        self._cold = []
        self.done.emit()

    def _switching(self, name: str) -> None:
        if self._steps and name != MONITOR:
            self.finish()  # the window as it should be, then the other workspace

    # ------------------------------------------------------------------ steps
    def _next(self) -> None:
        if not self._steps:
            return
        step = self._steps.pop(0)
        try:
            step()
        finally:
            self._take_frame()
            if self._steps:
                self._timer.start(FRAME_MS if self._steps[0] == self._show_plots
                                  else STEP_MS)
            else:
                self.done.emit()

    def _lay_out(self) -> None:
        """The placed docks laid out at their sizes, once."""
        layout, self._held = self._held, None
        if layout is not None:
            layout.setEnabled(True)
            layout.activate()
        settle_layouts()
        self._show_docks()
        if self.workspaces is not None and self.workspaces.current == MONITOR:
            # Painted off screen before the window paints (``_warm``): the canvas
            # first (its caches are the larger part), then each dock on screen.
            window = self.window
            parts: list[tuple[QWidget, QRect]] = []
            if self.canvas is not None:
                # In two halves (two steps): a card is cached whole where it shows,
                # the background whole with the first.
                viewport = self.canvas.viewport()
                top = QRect(0, 0, viewport.width(), viewport.height() // 2)
                parts += [(viewport, top),
                          (viewport, QRect(0, top.height(), viewport.width(),
                                           viewport.height() - top.height()))]
            parts += [(d, d.rect()) for d in window.findChildren(QDockWidget)
                      if d.parent() is window]
            self._cold = parts

    def _show_docks(self) -> None:
        for dock in self.docks:
            if dock.isHidden() or dock.visibleRegion().isEmpty():
                dock.show()
                dock.raise_()

    def _warm(self) -> None:
        """The canvas and the docks on screen painted off screen at their new sizes,
        while the window is frozen: a first paint at a new size fills caches (the
        canvas's cards are cached in device coordinates: a new zoom redraws each; its
        background; a list's item layout; a plot's ranges), so the window's own paint
        finds them filled. As many as fit in ``WARM_MS``; the rest in another step."""
        start = time.thread_time()
        settle_layouts()  # (a relayout waiting would resize one after its paint)
        while self._cold:
            part, rect = self._cold.pop(0)
            if part.isVisible() and not part.visibleRegion().isEmpty():
                part.grab(rect)
                if (time.thread_time() - start) * 1000 >= WARM_MS and self._cold:
                    self._steps.insert(0, self._warm)  # the rest in the next step
                    return

    def _unfreeze(self) -> None:
        """The window paints again: the whole new layout in one frame."""
        if self._frozen:
            self._frozen = False
            _freeze(self.window, False)

    def _show_plots(self) -> None:
        """The plots back on screen, held back from painting (they paint one per frame,
        ``dashboard``), sized and arranged (columns or tabs) now, before their first
        paint, not in a later turn that would lay them out and paint them again."""
        plots = self.plots
        if plots is None or not plots.isHidden():
            return
        plots.show()
        settle_layouts()
        self.settle_plots()

    def _take_frame(self) -> None:
        if self.pacer is not None:
            self.pacer.take()


def _freeze(window: QWidget, frozen: bool) -> None:
    """The window's painting held (True) or let go, with one paint of all of it.

    Only the window's own flag: ``setUpdatesEnabled`` sets it on every widget inside
    and, letting go, marks each of them dirty on its own besides the window, and Qt
    then painted most widgets twice in the first frame (258 paint events instead of
    129, 35 ms against 20 ms). Held at the window, no child paints either (the
    window's paint, which draws them, is what is held), and its children, not held
    themselves, can be painted off screen meanwhile (``_warm``).
    """
    window.setAttribute(Qt.WidgetAttribute.WA_UpdatesDisabled, frozen)
    if not frozen:
        # Now, not by a later update request: those that came while held were let
        # go unanswered, and the next is sent only once the window has synced.
        window.repaint()
