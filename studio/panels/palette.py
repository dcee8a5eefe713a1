"""The layer palette: every catalog type, grouped by category, searchable and draggable.

Generated from ``graph.catalog.all_specs()``; a layer type added to the catalog shows up
here with its category colour and help text, without code in this module. The palette
only reports intent: ``add_requested(type_name)`` (Enter in the search box, double-click)
or a drag carrying ``LAYER_MIME`` for the canvas to accept where it is dropped.

Blocks (``palette_blocks``): this network's blocks, the built-in library and the user's
library are searched with the layers; choosing one emits ``block_requested(key)``, a
drag carries ``BLOCK_MIME``, and the context menu asks to save, rename or delete one
(``studio.block_library`` acts on those). The block ports (BlockInput, BlockOutput) are
listed only while a block is open (``set_block_open``): outside one they cannot work.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QMimeData, QModelIndex, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QFont, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QLineEdit,
    QMenu,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph.blocks import PORT_TYPES
from graph.catalog import CATEGORIES, LayerSpec, all_specs

from ..theme_colors import category_color, swatch_icon
from .palette_blocks import (
    BLOCK_MIME,
    NETWORK,
    PORTS_TITLE,
    USER,
    BlockSections,
    is_block_key,
    split_key,
)
from .widgets import child_items, top_level_items

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

LAYER_MIME = "application/x-strata-layer"
TYPE_ROLE = Qt.ItemDataRole.UserRole + 1


class Searchable(Protocol):
    """What the search reads of a layer type (a LayerSpec) or a block entry."""

    @property
    def type(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def category(self) -> str: ...
    @property
    def help(self) -> str: ...


def rank(spec: Searchable, query: str) -> int | None:
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
    """A tree that drags layer types out as ``LAYER_MIME`` data (blocks as
    ``BLOCK_MIME``)."""

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME, BLOCK_MIME]

    def mimeData(self, items) -> QMimeData:
        data = QMimeData()
        types = [i.data(0, TYPE_ROLE) for i in items if i.data(0, TYPE_ROLE)]
        if types:
            mime = BLOCK_MIME if is_block_key(types[0]) else LAYER_MIME
            data.setData(mime, types[0].encode("utf-8"))
            data.setText(split_key(types[0])[1] if mime == BLOCK_MIME else types[0])
        return data


class PalettePanel(QWidget):
    add_requested = Signal(str)  # a layer type name
    block_requested = Signal(str)  # a block key: "network:Name", "builtin:...", "user:..."
    save_block_requested = Signal(str)  # a block of this network, to the user's library
    rename_block_requested = Signal(str)  # a block of the user's library
    delete_block_requested = Signal(str)  # a block of the user's library

    def __init__(self, controller: DocumentController | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("PalettePanel")
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search layers and blocks\u2026  (Enter adds)")
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
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.customContextMenuRequested.connect(self._context_menu)

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
        self.block_open = False
        self._build()
        self.blocks = BlockSections(self.tree, TYPE_ROLE)
        ports = self.headers.get("Blocks")
        if ports is not None:  # on top: they are what one adds first inside a block
            self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(ports))
            self.tree.insertTopLevelItem(0, ports)
            ports.setExpanded(True)
        if controller is not None:
            # Not definition_changed: every edit inside a block sends one, and the list
            # only shows names (a paste of 500 layers would rebuild it 500 times).
            for signal in (controller.definition_added, controller.definition_removed,
                           controller.definition_renamed):
                signal.connect(self._network_blocks_changed)
            controller.document_replaced.connect(self._network_blocks_changed)
            self.blocks.set_network(controller.document.blocks)
        self.set_block_open(False)

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        header_font = QFont(self.font())
        header_font.setBold(True)
        specs = all_specs()
        used = [c for c in CATEGORIES if any(s.category == c for s in specs)]
        used += sorted({s.category for s in specs} - set(used))
        for category in used:
            header = QTreeWidgetItem(self.tree, [PORTS_TITLE if category == "Blocks"
                                                 else category])
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

    # ------------------------------------------------------------------ blocks
    def set_block_open(self, open_: bool) -> None:
        """List the block ports only while a block's inside is shown."""
        self.block_open = open_
        self.set_filter(self.search.text())

    def _network_blocks_changed(self, *_args) -> None:
        if self.controller is not None:
            self.blocks.set_network(self.controller.document.blocks)
            self.set_filter(self.search.text())

    def set_user_blocks(self, entries, unreadable) -> None:
        """The user's library (``graph.block_files.scan``'s result)."""
        self.blocks.set_user(entries, unreadable)
        self.set_filter(self.search.text())

    def _all_items(self) -> dict[str, QTreeWidgetItem]:
        return {**self.items, **self.blocks.items}

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu(self.tree.itemAt(pos))
        if menu is not None:
            menu.exec(self.tree.viewport().mapToGlobal(pos))

    def context_menu(self, item: QTreeWidgetItem | None) -> QMenu | None:
        """The menu of a block entry: save one of this network's, rename or delete
        one of the user's (tests read it)."""
        key = item.data(0, TYPE_ROLE) if item is not None else None
        if not key or not is_block_key(key):
            return None
        source, name = split_key(key)
        menu = QMenu(self)
        menu.addAction("Add Block", lambda: self.block_requested.emit(key))
        if source == NETWORK:
            menu.addAction("Save to Library\u2026",
                           lambda: self.save_block_requested.emit(name))
        elif source == USER:
            menu.addAction("Rename\u2026", lambda: self.rename_block_requested.emit(name))
            menu.addAction("Delete", lambda: self.delete_block_requested.emit(name))
        return menu

    # ------------------------------------------------------------------ filtering
    def set_filter(self, text: str) -> None:
        """Show the layers and blocks matching ``text``; the best match becomes the
        current item."""
        specs: dict[str, Searchable] = {s.type: s for s in all_specs()}
        specs.update(self.blocks.entries)
        best: tuple[int, int, str] | None = None
        for order, (key, item) in enumerate(self._all_items().items()):
            score = rank(specs[key], text)
            if key in PORT_TYPES and not self.block_open:
                score = None
            item.setHidden(score is None)
            if score is not None and (best is None or (score, order) < best[:2]):
                best = (score, order, key)
        for header in self.headers.values():
            header.setHidden(all(child.isHidden() for child in child_items(header)))
        self.blocks.refresh_headers(bool(text.strip()))
        self.empty.setVisible(best is None)
        self.tree.setVisible(best is not None)
        if best is None:
            self.tree.setCurrentIndex(QModelIndex())  # no current item
        elif text.strip():
            self.tree.setCurrentItem(self._all_items()[best[2]])
            self.tree.scrollToItem(self._all_items()[best[2]])
        else:
            self.tree.clearSelection()
            self.tree.setCurrentIndex(QModelIndex())

    def visible_types(self) -> list[str]:
        """Shown layer types and block keys, in palette order."""
        keys = []
        for header in top_level_items(self.tree):
            for item in child_items(header):
                key = item.data(0, TYPE_ROLE)
                if key and not item.isHidden():
                    keys.append(key)
        return keys

    def top_hit(self) -> str | None:
        """The layer (or block key) Enter would add: the current item, else the first
        one shown."""
        item = self.tree.currentItem()
        if item is not None and item.data(0, TYPE_ROLE) and not item.isHidden():
            return item.data(0, TYPE_ROLE)
        shown = self.visible_types()
        return shown[0] if shown and self.search.text().strip() else None

    # ------------------------------------------------------------------ intents
    def _add_current(self) -> None:
        self._request(self.top_hit())

    def _activated(self, item: QTreeWidgetItem, _column: int) -> None:
        self._request(item.data(0, TYPE_ROLE))

    def _request(self, key: str | None) -> None:
        if not key:
            return
        if is_block_key(key):
            self.block_requested.emit(key)
        else:
            self.add_requested.emit(key)

    def eventFilter(self, watched, event) -> bool:
        # Up/Down in the search box walk the results without leaving the box.
        if watched is self.search and isinstance(event, QKeyEvent) and \
                event.type() == QKeyEvent.Type.ShortcutOverride and (
                    event.matches(QKeySequence.StandardKey.Undo)
                    or event.matches(QKeySequence.StandardKey.Redo)):
            # Ctrl+Z right after adding from the search undoes the adding (the window's
            # Undo), not the typing of the search text.
            event.ignore()
            return True
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
        item = self._all_items()[shown[max(0, min(len(shown) - 1, i))]]
        self.tree.setCurrentItem(item)
        self.tree.scrollToItem(item)

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()
