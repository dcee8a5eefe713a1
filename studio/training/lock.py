"""While a run trains, the network's structure is locked; pan, zoom, select and inspect
stay free, and the user may unlock to prepare the next run.

The lock itself lives in the document controller (``set_locked``): its structural
intents (add, delete, connect, parameter edits, paste) refuse while it is set, so every
view is covered at once. Here: engaging and releasing it with the run, and a banner over
the canvas saying so, with a button to unlock ("changes apply to the next run"). The
running worker trains on a snapshot, so any change that still reaches the document
(undo, an unlocked edit) cannot touch the run; the banner then says the changes wait
for the next run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from graph.events import STRUCTURAL_EVENTS, DocumentEvent
from studio import resources

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.canvas.view import NetworkView
    from studio.document.controller import DocumentController

LOCKED_TEXT = "Training \u2014 the network is locked until the run ends"
LOCK_REASON = ("The network is training: its structure is locked until the run ends "
               "(pan, zoom, select and inspect as you like)")


class _Banner(QFrame):
    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingBanner")
        t = resources.current()
        self.setStyleSheet(
            f"QFrame#TrainingBanner {{ background: {t.base}; border: 1px solid "
            f"{t.accent}; border-radius: 6px; }} QLabel {{ color: {t.text}; }}")
        self.label = QLabel(self)
        self.label.setWordWrap(False)
        self.button = QPushButton("Edit anyway", self)
        self.button.setObjectName("unlock_button")
        self.button.setToolTip("Unlock the network: edits do not change the running "
                               "training; they apply to the next run")
        self.button.setCursor(Qt.CursorShape.PointingHandCursor)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 6, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.button)


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
            self.banner.label.setText(LOCKED_TEXT)
            self.banner.adjustSize()  # polish now: the first layout costs most
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
            self.view.set_top_room(0)

    def unlock_for_next_run(self) -> None:
        if not self.engaged:
            return
        self.unlocked = True
        self._set_locked(False)
        self._show("Editing while training \u2014 changes apply to the next run",
                   button=False)

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
            self._show("The network changed since this run started \u2014 the changes "
                       "apply to the next run", button=False)

    # ------------------------------------------------------------------ banner
    def _show(self, text: str, button: bool) -> None:
        if self.banner is None:
            return
        self.banner.label.setText(text)
        self.banner.button.setVisible(button)
        self.banner.adjustSize()
        self._place()
        self.banner.show()
        self.banner.raise_()
        if self.view is not None:  # a fitted network stays clear of the banner
            self.view.set_top_room(self.banner.height() + 14)

    def _place(self) -> None:
        if self.banner is None:
            return
        port = self.view  # the banner is the view's child
        if port is None:
            return
        top = port.viewport().y()
        self.banner.move(max(8, (port.width() - self.banner.width()) // 2), top + 10)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize:
            self._place()
        return False
