"""The Help menu: a searchable keyboard-shortcut reference, help on the selected layer
(F1) and About (versions of Strata, PyTorch, Qt and the training device).

The shortcut list is read from the window's own actions, so it cannot drift from what
the keys do; the canvas gestures that are not actions are listed once here. Nothing
imports torch: its version comes from the installed package's metadata and the device
from the status bar's probe.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt, qVersion
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

import graph

if TYPE_CHECKING:
    from studio.main_window import MainWindow

# Keys of the canvas that are gestures rather than menu actions.
CANVAS_KEYS = (
    ("Tab", "Add a layer (after the selected one, wired)", "Canvas"),
    ("Double-click on the canvas", "Add a layer there", "Canvas"),
    ("Drag from a port", "Draw a wire; drop on empty canvas to add a connected layer",
     "Canvas"),
    ("Drag a wire off its input", "Move the wire to another input, or remove it", "Canvas"),
    ("Drop a layer on a wire", "Insert the layer into that wire", "Canvas"),
    ("Space + drag, middle button", "Pan", "Canvas"),
    ("Mouse wheel", "Zoom around the cursor", "Canvas"),
    ("Right-click a layer", "Its fixes, Insert after, Delete and reconnect", "Canvas"),
    ("Esc", "Cancel the wire being drawn", "Canvas"),
)


def shortcut_rows(window: MainWindow) -> list[tuple[str, str, str]]:
    """(keys, what they do, menu) for every action of the window with a shortcut, then
    the canvas gestures."""
    rows, seen = [], set()
    for menu_action in window.menuBar().actions():
        menu = menu_action.menu()
        if menu is None:
            continue
        title = menu_action.text().replace("&", "")
        for action in _actions(menu):
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText)
                             for s in action.shortcuts() if not s.isEmpty())
            name = action.text().replace("&", "").rstrip("\u2026.")
            if keys and (keys, name) not in seen:
                seen.add((keys, name))
                rows.append((keys, name, title))
    return rows + list(CANVAS_KEYS)


def _actions(menu) -> list[QAction]:
    out = []
    for action in menu.actions():
        if action.menu() is not None:
            out += _actions(action.menu())
        elif not action.isSeparator():
            out.append(action)
    return out


class ShortcutsDialog(QDialog):
    """Every shortcut, filtered as one types (by key or by what it does)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setWindowTitle("Keyboard Shortcuts")
        self.setObjectName("shortcuts_dialog")
        self.rows = shortcut_rows(window)
        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search shortcuts (a key or what it does)")
        self.search.setClearButtonEnabled(True)
        self.table = QTableWidget(len(self.rows), 3, self)
        self.table.setHorizontalHeaderLabels(["Keys", "Action", "Where"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        for r, row in enumerate(self.rows):
            for c, text in enumerate(row):
                self.table.setItem(r, c, QTableWidgetItem(text))
        self.search.textChanged.connect(self.filter)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)
        self.resize(620, 520)

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for r, row in enumerate(self.rows):
            hay = " ".join(row).lower()
            self.table.setRowHidden(r, not all(w in hay for w in words))

    def visible_rows(self) -> list[tuple[str, str, str]]:
        return [row for r, row in enumerate(self.rows) if not self.table.isRowHidden(r)]


def torch_name(spec) -> str:
    """The PyTorch name to look the layer up by in PyTorch's documentation."""
    if spec.module:
        return spec.module if spec.module.startswith("torch.") else f"torch.{spec.module}"
    expression = spec.expression if isinstance(spec.expression, str) else ""
    head = expression.split("(")[0]
    if head.startswith(("torch.", "F.")):
        return head.replace("F.", "torch.nn.functional.", 1)
    return "(plain tensor code, no PyTorch module)"


def layer_help_html(node) -> str:
    spec = node.spec
    rows = "".join(
        f"<tr><td><b>{escape(p.name)}</b></td><td>{escape(p.help or '')}"
        f" <span style='color:gray'>(default {escape(str(p.default))})</span></td></tr>"
        for p in spec.params)
    return (f"<h3>{escape(node.label or spec.display_name)} "
            f"<span style='color:gray'>({escape(spec.display_name)})</span></h3>"
            f"<p>{escape(spec.help)}</p>"
            f"<p>PyTorch: <code>{escape(torch_name(spec))}</code> &mdash; search the "
            f"PyTorch documentation for this name.</p>"
            + (f"<table cellspacing='4'>{rows}</table>" if rows else ""))


def show_layer_help(window: MainWindow) -> QMessageBox | ShortcutsDialog:
    """F1: help on the selected layer (or on the shortcuts when none is selected)."""
    ids = window.view.selected_node_ids()
    if len(ids) != 1:
        return show_shortcuts(window)
    node = window.controller.document.nodes[ids[0]]
    box = QMessageBox(QMessageBox.Icon.Information, f"{node.spec.display_name} help",
                      layer_help_html(node), QMessageBox.StandardButton.Close, window)
    return _open_rich(window, box, "layer_help")


def _open_rich(window: MainWindow, box: QMessageBox, name: str) -> QMessageBox:
    """Open ``box`` (rich text, window-modal, deleted on close) as the window's last
    message, where tests and the next message find it."""
    box.setTextFormat(Qt.TextFormat.RichText)
    box.setObjectName(name)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.last_message = box
    box.open()
    return box


def show_shortcuts(window: MainWindow) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    window.shortcuts_dialog = dialog
    dialog.open()
    dialog.search.setFocus()
    return dialog


def versions(window: MainWindow | None = None) -> dict[str, str]:
    # Imported here: importlib.metadata (with email) is a tenth of the start-up imports.
    import platform
    from importlib import metadata

    def version(package: str) -> str:
        try:
            return metadata.version(package)
        except metadata.PackageNotFoundError:
            return "not installed"

    device = "not probed yet"
    status = window.status if window is not None else None
    if status is not None and "\u2026" not in status.device.text():
        device = status.device.toolTip() or status.device.text()
    strata = version("strata-studio")  # the distribution's name (pyproject.toml)
    if strata == "not installed":
        strata = "run from its source folder"
    return {"Strata": strata, "PyTorch": version("torch"), "Qt": qVersion(),
            "PySide6": pyside_version, "Python": platform.python_version(),
            "Training device": device, "File format": str(graph.fileformat.VERSION)}


def show_about(window: MainWindow) -> QMessageBox:
    rows = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>"
                   for k, v in versions(window).items())
    box = QMessageBox(QMessageBox.Icon.NoIcon, "About Strata",
                      "<h3>Strata</h3><p>Design neural networks on a canvas, train them "
                      "locally with PyTorch, watch them learn, export clean PyTorch "
                      f"code.</p><table cellspacing='4'>{rows}</table>",
                      QMessageBox.StandardButton.Close, window)
    return _open_rich(window, box, "about_strata")


def add_help_menu(window: MainWindow) -> None:
    """Help > Keyboard Shortcuts (Ctrl+/), Layer Help (F1), About Strata."""
    menu = window.menuBar().addMenu("&Help")
    window.help_menu = menu
    shortcuts = QAction("&Keyboard Shortcuts\u2026", window)
    shortcuts.setShortcuts([QKeySequence("Ctrl+/"), QKeySequence("Ctrl+?")])
    shortcuts.triggered.connect(lambda _=False: show_shortcuts(window))
    layer = QAction("&Layer Help", window)
    layer.setShortcut(QKeySequence(Qt.Key.Key_F1))
    layer.setStatusTip("Help on the selected layer, with its PyTorch name")
    layer.triggered.connect(lambda _=False: show_layer_help(window))
    about = QAction("&About Strata", window)
    about.triggered.connect(lambda _=False: show_about(window))
    for action in (shortcuts, layer):
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    menu.addActions([shortcuts, layer])
    menu.addSeparator()
    menu.addAction(about)
    window.help_actions = (shortcuts, layer, about)
