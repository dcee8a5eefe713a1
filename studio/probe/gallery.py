"""The examples a network gets most wrong: a list by descending loss, one confusion cell
at a time (``cell`` combo, or a click on the confusion matrix through the panel)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

CHECK, CROSS, ARROW = "\u2713", "\u2717", "\u2192"


class GalleryView(QWidget):
    example_chosen = Signal(int)  # an index of the split
    cell_changed = Signal()  # the user chose another confusion cell

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(QLabel("<b>Examples it gets most wrong</b>", wordWrap=True))
        self.cell = QComboBox()
        self.cell.setObjectName("probe_cell")
        self.cell.addItem("All examples", None)
        box.addWidget(self.cell)
        self.list = QListWidget()
        self.list.setObjectName("probe_gallery")
        self.list.setMinimumHeight(140)
        box.addWidget(self.list)
        self.cell.activated.connect(lambda _i: self.cell_changed.emit())
        self.list.itemActivated.connect(self._chosen)
        self.list.itemClicked.connect(self._chosen)

    def current_cell(self) -> tuple[int, int] | None:
        data = self.cell.currentData()
        if not isinstance(data, str):  # combo data are "true,predicted" strings
            return None
        true, predicted = data.split(",")
        return int(true), int(predicted)

    def select_cell(self, true: int, predicted: int, names) -> None:
        index = self.cell.findData(f"{true},{predicted}")
        if index < 0:
            self.cell.addItem(_cell_text(true, predicted, names), f"{true},{predicted}")
            index = self.cell.count() - 1
        self.cell.setCurrentIndex(index)

    def fill(self, items, names, filtered: bool, pictures=None) -> None:
        """Show ``items`` (``GalleryItem``s, worst first), with a thumbnail each when
        ``pictures`` (RGB arrays) are given; unless ``filtered``, offer each confusion
        cell that holds a mistake."""
        from .canvas import to_qimage

        self.list.clear()
        self.list.setIconSize(QSize(40, 40) if pictures else QSize(0, 0))
        cells = set()
        for k, item in enumerate(items):
            if item.predicted is None:
                text = f"#{item.index}  loss {item.loss:.3g}"
            else:
                mark = CHECK if item.correct else CROSS
                text = (f"{mark} #{item.index}  {_name(int(item.target), names)} {ARROW} "
                        f"{_name(item.predicted, names)} ({item.confidence:.0%})  "
                        f"loss {item.loss:.3g}")
                if not item.correct:
                    cells.add((int(item.target), item.predicted))
            row = QListWidgetItem(text)
            if pictures:
                row.setIcon(QIcon(QPixmap.fromImage(to_qimage(pictures[k]))))
            row.setData(Qt.ItemDataRole.UserRole, item.index)
            self.list.addItem(row)
        if not filtered:
            current = self.cell.currentData()
            self.cell.clear()
            self.cell.addItem("All examples", None)
            for t, p in sorted(cells):
                self.cell.addItem(_cell_text(t, p, names), f"{t},{p}")
            self.cell.setCurrentIndex(max(self.cell.findData(current), 0))

    def _chosen(self, item: QListWidgetItem) -> None:
        self.example_chosen.emit(int(item.data(Qt.ItemDataRole.UserRole)))


def _name(k: int, names) -> str:
    return str(names[k]) if 0 <= k < len(names) else str(k)


def _cell_text(true: int, predicted: int, names) -> str:
    return f"true {_name(true, names)}, predicted {_name(predicted, names)}"
