"""The Training dock: run controls on top, then the setup form and the runs list as tabs.

The controls stay visible whichever tab is open, so Pause and Stop are always one click
away and the progress is always in view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFrame, QScrollArea, QTabWidget, QVBoxLayout, QWidget

from .controls import RunControls
from .runs_panel import RunsPanel
from .setup_panel import TrainingSetupPanel

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController


class TrainingPanel(QWidget):
    def __init__(self, controller: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingPanel")
        self.controls = RunControls(self)
        self.setup = TrainingSetupPanel(controller)
        self.runs = RunsPanel()
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(self.setup)
        self.tabs = QTabWidget(self)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(scroll, "Setup")
        self.tabs.addTab(self.runs, "Runs")
        line = QFrame(self)
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Plain)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.controls)
        layout.addWidget(line)
        layout.addWidget(self.tabs, 1)
