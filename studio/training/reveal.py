"""Widgets that come on screen together paint one per frame, not all in one.

When the training monitor comes forward, its plots appear at once: Qt paints every
newly visible widget in the same frame, and a plot's first paint at a new size lays out
all its axes (ticks, labels, colour bar). In a profile of ``benchmarks/bench_gui.py``
that frame held the GUI thread for about 100 ms. A ``StagedReveal`` holds back the
painting of the widgets given to ``veil`` (Qt paints their place in their parent's
background meanwhile) and lets them paint again one per ``REVEAL_MS``, in the order
given, each after ``before_reveal(widget)`` (the caller draws what the widget missed)
and after the layouts waiting to run have run (a plot at a new size lays its items out
in a posted request: painted before it, a plot painted twice, its axes laid out twice),
so it paints once, with its data, at its size. Given ``prepare``, a widget's turn takes
three frames: its data drawn, then its paint prepared (``prepaint.prepare_paint``: the
axes laid out, most of a plot's paint), then painted, so no frame carries all three.
A widget that is not on screen when its turn comes is let go at no cost: it paints
when it shows, as any widget does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from .ahead import settle_layouts
from .pacing import FramePacer

REVEAL_MS = 16  # one frame between two reveals


class StagedReveal(QObject):
    def __init__(self, parent: QObject,
                 before_reveal: Callable[[QWidget], None] = lambda _w: None,
                 pacer: FramePacer | None = None,
                 prepare: Callable[[QWidget], object] | None = None) -> None:
        super().__init__(parent)
        self.before_reveal = before_reveal
        self.pacer = pacer  # shared with other drawings: a reveal waits for a free frame
        # With ``prepare``, a widget's turn comes in three frames: drawn (what it
        # missed), prepared (``prepare(widget)``: what its paint would compute), painted.
        self.prepare = prepare
        self.veiled: list[QWidget] = []  # in the order they will paint
        self.stage: tuple[QWidget, str] | None = None  # the widget under way, its stage
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REVEAL_MS)
        self._timer.timeout.connect(self.reveal_next)

    def veil(self, widgets: Iterable[QWidget]) -> None:
        """Hold back the painting of ``widgets`` (added after those already held)."""
        for widget in widgets:
            if widget not in self.veiled:
                widget.setUpdatesEnabled(False)
                self.veiled.append(widget)
        if self.veiled and not self._timer.isActive():
            self._timer.start()
        if self.veiled and self.pacer is not None:
            self.pacer.take()  # what brought them on screen paints in this frame

    def is_veiled(self, widget: QWidget) -> bool:
        return widget in self.veiled

    def reveal(self, widget: QWidget) -> None:
        """Let ``widget`` paint now (it came on screen by the user's hand: a tab)."""
        if widget in self.veiled:
            self.veiled.remove(widget)
            drawn = self.stage is not None and self.stage[0] is widget
            if drawn:
                self.stage = None
            if widget.isVisible() and not drawn:
                self._draw(widget)
            widget.setUpdatesEnabled(True)  # and Qt schedules its paint

    def _draw(self, widget: QWidget) -> None:
        settle_layouts()
        self.before_reveal(widget)
        settle_layouts()

    def reveal_next(self) -> QWidget | None:
        """Let the next widget on screen take its step (drawn, prepared, painted:
        those off screen before it go free); returns it, or None when none was on
        screen or the frame is already used."""
        shown = None
        if self.pacer is None or self.pacer.free():
            while self.veiled and shown is None:
                widget = self.veiled[0]
                if not widget.isVisible():
                    self.reveal(widget)
                    continue
                shown = widget
                self._step(widget)
            if shown is not None and self.pacer is not None:
                self.pacer.take()
        if self.veiled:
            self._timer.start()
        return shown

    def _step(self, widget: QWidget) -> None:
        stage = self.stage[1] if self.stage is not None and self.stage[0] is widget \
            else ""
        if self.prepare is None or stage == "prepared":
            self.reveal(widget)  # painted (drawn first if it was not)
        elif stage == "drawn":
            settle_layouts()  # (a plot at a new size lays its items out first)
            self.prepare(widget)
            self.stage = (widget, "prepared")
        else:
            self._draw(widget)
            self.stage = (widget, "drawn")

    def reveal_all(self) -> None:
        self._timer.stop()
        while self.veiled:
            self.reveal(self.veiled[0])
        self.stage = None
