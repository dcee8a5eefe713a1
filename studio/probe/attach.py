"""Adding the Probe dock to the main window, built the first time it is shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLabel, QMenu, QToolBar, QVBoxLayout, QWidget

if TYPE_CHECKING:
    from studio.canvas.scene import NetworkScene
    from studio.document.controller import DocumentController
    from studio.main_window import MainWindow
    from studio.training.attach import TrainingDocks

    from .panel import ProbePanel


class ProbeDock(QObject):
    """The dock now; the panel (which needs torch when it probes) on first show."""

    def __init__(self, window: MainWindow, controller: DocumentController,
                 scene: NetworkScene, training: TrainingDocks | None) -> None:
        super().__init__(window)
        self.window, self.controller, self.scene = window, controller, scene
        self.training = training
        self.panel: ProbePanel | None = None
        self._plots_connected = False
        self.holder = QWidget()
        self._holder_box = box = QVBoxLayout(self.holder)
        box.setContentsMargins(0, 0, 0, 0)
        self.placeholder = QLabel("Probe: follow one example through the network")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(self.placeholder)
        self.dock = window.add_panel("probe", "Probe", self.holder,
                                     Qt.DockWidgetArea.RightDockWidgetArea,
                                     tabify_with="inspector")
        self.dock.hide()
        self.dock.visibilityChanged.connect(self._shown)
        self.action = QAction("&Probe", window)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.action.setStatusTip("Follow one example through the network: its "
                                 "prediction, every layer's value, and why")
        self.action.triggered.connect(self.show)
        window.addAction(self.action)
        for menu_action in window.menuBar().actions():
            menu = menu_action.menu()
            if isinstance(menu, QMenu) and menu.title().replace("&", "") == "Training":
                menu.addSeparator()
                menu.addAction(self.action)
        bar = window.findChild(QToolBar, "toolbar_training")
        if bar is not None:
            bar.addSeparator()
            bar.addAction(self.action)

    def show(self) -> None:
        inspector = self.window.docks.get("inspector")
        if (self.dock.isHidden() and inspector is not None and inspector.isVisible()
                and not self.window.tabifiedDockWidgets(self.dock)):
            self.window.tabifyDockWidget(inspector, self.dock)
        self.dock.show()
        self.dock.raise_()
        self.build()

    def build(self) -> ProbePanel:
        if self.panel is None:
            from .panel import ProbePanel

            training = self.training
            runner_getter = (lambda: training.runner) if training is not None else None
            self.panel = ProbePanel(self.controller, self.scene, runner_getter,
                                    self.window.inspector)
            self.placeholder.hide()
            self._holder_box.addWidget(self.panel)
            if self.training is not None:
                self.training.runner.run_updated.connect(self.panel.follow_run)
                self.training.plots_dock.visibilityChanged.connect(
                    lambda _v: self._connect_plots())
            self._connect_plots()
        return self.panel

    def _connect_plots(self) -> None:
        """Hovering the decision boundary probes that point; clicking a confusion cell
        lists its examples. The plots exist once the training views are built."""
        if self._plots_connected or self.panel is None or self.training is None \
                or not self.training.built:
            return
        view = self.training.workbench().view
        view.boundary.point_hovered.connect(self.panel.probe_point)
        view.confusion.cell_clicked.connect(self._cell)
        self._plots_connected = True

    def _cell(self, true: int, predicted: int) -> None:
        self.show()
        self.build().filter_cell(true, predicted)

    def _shown(self, visible: bool) -> None:
        if visible:
            self.build()


def attach_probe(window: MainWindow, controller: DocumentController, scene: NetworkScene,
                 training: TrainingDocks | None = None) -> ProbeDock:
    return ProbeDock(window, controller, scene, training)
