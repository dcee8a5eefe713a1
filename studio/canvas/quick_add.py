"""Quick add: a small search popup at the cursor listing the catalog's layer types.

Opened by double-clicking the canvas, pressing Tab, or dropping a wire on empty canvas.
Typing filters; Enter picks the highlighted entry (the top hit unless the user moved);
Escape or a click elsewhere closes it. It only reports the choice (``chosen``); the view
decides what adding means (a plain add, or an add wired to the dragged port).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
)

from graph.catalog import all_specs
from studio.panels.palette import rank
from studio.theme_colors import category_color, swatch_icon


def search(query: str, accept: Callable | None = None) -> list:
    """Layer specs matching ``query``, best first (the palette's ranking), catalog order
    within a rank."""
    hits = []
    for i, spec in enumerate(all_specs()):
        if accept is not None and not accept(spec):
            continue
        r = rank(spec, query)
        if r is not None:
            hits.append((r, i, spec))
    return [spec for _r, _i, spec in sorted(hits, key=lambda h: (h[0], h[1]))]


class QuickAddPopup(QFrame):
    chosen = Signal(str)  # layer type name

    def __init__(self, parent=None, accept: Callable | None = None,
                 title: str = "Add layer") -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self.setObjectName("QuickAdd")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.accept_spec = accept
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.setSpacing(6)
        heading = QLabel(title)
        heading.setObjectName("Muted")
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Search layers\u2026")
        self.search_box.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setUniformItemSizes(True)
        layout.addWidget(heading)
        layout.addWidget(self.search_box)
        layout.addWidget(self.results)
        self.resize(280, 340)
        self.search_box.textChanged.connect(self._refill)
        self.search_box.returnPressed.connect(self.accept_current)
        self.search_box.installEventFilter(self)
        self.results.itemActivated.connect(self._pick)
        self.results.itemClicked.connect(self._pick)
        self._refill("")

    def popup(self, global_pos: QPoint) -> None:
        screen = self.screen().availableGeometry() if self.screen() else None
        pos = QPoint(global_pos)
        if screen is not None:
            pos.setX(min(pos.x(), screen.right() - self.width()))
            pos.setY(min(pos.y(), screen.bottom() - self.height()))
        self.move(pos)
        self.show()
        self.search_box.setFocus()

    def set_query(self, text: str) -> None:
        self.search_box.setText(text)

    def hits(self) -> list[str]:
        return [self.results.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.results.count())]

    def accept_current(self) -> None:
        item = self.results.currentItem() or self.results.item(0)
        if item is not None:
            self._pick(item)

    def _pick(self, item: QListWidgetItem) -> None:
        type_name = item.data(Qt.ItemDataRole.UserRole)
        self.close()
        self.chosen.emit(type_name)

    def _refill(self, query: str) -> None:
        self.results.clear()
        for spec in search(query, self.accept_spec):
            item = QListWidgetItem(swatch_icon(category_color(spec.category), 10, 5.0),
                                   spec.display_name)
            item.setData(Qt.ItemDataRole.UserRole, spec.type)
            item.setToolTip(f"{spec.category}: {spec.help}")
            self.results.addItem(item)
        if self.results.count():
            self.results.setCurrentRow(0)

    def eventFilter(self, watched, event) -> bool:
        # Arrow keys move through the results while the cursor stays in the search box.
        if watched is self.search_box and event.type() == QEvent.Type.KeyPress:
            step = {Qt.Key.Key_Down: 1, Qt.Key.Key_Up: -1}.get(event.key())
            if step and self.results.count():
                row = (self.results.currentRow() + step) % self.results.count()
                self.results.setCurrentRow(row)
                return True
        return super().eventFilter(watched, event)
