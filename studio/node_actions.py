"""What can be done to one layer, offered where the layer is: its right-click menu on
the canvas and the inspector.

The layer's one-click fixes (the same ones Problems offers, recomputed from the current
analysis when chosen), "Insert after..." (the layer search, the new layer wired in after
this one) and "Delete and reconnect" (the chain closes over the gap). Each is one undo
step through the controller.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QMenu, QPushButton, QVBoxLayout, QWidget

from graph.fixes import Fix, fix_for

if TYPE_CHECKING:
    from studio.canvas.view import NetworkView
    from studio.document.controller import DocumentController


def node_fixes(controller: DocumentController, node_id: str) -> list[Fix]:
    """The fixes of the problems about ``node_id`` (first of each problem's nodes)."""
    analysis = controller.analysis
    doc = controller.document
    if analysis is None or analysis.doc is not doc or node_id not in doc.nodes:
        return []
    fixes, titles = [], set()
    for problem in analysis.problems:
        if not problem.node_ids or problem.node_ids[0] != node_id:
            continue
        fix = fix_for(problem, doc, analysis)
        if fix is not None and fix.title not in titles:
            titles.add(fix.title)
            fixes.append(fix)
    return fixes + list(extra_fixes(controller, node_id))


# Other sources of fixes about a node (the dataset check, training diagnoses) add a
# callable here: (controller, node_id) -> iterable of Fix.
FIX_SOURCES: list[Callable] = []


def _dataset_fixes(controller: DocumentController, node_id: str):
    """The dataset check's fixes for the node (when a check follows this controller)."""
    from studio.training.data_check import CHECKS

    check = CHECKS.get(controller)
    return check.fixes_for_node(node_id) if check is not None else []


def _diagnosis_fixes(controller: DocumentController, node_id: str):
    """The fixes of the last run's diagnoses about the node (for the next run). Inside
    an open block, those about this inner layer (by its path, any copy) that edit only
    block definitions and the training setup: a fix that also edits the network's own
    layers is offered in Problems."""
    from graph.edits import InBlock, SetTraining
    from studio.panels.problems import PANELS

    root = controller.training_root
    panel = PANELS.get(root if root is not None else controller)
    if panel is None:
        return []
    if root is None:
        return panel.node_diagnosis_fixes(node_id)
    return [f for f in panel.path_diagnosis_fixes(controller.training_key(node_id))
            if all(isinstance(e, (InBlock, SetTraining)) for e in f.edits)]


FIX_SOURCES.extend([_dataset_fixes, _diagnosis_fixes])


def extra_fixes(controller: DocumentController, node_id: str):
    for source in FIX_SOURCES:
        yield from source(controller, node_id)


def can_reconnect(controller: DocumentController, node_id: str) -> bool:
    doc = controller.document
    return node_id in doc.nodes and bool(doc.edges_into(node_id)) \
        and bool(doc.edges_from(node_id))


def fill_node_menu(menu: QMenu, controller: DocumentController, view: NetworkView, node_id: str) -> None:
    """The layer's own entries at the top of a menu."""
    for fix in node_fixes(controller, node_id):
        action = menu.addAction(f"Fix: {fix.title}")
        action.setObjectName("node_fix")
        action.triggered.connect(lambda _=False, f=fix: controller.apply_fix(f))
    insert = menu.addAction("Insert After\u2026")
    insert.setObjectName("node_insert_after")
    insert.setEnabled(not controller.locked and _has_output(controller, node_id))
    insert.triggered.connect(lambda _=False: view.insert_after_dialog(node_id))
    bypass = menu.addAction("Delete and Reconnect")
    bypass.setObjectName("node_delete_reconnect")
    bypass.setEnabled(not controller.locked and can_reconnect(controller, node_id))
    bypass.triggered.connect(lambda _=False: controller.delete_and_reconnect(node_id))
    menu.addSeparator()


def _has_output(controller: DocumentController, node_id: str) -> bool:
    node = controller.document.nodes.get(node_id)
    return node is not None and bool(node.spec.outputs)


class NodeActionsBar(QWidget):
    """The inspector's strip for one layer: a button per fix, Insert after, Delete and
    reconnect. Rebuilt when the selection or the analysis changes."""

    insert_after_requested = Signal(str)

    def __init__(self, controller: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("node_actions")
        self.controller = controller
        self.node_id: str | None = None
        self.fix_buttons: list[QPushButton] = []
        self.fixes_box = QVBoxLayout()
        self.fixes_box.setContentsMargins(0, 0, 0, 0)
        self.fixes_box.setSpacing(3)
        self.insert = QPushButton("Insert After\u2026", self)
        self.insert.setObjectName("inspector_insert_after")
        self.insert.setToolTip("Search for a layer to put right after this one, wired in")
        self.insert.clicked.connect(
            lambda: self.insert_after_requested.emit(self.node_id or ""))
        self.bypass = QPushButton("Delete and Reconnect", self)
        self.bypass.setObjectName("inspector_delete_reconnect")
        self.bypass.setToolTip("Remove this layer and join what fed it to what it fed")
        self.bypass.clicked.connect(self._bypass)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.insert)
        row.addWidget(self.bypass)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 4)
        layout.setSpacing(4)
        layout.addLayout(self.fixes_box)
        layout.addLayout(row)
        # A bound method, not a lambda: Qt drops it when this bar is destroyed, while the
        # controller (which outlives the inspector in tests) keeps analysing.
        controller.analysis_changed.connect(self._on_analysis)
        self.hide()

    def follow(self, controller: DocumentController) -> None:
        """Act on the layers of another level (an open block's, or the network's)."""
        self.controller.analysis_changed.disconnect(self._on_analysis)
        self.controller = controller
        controller.analysis_changed.connect(self._on_analysis)
        self.show_node(None)

    def _on_analysis(self, _analysis) -> None:
        self.refresh()

    def show_node(self, node_id: str | None) -> None:
        self.node_id = node_id
        self.refresh()

    def refresh(self) -> None:
        c, node_id = self.controller, self.node_id
        for button in self.fix_buttons:
            button.hide()
            button.deleteLater()
        self.fix_buttons = []
        if node_id is None or node_id not in c.document.nodes:
            self.hide()
            return
        for fix in node_fixes(c, node_id):
            button = QPushButton(f"Fix: {fix.title}", self)
            button.setObjectName("inspector_fix")
            button.setToolTip(f"{fix.title} (one undo step)")
            button.setStyleSheet("text-align: left; padding: 3px 8px;")
            button.clicked.connect(lambda _=False, f=fix: c.apply_fix(f))
            self.fixes_box.addWidget(button)
            self.fix_buttons.append(button)
        self.insert.setEnabled(not c.locked and _has_output(c, node_id))
        self.bypass.setEnabled(not c.locked and can_reconnect(c, node_id))
        self.show()

    def _bypass(self) -> None:
        if self.node_id:
            self.controller.delete_and_reconnect(self.node_id)
