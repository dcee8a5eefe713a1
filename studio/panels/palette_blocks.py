"""The palette's Blocks sections: this network's blocks, the built-in library, the
user's library, and the block ports (only while a block is open).

Each block entry is keyed ``"<source>:<name>"`` (``network``, ``builtin`` or
``user``); the palette reports it as intent (``block_requested``, a drag carrying
``BLOCK_MIME``) and ``studio.block_library`` does the rest. Entries are ranked by the
same search as layers (``palette.rank`` reads ``type``, ``display_name``, ``category``
and ``help``).
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QTreeWidget, QTreeWidgetItem

from graph.block_files import LibraryEntry, UnreadableBlock
from graph.block_library import BUILTINS
from graph.blocks import Library

from ..theme_colors import category_color, swatch_icon

BLOCK_MIME = "application/x-strata-block"
NETWORK, BUILTIN, USER = "network", "builtin", "user"
SECTIONS = {NETWORK: "Blocks in this network", BUILTIN: "Built-in blocks",
            USER: "My blocks"}
PORTS_TITLE = "Block ports"


@dataclass(frozen=True)
class BlockEntry:
    """What the search and the tooltip read of one block."""

    key: str
    name: str
    display_name: str
    category: str
    help: str
    type: str  # the definition's (class) name, which the search reads

    @property
    def source(self) -> str:
        return self.key.split(":", 1)[0]


def split_key(key: str) -> tuple[str, str]:
    source, _, name = key.partition(":")
    return source, name


def is_block_key(key: str) -> bool:
    return split_key(key)[0] in SECTIONS


class BlockSections:
    """Fills and refreshes the three block headers of the palette's tree."""

    def __init__(self, tree: QTreeWidget, role: int) -> None:
        self.tree, self.role = tree, role
        self.entries: dict[str, BlockEntry] = {}
        self.items: dict[str, QTreeWidgetItem] = {}
        self.headers: dict[str, QTreeWidgetItem] = {}
        self.unreadable: list[UnreadableBlock] = []
        self._problem_items: list[QTreeWidgetItem] = []
        font = QFont(tree.font())
        font.setBold(True)
        for source, title in SECTIONS.items():
            header = QTreeWidgetItem([title])
            header.setFont(0, font)
            header.setIcon(0, swatch_icon(category_color("Blocks")))
            header.setFlags(Qt.ItemFlag.ItemIsEnabled)
            header.setToolTip(0, _SECTION_HELP[source])
            self.headers[source] = header
        # This network's blocks first (few, and what one reaches for); the libraries last.
        tree.insertTopLevelItem(0, self.headers[NETWORK])
        tree.addTopLevelItem(self.headers[BUILTIN])
        tree.addTopLevelItem(self.headers[USER])
        self._fill(BUILTIN, [(b.name, b.title, b.help) for b in BUILTINS])
        self.set_user([], [])

    # ------------------------------------------------------------------ contents
    def set_network(self, library: Library) -> None:
        self._fill(NETWORK, [(d.name, d.name, d.description or
                              f"The block '{d.name}' of this network.") for d in library])

    def set_user(self, entries: list[LibraryEntry], unreadable: list[UnreadableBlock]) -> None:
        self._fill(USER, [(e.name, e.name, e.description or f"Your block '{e.name}'.")
                          for e in entries])
        header = self.headers[USER]
        self.unreadable = list(unreadable)
        self._problem_items = []
        for bad in unreadable:
            # Shown, not raised: the file is named and the rest of the library works.
            item = QTreeWidgetItem(header, [f"\u26a0 {bad.path.name} (unreadable)"])
            item.setToolTip(0, f"Skipped {bad.path}:\n{bad.message}")
            item.setForeground(0, QBrush(Qt.GlobalColor.darkRed))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self._problem_items.append(item)
        if not entries and not unreadable:
            self._placeholder(USER, "Right-click a block of this network: Save to Library")

    def _fill(self, source: str, rows: list[tuple[str, str, str]]) -> None:
        header = self.headers[source]
        for key in [k for k in self.items if k.startswith(source + ":")]:
            header.removeChild(self.items.pop(key))
            self.entries.pop(key)
        header.takeChildren()
        for name, title, help_text in rows:
            key = f"{source}:{name}"
            # The class name is searched too (``type``): "BasicBlock" finds its title.
            entry = BlockEntry(key, name, title, SECTIONS[source], help_text, name)
            item = QTreeWidgetItem(header, [title])
            item.setData(0, self.role, key)
            item.setIcon(0, swatch_icon(category_color("Blocks"), 10, 5.0))
            item.setToolTip(0, _tooltip(entry))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                          | Qt.ItemFlag.ItemIsDragEnabled)
            self.items[key] = item
            self.entries[key] = entry
        header.setHidden(source == NETWORK and not rows)
        header.setExpanded(True)

    def _placeholder(self, source: str, text: str) -> None:
        item = QTreeWidgetItem(self.headers[source], [text])
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        self._problem_items.append(item)

    def refresh_headers(self, searching: bool) -> None:
        """A header shows while one of its entries does (its notes only when not
        searching)."""
        for source, header in self.headers.items():
            shown = any(not self.items[k].isHidden() for k in self.items
                        if k.startswith(source + ":"))
            notes = source == USER and bool(self._problem_items) and not searching
            for item in self._problem_items:
                item.setHidden(searching)
            header.setHidden(not (shown or notes))


_SECTION_HELP = {
    NETWORK: "The blocks this network defines: add another instance of one (edits to a "
             "block change every instance). Right-click one to save it to your library.",
    BUILTIN: "Classic blocks of deep networks, ready to use and edit: adding one copies "
             "its definition into this network.",
    USER: "Blocks you saved, usable in any network. Right-click one to rename or delete "
          "it.",
}


def _tooltip(entry: BlockEntry) -> str:
    import html

    return (f"<p style='white-space:pre-wrap; max-width:320px'><b>"
            f"{html.escape(entry.display_name)}</b> <span style='color:gray'>"
            f"({html.escape(entry.category)})</span><br><code>{html.escape(entry.type)}"
            f"</code>: {html.escape(entry.help)}</p>")


__all__ = ["BLOCK_MIME", "BUILTIN", "NETWORK", "PORTS_TITLE", "SECTIONS", "USER",
           "BlockEntry", "BlockSections", "is_block_key", "split_key"]
