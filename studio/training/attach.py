"""Adding training to the main window: ``attach_training(context)``.

The one call the main window makes, with its typed ``studio.context.StudioContext``
(the controller, the canvas, the Problems panel, ``add_panel``...); the window keeps
the result as ``window.training`` and records it in the context. It adds two docks
through the window's own ``add_panel`` (so their placement is remembered with the rest of the layout):
"Training" (run controls, setup, runs) tabbed with the layer palette on the left, since
the palette is of no use while the structure is locked, and "Training plots" tabbed with
the code preview in the strip under the canvas, beside Problems (where diagnoses are
listed too). It adds a Training toolbar and menu
(Train, Pause, Stop, gradient heat on the canvas) and stops the worker when the
application quits.

The window must open fast: this module imports neither pyqtgraph nor torch, and the
training views (plots, forms, the worker) are built the first time they are needed (a
training dock comes into view or Train is pressed), after the window is on screen.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMessageBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from studio.context import StudioContext

from .actions import connect_actions, make_actions

if TYPE_CHECKING:
    from .ahead import MonitorAhead
    from .forward import BringForward
    from .prestart import Prestart
    from .runner import TrainingRunner
    from .workbench import TrainingWorkbench

Area = Qt.DockWidgetArea
# After the window's first paint (``MainWindow._start_probes``): the standby worker
# is spawned before the probes' background imports of torch compete for the cores.
PRESTART_MS = 100
AHEAD_MS = 300  # after the prestart built the workbench: the monitor laid out unseen


class _Holder(QWidget):
    """A dock's content until the real panel is built into it."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.placeholder = QLabel(text, self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.box = QVBoxLayout(self)
        self.box.setContentsMargins(0, 0, 0, 0)
        self.box.addWidget(self.placeholder)

    def put(self, widget: QWidget) -> None:
        self.placeholder.hide()
        self.box.addWidget(widget)


class TrainingDocks(QObject):
    """Training in a main window: docks, toolbar and menu now, the workbench (runner,
    panels, plots, canvas overlay, lock) built by ``workbench()`` on first need."""

    def __init__(self, context: StudioContext) -> None:
        super().__init__(context.window)
        self.context = context
        self.window = context.window
        self.controller = context.controller
        self._bench: TrainingWorkbench | None = None
        self.monitor_ahead: MonitorAhead | None = None
        self.forward: BringForward | None = None  # made on the first run's start
        self._runner: TrainingRunner | None = None
        self.prestart: Prestart | None = None  # made by ``start_ahead``
        self.premade: dict[str, QWidget] = {}  # its views, made ahead for the workbench
        self.actions = make_actions(self)
        connect_actions(self.actions, self.workbench, train=self._train_pressed)
        self.panel_holder = _Holder("Training")
        self.plots_holder = _Holder("Training plots appear here when a run starts")
        add = context.add_panel
        docks = context.docks
        self.panel_dock = add("training", "Training", self.panel_holder,
                              Area.LeftDockWidgetArea,
                              tabify_with="palette" if "palette" in docks else None)
        # Beside Problems (where diagnoses are listed), sharing the code preview's place.
        self.plots_dock = add("training_plots", "Training plots", self.plots_holder,
                              Area.BottomDockWidgetArea,
                              tabify_with="code" if "code" in docks else None)
        # A dock tabbed onto another comes to the front; the editor's panels stay there.
        for name in ("palette", "code"):
            if name in docks:
                docks[name].raise_()
        for dock in (self.panel_dock, self.plots_dock):
            dock.visibilityChanged.connect(self._dock_shown)
        self._toolbar_and_menu()
        from .data_check import DataCheck

        self.data_check = DataCheck(self.controller, self)
        self.data_check.changed.connect(self._show_data_problems)

    def _show_data_problems(self) -> None:
        """The dataset check's findings, in Problems and on the nodes."""
        check, context = self.data_check, self.context
        context.problems.set_extra("dataset", check.problems, check.fixes)
        context.scene.set_extra_problems("dataset", check.problems)
        if context.inspector is not None:
            context.inspector.actions_bar.refresh()

    def _toolbar_and_menu(self) -> None:
        a, window = self.actions, self.window
        bar = QToolBar("Training", window)
        bar.setObjectName("toolbar_training")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addActions([a.train, a.pause, a.stop])
        bar.addSeparator()
        bar.addAction(a.overlay)
        window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        menu = window.menuBar().addMenu("&Training")
        menu.addActions([a.train, a.pause, a.stop])
        menu.addSeparator()
        menu.addAction(a.overlay)
        menu.addSeparator()
        self.open_run_action = QAction("Open Run &Folder\u2026", window)
        self.open_run_action.setStatusTip(
            "Add a saved run (strata train, a sweep trial, an earlier session) to the "
            "runs, to look at it and compare")
        self.open_run_action.triggered.connect(lambda _checked=False: self.open_run())
        menu.addAction(self.open_run_action)
        from .tracking import MlflowSetting

        self.mlflow = MlflowSetting(window, self.context.settings or QSettings())
        menu.addAction(self.mlflow.action)

    def open_run(self, folder: str | None = None, label: str | None = None):
        """Read a run folder (``runtime.runfolder``) into the session's runs and show
        it; asks for the folder when none is given. Returns the run, or None."""
        from pathlib import Path

        from graph.errors import StrataError
        from runtime.runfolder import open_run

        if folder is None:
            folder = QFileDialog.getExistingDirectory(self.window, "Open Run Folder")
            if not folder:
                return None
        try:
            saved = open_run(folder)
        except StrataError as e:
            QMessageBox.warning(self.window, "Open Run Folder", str(e))
            return None
        run = self.runner.add_saved_run(saved, label or Path(folder).name)
        self.workbench().show_run(run)
        self._bring_forward()
        return run

    # ------------------------------------------------------------------ ahead of need
    def start_ahead(self) -> None:
        """The window is on screen: get the first Train ready while the user looks at
        the network, whichever workspace is shown (``prestart.Prestart``: the standby
        worker process, then the training views; ``STRATA_PRESTART=0``: not)."""
        from .ahead import enabled

        if enabled() and self.prestart is None:
            from .prestart import Prestart

            self.prestart = Prestart(self.window, self._following_runner,
                                     self.workbench, self.premade, self.plots_holder,
                                     lambda: self.built, self)
            self.prestart.done.connect(self._lay_out_monitor_soon)
            QTimer.singleShot(PRESTART_MS, self.prestart, self.prestart.start)

    def _lay_out_monitor_soon(self) -> None:
        """The prestart built the workbench: the monitor laid out next (a press of
        Train a few seconds after the window opened finds it done)."""
        if self.monitor_ahead is not None and not self.monitor_ahead.done:
            self.monitor_ahead.schedule(AHEAD_MS)

    def _train_pressed(self) -> None:
        """Train: now, or, while the prestart imports what a run needs on a background
        thread (a press then would wait for those imports on the GUI thread, seconds
        on a loaded machine, with the window frozen), as soon as they are in."""
        if self.prestart is not None and self.prestart.importing:
            self.prestart.after_imports(lambda: self.workbench().train())
            return
        self.workbench().train()

    def _following_runner(self) -> TrainingRunner:
        runner = self.runner
        runner.follow(self.controller)  # its standby is hinted with this document
        return runner

    # ------------------------------------------------------------------ building
    @property
    def built(self) -> bool:
        return self._bench is not None

    @property
    def has_runner(self) -> bool:
        """Whether the runner exists yet (``runner`` makes it)."""
        return self._runner is not None

    @property
    def runner(self) -> TrainingRunner:
        """The session's training runner and its runs (``runner.runs``); made on first
        use, without building the views."""
        if self._runner is None:
            from .runner import TrainingRunner

            self._runner = TrainingRunner(self)
            self._runner.mlflow_uri = self.mlflow.uri
        return self._runner

    def _dock_shown(self, visible: bool) -> None:
        if visible and self._bench is None:
            QTimer.singleShot(0, self.panel_dock, self._build_if_shown)

    def _build_if_shown(self) -> None:
        """After this paint (no frame waits), and only if a training dock is still on
        screen: laying out a workspace shows docks for a moment behind their tabs.
        (While the prestart imports the views' modules: once they are in.)"""
        if self._bench is None and self.prestart is not None and self.prestart.importing:
            self.prestart.after_imports(self._build_if_shown)
            return
        if self._bench is None and any(
                d.isVisible() and not d.visibleRegion().isEmpty()
                for d in (self.panel_dock, self.plots_dock)):
            self.workbench()

    def workbench(self) -> TrainingWorkbench:
        """The training workbench, built on first call (imports pyqtgraph)."""
        if self._bench is not None:
            return self._bench
        from .workbench import TrainingWorkbench

        window, context = self.window, self.context
        bench = TrainingWorkbench(self.controller, context.scene, context.view, self,
                                  runner=self.runner, problems=context.problems,
                                  actions=self.actions, levels=context.levels,
                                  made=self.premade)
        self._bench = bench
        self.panel_holder.put(bench.panel)
        self.plots_holder.put(bench.view)
        if context.inspector is not None:  # the selected layer's training charts
            bench.add_charts(context.inspector)
        # The monitor comes forward in the turn after Train's own: the worker is
        # handed its run first, and the switch does not add to the click's frame.
        bench.runner.run_started.connect(
            lambda _run: QTimer.singleShot(0, self, self._bring_forward))
        if context.workspaces is not None:  # laid out unseen once the studio is idle
            from .ahead import MonitorAhead

            self.monitor_ahead = MonitorAhead(window, context.workspaces,
                                              busy=lambda: self.runner.active,
                                              settle=bench.view.settle)
            self.monitor_ahead.schedule()
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(bench.shutdown)
        runner = bench.runner
        window.destroyed.connect(lambda *_: runner.shutdown())
        if self.panel_dock.isVisible() and not self.panel_dock.visibleRegion().isEmpty():
            bench.panel.setup.load()
        return bench

    # ------------------------------------------------------------------ layout
    def _bring_forward(self) -> None:
        """A run started: the Train workspace (a full-size monitor) comes forward, and
        the run's controls and plots are in view whatever the user's layout. The
        workspace is current on return; the window paints it in later turns
        (``forward.BringForward``: no turn of the switch holds the GUI long)."""
        if self.forward is None:
            from .forward import BringForward

            plots = self.workbench().view
            self.forward = BringForward(
                self.window, self.context.workspaces, [self.panel_dock, self.plots_dock],
                canvas=self.context.view, plots=plots, settle_plots=plots.settle,
                pacer=plots.pacer)
        self.forward.start()


def attach_training(context: StudioContext) -> TrainingDocks:
    """Add the training docks, toolbar and menu to ``context.window``; returns them
    and records them as ``context.training``. ``.workbench()`` gives the training
    workbench.

    Call it after the window's own docks exist and before its saved layout is
    restored, so the training docks find their remembered places too.
    """
    docks = TrainingDocks(context)
    context.training = docks
    return docks
