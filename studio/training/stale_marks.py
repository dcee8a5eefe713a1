"""Diagnoses an edit made out of date leave the canvas and Problems.

A finished run's diagnoses stay marked after it ends; once an edit (a one-click fix, or
any edit) replaces or changes a layer one of them is about, that diagnosis describes a
network that no longer exists and goes (``runtime.stale_diagnoses`` has the rule);
marks of unchanged layers stay. Undoing the edit past the step that made a diagnosis
out of date brings it back: the network is again the one the run diagnosed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from graph.events import DocumentEvent
from runtime.events import DiagnosisEvent
from runtime.stale_diagnoses import outdated, touched_by

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController


class StaleDiagnoses(QObject):
    """Which diagnoses of the run shown are out of date, and since which undo step."""

    changed = Signal()  # a diagnosis went out of date, or came back with an undo

    def __init__(self, controller: DocumentController,
                 shown: Callable[[], list[DiagnosisEvent]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.shown = shown  # the diagnoses marked now (the run shown, its failure)
        self.since: dict[DiagnosisEvent, int] = {}  # out of date -> undo index then
        controller.document_changed.connect(self._edited)
        controller.document_replaced.connect(self.reset)
        controller.undo_stack.indexChanged.connect(self._undone)

    def keep(self, diagnosis: DiagnosisEvent) -> bool:
        """Whether ``diagnosis`` still describes the network."""
        return diagnosis not in self.since

    def fresh(self, diagnoses: list) -> list:
        return [d for d in diagnoses if d not in self.since]

    def reset(self) -> None:
        """A new run (or another network): its diagnoses start fresh."""
        if self.since:
            self.since.clear()
            self.changed.emit()

    def _edited(self, event: DocumentEvent) -> None:
        touched = touched_by(event)
        if not touched:
            return
        doc = self.controller.document
        step = self.controller.undo_stack.index()  # the edit's own step is not counted yet
        gone = [d for d in self.shown()
                if d not in self.since and outdated(d, touched, doc)]
        if gone:
            for d in gone:
                self.since[d] = step
            self.changed.emit()

    def _undone(self, index: int) -> None:
        """Undone back to (or before) the step that outdated a diagnosis: it is back."""
        back = [d for d, step in self.since.items() if step >= index]
        if back:
            for d in back:
                del self.since[d]
            self.changed.emit()
