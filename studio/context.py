"""What a feature gets from the main window: one explicit, typed context.

The main window builds a ``StudioContext`` once its editor parts exist and hands it to
the features it hosts (training, export and import) instead of letting them attach
attributes to the window or probe it with ``getattr``. Every field is typed, so an IDE
follows a feature to exactly the part of the window it uses, and the type checker
catches a misspelt one. A feature the window builds later (training) is recorded in
the context by the window itself (``context.training``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QWidget

if TYPE_CHECKING:
    from runtime.run_record import RunRecord
    from studio.block_levels import BlockLevels
    from studio.canvas.scene import NetworkScene
    from studio.canvas.view import NetworkView
    from studio.document.controller import DocumentController
    from studio.panels.inspector import InspectorPanel
    from studio.panels.problems import ProblemsPanel
    from studio.training.attach import TrainingDocks
    from studio.workspaces import WorkspaceSwitcher

class AddPanel(Protocol):
    """``MainWindow.add_panel``: dock ``widget`` as a remembered, closable panel."""

    def __call__(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea,
                 tabify_with: str | None = None) -> QDockWidget: ...


@dataclass
class StudioContext:
    window: QMainWindow  # toolbars, menus, lifetime (``destroyed``)
    controller: DocumentController
    scene: NetworkScene
    view: NetworkView
    problems: ProblemsPanel
    add_panel: AddPanel  # a dock placed and remembered with the window's layout
    docks: dict[str, QDockWidget]  # the docks by name (``add_panel`` fills it)
    inspector: InspectorPanel | None = None
    workspaces: WorkspaceSwitcher | None = None
    training: TrainingDocks | None = field(default=None)  # set once attached
    settings: QSettings | None = None  # the window's (tests pass their own file)
    levels: BlockLevels | None = None  # the open blocks of the canvas

    def session_runs(self) -> list[RunRecord]:
        """This session's training runs, oldest first (none before training starts)."""
        if self.training is None or not self.training.has_runner:
            return []
        return list(self.training.runner.runs)
