"""The main window's actions, menus and toolbar, with the usual shortcuts.

Every action calls one method of the window (or of its file commands); none holds logic
of its own. Undo and Redo come from the controller's QUndoStack, so their text names
the step ("Undo Move") and they enable themselves.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolBar

from runtime.transfer.formats import EXPORT_FORMATS, IMPORT_FORMAT
from studio import resources

if TYPE_CHECKING:
    from studio.main_window import MainWindow

EXPORT_SHORTCUTS = {"python": "Ctrl+E"}

Key = QKeySequence.StandardKey


def _action(window: MainWindow, text: str, slot, shortcut=None, icon: str | None = None,
            tip: str | None = None, checkable: bool = False) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        if isinstance(shortcut, (list, tuple)):
            action.setShortcuts([QKeySequence(s) for s in shortcut])
        else:
            action.setShortcut(QKeySequence(shortcut))
    if icon:
        action.setIcon(resources.icon(icon))
        action.setData(icon)
    action.setCheckable(checkable)
    shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
    action.setToolTip(f"{tip or text.replace('&', '').rstrip('.')}"
                      + (f"  ({shown})" if shown else ""))
    action.setStatusTip(tip or "")
    if checkable:
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _checked=False: slot())
    # Shortcuts work wherever the focus is in the window (docks included).
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    return action


def build(window: MainWindow) -> SimpleNamespace:
    """Create the window's actions, menu bar and toolbar; returns the actions."""
    files, view, stack = window.files, window.view, window.controller.undo_stack
    a = SimpleNamespace()
    a.new = _action(window, "&New", files.new, Key.New, "new", "New network")
    a.open = _action(window, "&Open\u2026", files.open_dialog, Key.Open, "open",
                     "Open a network file")
    a.save = _action(window, "&Save", files.save, Key.Save, "save", "Save the network")
    a.save_as = _action(window, "Save &As\u2026", files.save_as, Key.SaveAs, None,
                        "Save the network under a new name")
    transfer = files.transfer
    a.export = _action(window, "&Export\u2026", transfer.export, None, "export",
                       "Export the network: Python, training script, weights or ONNX")
    # One entry per format of runtime.transfer's declaration (a.export_python, ...).
    for spec in EXPORT_FORMATS:
        setattr(a, f"export_{spec.id}", _action(
            window, f"&{spec.title}\u2026",
            lambda _checked=False, fmt=spec.id: transfer.export(fmt),
            EXPORT_SHORTCUTS.get(spec.id), None, spec.summary))
    a.import_code = _action(window, "&Import from PyTorch Code\u2026",
                            transfer.import_code, "Ctrl+Shift+I", None,
                            IMPORT_FORMAT.summary)
    a.close = _action(window, "&Quit", window.close, Key.Quit, None, "Quit Strata")

    a.undo = stack.createUndoAction(window, "&Undo")
    a.undo.setShortcut(QKeySequence(Key.Undo))
    a.undo.setIcon(resources.icon("undo"))
    a.undo.setData("undo")
    a.redo = stack.createRedoAction(window, "&Redo")
    a.redo.setShortcuts([QKeySequence(Key.Redo), QKeySequence("Ctrl+Y")])
    a.redo.setIcon(resources.icon("redo"))
    a.redo.setData("redo")
    a.cut = _action(window, "Cu&t", window.cut, Key.Cut, "cut")
    a.copy = _action(window, "&Copy", window.copy, Key.Copy, "copy")
    a.paste = _action(window, "&Paste", window.paste, Key.Paste, "paste")
    a.duplicate = _action(window, "D&uplicate", window.duplicate, "Ctrl+D", "duplicate",
                          "Duplicate the selected layers")
    a.delete = _action(window, "&Delete", window.delete_selection,
                       [QKeySequence(Key.Delete), QKeySequence("Backspace")], "delete",
                       "Delete the selected layers and wires")
    a.select_all = _action(window, "Select &All", window.select_all, Key.SelectAll,
                           "select-all")
    a.quick_add = _action(window, "Add &Layer\u2026", window.quick_add, "Ctrl+K", None,
                          "Search for a layer to add (Tab on the canvas)")
    a.group = _action(window, "&Group into Block", window.group_selection, "Ctrl+G", None,
                      "Put the selected layers into a new block (one card, one undo step)")
    a.ungroup = _action(window, "U&ngroup Block", window.ungroup_selection,
                        "Ctrl+Shift+G", None,
                        "Put the selected block's layers back in its place")
    a.open_block = _action(window, "&Open Block", window.open_selected_block, None, None,
                           "Edit the selected block's inside (every instance follows); "
                           "Escape goes back")
    a.expand_inline = _action(window, "E&xpand Inline", window.toggle_selected_inline, None,
                              None, "Show the selected block's inner layers under its card "
                              "(read-only), without leaving this level; again to collapse")
    a.make_unique = _action(window, "Make &Unique", window.make_selected_unique, None, None,
                            "Give the selected block its own copy of its definition, "
                            "so editing it leaves the other instances as they are")
    a.freeze = _action(window, "&Freeze Weights",
                       lambda: window.controller.toggle_frozen(
                           window.view.selected_node_ids()), "Ctrl+Shift+F", None,
                       "Freeze the selected layers' weights (they stop training), or "
                       "unfreeze them; shown on the cards")

    a.zoom_in = _action(window, "Zoom &In", view.zoom_in, [Key.ZoomIn, "Ctrl+="],
                        "zoom-in")
    a.zoom_out = _action(window, "Zoom &Out", view.zoom_out, Key.ZoomOut, "zoom-out")
    a.fit = _action(window, "&Fit to Window", window.fit, "Ctrl+0", "fit",
                    "Fit the network (or the selection) in the window")
    a.arrange = _action(window, "Auto-&arrange", window.auto_arrange, "Ctrl+L", "arrange",
                        "Lay out the selection (or everything) left to right")
    a.dark = _action(window, "&Dark Theme", window.set_dark, "Ctrl+Shift+T", "theme",
                     "Switch between the light and the dark theme", checkable=True)
    a.minimap = _action(window, "&Minimap", window.set_minimap, None, None,
                        "Show an overview when the network is larger than the view",
                        checkable=True)

    bar = window.menuBar()
    m = bar.addMenu("&File")
    m.addActions([a.new, a.open])
    window.recent_menu = m.addMenu("Open &Recent")
    window.recent_menu.aboutToShow.connect(files.fill_recent_menu)
    window.examples_menu = m.addMenu("E&xamples")
    files.fill_examples_menu(window.examples_menu)
    m.addSeparator()
    m.addActions([a.save, a.save_as])
    m.addSeparator()
    window.export_menu = m.addMenu("&Export")
    window.export_menu.setToolTipsVisible(True)
    window.export_menu.addActions([getattr(a, f"export_{spec.id}")
                                   for spec in EXPORT_FORMATS])
    window.export_menu.aboutToShow.connect(lambda: describe_onnx(a.export_onnx))
    describe_onnx(a.export_onnx)
    m.addAction(a.import_code)
    m.addSeparator()
    m.addAction(a.close)

    m = bar.addMenu("&Edit")
    m.addActions([a.undo, a.redo])
    m.addSeparator()
    m.addActions([a.cut, a.copy, a.paste, a.duplicate, a.delete])
    m.addSeparator()
    m.addActions([a.select_all, a.quick_add])
    m.addSeparator()
    m.addActions([a.group, a.ungroup, a.open_block, a.expand_inline, a.make_unique])
    m.aboutToShow.connect(lambda: _name_inline_action(window))
    m.addSeparator()
    m.addAction(a.freeze)

    m = bar.addMenu("&View")
    window.view_menu = m
    m.addActions([a.zoom_in, a.zoom_out, a.fit])
    m.addSeparator()
    m.addActions([a.arrange])
    m.addSeparator()
    window.panels_menu = m.addMenu("&Panels")
    m.addActions([a.minimap, a.dark])

    tools = QToolBar("Main toolbar", window)
    tools.setObjectName("toolbar_main")
    tools.setMovable(False)
    tools.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
    tools.addActions([a.new, a.open, a.save])
    tools.addSeparator()
    tools.addActions([a.undo, a.redo])
    tools.addSeparator()
    tools.addActions([a.cut, a.copy, a.paste, a.duplicate, a.delete])
    tools.addSeparator()
    tools.addActions([a.zoom_out, a.zoom_in, a.fit, a.arrange])
    tools.addSeparator()
    tools.addActions([a.export])
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, tools)
    window.toolbar = tools
    return a


def add_workspace_menu(window: MainWindow) -> None:
    """View > Workspace: Design (Ctrl+1) and Train (Ctrl+2)."""
    menu = window.view_menu.addMenu("&Workspace")
    menu.addActions(list(window.workspaces.actions.values()))


def describe_onnx(action: QAction) -> None:
    """The ONNX entry stays visible without the extra; it then says what to install."""
    from runtime.transfer.onnx import onnx_available, unavailable_message

    if onnx_available():
        action.setText("&ONNX\u2026")
        tip = "Write the network as an ONNX model"
    else:
        action.setText("&ONNX (not installed)\u2026")
        tip = unavailable_message()
    action.setToolTip(tip)
    action.setStatusTip(tip)


def refresh_icons(actions: SimpleNamespace) -> None:
    """Redraw icons in the current theme's colour (after switching themes)."""
    for action in vars(actions).values():
        name = action.data() if isinstance(action, QAction) else None
        if isinstance(name, str):
            action.setIcon(resources.icon(name))


def context_menu(window: MainWindow, node_id: str | None = None) -> QMenu:
    """The canvas's right-click menu; on a layer, that layer's own entries first."""
    from studio.node_actions import fill_node_menu

    a = window.menu_actions
    menu = QMenu(window)
    if node_id is not None and len(window.view.selected_node_ids()) == 1:
        fill_node_menu(menu, window.view.controller, window.view, node_id)
    menu.addActions([a.quick_add])
    menu.addSeparator()
    menu.addActions([a.cut, a.copy, a.paste, a.duplicate, a.delete])
    menu.addSeparator()
    ids = window.view.selected_node_ids()
    controller = window.view.controller  # the level shown (the network or a block)
    if len(ids) >= 2:
        menu.addAction(a.group)
    if len(ids) == 1 and controller.is_block(ids[0]):
        _name_inline_action(window)
        menu.addActions([a.open_block, a.expand_inline, a.ungroup, a.make_unique])
    if len(ids) >= 2 or (len(ids) == 1 and controller.is_block(ids[0])):
        menu.addSeparator()
    # Freezing is the network's training setting: offered at the network's level only.
    weighted = (window.controller.weighted(ids) if controller is window.controller else [])
    if weighted:
        all_frozen = set(weighted) <= window.controller.frozen()
        a.freeze.setText("Un&freeze Weights" if all_frozen else "&Freeze Weights")
        menu.addAction(a.freeze)
        menu.addSeparator()
    menu.addActions([a.arrange, a.fit])
    return menu


def _name_inline_action(window: MainWindow) -> None:
    """"Collapse Inline" when the selected blocks already show their inside."""
    scene = window.view.network_scene
    ids = [i for i in window.view.selected_node_ids() if window.view.controller.is_block(i)]
    expanded = bool(ids) and all(scene.is_expanded(i) for i in ids)
    window.menu_actions.expand_inline.setText("Colla&pse Inline" if expanded else "E&xpand Inline")
