"""One editor per parameter kind, chosen from the ParamSpec: the inspector's building blocks.

Editors never judge a value: they parse what the user typed as far as the text allows and
emit ``committed(value)``; the inspector asks the controller to check it and shows the
refusal at the field (``set_error``). So nothing is silently clamped: a spin box's arrows
stay inside the declared range, but a typed value outside it arrives here and is refused
with the catalog's reason. ``set_value`` shows the document's value and never emits.
"""

from __future__ import annotations

import re
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from graph.catalog import ParamSpec

from ..theme_colors import SEVERITY_COLORS
from .wheel_guard import guard_wheel

INT32 = 2**31 - 1
_INVALID_STYLE = f"border: 1px solid {SEVERITY_COLORS['error']}; border-radius: 3px;"


class ParamEditor(QWidget):
    """A field for one parameter with an error line under it."""

    committed = Signal(object)

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.value: Any = None  # the document's value, as last shown
        self.field = self._make_field()
        self.field.setToolTip(spec.help)
        guard_wheel(self.field)
        self.error = QLabel(self)
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error.setStyleSheet(f"color: {SEVERITY_COLORS['error']};")
        self.error.hide()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.field, 1)
        layout.addLayout(row)
        layout.addWidget(self.error)

    # subclasses: build the field, show a value, and tell what the user entered
    def _make_field(self) -> QWidget:  # pragma: no cover - abstract
        raise NotImplementedError

    def _show(self, value: Any) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def set_value(self, value: Any) -> None:
        self.value = value
        self.field.blockSignals(True)
        try:
            self._show(value)
        finally:
            self.field.blockSignals(False)
        self.set_error(None)

    def set_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))
        self.field.setStyleSheet(_INVALID_STYLE if message else "")
        self.field.setProperty("invalid", bool(message))

    @property
    def has_error(self) -> bool:
        return not self.error.isHidden()

    def revert(self) -> None:
        """Show the document's value again, dropping what was typed."""
        self.set_value(self.value)


# ---------------------------------------------------------------------- kinds
class _Spin(QSpinBox):
    """A spin box whose arrows respect the declared range but which accepts any typed
    integer, so an out-of-range entry can be refused with a reason instead of clamped."""

    def __init__(self, spec: ParamSpec, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.spec = spec
        self.setRange(-INT32, INT32)
        self.setKeyboardTracking(False)
        self.setAccelerated(True)
        self.setButtonSymbols(QAbstractSpinBox.ButtonSymbols.UpDownArrows)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def _bounds(self) -> tuple[float, float]:
        low = self.spec.min if self.spec.min is not None else -INT32
        high = self.spec.max if self.spec.max is not None else INT32
        if self.spec.max is not None and self.spec.max_exclusive:
            high -= 1
        return low, high

    def stepEnabled(self):
        low, high = self._bounds()
        flags = QAbstractSpinBox.StepEnabledFlag.StepNone
        if self.value() > low:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepDownEnabled
        if self.value() < high:
            flags |= QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
        return flags

    def stepBy(self, steps: int) -> None:
        low, high = self._bounds()
        target = max(low, min(high, self.value() + steps))
        if target != self.value():
            self.setValue(int(target))

    def sizeHint(self):
        hint = super().sizeHint()
        hint.setWidth(min(hint.width(), 120))
        return hint

    minimumSizeHint = sizeHint


class IntEditor(ParamEditor):
    field: _Spin

    def _make_field(self) -> _Spin:
        field = _Spin(self.spec, self)
        field.valueChanged.connect(self._changed)
        return field

    def _show(self, value: Any) -> None:
        self.field.setValue(int(value) if isinstance(value, (int, float)) else 0)

    def _changed(self, value: int) -> None:
        if value == self.value:
            self.set_error(None)
        else:
            self.committed.emit(value)


class _Line(QLineEdit):
    """A line edit that reverts on Escape."""

    escaped = Signal()

    def keyPressEvent(self, event) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.escaped.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class TextEditor(ParamEditor):
    """Base of the editors typed as text; ``parse`` turns text into the value to check."""

    field: _Line

    def _make_field(self) -> _Line:
        field = _Line(self)
        field.editingFinished.connect(self._finished)
        field.escaped.connect(self.revert)
        if self.spec.optional:
            field.setPlaceholderText("auto")
        return field

    def _show(self, value: Any) -> None:
        self.field.setText(self.format(value))

    def format(self, value: Any) -> str:
        return "" if value is None else str(value)

    def parse(self, text: str) -> Any:
        return text

    def _finished(self) -> None:
        text = self.field.text().strip()
        if text == self.format(self.value):
            self.set_error(None)
            return
        if not text and self.spec.optional:
            self.committed.emit(None)
            return
        self.committed.emit(self.parse(text))


class FloatEditor(TextEditor):
    def format(self, value: Any) -> str:
        if value is None:
            return ""
        return repr(float(value)) if isinstance(value, (int, float)) else str(value)

    def parse(self, text: str) -> Any:
        try:
            return float(text)
        except ValueError:
            return text  # refused by the check, with the catalog's words


class LineIntEditor(TextEditor):
    """An optional integer ("auto" when empty)."""

    def parse(self, text: str) -> Any:
        try:
            return int(text)
        except ValueError:
            return text


class IntsEditor(TextEditor):
    """A tuple of integers typed as ``3, 3`` (also ``3x3``, ``(3, 3)`` or one ``3``)."""

    def _make_field(self) -> _Line:
        field = super()._make_field()
        if not self.spec.optional:
            n = self.spec.length or 3
            field.setPlaceholderText(", ".join(["3"] * n))
        return field

    def format(self, value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, (list, tuple)):
            return ", ".join(str(v) for v in value)
        return str(value)

    def parse(self, text: str) -> Any:
        parts = [p for p in re.split(r"[\s,x\u00d7*]+", text.strip("()[] ")) if p]
        try:
            numbers = [int(p) for p in parts]
        except ValueError:
            return text
        if len(numbers) == 1 and self.spec.length:
            return numbers[0]  # "3" means (3, 3)
        return tuple(numbers)


class StrEditor(TextEditor):
    pass


class BoolEditor(ParamEditor):
    field: QCheckBox

    def _make_field(self) -> QCheckBox:
        # The help as the box's text: says what "on" means and widens the click target.
        text = self.spec.help if 0 < len(self.spec.help) <= 48 else "on"
        field = QCheckBox(text, self)
        field.toggled.connect(self.committed.emit)
        return field

    def _show(self, value: Any) -> None:
        self.field.setChecked(bool(value))


class ChoiceEditor(ParamEditor):
    field: QComboBox

    def _make_field(self) -> QComboBox:
        field = QComboBox(self)
        # Long entries ("auto (CPU here)") must not widen the form past a narrow dock.
        field.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        field.setMinimumContentsLength(6)
        field.addItems(list(self.spec.choices))
        field.activated.connect(lambda i: self.committed.emit(self.spec.choices[i]))
        return field

    def _show(self, value: Any) -> None:
        if value in self.spec.choices:
            self.field.setCurrentIndex(self.spec.choices.index(value))
        else:  # a value loaded from a file that the check will flag
            self.field.setCurrentIndex(-1)


EDITORS: dict[str, type[ParamEditor]] = {
    "int": IntEditor,
    "float": FloatEditor,
    "bool": BoolEditor,
    "choice": ChoiceEditor,
    "ints": IntsEditor,
    "str": StrEditor,
}


def editor_for(spec: ParamSpec, parent: QWidget | None = None) -> ParamEditor:
    """The editor a parameter kind calls for; optional integers take a text field so
    they can be left empty."""
    if spec.kind == "int" and spec.optional:
        return LineIntEditor(spec, parent)
    return EDITORS.get(spec.kind, StrEditor)(spec, parent)
