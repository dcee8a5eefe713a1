"""The import dialog's mapping table: what each imported layer was in the user's code.

One row per layer of the imported network (its place through the blocks, the Strata
layer, the module path or operation it came from, the source line), and one row per
operation that could not be mapped (with the reason). Choosing a row shows its source
line with the lines around it (read from the file, nothing runs) and, for a layer of a
network that opened, emits ``node_chosen`` with the node ids from the network down, so
the window opens the blocks holding it and selects it. The rows come from
``graph.importers.report`` (headless: ``strata import --report`` prints the same).
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph.importers.problems import Unmapped
from graph.importers.report import MappedRow, MappingReport

COLUMNS = ("Layer", "Type", "From the code", "Line")
CONTEXT = 1  # source lines shown around the chosen one
NOT_MAPPED = "not mapped"


class MappingView(QWidget):
    node_chosen = Signal(tuple)  # node ids, from the network down to the layer

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("import_mapping")
        self.title = QLabel(self)
        self.table = QTreeWidget(self)
        self.table.setObjectName("import_mapping_table")
        self.table.setHeaderLabels(list(COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(120)
        self.table.currentItemChanged.connect(self._chosen)
        self.table.itemClicked.connect(lambda item, _column: self._chosen(item))
        self.source = QLabel(self)
        self.source.setObjectName("import_mapping_source")
        self.source.setTextFormat(Qt.TextFormat.RichText)
        self.source.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.source.setWordWrap(True)
        # Room for the file line, the source lines and a reason: a word-wrapped label
        # is otherwise squeezed under the table.
        self.source.setMinimumHeight(self.fontMetrics().lineSpacing() * (2 * CONTEXT + 3))
        self.source.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.source)
        self.rows: list[MappedRow | Unmapped] = []
        self.selectable = False  # True once the imported network is open in the window
        # Where the imported file is: an unmapped operation's line names the file only.
        self.folder: Path | None = None
        self.clear()

    # ------------------------------------------------------------------ content
    def clear(self) -> None:
        self.rows = []
        self.table.clear()
        self.source.clear()
        self.hide()

    def show_report(self, report: MappingReport, selectable: bool = True) -> None:
        """The layers of a finished import (``selectable``: its network is open)."""
        self.show_rows(report.rows, report.unmapped, selectable)

    def show_rows(self, rows: list[MappedRow], unmapped: list[Unmapped],
                  selectable: bool = False) -> None:
        self.clear()
        self.selectable = selectable
        self.rows = [*unmapped, *rows]  # what failed first: that is what to fix
        bad = QBrush(QColor("#c0392b"))
        for row in self.rows:
            if isinstance(row, Unmapped):
                where = f" '{row.source}'" if row.source else ""
                item = QTreeWidgetItem([row.node, NOT_MAPPED, f"{row.operation}{where}",
                                        _location_name(row.location)])
                item.setForeground(1, bad)
                item.setToolTip(2, row.reason)
            else:
                item = QTreeWidgetItem([row.place, row.layer, row.origin, str(row.source)])
                if row.source.code:
                    item.setToolTip(3, row.source.code)
            self.table.addTopLevelItem(item)
        layers = len(rows)
        parts = [f"{layers} layer{'s' if layers != 1 else ''} mapped"] if rows else []
        if unmapped:
            parts.append(f"{len(unmapped)} operation{'s' if len(unmapped) != 1 else ''} "
                         "not mapped")
        hint = ("choose a row to select the layer and see its source line" if selectable
                else "choose a row to see its source line")
        heading = "What was mapped" if rows else "What could not be mapped"
        self.title.setText(f"<b>{heading}</b>: {', '.join(parts)}; {hint}.")
        self.table.resizeColumnToContents(0)
        self.setVisible(bool(self.rows))

    def row_count(self) -> int:
        return self.table.topLevelItemCount()

    def choose(self, index: int) -> None:
        """Choose row ``index`` as a click does."""
        item = self.table.topLevelItem(index)
        if item is None:
            return
        self.table.setCurrentItem(item)
        self._chosen(item)

    # ------------------------------------------------------------------ choosing
    def _chosen(self, item: QTreeWidgetItem | None, *_args) -> None:
        if item is None:
            return
        row = self.rows[self.table.indexOfTopLevelItem(item)]
        if isinstance(row, Unmapped):
            file, line = _split_location(row.location)
            if file and self.folder is not None and not Path(file).is_absolute():
                file = str(self.folder / file)
            code = row.location.split(": ", 1)[1] if ": " in row.location else ""
            self.source.setText(_source_html(file, line, code, row.reason))
            return
        self.source.setText(_source_html(row.source.file, row.source.line,
                                         row.source.code, ""))
        if self.selectable and row.nodes:
            self.node_chosen.emit(tuple(row.nodes))


def _location_name(location: str) -> str:
    """``model.py:42`` of ``model.py:42: x = x - self.mean``."""
    file, line = _split_location(location)
    return f"{Path(file).name}:{line}" if file else ""


def _split_location(location: str) -> tuple[str, int]:
    head = location.split(": ", 1)[0]
    file, _, line = head.rpartition(":")
    return (file, int(line)) if file and line.isdigit() else ("", 0)


def _source_html(file: str, line: int, code: str, reason: str) -> str:
    """The source line with a little context (read from the file when it is there:
    reading runs nothing), and the reason a row was not mapped."""
    mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    parts = []
    if reason:
        parts.append(f"<div>{html.escape(reason)}</div>")
    if file and line:
        shown = _context(Path(file), line) or [(line, code)]
        parts.append(f"<div style='margin-top:4px'>{html.escape(Path(file).name)}, "
                     f"line {line}:</div>")
        for number, text in shown:
            weight = "bold" if number == line else "normal"
            parts.append(f"<div style=\"font-family:'{mono}'; font-weight:{weight}; "
                         f"white-space:pre\">{number:>5}  {html.escape(text)}</div>")
    elif not reason:
        parts.append("<div>No source line: made by the importer (an input or output).</div>")
    return "".join(parts)


def _context(path: Path, line: int) -> list[tuple[int, str]]:
    try:
        with path.open(encoding="utf-8", errors="replace") as f:
            lines = f.read(2_000_000).splitlines()
    except OSError:
        return []
    start, end = max(1, line - CONTEXT), min(len(lines), line + CONTEXT)
    return [(n, lines[n - 1].rstrip()) for n in range(start, end + 1)]
