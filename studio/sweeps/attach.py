"""Adding sweeps to the main window: ``attach_sweeps(context)``.

One "Sweep" dock, tabbed with the training plots under the canvas. Like training, it
imports neither pyqtgraph nor Optuna until the dock is first shown. Starting a sweep
takes the document's sweep (or the default search) with the panel's settings; the study
lives beside the saved network (``<name>.sweeps.db``), or in Strata's data folder for an
unsaved one. A trial opened from the panel joins the training runs (``training``: the
window's ``TrainingDocks``, ``context.training``) and is shown there, ready to
compare. With MLflow tracking on (the Training menu's setting), each trial is also an
MLflow run, nested in one run of the study.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMenu

from studio.context import StudioContext
from studio.training.attach import TrainingDocks, _Holder

if TYPE_CHECKING:  # built on first need: Optuna and pyqtgraph load then
    from .controller import SweepController
    from .panel import SweepPanel

Area = Qt.DockWidgetArea


class SweepDocks(QObject):
    """The Sweep dock of a main window; the panel is built on first need."""

    def __init__(self, context: StudioContext) -> None:
        super().__init__(context.window)
        main_window = context.window
        self.context = context
        self.window = main_window
        self.controller = context.controller
        self.training: TrainingDocks | None = context.training
        self.panel: SweepPanel | None = None
        self.sweeps: SweepController | None = None
        self.holder = _Holder("Hyperparameter sweeps: trials and their results")
        docks = context.docks
        self.dock = context.add_panel(
            "sweep", "Sweep", self.holder, Area.BottomDockWidgetArea,
            tabify_with="training_plots" if "training_plots" in docks else None)
        for name in ("code", "training_plots"):
            if name in docks:
                docks[name].raise_()
        self.dock.visibilityChanged.connect(self._shown)
        self.action = QAction("Hyperparameter &Sweep\u2026", main_window)
        self.action.setStatusTip("Search learning rate, batch size and layer sizes "
                                 "over many short trials (Optuna)")
        self.action.triggered.connect(self.bring_forward)
        for entry in main_window.menuBar().actions():
            menu = entry.menu()
            if isinstance(menu, QMenu) and entry.text().replace("&", "") == "Training":
                menu.addSeparator()
                menu.addAction(self.action)
                break

    def bring_forward(self) -> None:
        """The Train workspace, with the Sweep dock in front."""
        if self.context.workspaces is not None:
            self.context.workspaces.switch("train")
        self.dock.show()
        self.dock.raise_()
        # A workspace laid out afresh raises its front docks on the next turn (the
        # training plots, tabbed with this one): raise it again after them, and build
        # the panel then (asked for, it need not wait for the dock to be painted).
        QTimer.singleShot(0, self.dock, self._to_front)

    def _to_front(self) -> None:
        self.dock.raise_()
        self.build()
        self.refresh_spec()

    def _shown(self, visible: bool) -> None:
        if visible:
            QTimer.singleShot(0, self.dock, self._build_if_shown)

    def _build_if_shown(self) -> None:
        if self.dock.isVisible() and not self.dock.visibleRegion().isEmpty():
            self.build()
            self.refresh_spec()  # the document may have changed since

    def build(self) -> SweepPanel:
        """The panel (and its controller), built on first call."""
        return self._built()[0]

    def _built(self) -> tuple[SweepPanel, SweepController]:
        if self.panel is not None and self.sweeps is not None:
            return self.panel, self.sweeps
        from .controller import SweepController
        from .panel import SweepPanel

        panel = self.panel = SweepPanel()
        sweeps = self.sweeps = SweepController(self)
        self.holder.put(panel)
        panel.show()  # built while the dock is up: shown now, not on a repaint
        panel.start_requested.connect(self.start)
        panel.stop_requested.connect(sweeps.stop)
        panel.open_requested.connect(self.open_trial)
        panel.space_edited.connect(self.edit_space)
        self.controller.sweep_changed.connect(lambda _event: self.refresh_spec())
        sweeps.updated.connect(panel.show_view)
        sweeps.failed.connect(panel.show_message)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(sweeps.shutdown)
        self.window.destroyed.connect(lambda *_: sweeps.shutdown())
        self.refresh_spec()
        self._follow_existing(sweeps)
        return panel, sweeps

    # ---------------------------------------------------------------- places
    def _places(self) -> tuple[str, str, Path]:
        """(storage URL, study name, folder of the trials' run folders)."""
        from runtime.sweeps.study import default_storage, default_study_name

        path = self.controller.path
        if path is not None:
            path = Path(path)
            study = default_study_name(path)
            return (default_storage(path), study,
                    path.resolve().with_name(f"{path.stem}.sweeps") / study)
        from studio.training.runner import default_runs_folder

        name = "".join(c if c.isalnum() or c in "-_" else "_"
                       for c in self.controller.document.name)[:40] or "network"
        root = default_runs_folder().parent / "sweeps"
        return (default_storage(root / f"{name}.strata"), name,
                root / f"{name}.sweeps" / name)

    def _spec(self, settings: dict | None = None):
        from runtime.sweeps import SweepSpec
        from runtime.sweeps.space import default_space

        doc = self.controller.document
        raw = dict(doc.sweep)
        if not raw.get("params"):
            raw["params"] = default_space(doc)
        if settings:
            raw.update({k: settings[k] for k in ("objective", "sampler", "pruner",
                                                 "trials")})
        return SweepSpec.from_dict(raw, doc)

    def refresh_spec(self) -> None:
        from graph.errors import StrataError
        from runtime.sweeps.space import default_space

        from .space_editor import candidates

        panel = self.panel
        if panel is None:
            return
        doc = self.controller.document
        try:
            entries = doc.sweep.get("params") or default_space(doc)
            panel.set_space(entries, candidates(doc))
            panel.set_spec(self._spec())
        except StrataError as e:
            panel.searched.setText(f"The sweep cannot run: {e}")

    def edit_space(self, entries: list) -> None:
        """Store an edited search space in the document (one undo step), if it is one
        a sweep can run; otherwise say why and keep the document as it was."""
        from graph.errors import StrataError
        from runtime.sweeps import SweepSpec

        doc = self.controller.document
        sweep = {**doc.sweep, "params": entries}
        try:
            if entries:
                SweepSpec.from_dict(sweep, doc)
        except StrataError as e:
            self.build().searched.setText(f"Not changed: {e}")
            self.refresh_spec()
            return
        if not entries:
            sweep.pop("params")  # nothing chosen: the default search
        self.controller.set_sweep(sweep)

    def _follow_existing(self, sweeps: SweepController) -> None:
        """Show the results of an earlier sweep of this network, if there are any."""
        from graph.errors import StrataError

        storage, study, _folder = self._places()
        if storage.startswith("sqlite:///") and Path(storage[10:]).exists():
            try:
                sweeps.follow(storage, study)
            except StrataError:
                pass  # a database without this study: nothing to show yet

    # ---------------------------------------------------------------- commands
    def start(self, settings: dict) -> None:
        from graph.errors import StrataError

        panel, sweeps = self._built()
        try:
            spec = self._spec(settings)
            # The document remembers how its sweep was run (one undo step).
            self.controller.set_sweep({**self.controller.document.sweep,
                                       **{k: settings[k] for k in ("objective", "sampler",
                                                                   "pruner", "trials")}})
            storage, study, folder = self._places()
            # Tracked in MLflow when runs are (Training > Track Runs in MLflow).
            mlflow = self.training.mlflow.uri() if self.training is not None else None
            sweeps.start(self.controller.document.to_dict(), spec, storage=storage,
                         study=study, folder=folder, trials=settings["trials"],
                         jobs=settings["jobs"], mlflow=mlflow)
        except (StrataError, ImportError) as e:  # ImportError: MLflow is missing
            panel.show_message(f"The sweep cannot start: {e}")

    def open_trial(self, folder: str, number: int) -> None:
        """Add a trial's run folder to the training runs and show it there."""
        if self.training is not None:
            self.training.open_run(folder, f"sweep trial {number}")


def attach_sweeps(context: StudioContext) -> SweepDocks:
    """Add the Sweep dock to the window of ``context``; returns it. Call it after the
    training docks (``context.training``) and before the saved layout is restored."""
    return SweepDocks(context)
