"""A wheel turned over a form scrolls the form, not the value under the pointer.

In a scrolling form (the inspector, the training setup), Qt's combo and spin boxes
take the wheel whenever the pointer passes over them: scrolling down the inspector
after a run turned a Linear's ``nonlinearity`` from relu to linear, an edit the user
never meant (and it cleared the run's overlays). A guarded field takes the wheel only
while it has the keyboard focus (clicked or tabbed into); otherwise the wheel goes on
to the scroll area around it. One filter object serves every guarded field.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QWidget


class _WheelGuard(QObject):
    def __init__(self, always: bool = False) -> None:
        super().__init__()
        self.always = always  # pass the wheel on even while the widget has the focus

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Wheel and isinstance(watched, QWidget) \
                and (self.always or not watched.hasFocus()):
            event.ignore()  # not accepted: Qt offers it to the parent (the scroll area)
            return True
        return False


_GUARD: _WheelGuard | None = None
_PASS_ON: _WheelGuard | None = None


def pass_wheel_on(*widgets: QWidget) -> None:
    """Let the wheel over ``widgets`` (a small chart in a form) always scroll the form."""
    global _PASS_ON
    if _PASS_ON is None:
        _PASS_ON = _WheelGuard(always=True)
    for widget in widgets:
        widget.installEventFilter(_PASS_ON)


def guard_wheel(*fields: QWidget) -> None:
    """Let ``fields`` (combo and spin boxes) take the wheel only while focused."""
    global _GUARD
    if _GUARD is None:
        _GUARD = _WheelGuard()
    for field in fields:
        field.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # not WheelFocus
        field.installEventFilter(_GUARD)
