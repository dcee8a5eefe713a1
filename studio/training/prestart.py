"""The first Train of a fresh studio, made ready while the user looks at the network.

Pressing Train in a studio just opened (the Design workspace: no training panel was
ever shown) used to spawn the worker process then, and wait 5-10 s on "Starting the
training process..." while it imported torch; and to build the training views (the
plots: importing pyqtgraph, about a second of the GUI thread) in the click's own turn.
A ``Prestart`` does that work ahead, in steps, once the window is on screen:

1. the modules a run's start needs (the runner, the worker's parent side; no torch)
   are imported on a background thread;
2. the standby worker process (``runtime.standby``) is spawned, on a thread: it imports
   torch in its own process;
3. once the modules that read a data setting are imported, on a background thread
   (they import torch), the standby is told the document's dataset: it loads the data
   and rehearses a step; the studio hints it again only when the data setting changes
   (``TrainingRunner.follow``);
4. ``VIEWS_MS`` later, the training views' modules (pyqtgraph and the plots) are
   imported on a background thread;
5. then the views are made, one per turn (each plot lays out its axes and menus: tens
   of milliseconds; all of them in one turn held the GUI for a second), and the
   workbench is built around them (unseen: its docks are not on screen), and the
   monitor is laid out ahead (``ahead.MonitorAhead``). A view waits while a mouse
   button is down or a menu or dialog is open.

The GUI thread never imports torch here; each of its steps is one turn. Train pressed
while modules are imported in the background waits for them there (``after_imports``),
not on the GUI thread (the window would freeze for as long). Nothing starts
for a window closed meanwhile, and ``STRATA_PRESTART=0`` turns it all off (the test
suite, which builds many windows, does).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from studio.background import BackgroundTask

if TYPE_CHECKING:
    from .runner import TrainingRunner

# Imported off the GUI thread before the standby starts (none imports torch).
RUN_MODULES = ("runtime.run_record", "runtime.setup", "runtime.engine_options",
               "runtime.standby", "runtime.worker", "studio.training.runner")
# Imported off the GUI thread before the standby is told the dataset: reading a data
# setting (``runtime.standby.dataset_key``) checks it with these, which import torch.
DATA_MODULES = ("runtime.augment", "runtime.datasets")
# Imported off the GUI thread before the workbench is built.
VIEW_MODULES = ("pyqtgraph", "studio.training.workbench", "studio.training.forward",
                "studio.training.ahead", "studio.training.reveal")
VIEWS_MS = 1500  # after the standby was hinted: the views' imports wait their turn
RETRY_MS = 500  # the user is in the middle of something: the build waits
MAKE_MS = 30  # between two views made ahead: input and paints are served between


def in_use() -> bool:
    """A mouse button is down, or a menu or dialog is open."""
    return bool(QApplication.mouseButtons()) or QApplication.activePopupWidget() is not None \
        or QApplication.activeModalWidget() is not None


def import_modules(names: tuple[str, ...]) -> None:
    for name in names:
        importlib.import_module(name)


class Prestart(QObject):
    """Runs the steps of the module doc once (``start``); ``done`` when all ran."""

    done = Signal()

    def __init__(self, window: QWidget, runner: Callable[[], TrainingRunner],
                 build: Callable[[], object], made: dict[str, QWidget],
                 keeper: QWidget, built: Callable[[], bool],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.window = window
        self.runner = runner  # makes the runner (cheap once its module is imported)
        self.build = build  # builds the workbench
        self.made = made  # the views made ahead, by name, for ``build`` to take
        # Their parent until the workbench takes them (they go with the window).
        self.keeper = keeper
        self.built = built  # the workbench exists already (built by other means)
        self._makers: list[tuple[str, Callable[[], QWidget]]] = []
        self.step = ""  # the step under way (for tests and the benchmark)
        self._imports = BackgroundTask(self)
        self._imports.succeeded.connect(lambda _result: self._next())
        self._imports.failed.connect(lambda _message, _error: self._next())
        self._then: Callable[[], None] | None = None  # once the imports are in
        self._after: list[Callable[[], object]] = []  # Train pressed meanwhile...
        self._released = False

    def start(self) -> None:
        self._import(RUN_MODULES, self._start_standby, "imports")

    def _import(self, names: tuple[str, ...], then: Callable[[], None], step: str) -> None:
        self.step = step
        self._then = then
        self._imports.start(lambda: import_modules(names),
                            what="Preparing the training views")

    @property
    def importing(self) -> bool:
        """Modules are being imported on the background thread."""
        return self._then is not None

    def after_imports(self, action: Callable[[], object]) -> None:
        """Run ``action`` once the imports under way (and those they lead to) are in."""
        self._after.append(action)

    def _next(self) -> None:
        then, self._then = self._then, None
        if not self.window.isVisible():
            return  # (a window closed meanwhile: nothing more)
        if then is not None:
            then()
        if self._after and not self.importing:  # (or after the next ones)
            after, self._after = self._after, []
            for action in after:
                action()

    def _start_standby(self) -> None:
        self.step = "standby"
        runner = self.runner()
        runner.warm_up(hint=False)
        if runner.standby is not None and not self._released:
            # The standby goes with the window (as the workbench's runner does).
            self._released = True
            app = QApplication.instance()
            if app is not None:
                app.aboutToQuit.connect(runner.shutdown)
            self.window.destroyed.connect(lambda *_: runner.shutdown())
        self._import(DATA_MODULES, self._hint, "data")

    def _hint(self) -> None:
        self.step = "hint"
        runner = self.runner()
        if runner.hint_source is not None:
            runner.prepare(runner.hint_source())
        if self._after:  # Train was pressed: its views now
            self._import(VIEW_MODULES, self._build_views, "views")
        else:
            QTimer.singleShot(VIEWS_MS, self, lambda: self._import(
                VIEW_MODULES, self._build_views, "views"))

    def _build_views(self) -> None:
        from .dashboard import PLOTS
        from .layer_charts import LayerCharts

        self.step = "views"
        # (Train pressed meanwhile: the workbench at once, its views with it.)
        self._makers = [] if self._after else \
            [*PLOTS.items(), ("layer_charts", LayerCharts)]
        self._make_next()

    def _make_next(self) -> None:
        """One view per turn (each tens of milliseconds), then the workbench."""
        if not self.window.isVisible():
            return
        if in_use():  # not in the middle of a drag or a menu: a little later
            QTimer.singleShot(RETRY_MS, self, self._make_next)
            return
        if self.built():  # (the user got there first: nothing more to make)
            self._makers = []
        if self._makers:
            name, make = self._makers.pop(0)
            if name not in self.made:
                view = self.made[name] = make()
                view.setParent(self.keeper)  # (and hidden: it has no place yet)
            QTimer.singleShot(MAKE_MS, self, self._make_next)
            return
        self.step = "workbench"
        self.build()
        self.step = "done"
        self.done.emit()
