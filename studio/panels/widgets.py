"""Small widgets the panels share: section headers, muted labels, severity icons."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
)
from PySide6.QtWidgets import QFormLayout, QLabel, QTreeWidget, QTreeWidgetItem, QWidget

from ..theme_colors import severity_color


def hidden_in_window(widget: QWidget) -> bool:
    """Whether ``widget`` sits in a shown window but is itself hidden (a closed dock or
    a background tab): work for it can wait until its showEvent."""
    window = widget.window()
    return window is not widget and window.isVisible() and not widget.isVisible()


def top_level_items(tree: QTreeWidget) -> list[QTreeWidgetItem]:
    """A tree's top-level items, in order."""
    items = (tree.topLevelItem(i) for i in range(tree.topLevelItemCount()))
    return [item for item in items if item is not None]


def child_items(parent: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    """An item's children, in order."""
    items = (parent.child(i) for i in range(parent.childCount()))
    return [item for item in items if item is not None]


W = TypeVar("W", bound=QWidget)


def muted(widget: W) -> W:
    """Grey text that follows the light or dark theme."""
    palette = widget.palette()
    color = palette.color(QPalette.ColorRole.PlaceholderText)
    palette.setColor(QPalette.ColorRole.WindowText, color)
    palette.setColor(QPalette.ColorRole.Text, color)
    widget.setPalette(palette)
    return widget


def section(title: str, parent: QWidget | None = None) -> QLabel:
    label = QLabel(title.upper(), parent)
    font = QFont(label.font())
    font.setBold(True)
    font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
    font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 106)
    label.setFont(font)
    label.setContentsMargins(0, 10, 0, 2)
    label.setWordWrap(True)  # a long heading wraps in a narrow dock, never widens the form
    return muted(label)


def form_layout() -> QFormLayout:
    form = QFormLayout()
    form.setContentsMargins(0, 0, 0, 0)
    form.setHorizontalSpacing(12)
    form.setVerticalSpacing(6)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    # In a narrow dock a row that does not fit puts its label above the field, so no
    # form needs horizontal scrolling.
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form


def align_forms(*forms: QFormLayout) -> None:
    """Give the label columns of stacked forms one width, so their fields line up."""
    labels = []
    for form in forms:
        for row in range(form.rowCount()):
            item = form.itemAt(row, QFormLayout.ItemRole.LabelRole)
            widget = item.widget() if item is not None else None
            if widget is not None:
                labels.append(widget)
    width = max((label.sizeHint().width() for label in labels), default=0)
    for label in labels:
        label.setMinimumWidth(width)
        if isinstance(label, QLabel):
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)


def value_label(text: str = "", parent: QWidget | None = None) -> QLabel:
    """Read-only text a user may select and copy (shapes, counts)."""
    label = QLabel(text, parent)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setWordWrap(True)
    return label


_ICONS: dict[tuple[str, int], QIcon] = {}


def severity_icon(severity: str, size: int = 14) -> QIcon:
    """A red disc with '!' for errors, an amber triangle for warnings."""
    key = (severity, size)
    if key in _ICONS:
        return _ICONS[key]
    scale = 2
    pixmap = QPixmap(size * scale, size * scale)
    pixmap.setDevicePixelRatio(scale)
    pixmap.fill(QColor(0, 0, 0, 0))
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    color = severity_color(severity)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(color)
    s = float(size)
    if severity == "warning":
        path = QPainterPath(QPointF(s / 2, 0.5))
        path.lineTo(s - 0.5, s - 1.0)
        path.lineTo(0.5, s - 1.0)
        path.closeSubpath()
        painter.drawPath(path)
        top, bottom = s * 0.32, s * 0.62
    else:
        painter.drawEllipse(QPointF(s / 2, s / 2), s / 2 - 0.5, s / 2 - 0.5)
        top, bottom = s * 0.22, s * 0.56
    painter.setBrush(QColor("white"))
    painter.drawRoundedRect(QRectF(s / 2 - s * 0.07, top, s * 0.14, bottom - top), 1, 1)
    painter.drawEllipse(QPointF(s / 2, bottom + s * 0.14), s * 0.08, s * 0.08)
    painter.end()
    _ICONS[key] = icon = QIcon(pixmap)
    return icon


def commit_pending_edits() -> None:
    """Commit what is being typed in the focused field (a number typed in Epochs, a
    name) as if the user had pressed Enter, before an action (Train, Save) reads the
    document: toolbar buttons and shortcuts take no focus, so the field would not
    commit on its own."""
    from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QLineEdit

    widget = QApplication.focusWidget()
    spin = widget if isinstance(widget, QAbstractSpinBox) else None
    if spin is None and isinstance(widget, QLineEdit):
        parent = widget.parentWidget()
        spin = parent if isinstance(parent, QAbstractSpinBox) else None
    if spin is not None:
        spin.interpretText()  # a spin box without keyboard tracking commits here
        spin.editingFinished.emit()
    elif isinstance(widget, QLineEdit) and widget.isModified():
        widget.editingFinished.emit()
