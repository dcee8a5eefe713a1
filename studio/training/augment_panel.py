"""The training split's augmentation pipeline: an editable list with a live preview.

The pipeline is ``doc.training["augment"]`` (``runtime.augment``): a list of steps, each
an op and its parameters. The list shows the steps in order; Add offers every op the
runtime declares (image ops only when the input is an image), Remove, Up and Down edit
the order, and the selected step's parameters are edited with the same editors as layer
parameters (built from the ops' ``ParamSpec``s). Every change is checked by the runtime
and written with ``controller.set_training`` as one undo step, so it is saved with the
network and train.py export reads it from there.

The preview shows the dataset preview's example images (top row) and the same images
augmented by the input steps (the rows below; mixup and CutMix mix pairs of examples
during training and are not drawn). It is recomputed off the GUI thread whenever the
pipeline or the samples change; the latest request wins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graph.events import TrainingChanged
from studio.background import BackgroundTask
from studio.panels.param_editors import ParamEditor, editor_for
from studio.panels.widgets import muted
from studio.theme_colors import SEVERITY_COLORS

if TYPE_CHECKING:
    from studio.document.controller import DocumentController

PREVIEW_ROWS = 2  # augmented versions of each example
PREVIEW_COLUMNS = 4
CELL = 40  # pixels per preview image (four fit a narrow dock)


class AugmentPanel(QWidget):
    preview_ready = Signal()

    def __init__(self, controller: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AugmentPanel")
        self.controller = controller
        self.steps: list[dict] = []
        self.samples: np.ndarray | None = None
        self.editors: dict[str, ParamEditor] = {}
        self.generation = 0
        self.grid: np.ndarray | None = None
        self.task = BackgroundTask(self)  # the preview grid, latest request wins
        self.task.succeeded.connect(lambda grid: self._show_preview(grid, ""))
        self.task.failed.connect(lambda message, _error: self._show_preview(None, message))

        self.list = QListWidget(self)
        self.list.setObjectName("augment_steps")
        self.list.setMaximumHeight(110)
        # Narrow docks: long step descriptions are elided (the tooltip has them whole)
        # rather than scrolled sideways.
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.list.currentRowChanged.connect(self._show_params)
        self.add = QToolButton(self)
        self.add.setText("Add step")
        self.add.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.add.setObjectName("augment_add")
        self.menu = QMenu(self)
        self.add.setMenu(self.menu)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.remove = QToolButton(self)
        self.up = QToolButton(self)
        self.down = QToolButton(self)
        for button, text, tip in ((self.remove, "\u2212", "Remove the selected step"),
                                  (self.up, "\u2191", "Move the selected step up"),
                                  (self.down, "\u2193", "Move the selected step down")):
            button.setText(text)
            button.setToolTip(tip)
        self.remove.clicked.connect(self._remove)
        self.up.clicked.connect(lambda: self._move(-1))
        self.down.clicked.connect(lambda: self._move(1))
        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        for b in (self.add, self.remove, self.up, self.down):
            buttons.addWidget(b)
        buttons.addStretch(1)
        self.params = QFormLayout()
        self.params.setContentsMargins(0, 0, 0, 0)
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {SEVERITY_COLORS['error']};")
        self.problem.hide()
        self.empty = muted(QLabel("No augmentation: the training examples are used as "
                                  "they are. Add steps for the training split only.", self))
        self.empty.setWordWrap(True)
        self.preview = QLabel(self)
        self.preview.setObjectName("augment_preview")
        self.preview.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.preview.setMinimumWidth(1)  # never widens the dock: the grid is clipped

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.empty)
        layout.addWidget(self.list)
        layout.addLayout(buttons)
        layout.addLayout(self.params)
        layout.addWidget(self.problem)
        layout.addWidget(self.preview)
        controller.training_changed.connect(self._on_training_changed)
        controller.document_replaced.connect(self.refresh)
        self.loaded = False  # the runtime (and torch) comes in when the panel is shown

    def load(self) -> None:
        """Show the document's pipeline (imports the runtime's augmentation module)."""
        if not self.loaded:
            self.loaded = True
            self.refresh()

    # ------------------------------------------------------------------ document -> view
    def _on_training_changed(self, _event: TrainingChanged) -> None:
        self.refresh()

    def refresh(self) -> None:
        if not self.loaded:
            return
        from runtime.augment import AugmentError, check_pipeline, describe_step

        try:
            steps = check_pipeline(self.controller.document.training.get("augment"))
        except AugmentError as e:
            steps = []
            self._show_problem(str(e))
        row = self.list.currentRow()
        changed = steps != self.steps
        self.steps = steps
        self.list.blockSignals(True)
        self.list.clear()
        for step in steps:
            self.list.addItem(describe_step(step))
            self.list.item(self.list.count() - 1).setToolTip(describe_step(step))
        self.list.blockSignals(False)
        self.empty.setVisible(not steps)
        self.list.setVisible(bool(steps))
        if steps:
            self.list.setCurrentRow(min(max(row, 0), len(steps) - 1))
        self._show_params(self.list.currentRow())
        for b in (self.remove, self.up, self.down):
            b.setEnabled(bool(steps))
        if changed:
            self.request_preview()

    def _show_params(self, row: int) -> None:
        from runtime.augment import SPECS

        while self.params.rowCount():
            self.params.removeRow(0)
        self.editors = {}
        if not 0 <= row < len(self.steps):
            return
        step = self.steps[row]
        for param in SPECS[step["op"]].params:
            editor = editor_for(param)
            editor.setObjectName(f"augment_{param.name}")
            editor.set_value(step[param.name])
            editor.committed.connect(
                lambda value, r=row, k=param.name: self._set_param(r, k, value))
            label = QLabel(param.name.replace("_", " "))
            label.setToolTip(param.help)
            self.params.addRow(label, editor)
            self.editors[param.name] = editor

    # ------------------------------------------------------------------ view -> document
    def _fill_menu(self) -> None:
        from runtime.augment import SPECS

        self.menu.clear()
        image = self._image_input()
        for spec in SPECS.values():
            action = self.menu.addAction(spec.display_name)
            action.setToolTip(spec.help)
            action.setEnabled(spec.kind == "any" or image is not False)
            action.triggered.connect(lambda _c=False, op=spec.name: self.add_step(op))

    def _image_input(self) -> bool | None:
        """Whether the samples are images (None while unknown)."""
        if self.samples is None:
            return None
        return self.samples.ndim == 4

    def add_step(self, op: str) -> bool:
        from runtime.augment import check_pipeline, describe_step

        step = check_pipeline([{"op": op}])[0]
        if self.commit([*self.steps, step], f"Add {describe_step(step)}"):
            self.list.setCurrentRow(len(self.steps) - 1)
            return True
        return False

    def _remove(self) -> None:
        row = self.list.currentRow()
        if 0 <= row < len(self.steps):
            steps = list(self.steps)
            gone = steps.pop(row)
            from runtime.augment import describe_step

            self.commit(steps, f"Remove {describe_step(gone)}")

    def _move(self, delta: int) -> None:
        row = self.list.currentRow()
        target = row + delta
        if 0 <= row < len(self.steps) and 0 <= target < len(self.steps):
            steps = list(self.steps)
            steps[row], steps[target] = steps[target], steps[row]
            if self.commit(steps, "Reorder augmentation"):
                self.list.setCurrentRow(target)

    def _set_param(self, row: int, key: str, value) -> None:
        steps = [dict(s) for s in self.steps]
        steps[row][key] = value
        if not self.commit(steps, f"Set {key.replace('_', ' ')}"):
            editor = self.editors.get(key)
            if editor is not None:
                editor.set_error(self.problem.text())

    def commit(self, steps: list[dict], text: str) -> bool:
        """Check ``steps`` with the runtime and write them as one undo step."""
        from runtime.setup import SetupError, TrainingSetup

        raw = dict(self.controller.document.training or {})
        try:
            TrainingSetup.from_dict({**raw, "augment": steps})
        except SetupError as e:
            self._show_problem(str(e))
            return False
        self._show_problem(None)
        stack = self.controller.undo_stack
        stack.beginMacro(text)
        try:
            self.controller.set_training("augment", steps)
        finally:
            stack.endMacro()
        return True

    def _show_problem(self, message: str | None) -> None:
        self.problem.setText(message or "")
        self.problem.setVisible(bool(message))

    # ------------------------------------------------------------------ preview
    def set_samples(self, images) -> None:
        """Example images (n, c, h, w) from the dataset preview, or None."""
        self.samples = None if images is None else np.asarray(images, np.float32)
        self.request_preview()

    def request_preview(self) -> None:
        self.generation += 1
        samples, steps = self.samples, [dict(s) for s in self.steps]
        if samples is None or samples.ndim != 4 or not len(samples):
            self.task.cancel()
            self.preview.clear()
            self.grid = None
            return
        from runtime.augment import preview_grid

        self.task.start(lambda: preview_grid(samples[:PREVIEW_COLUMNS], steps, PREVIEW_ROWS,
                                             CELL),
                        what="The augmentation preview", latest=True)

    def _show_preview(self, grid, error: str) -> None:
        self.grid = grid
        if grid is None:
            self.preview.setText(error)
        else:
            h, w, _ = grid.shape
            image = QImage(grid.tobytes(), w, h, 3 * w, QImage.Format.Format_RGB888)
            self.preview.setPixmap(QPixmap.fromImage(image.copy()))
            self.preview.setToolTip("Top row: examples as they are. Below: the same "
                                    "examples through the augmentation (a new draw each "
                                    "time the pipeline changes).")
        self.preview_ready.emit()
