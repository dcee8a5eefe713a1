"""Opening a block to edit its inside: the canvas shows a definition's body.

Each open level has its own ``DocumentController`` on the body ``Document`` and its own
``NetworkScene``, sharing the network's undo stack: every intent, command and event
works unchanged inside a block, and one history covers all levels. The panels, the
training and the files keep following the network's (root) controller; the view, the
edit actions and the context menu follow the level shown (``view.controller``). Edits
inside change the one definition, so every instance follows.

The breadcrumb bar above the canvas ("Network > Block") shows the path; a click on a
crumb goes back to that level, Escape goes up one. Each level knows the instance it was
opened from, so it has a node path in the network (``run_path``: ``n5/n7``, the way
training statistics and diagnoses name inner layers; ``n5:1/n7`` in the second copy of a
repeated ``n5``). A repeated instance's level shows one copy's statistics, chosen with a
copy selector in the breadcrumb (the first copy at first); edits and training settings
(frozen, learning-rate factor) apply to every copy (``setup_path`` has no copy numbers). When an undo removes the definition
being shown (undoing the grouping), the canvas goes back to the network.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graph.block_use import UseAnalyzer, instance_use
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
    instance: str = ""  # the instance's node id in the level above
    parent: DocumentController | None = None  # the level above's controller
    copy: int = 0  # the copy shown of a repeated instance

    @property
    def repeat(self) -> int:
        node = self.parent.document.nodes.get(self.instance) if self.parent else None
        value = node.params.get("repeat", 1) if node is not None else 1
        return value if isinstance(value, int) and value > 1 else 1

    @property
    def label(self) -> str:
        node = self.parent.document.nodes.get(self.instance) if self.parent else None
        return node.title if node is not None else self.instance


class BlockLevels(QObject):
    """The stack of open blocks of one view (the network at the bottom)."""

    changed = Signal(list)  # the path: definition names, outermost first
    copy_changed = Signal()  # another copy of a repeated instance is shown

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

    def run_path(self, depth: int | None = None) -> str:
        """The node path of the instance shown at ``depth`` (default: the level shown;
        "" for the network), with the copy shown of each repeated instance
        (``n5:1/n7``): how the run's statistics name its inner layers."""
        levels = self.levels[:depth] if depth is not None else self.levels
        return "/".join(f"{level.instance}:{min(level.copy, level.repeat - 1)}"
                        if level.repeat > 1 else level.instance for level in levels)

    def setup_path(self) -> str:
        """The node path of the instance shown, without copy numbers: how the training
        setup names what is frozen or scaled inside it (every copy)."""
        return "/".join(level.instance for level in self.levels)

    def label_path(self) -> str:
        """The instance path by labels: "layer1 > block"."""
        return " > ".join(level.label for level in self.levels)

    def set_copy(self, depth: int, copy: int) -> None:
        """Show copy ``copy`` (0-based) of the repeated instance of level ``depth``
        (1: the first block opened)."""
        if 0 < depth <= len(self.levels):
            level = self.levels[depth - 1]
            copy = max(0, min(copy, level.repeat - 1))
            if copy != level.copy:
                level.copy = copy
                self.copy_changed.emit()

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
        # ...and with its values (channels=8 though the body says 16): graph.block_use.
        analyzer = UseAnalyzer(lambda: instance_use(parent.document, parent.analysis,
                                                    node_id), ports) if ports else None
        controller = DocumentController(definition.body, self, parent.undo_stack, analyzer)
        controller.edit_refused.connect(self.root.edit_refused)
        controller.lock_owner = self.root  # a training run locks the inside too
        level = Level(name, controller, None, node_id, parent)  # type: ignore[arg-type]
        self.levels.append(level)
        # Frozen layers and factors inside are the network's, under this path.
        controller.set_training_scope(self.root, self.setup_path(), self.label_path())
        level.scene = NetworkScene(controller, self.view)
        self._show()
        return True

    def reveal(self, path: str) -> bool:
        """Open the blocks down to the layer at node path ``path`` (``n5:1/n3``, as a
        run or a problem names an inner layer; ``:k`` picks the copy of a repeated
        instance shown), select it there and centre it, as double-clicking each block
        and clicking the layer would. Levels already open on the way stay open. False
        (nothing changes) when the path names nothing in the network any more."""
        parts = path.split("/")
        doc = self.root.document
        steps: list[tuple[str, int]] = []
        for part in parts[:-1]:
            node_id, _, number = part.partition(":")
            node = doc.nodes.get(node_id)
            name = node.params.get("block") if node is not None and node.type == BLOCK \
                else None
            if not isinstance(name, str) or name not in doc.blocks:
                return False
            steps.append((node_id, int(number) if number.isdigit() else 0))
            doc = doc.blocks[name].body
        leaf = parts[-1].partition(":")[0]
        if leaf not in doc.nodes:
            return False
        keep = 0
        for level, (node_id, _copy) in zip(self.levels, steps):
            if level.instance != node_id:
                break
            keep += 1
        self.go_to(keep)
        for node_id, _copy in steps[keep:]:
            if not self.open_block(node_id):  # pragma: no cover (checked above)
                return False
        for depth, (_node_id, copy) in enumerate(steps, 1):
            self.set_copy(depth, copy)
        self.current.select([leaf])
        self.view.center_on_node(leaf)
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
            self.view.show_level(level.controller, level.scene, readable=True)
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
                widget.hide()
                widget.setObjectName("")  # findChild finds the new bar's, not this
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
            if depth and self.levels.levels[depth - 1].repeat > 1:
                self._row.addWidget(self._copy_box(depth))
        self._row.addStretch(1)
        self.setVisible(bool(path))

    def _copy_box(self, depth: int) -> QComboBox:
        """Which copy of a repeated instance the overlays of training show."""
        level = self.levels.levels[depth - 1]
        box = QComboBox(self)
        box.setObjectName(f"block_copy_{depth}")
        box.addItems([f"copy {k + 1} of {level.repeat}" for k in range(level.repeat)])
        box.setCurrentIndex(min(level.copy, level.repeat - 1))
        box.setToolTip(f"{level.label} repeats {level.repeat} times with separate weights: "
                       "training statistics show this copy's layers. Edits, freezing and "
                       "learning-rate factors apply to every copy.")
        box.currentIndexChanged.connect(lambda k, d=depth: self.levels.set_copy(d, k))
        return box


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
