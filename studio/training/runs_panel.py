"""The session's runs: show an earlier one, lay its curves over the current one, and use
its checkpoints (save a copy, continue training from it, evaluate it).

The panel reports what the user wants as signals; the training coordinator carries it
out (it owns the runner and the plots). Checkpoint files are the worker's (``last.pt``,
``best.pt`` in the run's folder); "Save checkpoint as" copies one where the user wants
it, "Load weights" picks any checkpoint file for the next run to start from.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGridLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from runtime.run_record import RunRecord
from studio.panels.widgets import muted, section, top_level_items

NUMBER_ROLE = Qt.ItemDataRole.UserRole + 1


def result_text(run: RunRecord) -> str:
    s = run.summary
    if run.status == "failed":
        return "failed"
    metric = s.get("val_metric")
    if metric is None and run.epoch_records:
        metric = run.epoch_records[-1].val_metric
    if metric is None:
        return run.status
    if run.metric_name == "r2":
        return f"R\u00b2 {metric:.3f}"
    if run.metric_name == "f1":
        return f"F1 {metric:.3f}"
    return f"{metric:.1%}"


def checkpoint_of(run: RunRecord) -> str | None:
    """The run's best checkpoint, else its last one."""
    best = [c.path for c in run.checkpoints if c.reason == "best"]
    last = [c.path for c in run.checkpoints if c.reason != "best"]
    for path in (best[-1:] + last[-1:] + [run.summary.get("checkpoint")]):
        if path and Path(path).exists():
            return path
    return None


class RunsPanel(QWidget):
    show_requested = Signal(object)  # RunRecord
    compare_requested = Signal(object)  # RunRecord or None
    checkpoint_requested = Signal()
    resume_requested = Signal(str)  # checkpoint path for the next run
    evaluate_requested = Signal(str)  # checkpoint path

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runs: list[RunRecord] = []
        self.reference: RunRecord | None = None
        self.tree = QTreeWidget(self)
        self.tree.setObjectName("runs_list")
        self.tree.setColumnCount(4)
        self.tree.setHeaderLabels(["Run", "Network", "Result", ""])
        self.tree.setRootIsDecorated(False)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemDoubleClicked.connect(lambda *_: self._show())
        self.tree.itemSelectionChanged.connect(self._update_buttons)

        self.show_button = QPushButton("Show", self)
        self.show_button.setToolTip("Show this run's plots")
        self.compare_button = QPushButton("Compare", self)
        self.compare_button.setObjectName("compare_button")
        self.compare_button.setToolTip("Draw this run's curves (dashed) under the "
                                       "current run's")
        self.save_button = QPushButton("Save checkpoint as\u2026", self)
        self.save_button.setObjectName("save_checkpoint_button")
        self.checkpoint_button = QPushButton("Checkpoint now", self)
        self.checkpoint_button.setObjectName("checkpoint_now_button")
        self.checkpoint_button.setToolTip("Write a checkpoint of the running training")
        self.resume_button = QPushButton("Continue from it", self)
        self.resume_button.setObjectName("resume_button")
        self.resume_button.setToolTip("The next Train starts from this run's weights "
                                      "and optimizer state")
        self.load_button = QPushButton("Load weights\u2026", self)
        self.load_button.setObjectName("load_weights_button")
        self.load_button.setToolTip("Choose a checkpoint file; the next Train starts from "
                                    "its weights")
        self.evaluate_button = QPushButton("Evaluate", self)
        self.evaluate_button.setObjectName("evaluate_button")
        self.evaluate_button.setToolTip("Measure this run's best weights on the "
                                        "validation set")
        self.show_button.clicked.connect(self._show)
        self.compare_button.clicked.connect(self._compare)
        self.save_button.clicked.connect(lambda: self.save_checkpoint_as())
        self.checkpoint_button.clicked.connect(self.checkpoint_requested)
        self.resume_button.clicked.connect(self._resume)
        self.load_button.clicked.connect(lambda: self.load_weights())
        self.evaluate_button.clicked.connect(self._evaluate)
        self.note = muted(QLabel(self))
        self.note.setObjectName("runs_note")
        self.note.setWordWrap(True)
        self.note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        for button in (self.show_button, self.compare_button, self.save_button,
                       self.checkpoint_button, self.resume_button, self.load_button,
                       self.evaluate_button):
            # The dock may be as narrow as the palette it shares a tab with.
            button.setMinimumWidth(40)
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        grid = QGridLayout()
        grid.setSpacing(4)
        grid.addWidget(self.show_button, 0, 0)
        grid.addWidget(self.compare_button, 0, 1)
        grid.addWidget(self.evaluate_button, 1, 0)
        grid.addWidget(self.save_button, 1, 1)
        grid.addWidget(self.resume_button, 2, 0)
        grid.addWidget(self.load_button, 2, 1)
        grid.addWidget(self.checkpoint_button, 3, 0, 1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 10)
        layout.addWidget(section("Runs of this session", self))
        layout.addWidget(self.tree, 1)
        layout.addLayout(grid)
        layout.addWidget(self.note)
        self.active = False
        self._update_buttons()

    # ------------------------------------------------------------------ list
    def set_runs(self, runs: list[RunRecord], current: RunRecord | None = None) -> None:
        chosen = self.selected()
        self.runs = list(runs)
        self.tree.clear()
        for run in reversed(self.runs):  # newest first
            item = QTreeWidgetItem(self.tree)
            item.setData(0, NUMBER_ROLE, run.number)
            item.setText(0, f"#{run.number}")
            item.setText(1, run.network)
            item.setText(2, result_text(run))
            marks = []
            if run is current:
                marks.append("current")
            if run is self.reference:
                marks.append("compared")
            item.setText(3, ", ".join(marks))
            item.setToolTip(1, run.message or run.label)
            if chosen is not None and run is chosen:
                self.tree.setCurrentItem(item)
        self._update_buttons()

    def refresh_run(self, run: RunRecord) -> None:
        for item in top_level_items(self.tree):
            if item.data(0, NUMBER_ROLE) == run.number:
                item.setText(2, result_text(run))
                item.setToolTip(1, run.message or run.label)

    def selected(self) -> RunRecord | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        number = item.data(0, NUMBER_ROLE)
        return next((r for r in self.runs if r.number == number), None)

    def select(self, run: RunRecord) -> None:
        for item in top_level_items(self.tree):
            if item.data(0, NUMBER_ROLE) == run.number:
                self.tree.setCurrentItem(item)

    def set_active(self, active: bool) -> None:
        self.active = active
        self._update_buttons()

    def _update_buttons(self) -> None:
        run = self.selected()
        has_ckpt = run is not None and checkpoint_of(run) is not None
        self.show_button.setEnabled(run is not None)
        self.compare_button.setEnabled(run is not None)
        self.compare_button.setText("Stop comparing" if run is not None
                                    and run is self.reference else "Compare")
        self.save_button.setEnabled(has_ckpt)
        self.resume_button.setEnabled(has_ckpt and not self.active)
        self.evaluate_button.setEnabled(has_ckpt)
        self.load_button.setEnabled(not self.active)
        self.checkpoint_button.setEnabled(self.active)

    # ------------------------------------------------------------------ intents
    def _show(self) -> None:
        run = self.selected()
        if run is not None:
            self.show_requested.emit(run)

    def _compare(self) -> None:
        run = self.selected()
        self.reference = None if run is self.reference else run
        self.compare_requested.emit(self.reference)
        self.set_runs(self.runs, next((r for r in self.runs if r.active), None))

    def _resume(self) -> None:
        run = self.selected()
        path = checkpoint_of(run) if run is not None else None
        if path:
            self.resume_requested.emit(path)

    def _evaluate(self) -> None:
        run = self.selected()
        path = checkpoint_of(run) if run is not None else None
        if path:
            self.note.setText("Evaluating on the validation set\u2026")
            self.evaluate_requested.emit(path)

    def save_checkpoint_as(self, target: str | None = None) -> str | None:
        """Copy the selected run's checkpoint to ``target`` (asks when None)."""
        run = self.selected()
        source = checkpoint_of(run) if run is not None else None
        if run is None or source is None:
            return None
        if target is None:
            suggested = f"{run.network.replace(' ', '_').lower()}-run{run.number}.pt"
            target, _filter = QFileDialog.getSaveFileName(
                self, "Save checkpoint as", suggested, "Strata checkpoints (*.pt)")
            if not target:
                return None
        try:
            shutil.copyfile(source, target)
        except OSError as e:
            self.note.setText(f"Could not save the checkpoint to {target}: {e.strerror}")
            return None
        self.note.setText(f"Saved {Path(source).name} of run #{run.number} to {target}")
        return target

    def load_weights(self, path: str | None = None) -> str | None:
        """Choose a checkpoint file for the next run to start from."""
        if path is None:
            path, _filter = QFileDialog.getOpenFileName(
                self, "Load weights from a checkpoint", "", "Strata checkpoints (*.pt)")
            if not path:
                return None
        self.resume_requested.emit(path)
        return path
