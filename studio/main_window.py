"""The main window: the canvas in the centre, dockable panels around it, menus, status.

The window wires views to the one ``DocumentController`` and turns menu commands into
its intents; it holds no document state. Panels are movable docks whose layout, the
window geometry and the theme are remembered in QSettings. ``add_panel`` gives later
features (training plots) a dock of their own. The title carries ``[*]`` and the
modified flag follows the undo stack's clean state; closing with unsaved changes asks
to save, discard or cancel.
"""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QGuiApplication, QIcon
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDockWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QToolBar,
    QWidget,
)

from graph.errors import StrataError
from graph.events import MetadataChanged
from studio import resources, window_menus, window_state
from studio.block_levels import BlockLevels, canvas_with_breadcrumb
from studio.block_library import attach_block_library
from studio.canvas import NetworkView
from studio.canvas.inline_room import set_inline
from studio.context import StudioContext
from studio.document.controller import CLIPBOARD_MIME, DocumentController
from studio.files import AutosaveManager, RecentFiles
from studio.help import add_help_menu
from studio.panels import CodePanel, InspectorPanel, PalettePanel, ProblemsPanel
from studio.panels.layer_training import LayerTrainingBox
from studio.panels.widgets import commit_pending_edits
from studio.probe import attach_probe
from studio.status_bar import DeferredCounter, StatusBar
from studio.sweeps import attach_sweeps
from studio.training import TrainingDocks, attach_training
from studio.window_files import FileCommands
from studio.workspaces import STATE_VERSION, WorkspaceSwitcher

Area = Qt.DockWidgetArea


class MainWindow(QMainWindow):
    # Built by ``window_menus.build`` with the rest of the menu bar.
    recent_menu: QMenu
    panels_menu: QMenu
    examples_menu: QMenu
    export_menu: QMenu
    view_menu: QMenu
    toolbar: QToolBar
    # Built by ``help.add_help_menu``.
    help_menu: QMenu
    help_actions: tuple[QAction, QAction, QAction]  # shortcuts, layer help, about
    shortcuts_dialog: QDialog  # the last one opened (kept alive while shown)

    def __init__(self, source: DocumentController | str | Path | None = None, *,
                 settings: QSettings | None = None, autosave_dir=None) -> None:
        super().__init__()
        # Not a Qt child of the window: it must outlive the window's widgets while they
        # are torn down (its undo stack still emits then).
        self.controller = (source if isinstance(source, DocumentController)
                           else DocumentController())
        self.settings = settings if settings is not None else QSettings()
        self.last_message: QMessageBox | None = None
        # The theme first: panels read the palette when they are built.
        resources.apply(QApplication.instance(), str(self.settings.value("view/theme", "light")))
        self.setWindowIcon(QIcon(str(resources.ICONS / "strata.svg")))
        self.setDockOptions(QMainWindow.DockOption.AnimatedDocks
                            | QMainWindow.DockOption.AllowTabbedDocks
                            | QMainWindow.DockOption.AllowNestedDocks)

        self.view = NetworkView(self.controller)
        self.scene = self.view.network_scene
        self.levels = BlockLevels(self.controller, self.view, self)
        central, self.breadcrumb = canvas_with_breadcrumb(self.levels, self.view)
        self.setCentralWidget(central)
        self.recent = RecentFiles(self.settings, parent=self)
        self.files = FileCommands(self, self.recent)
        self.autosave = AutosaveManager(self.controller, autosave_dir, parent=self)

        self.counter = DeferredCounter(self)
        self.palette_panel = PalettePanel(self.controller)
        self.inspector = InspectorPanel(self.controller, counter=self.counter)
        training_box = LayerTrainingBox(self.controller)
        self.inspector.add_footer(training_box, follow=training_box.follow)
        self.problems = ProblemsPanel(self.controller)
        self.code = CodePanel(self.controller)
        self.docks: dict[str, QDockWidget] = {}
        self.menu_actions = window_menus.build(self)
        self.workspaces = WorkspaceSwitcher(self, self.settings, self.docks)
        window_menus.add_workspace_menu(self)
        self._build_docks()
        # What hosted features get from the window: typed, explicit (studio.context).
        self.context = StudioContext(
            window=self, controller=self.controller, scene=self.scene, view=self.view,
            problems=self.problems, add_panel=self.add_panel, docks=self.docks,
            inspector=self.inspector, workspaces=self.workspaces, settings=self.settings,
            levels=self.levels)
        self.training: TrainingDocks = attach_training(self.context)  # before the
        # layout is restored, so its docks find their remembered places
        self.sweeps = attach_sweeps(self.context)
        self.probe = attach_probe(self, self.controller, self.scene, self.training)
        add_help_menu(self)
        self.status = StatusBar(self.controller, self.counter, self)
        self.setStatusBar(self.status)
        self.block_library = attach_block_library(self)  # the palette's Blocks sections
        self._connect()
        self._commit_before_actions()
        self._restore_settings()
        self._update_title()
        if source is not None and not isinstance(source, DocumentController):
            self.files.open_path(source)
        self.view.show_document()

    # ---------------------------------------------------------------- building
    def _build_docks(self) -> None:
        # Networks grow sideways, so the canvas gets the full width between the palette
        # and the inspector; the strip below it holds Problems only while there are
        # some (studio.workspaces lays the docks out per workspace).
        self.setCorner(Qt.Corner.BottomLeftCorner, Area.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Area.RightDockWidgetArea)
        self.add_panel("palette", "Layers", self.palette_panel, Area.LeftDockWidgetArea)
        self.add_panel("inspector", "Inspector", self.inspector, Area.RightDockWidgetArea)
        self.add_panel("code", "Code", self.code, Area.RightDockWidgetArea,
                       tabify_with="inspector")
        self.add_panel("problems", "Problems", self.problems, Area.BottomDockWidgetArea)
        self.docks["inspector"].raise_()
        # A user who opens or closes Problems by hand decides from then on.
        self.docks["problems"].toggleViewAction().triggered.connect(
            self._problems_by_hand)
        self._needs_default_sizes = True

    def _apply_default_sizes(self) -> None:
        """The workspace's default layout, applied once the window has its size (and
        any panels added after construction, such as training, are in place)."""
        self.workspaces.apply_defaults()
        self.workspaces.follow_problems(bool(self.problems.problems))

    def _problems_by_hand(self, _checked: bool = False) -> None:
        self.workspaces.problems_auto = False

    def add_panel(self, name: str, title: str, widget: QWidget, area: Area,
                  tabify_with: str | None = None) -> QDockWidget:
        """Dock ``widget`` as a movable, closable panel listed in View > Panels; its
        placement is remembered with the rest of the layout (by ``name``)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self.addDockWidget(area, dock)
        if tabify_with in self.docks:
            self.tabifyDockWidget(self.docks[tabify_with], dock)
        self.docks[name] = dock
        self.panels_menu.addAction(dock.toggleViewAction())
        return dock

    def _connect(self) -> None:
        # Bound methods only: Qt drops them when the window is destroyed, where a lambda
        # would be called on a deleted window.
        c = self.controller
        c.undo_stack.cleanChanged.connect(self._on_clean_changed)
        c.path_changed.connect(self._update_title)
        c.document_replaced.connect(self._update_title)
        c.metadata_changed.connect(self._on_metadata_changed)
        c.edit_refused.connect(self._show_refusal)
        self.palette_panel.add_requested.connect(self._add_from_palette)
        self.problems.node_activated.connect(self._show_network_node)
        self.problems.path_activated.connect(self.levels.reveal)
        self.inspector.actions_bar.insert_after_requested.connect(
            self.view.insert_after_dialog)
        self.view.node_activated.connect(self._focus_inspector)
        self.levels.changed.connect(self._on_level_changed)
        self.inspector.open_block_requested.connect(self.levels.open_block)
        self.view.zoom_changed.connect(self.status.show_zoom)
        # A network shown whole stays whole in the other workspace's canvas.
        self.workspaces.switching.connect(self.view.keep_framed_if_whole)
        self.workspaces.readable_canvas.connect(self.view.set_readable_fit)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.status.problems_clicked.connect(self._show_problems)
        self.problems.count_changed.connect(self._follow_problems)
        self.problems.listed.connect(self.status.show_problems)
        self.problems.listed.connect(self.inspector.network.show_problems)
        self.status.show_problems(self.problems.problems)
        self.inspector.network.show_problems(self.problems.problems)

    def _commit_before_actions(self) -> None:
        """Toolbar buttons and menus take no focus: a value still being typed (400 in
        Epochs) is committed when one is pressed, before its action reads it."""
        self._pending_filter = _CommitOnPress(self)
        for bar in self.findChildren(QToolBar):
            for action in bar.actions():
                button = bar.widgetForAction(action)
                if button is not None:
                    button.installEventFilter(self._pending_filter)
        for action in self.menuBar().actions():
            menu = action.menu()
            if isinstance(menu, QMenu):
                menu.aboutToShow.connect(commit_pending_edits)

    def _show_refusal(self, reason: str) -> None:
        self.status.showMessage(reason, 8000)

    def _on_clean_changed(self, clean: bool) -> None:
        self.setWindowModified(not clean)

    def _add_from_palette(self, type_name: str) -> None:
        ids = self.view.selected_node_ids()
        if len(ids) == 1 and self.view.add_after(type_name, ids[0]):
            return  # appended after the selected layer and wired
        self.view.add_layer(type_name, self.view.visible_center())

    def _context_menu(self, pos) -> None:
        self.context_menu(pos).exec(self.view.mapToGlobal(pos))

    def context_menu(self, pos):
        """The menu a right-click at ``pos`` (view coordinates) opens (tests use it)."""
        return window_menus.context_menu(self, self.view.node_at(pos))

    def _show_problems(self) -> None:
        self.workspaces.problems_auto = False
        self._raise("problems")

    def _follow_problems(self, count: int) -> None:
        self.workspaces.follow_problems(count > 0)

    def _on_metadata_changed(self, _event: MetadataChanged) -> None:
        self._update_title()

    # ---------------------------------------------------------------- settings
    def _restore_settings(self) -> None:
        s = self.settings
        self.menu_actions.dark.blockSignals(True)
        self.menu_actions.dark.setChecked(resources.current().dark)
        self.menu_actions.dark.blockSignals(False)
        minimap = _bool(s.value("view/minimap", True))
        self.menu_actions.minimap.setChecked(minimap)
        self.view.minimap.set_enabled(minimap)
        restored = window_state.restore_window(self, s, STATE_VERSION)
        if restored:
            self.workspaces.restore(str(s.value("window/workspace", "design")))
        self._needs_default_sizes = not restored
        self._check_restored = restored

    def save_settings(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(STATE_VERSION))
        self.settings.setValue("window/workspace", self.workspaces.current)
        self.workspaces.remember()
        self.settings.sync()

    # ---------------------------------------------------------------- title & messages
    def document_title(self) -> str:
        path = self.controller.path
        return path.name if path else (self.controller.document.name or "Untitled")

    def _update_title(self, *_args) -> None:
        self.setWindowTitle(f"{self.document_title()}[*] \u2014 Strata")
        self.setWindowModified(self.controller.is_modified)

    def show_error(self, title: str, text: str) -> str:
        """Show a message without blocking (tests read ``last_message``)."""
        box = QMessageBox(QMessageBox.Icon.Warning, title, text,
                          QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.last_message = box
        box.finished.connect(lambda _r: setattr(self, "last_message", None))
        box.open()
        return text

    def ask(self, title: str, text: str, buttons, default) -> QMessageBox.StandardButton:
        """A blocking question (tests replace this method)."""
        box = QMessageBox(QMessageBox.Icon.Question, title, text, buttons, self)
        box.setDefaultButton(default)
        return QMessageBox.StandardButton(box.exec())

    # ---------------------------------------------------------------- start & close
    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._needs_default_sizes:
            self._needs_default_sizes = False
            self._apply_default_sizes()
        elif self._check_restored:
            # A restored layout, once its docks have their sizes: room for the canvas?
            # (And the window inside the screen, now that its frame is known.)
            self._check_restored = False
            window_state.clamp_to_screen(self)
            QTimer.singleShot(0, self, lambda: window_state.check_room(self, self.workspaces))
        if not self.status.started:
            # After the first paint: torch may load now without delaying the window.
            QTimer.singleShot(50, self._start_probes)

    def _start_probes(self) -> None:
        # Not for a window closed meanwhile (quitting at once closes every window, and
        # the probes would then load torch only to be thrown away).
        if self.isVisible() and not self.status.started:
            self.status.start()
            self.training.start_ahead()  # the first Train's worker, ahead of need
            # The network against its dataset (loads the data, imports torch).
            QTimer.singleShot(350, self, self._start_data_check)

    def _start_data_check(self) -> None:
        if self.isVisible():
            self.training.data_check.start()

    def offer_recovery(self) -> bool:
        """After a crash: offer the unsaved work the last session left behind."""
        for recovery in self.autosave.recoverable():
            answer = self.ask(
                "Recover unsaved work?",
                f"Strata did not close normally last time. Unsaved work was kept:\n\n"
                f"{recovery.describe()}\n\nRestore it?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.Yes)
            if answer == QMessageBox.StandardButton.Yes:
                try:
                    self.autosave.restore(recovery)
                except StrataError as e:
                    self.show_error("Cannot restore the unsaved work", str(e))
                    return False
                self.view.show_document()
                return True
            self.autosave.discard_recovery(recovery)
        return False

    def closeEvent(self, event) -> None:
        if not self.files.maybe_save():
            event.ignore()
            return
        self.save_settings()
        self.autosave.stop()
        event.accept()

    # ---------------------------------------------------------------- edit intents
    def copy(self) -> bool:
        ids = self.view.selected_node_ids()
        if not ids:
            return False
        text = json.dumps(self.view.controller.copy_nodes(ids), indent=1, sort_keys=True)
        mime = QMimeData()
        mime.setData(CLIPBOARD_MIME, text.encode("utf-8"))
        mime.setText(text)  # other programs (and other Strata windows) get plain JSON
        QGuiApplication.clipboard().setMimeData(mime)
        return True

    def cut(self) -> None:
        if self.copy():
            self.delete_selection()

    def paste(self) -> list[str]:
        mime = QGuiApplication.clipboard().mimeData()
        if mime is None:
            return []
        if mime.hasFormat(CLIPBOARD_MIME):
            raw = bytes(mime.data(CLIPBOARD_MIME).data()).decode("utf-8", "replace")
        else:
            raw = mime.text()
        try:
            data = json.loads(raw)
            where = self.view.scene_cursor_pos()
            pasted = self.view.controller.paste(
                data, self.view.card_position(where) if where is not None else None)
            self.view.reveal(pasted)
            return pasted
        except (ValueError, StrataError):
            self.statusBar().showMessage("The clipboard holds no Strata layers", 4000)
            return []

    def duplicate(self) -> list[str]:
        ids = self.view.selected_node_ids()
        copies = self.view.controller.duplicate(ids) if ids else []
        self.view.reveal(copies)
        return copies

    def group_selection(self) -> str:
        """Edit > Group into Block (Ctrl+G): the selected layers become one block."""
        return self.view.controller.group_selection(self.view.selected_node_ids())

    def open_selected_block(self) -> bool:
        """Open Block: show the selected block's inside on the canvas."""
        ids = self.view.selected_node_ids()
        return len(ids) == 1 and self.levels.open_block(ids[0])

    def toggle_selected_inline(self) -> bool:
        """Expand Inline: show the selected blocks' insides under their cards, or
        collapse them when all already show; True when they are expanded now."""
        scene = self.view.network_scene
        blocks = [i for i in self.view.selected_node_ids() if self.view.controller.is_block(i)]
        if not blocks:
            self.view.controller.edit_refused.emit("Expand Inline: select a block")
            return False
        on = not all(scene.is_expanded(i) for i in blocks)
        set_inline(scene, blocks, on)  # cards in the way move (one undo step)
        if on:  # the inside in view, as far as the view allows
            self.view.ensureVisible(scene.expanded[blocks[0]].sceneBoundingRect(), 20, 20)
        return on

    def make_selected_unique(self) -> str:
        """Make Unique: the selected block gets its own copy of its definition."""
        ids = self.view.selected_node_ids()
        if len(ids) != 1:
            self.view.controller.edit_refused.emit("Make Unique: select one block")
            return ""
        return self.view.controller.make_unique(ids[0])

    def ungroup_selection(self) -> list[str]:
        """Edit > Ungroup Block (Ctrl+Shift+G) on the selected block."""
        ids = self.view.selected_node_ids()
        blocks = [i for i in ids if self.view.controller.is_block(i)]
        if len(blocks) != 1:
            self.view.controller.edit_refused.emit(
                "Ungroup Block: select one block to ungroup")
            return []
        return self.view.controller.ungroup(blocks[0])

    def delete_selection(self) -> None:
        self.view.controller.delete(self.view.selected_node_ids(),
                                   self.view.selected_edges())

    def select_all(self) -> None:
        self.scene.select_all()

    def quick_add(self) -> None:
        self.view.quick_add_here()

    def fit(self) -> None:
        ids = self.view.selected_node_ids()
        if ids:
            self.view.fit_rect(self.scene.nodes_rect(ids))
        else:
            self.view.fit_all()

    def auto_arrange(self) -> None:
        ids = self.view.selected_node_ids()
        viewport = self.view.viewport().size()
        self.view.controller.auto_arrange(ids if len(ids) > 1 else None,
                                          (viewport.width(), viewport.height()))
        if len(ids) <= 1:
            self.view.fit_all()

    # ---------------------------------------------------------------- view
    def set_dark(self, on: bool, remember: bool = True) -> None:
        app = QApplication.instance()
        resources.apply(app, "dark" if on else "light")
        window_menus.refresh_icons(self.menu_actions)
        self.view.refresh_theme()
        if remember:
            self.settings.setValue("view/theme", "dark" if on else "light")

    def set_minimap(self, on: bool) -> None:
        self.view.minimap.set_enabled(on)
        self.settings.setValue("view/minimap", bool(on))

    def _show_network_node(self, node_id: str) -> None:
        """A problem about a layer of the network: the canvas goes back up to it."""
        self.levels.go_to(0)
        self.view.center_on_node(node_id)

    def _focus_inspector(self, node_id: str) -> None:
        self.view.controller.select([node_id])  # the level shown (a block's inside)
        self._raise("inspector")

    def _on_level_changed(self, path: list[str]) -> None:
        """A block was opened or closed: the inspector edits that level, the code view
        shows the open block's class."""
        self.inspector.follow(self.levels.current)
        self.code.show_block(path[-1] if path else None, self.levels.current)

    def _raise(self, name: str) -> None:
        dock = self.docks[name]
        dock.show()
        dock.raise_()


class _CommitOnPress(QObject):
    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.MouseButtonPress:
            commit_pending_edits()
        return False


def _bool(value) -> bool:
    return value in (True, "true", "1", 1)
