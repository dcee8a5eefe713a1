"""The layer palette: every catalog type, grouped by category, searchable and draggable.

Generated from ``graph.catalog.all_specs()``; a layer type added to the catalog shows up
here with its category colour and help text, without code in this module. The palette
only reports intent: ``add_requested(type_name)`` (Enter in the search box, double-click)
or a drag carrying ``LAYER_MIME`` for the canvas to accept where it is dropped.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QSize, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph.catalog import CATEGORIES, LayerSpec, all_specs

from ..theme_colors import category_color, swatch_icon

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

LAYER_MIME = "application/x-strata-layer"
TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


def rank(spec: LayerSpec, query: str) -> int | None:
    """How well ``spec`` matches ``query`` (lower is better), None if it does not.

    Every word of the query must appear somewhere (type, display name, category or help);
    names that start with the query rank before names that merely contain it, which rank
    before matches in the category and then in the help text.
    """
    words = query.lower().split()
    if not words:
        return 0
    names = f"{spec.type} {spec.display_name}".lower()
    haystack = f"{names} {spec.category} {spec.help}".lower()
    if not all(w in haystack for w in words):
        return None
    first = words[0]
    if spec.type.lower() == first or spec.display_name.lower() == first:
        return 0
    if spec.type.lower().startswith(first) or spec.display_name.lower().startswith(first):
        return 1
    if all(w in names for w in words):
        return 2
    if all(w in f"{names} {spec.category}".lower() for w in words):
        return 3
    return 4


def tooltip(spec: LayerSpec) -> str:
    """Help text of a layer type, with its parameters, as rich text."""
    rows = "".join(
        f"<li><b>{html.escape(p.name)}</b>: {html.escape(p.help)}</li>" for p in spec.params
    )
    params = f"<ul style='margin:2px 0 0 -24px'>{rows}</ul>" if rows else ""
    return (f"<p style='white-space:pre-wrap; max-width:320px'><b>{html.escape(spec.display_name)}"
            f"</b> <span style='color:gray'>({html.escape(spec.category)})</span><br>"
            f"{html.escape(spec.help)}</p>{params}")


class _LayerTree(QTreeWidget):
    """A tree that drags layer types out as ``LAYER_MIME`` data."""

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]

    def mimeData(self, items) -> QMimeData:
        data = QMimeData()
        types = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if types:
            data.setData(LAYER_MIME, types[0].encode("utf-8"))
            data.setText(types[0])
        return data


class PalettePanel(QWidget):
    add_requested = Signal(str)  # a layer type name

    def __init__(self, controller: DocumentController | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("PalettePanel")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers\u2026  (Enter adds)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.set_filter)
        self.search.returnPressed.connect(self._add_current)
        self.search.installEventFilter(self)

        self.tree = _LayerTree(self)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(10)
        self.tree.setIconSize(QSize(12, 12))
        self.tree.setUniformRowHeights(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.itemActivated.connect(self._activated)

        self.empty = QLabel("No layer matches.", self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setEnabled(False)
        self.empty.hide()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty)

        self.items: dict[str, QTreeWidgetItem] = {}
        self.headers: dict[str, QTreeWidgetItem] = {}
        self._build()

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        header_font = QFont(self.font())
        header_font.setBold(True)
        specs = all_specs()
        used = [c for c in CATEGORIES if any(s.category == c for s in specs)]
        used += sorted({s.category for s in specs} - set(used))
        for category in used:
            header = QTreeWidgetItem(self.tree, [category])
            header.setFont(0, header_font)
            header.setIcon(0, swatch_icon(category_color(category)))
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            header.setToolTip(0, category)
            self.headers[category] = header
            for spec in specs:
                if spec.category != category:
                    continue
                item = QTreeWidgetItem(header, [spec.display_name])
                item.setData(0, TYPE_ROLE, spec.type)
                item.setIcon(0, swatch_icon(category_color(category), 10, 5.0))
                item.setToolTip(0, tooltip(spec))
                item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                              | Qt.ItemFlag.ItemIsDragEnabled)
                self.items[spec.type] = item
        self.tree.expandAll()

    # ------------------------------------------------------------------ filtering
    def set_filter(self, text: str) -> None:
        """Show the layers matching ``text``; the best match becomes the current item."""
        specs = {s.type: s for s in all_specs()}
        best: tuple[int, int, str] | None = None
        for order, (type_name, item) in enumerate(self.items.items()):
            score = rank(specs[type_name], text)
            item.setHidden(score is None)
            if score is not None and (best is None or (score, order) < best[:2]):
                best = (score, order, type_name)
        for header in self.headers.values():
            header.setHidden(all(header.child(i).isHidden()
                                 for i in range(header.childCount())))
        self.empty.setVisible(best is None)
        self.tree.setVisible(best is not None)
        if best is None:
            self.tree.setCurrentItem(None)
        elif text.strip():
            self.tree.setCurrentItem(self.items[best[2]])
            self.tree.scrollToItem(self.items[best[2]])
        else:
            self.tree.clearSelection()
            self.tree.setCurrentItem(None)

    def visible_types(self) -> list[str]:
        return [t for t, item in self.items.items() if not item.isHidden()]

    def top_hit(self) -> str | None:
        """The layer Enter would add: the current item, else the first one shown."""
        item = self.tree.currentItem()
        if item is not None and item.data(0, TYPE_ROLE) and not item.isHidden():
            return item.data(0, TYPE_ROLE)
        shown = self.visible_types()
        return shown[0] if shown and self.search.text().strip() else None

    # ------------------------------------------------------------------ intents
    def _add_current(self) -> None:
        type_name = self.top_hit()
        if type_name:
            self.add_requested.emit(type_name)

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        type_name = item.data(0, TYPE_ROLE)
        if type_name:
            self.add_requested.emit(type_name)

    def eventFilter(self, watched, event) -> bool:
        # Up/Down in the search box walk the results without leaving the box.
        if watched is self.search and isinstance(event, QKeyEvent) and \
                event.type() == QKeyEvent.Type.KeyPress:
            key = event.key()
            if key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                self._step(1 if key == Qt.Key.Key_Down else -1)
                return True
            if key == Qt.Key.Key_Escape and self.search.text():
                self.search.clear()
                return True
        return super().eventFilter(watched, event)

    def _step(self, delta: int) -> None:
        shown = self.visible_types()
        if not shown:
            return
        current = self.top_hit()
        i = shown.index(current) + delta if current in shown else 0
        item = self.items[shown[max(0, min(len(shown) - 1, i))]]
        self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()
