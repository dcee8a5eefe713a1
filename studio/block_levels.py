"""Opening a block to edit its inside: the canvas shows a definition's body.

Each open level has its own ``DocumentController`` on the body ``Document`` and its own
``NetworkScene``, sharing the network's undo stack: every intent, command and event
works unchanged inside a block, and one history covers all levels. The panels, the
training and the files keep following the network's (root) controller; the view, the
edit actions and the context menu follow the level shown (``view.controller``). Edits
inside change the one definition, so every instance follows.

The breadcrumb bar above the canvas ("Network > Block") shows the path; a click on a
crumb goes back to that level, Escape goes up one. When an undo removes the definition
being shown (undoing the grouping), the canvas goes back to the network.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from graph import Analyzer
from graph.blocks import BLOCK
from studio.canvas.scene import NetworkScene
from studio.canvas.view import NetworkView
from studio.document.controller import DocumentController

ROOT_TITLE = "Network"


@dataclass
class Level:
    name: str  # the definition's name
    controller: DocumentController
    scene: NetworkScene


class BlockLevels(QObject):
    """The stack of open blocks of one view (the network at the bottom)."""

    changed = Signal(list)  # the path: definition names, outermost first

    def __init__(self, root: DocumentController, view: NetworkView,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.root, self.view = root, view
        self.root_scene = view.network_scene
        self.levels: list[Level] = []
        root.document_replaced.connect(self._on_root_replaced)
        root.undo_stack.indexChanged.connect(self._check_levels)
        view.node_opened.connect(self.open_block)
        view.escape_pressed.connect(self.leave)

    @property
    def path(self) -> list[str]:
        return [level.name for level in self.levels]

    @property
    def current(self) -> DocumentController:
        return self.levels[-1].controller if self.levels else self.root

    def open_block(self, node_id: str) -> bool:
        """Show the inside of block instance ``node_id`` of the level shown."""
        parent = self.current
        node = parent.document.nodes.get(node_id)
        if node is None or node.type != BLOCK:
            return False
        name = node.params.get("block")
        definition = parent.document.blocks.definitions.get(name) \
            if isinstance(name, str) else None
        if not isinstance(name, str) or definition is None:
            return False
        # The inside is analysed with the tensors this instance receives, so the inner
        # cards show real shapes (a body alone has shapeless input ports).
        shapes = parent.analysis.shapes.get(node_id) if parent.analysis else None
        ports = dict(shapes.inputs) if shapes is not None else {}
        controller = DocumentController(definition.body, self, parent.undo_stack,
                                        Analyzer(ports=ports) if ports else None)
        controller.edit_refused.connect(self.root.edit_refused)
        controller.lock_owner = self.root  # a training run locks the inside too
        scene = NetworkScene(controller, self.view)
        self.levels.append(Level(name, controller, scene))
        self._show()
        return True

    def leave(self) -> None:
        """Up one level (Escape)."""
        if self.levels:
            self.go_to(len(self.levels) - 1)

    def go_to(self, depth: int) -> None:
        """Back to level ``depth`` (0: the network)."""
        depth = max(0, depth)
        if depth >= len(self.levels):
            return
        while len(self.levels) > depth:
            level = self.levels.pop()
            level.controller.detach()
            level.scene.deleteLater()
            level.controller.deleteLater()
        self._show()

    def _show(self) -> None:
        if self.levels:
            level = self.levels[-1]
            self.view.show_level(level.controller, level.scene)
        else:
            self.view.show_level(self.root, self.root_scene)
        self.changed.emit(self.path)

    def _on_root_replaced(self) -> None:
        if self.levels:
            self.go_to(0)

    def _check_levels(self, _index: int = 0) -> None:
        """After an undo or redo: close levels whose definition is gone (or another)."""
        lib = self.root.document.blocks
        for depth, level in enumerate(self.levels):
            definition = lib.definitions.get(level.name)
            if definition is None or definition.body is not level.controller.document:
                self.go_to(depth)
                return


class BreadcrumbBar(QWidget):
    """"Network > Block > Inner" above the canvas; each crumb goes to its level."""

    def __init__(self, levels: BlockLevels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("block_breadcrumb")
        self.levels = levels
        self.buttons: list[QToolButton] = []
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(8, 3, 8, 3)
        self._row.setSpacing(2)
        levels.changed.connect(self.show_path)
        self.show_path(levels.path)

    def text(self) -> str:
        return " > ".join([ROOT_TITLE, *self.levels.path])

    def show_path(self, path: list[str]) -> None:
        while self._row.count():
            item = self._row.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.buttons = []
        for depth, name in enumerate([ROOT_TITLE, *path]):
            if depth:
                self._row.addWidget(QLabel("\u203a", self))
            button = QToolButton(self)
            button.setText(name)
            button.setAutoRaise(True)
            current = depth == len(path)
            button.setEnabled(not current)
            button.setToolTip("You are here" if current else f"Back to {name} (Escape: up one)")
            button.clicked.connect(lambda _=False, d=depth: self.levels.go_to(d))
            self._row.addWidget(button)
            self.buttons.append(button)
        self._row.addStretch(1)
        self.setVisible(bool(path))


def canvas_with_breadcrumb(levels: BlockLevels, view: NetworkView
                           ) -> tuple[QWidget, BreadcrumbBar]:
    """The window's central widget (the breadcrumb bar over the view) and its bar."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    breadcrumb = BreadcrumbBar(levels, box)
    layout.addWidget(breadcrumb)
    layout.addWidget(view, 1)
    box.setFocusProxy(view)
    box.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
    return box, breadcrumb
