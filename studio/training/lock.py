"""While a run trains, the network's structure is locked; pan, zoom, select and inspect
stay free, and the user may unlock to prepare the next run.

The lock itself lives in the document controller (``set_locked``): its structural
intents (add, delete, connect, parameter edits, paste) refuse while it is set, so every
view is covered at once. Here: engaging and releasing it with the run, and one thin line
over the canvas saying so (its top left corner; the heat legend takes the right end), with
a button to unlock ("changes apply to the next run"). The
running worker trains on a snapshot, so any change that still reaches the document
(undo, an unlocked edit) cannot touch the run; the banner then says the changes wait
for the next run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from graph.events import STRUCTURAL_EVENTS, DocumentEvent
from studio import resources

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.canvas.view import NetworkView
    from studio.document.controller import DocumentController

LINE_H = 24  # height of the thin line of notes over the canvas (this one, the legend)
LINE_GAP = 4  # ... and its distance from the canvas's edges
LOCKED_TEXT = "Training \u2014 the network is locked until the run ends"
LOCK_REASON = ("The network is training: its structure is locked until the run ends "
               "(pan, zoom, select and inspect as you like)")


class _Banner(QFrame):
    """One thin line in the canvas's top left corner (the heat legend takes the right
    end of the same line): the text elided to the room there, whole in its tooltip."""

    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingBanner")
        t = resources.current()
        self.setStyleSheet(
            f"QFrame#TrainingBanner {{ background: {t.base}; border: 1px solid "
            f"{t.accent}; border-radius: {LINE_H // 2}px; }} "
            f"QLabel {{ color: {t.text}; }} "
            f"QPushButton {{ color: {t.accent}; background: transparent; border: none; "
            f"padding: 0px 6px; font-weight: bold; }} "
            f"QPushButton:hover {{ text-decoration: underline; }}")
        self.setFixedHeight(LINE_H)
        self.label = QLabel(self)
        self.label.setWordWrap(False)
        self.text = ""  # the whole text (the label may show it elided)
        self.button = QPushButton("Edit anyway", self)
        self.button.setObjectName("unlock_button")
        self.button.setToolTip("Unlock the network: edits do not change the running "
                               "training; they apply to the next run")
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.button.setFlat(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 0, 2, 0)
        row.setSpacing(2)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)

    def set_text(self, text: str, width: int) -> None:
        """Show ``text`` in at most ``width`` pixels (elided, whole in the tooltip)."""
        self.text = text
        room = width - 12 - (self.button.sizeHint().width() + 2
                             if self.button.isVisibleTo(self) else 0)
        metrics = QFontMetrics(self.label.font())
        shown = metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(room, 40))
        self.label.setText(shown)
        self.label.setToolTip(text if shown != text else "")
        self.adjustSize()
        self.resize(min(self.sizeHint().width(), max(width, 80)), LINE_H)


class EditLock(QObject):
    def __init__(self, controller: DocumentController, view: NetworkView | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.view = view
        self.engaged = False  # a run is going
        self.unlocked = False  # ... and the user chose to edit for the next run
        self.changed_since_start = False
        self.banner = None
        if view is not None:
            # A child of the view, not of its viewport: the viewport's children move
            # when the canvas scrolls.
            self.banner = _Banner(view)
            self.banner.hide()
            self.banner.set_text(LOCKED_TEXT, 600)  # polish now: the first layout costs most
            self.banner.button.clicked.connect(self.unlock_for_next_run)
            view.installEventFilter(self)
        controller.document_changed.connect(self._on_document_event)
        controller.edit_refused.connect(self._refused)
        self.refusals = 0

    # ------------------------------------------------------------------ run
    def engage(self) -> None:
        self.engaged, self.unlocked, self.changed_since_start = True, False, False
        self._set_locked(True)
        self._show(LOCKED_TEXT, button=True)

    def release(self) -> None:
        self.engaged = self.unlocked = False
        self._set_locked(False)
        if self.banner is not None:
            self.banner.hide()
        if self.view is not None:
            self.view.set_top_room(0, "lock")

    def unlock_for_next_run(self) -> None:
        if not self.engaged:
            return
        self.unlocked = True
        self._set_locked(False)
        self._show("Unlocked \u2014 changes apply to the next run", button=False)

    def _set_locked(self, on: bool) -> None:
        self.controller.set_locked(on, LOCK_REASON if on else "")

    def _refused(self, _reason: str) -> None:
        """An edit bounced off the lock: say why, where the user is looking."""
        self.refusals += 1
        if self.engaged and not self.unlocked:
            self._show("Locked while training \u2014 to prepare the next run, press",
                       button=True)

    def _on_document_event(self, event: DocumentEvent) -> None:
        if (self.engaged and isinstance(event, STRUCTURAL_EVENTS)
                and not self.changed_since_start):
            self.changed_since_start = True
            self._show("Changed \u2014 the changes apply to the next run", button=False)

    # ------------------------------------------------------------------ banner
    def _show(self, text: str, button: bool) -> None:
        if self.banner is None:
            return
        self.banner.button.setVisible(button)
        self.banner.text = text
        self._place()
        self.banner.show()
        self.banner.raise_()
        if self.view is not None:  # a fitted network stays clear of the line
            self.view.set_top_room(LINE_H + 2 * LINE_GAP, "lock")

    def _place(self) -> None:
        """At the top left of the canvas, as wide as its text up to where the heat
        legend's corner starts (the legend may show at any moment of a run)."""
        if self.banner is None or self.view is None:
            return
        port = self.view  # the banner is the view's child
        legend = port.findChild(QWidget, "heat_legend",
                                Qt.FindChildOption.FindDirectChildrenOnly)
        legend_w = legend.width() + LINE_GAP if legend is not None else 0
        self.banner.set_text(self.banner.text, port.width() - 2 * LINE_GAP - legend_w
                             - LINE_GAP)
        self.banner.move(LINE_GAP, port.viewport().y() + LINE_GAP)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize and self.banner is not None \
                and self.banner.isVisible():
            self._place()
        return False
