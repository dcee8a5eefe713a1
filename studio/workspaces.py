"""Workspaces: the window's dock layouts for designing and for training.

Designing wants the canvas: the palette on the left, the inspector (with the code preview
as a tab) on the right, and nothing below the canvas while there is no problem to list.
Training wants a full-size monitor: the plots take most of the height under a compact
canvas, the Training panel replaces the palette. Each workspace is a list of
``Placement``s (where a dock goes, whether it shows, its share of the window); docks a
workspace does not name (a Sweep panel, a block editor added later) are left where the
user put them, so new panels slot in without touching this module.

Switching remembers the layout the user made of the workspace being left (QSettings,
``workspace/<name>``) and restores the other's, or lays out its defaults the first time
or when the remembered layout leaves the canvas less room than the workspace promises
(``canvas_width``, ``canvas_height``: shares of the window; see
``studio.window_state``).
The Train workspace splits the column between the canvas and the plots so that at
1280x720 both stay usable: the canvas keeps about 45% of the column (the network fitted
to it, its live overlays readable), the plots the rest.
The Problems dock collapses while empty (the status bar's badge says "Valid network" and
opens it on a click) and comes back, short, when the network has problems.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar

Area = Qt.DockWidgetArea
STATE_VERSION = 4  # 4: Train's canvas/plots split, Problems under the inspector
PROBLEMS_HEIGHT = 150  # pixels: a few rows of problems under the canvas


@dataclass(frozen=True)
class Placement:
    dock: str
    area: Area | None = None  # None: hidden in this workspace
    tab_with: str | None = None  # tabbed behind this dock (which stays in front)
    split_from: str | None = None  # beside this dock, splitting its place
    below: bool = False  # split under ``split_from`` rather than beside it
    width: float | int = 0  # share of the window width (< 1) or pixels (>= 1)
    height: float | int = 0  # share of the window height (< 1) or pixels (>= 1)


@dataclass(frozen=True)
class Workspace:
    name: str
    title: str
    shortcut: str
    placements: tuple[Placement, ...]
    # The canvas gets at least these shares of the window's width and height (the side
    # docks have minimum widths: in a narrow window no layout gives it half the area).
    canvas_width: float = 0.4
    canvas_height: float = 0.5
    # The network is framed no smaller than its titles read (``NetworkView.
    # set_readable_fit``): the Train canvas is short, a whole deep network in it was
    # cards at 30% with every title cut.
    readable_canvas: bool = False


L, R, B = Area.LeftDockWidgetArea, Area.RightDockWidgetArea, Area.BottomDockWidgetArea
WORKSPACES: tuple[Workspace, ...] = (
    Workspace("design", "Design", "Ctrl+1", (
        Placement("palette", L, width=0.19),
        Placement("training", L, tab_with="palette"),
        Placement("inspector", R, width=0.23),
        Placement("code", R, tab_with="inspector"),
        Placement("problems", B, height=PROBLEMS_HEIGHT),
        Placement("training_plots", None),
        Placement("sweep", None),
    ), canvas_width=0.4, canvas_height=0.6),
    Workspace("train", "Train", "Ctrl+2", (
        Placement("training", L, width=0.22),
        Placement("palette", L, tab_with="training"),
        Placement("inspector", R, width=0.21),
        Placement("code", R, tab_with="inspector"),
        # The plots' dock (its title and tabs included) under a canvas that keeps
        # about 45% of the column: 290 px at 1280x720, 440 px at 1920x1080.
        Placement("training_plots", B, height=0.47),
        Placement("sweep", B, tab_with="training_plots"),
        # Diagnoses under the inspector: beside the plots they squeezed both (at
        # 1280x720 the plots' tabs scrolled and each problem wrapped to 20 lines).
        Placement("problems", R, split_from="inspector", below=True, height=0.36),
    ), canvas_width=0.4, canvas_height=0.36, readable_canvas=True),
)


def _pixels(value: float, total: int) -> int:
    return int(value * total) if 0 < value < 1 else int(value)


class WorkspaceSwitcher(QObject):
    """The window's workspaces: a tab bar in the menu bar's corner and View actions."""

    switching = Signal(str)  # about to lay out this workspace (the old one still shows)
    changed = Signal(str)
    readable_canvas = Signal(bool)  # the workspace shown frames the canvas readably

    def __init__(self, window: QMainWindow, settings: QSettings,
                 docks: dict[str, QDockWidget], workspaces=WORKSPACES) -> None:
        super().__init__(window)
        self.window = window
        self.docks = docks  # the window's docks by name, filled as panels are added
        self.settings = settings
        self.workspaces = {w.name: w for w in workspaces}
        self.current = workspaces[0].name
        self.problems_auto = True  # the Problems dock follows the problem count
        self._has_problems = False
        self._switches = 0  # layouts laid out so far (a late raise checks it is current)
        self.tabs = QTabBar()
        self.tabs.setObjectName("workspace_tabs")
        self.tabs.setDocumentMode(True)
        self.tabs.setDrawBase(False)
        self.tabs.setExpanding(False)
        self.actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for w in workspaces:
            self.tabs.addTab(w.title)
            self.tabs.setTabToolTip(self.tabs.count() - 1,
                                    f"{w.title} workspace ({w.shortcut})")
            action = QAction(f"{w.title} Workspace", window)
            action.setCheckable(True)
            action.setShortcut(QKeySequence(w.shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(lambda _=False, n=w.name: self.switch(n))
            group.addAction(action)
            self.actions[w.name] = action
        self.actions[self.current].setChecked(True)
        self.tabs.currentChanged.connect(
            lambda i: self.switch(workspaces[i].name) if 0 <= i < len(workspaces) else None)
        window.menuBar().setCornerWidget(self.tabs, Qt.Corner.TopRightCorner)

    # ------------------------------------------------------------------ switching
    def switch(self, name: str) -> None:
        if name == self.current or name not in self.workspaces:
            return
        self.switching.emit(name)
        self.remember()
        self.current = name
        self._switches += 1
        self.readable_canvas.emit(self.workspaces[name].readable_canvas)
        saved = self.settings.value(f"workspace/{name}")
        if not (isinstance(saved, QByteArray) and not saved.isEmpty()
                and self.window.restoreState(saved, STATE_VERSION)):
            self.apply_defaults()
        else:  # once the restored docks have their sizes: do they leave room?
            QTimer.singleShot(0, self.window, lambda: self._check_room(name))
        self._sync_controls()
        self.follow_problems(self._has_problems)
        self.changed.emit(name)

    def remember(self) -> None:
        self.settings.setValue(f"workspace/{self.current}",
                               self.window.saveState(STATE_VERSION))

    def restore(self, name: str) -> None:
        """At start: the workspace the last session ended in (its layout is restored
        by the window with the rest of the state)."""
        if name in self.workspaces:
            self.current = name
            self._sync_controls()
            self.readable_canvas.emit(self.workspaces[name].readable_canvas)

    def canvas_has_room(self) -> bool:
        """Whether the canvas has the share of the window its workspace promises."""
        canvas = self.window.centralWidget()
        w = self.workspaces[self.current]
        window = self.window.size()
        if canvas is None or window.isEmpty():
            return True
        return (canvas.width() >= w.canvas_width * window.width()
                and canvas.height() >= w.canvas_height * window.height())

    def _check_room(self, name: str) -> None:
        if name == self.current and self.window.isVisible() and not self.canvas_has_room():
            self.reset()

    def reset(self) -> None:
        """The current workspace's default layout, Problems shown only if needed."""
        self.apply_defaults()
        self.follow_problems(self._has_problems)

    def _sync_controls(self) -> None:
        names = list(self.workspaces)
        self.tabs.blockSignals(True)
        self.tabs.setCurrentIndex(names.index(self.current))
        self.tabs.blockSignals(False)
        self.actions[self.current].setChecked(True)

    # ------------------------------------------------------------------ defaults
    def apply_defaults(self) -> None:
        """Lay the current workspace out as designed, sized for the window as it is."""
        window, docks = self.window, self._docks()
        placements = [p for p in self.workspaces[self.current].placements
                      if p.dock in docks]
        with self.layout_held():
            self._place(placements)
            self.apply_sizes()
        # The docks others are tabbed behind come to the front (once the tab bars
        # exist: raising in the same turn does not stick).
        front = [docks[p.tab_with] for p in placements if p.area is not None
                 and p.tab_with in docks]
        for dock in front:
            dock.raise_()
        # Only while this layout still shows: laying the monitor out ahead switches to
        # Train and back in one turn, and Train's late raise put the Training panel in
        # front of the palette in Design (a new user's palette vanished, unasked).
        laid_out = self._switches
        QTimer.singleShot(0, window, lambda: _raise_all(front)
                          if self._switches == laid_out else None)

    @contextmanager
    def layout_held(self) -> Iterator[None]:
        """The window's layout held while the docks move, then run once on leaving
        (unless an outer hold lays it out later: ``training.forward``). A dock shown
        runs its parents' layouts at once (``QWidget.show``): placing the docks of the
        Train workspace took 30 ms, and 4 ms held, with 12 ms for the layout after."""
        layout = self.window.layout()
        if layout is None or not layout.isEnabled():
            yield  # held by the caller, who lays it out
            return
        layout.setEnabled(False)
        try:
            yield
        finally:
            layout.setEnabled(True)
        layout.activate()

    def _place(self, placements: list[Placement]) -> None:
        window, docks = self.window, self._docks()
        for p in placements:
            dock = docks[p.dock]
            if p.area is None:
                dock.hide()
                continue
            if dock.isFloating():
                dock.setFloating(False)
        # First the docks that own a place, then those split from or tabbed with them.
        for p in placements:
            if p.area is not None and not p.tab_with and not p.split_from:
                window.addDockWidget(p.area, docks[p.dock])
                docks[p.dock].show()
        for p in placements:
            if p.area is not None and p.split_from in docks:
                window.splitDockWidget(docks[p.split_from], docks[p.dock],
                                       Qt.Orientation.Vertical if p.below
                                       else Qt.Orientation.Horizontal)
                docks[p.dock].show()
        for p in placements:
            if p.area is not None and p.tab_with in docks:
                window.tabifyDockWidget(docks[p.tab_with], docks[p.dock])
                docks[p.dock].show()

    def apply_sizes(self) -> None:
        window, docks = self.window, self._docks()
        size = window.size()
        placements = [p for p in self.workspaces[self.current].placements
                      if p.dock in docks and p.area is not None and not p.tab_with]
        across = [p for p in placements if p.width and not p.split_from]
        if across:
            window.resizeDocks([docks[p.dock] for p in across],
                               [_pixels(p.width, size.width()) for p in across],
                               Qt.Orientation.Horizontal)
        split = [p for p in placements if p.split_from and p.width]
        if split:
            window.resizeDocks([docks[p.dock] for p in split],
                               [_pixels(p.width, size.width()) for p in split],
                               Qt.Orientation.Horizontal)
        down = [p for p in placements if p.height and (not p.split_from or p.below)
                and not docks[p.dock].isHidden()]
        if down:
            window.resizeDocks([docks[p.dock] for p in down],
                               [_pixels(p.height, size.height()) for p in down],
                               Qt.Orientation.Vertical)

    def _docks(self) -> dict[str, QDockWidget]:
        return dict(self.docks)

    # ------------------------------------------------------------------ problems
    def follow_problems(self, has_problems: bool) -> None:
        """Collapse the Problems dock while there is nothing in it; bring it back when
        there is (unless the user closed it while it had problems)."""
        self._has_problems = has_problems
        dock = self._docks().get("problems")
        if dock is None or not self.problems_auto:
            return
        placement = next((p for p in self.workspaces[self.current].placements
                          if p.dock == "problems"), None)
        if placement is None or placement.area is None:
            return
        if has_problems and dock.isHidden():
            dock.show()
            if (not placement.split_from or placement.below) and placement.height:
                QTimer.singleShot(0, dock, lambda: self.window.resizeDocks(
                    [dock], [_pixels(placement.height, self.window.height())],
                    Qt.Orientation.Vertical))
        elif not has_problems and not dock.isHidden():
            dock.hide()


def _raise_all(widgets: list[QDockWidget]) -> None:
    for widget in widgets:
        widget.raise_()
