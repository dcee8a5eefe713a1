"""The Sweep panel: set a sweep going, watch its trials arrive, open any trial as a run.

Top: what is searched (the document's sweep, or the default learning rate, batch size
and Dropout p), the objective, sampler, pruner, trials and worker processes, and
Start/Stop. Below: the trials in a table sortable by any column (numbers sort as
numbers), and three plots (optimisation history, parameter importance, parallel
coordinates). Double-clicking a trial, or "Open as run", asks (``open_requested``) for
its run folder to be added to the training runs, where it can be compared.

The panel reports intent; ``SweepController`` does the work, ``studio.sweeps.attach``
connects them to the window.
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.panels.widgets import muted

from .controller import SweepView
from .plots import HistoryPlot, ImportancePlot, ParallelPlot
from .space_editor import SpaceEditor

FIXED_COLUMNS = ("Trial", "State", "Objective", "Epochs", "Seconds")
FOLDER_ROLE = Qt.ItemDataRole.UserRole + 1


class _NumberItem(QTableWidgetItem):
    """A cell that sorts by its number (blank cells last)."""

    def __init__(self, value, text: str | None = None) -> None:
        super().__init__(text if text is not None else _format(value))
        self.value = value
        self.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def __lt__(self, other) -> bool:
        if isinstance(other, _NumberItem):
            return _key(self.value) < _key(other.value)
        return super().__lt__(other)


class SweepPanel(QWidget):
    start_requested = Signal(dict)  # {"objective", "sampler", "pruner", "trials", "jobs"}
    stop_requested = Signal()
    open_requested = Signal(str, int)  # a trial's run folder, its number
    space_edited = Signal(list)  # the searched entries after an edit (doc.sweep params)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweep_panel")
        self.view = SweepView()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        # No "Sweep" heading: the dock's title says it, and a short dock needs the row.
        self.searched = QLabel("", self)
        self.searched.setObjectName("sweep_searched")
        self.searched.setWordWrap(True)
        muted(self.searched)
        layout.addWidget(self.searched)
        layout.addLayout(self._form())
        self.status = QLabel("No sweep yet: press Start to run trials of this network.",
                             self)
        self.status.setObjectName("sweep_status")
        self.status.setWordWrap(True)
        muted(self.status)
        # Its two lines (the counts, the study's place) even when the dock is short.
        self.status.setMinimumHeight(2 * self.status.fontMetrics().lineSpacing() + 2)
        layout.addWidget(self.status)

        split = QSplitter(Qt.Orientation.Horizontal, self)
        self.left = QTabWidget(split)
        self.left.setObjectName("sweep_left")
        table_box = QWidget()
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableWidget(0, len(FIXED_COLUMNS), table_box)
        self.table.setObjectName("sweep_trials")
        self.table.setHorizontalHeaderLabels(FIXED_COLUMNS)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
        self.table.cellDoubleClicked.connect(lambda row, _col: self._open_row(row))
        self.table.itemSelectionChanged.connect(self._selection_changed)
        table_layout.addWidget(self.table)
        self.open_button = QPushButton("Open as run", table_box)
        self.open_button.setObjectName("sweep_open")
        self.open_button.setToolTip("Add the selected trial to the training runs, to "
                                    "look at its curves and compare it")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(lambda: self._open_row(self.table.currentRow()))
        table_layout.addWidget(self.open_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.plots = QTabWidget(split)
        self.plots.setObjectName("sweep_plots")
        self.history = HistoryPlot()
        self.importance = ImportancePlot()
        self.parallel = ParallelPlot()
        self.plots.addTab(self.history, "History")
        self.plots.addTab(self.importance, "Importance")
        self.plots.addTab(self.parallel, "Parallel coordinates")
        self.space = SpaceEditor()
        self.space.edited.connect(self.space_edited.emit)
        self.left.addTab(table_box, "Trials")
        self.left.addTab(self.space, "Search space")
        split.addWidget(self.left)
        split.addWidget(self.plots)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        layout.addWidget(split, 1)
        self.log_params: set[str] = set()

    def display(self, target: str) -> str:
        """A searched target as the user knows it (``hidden: repeat``, ``Learning
        rate``), from the search space's labels; the target itself otherwise."""
        return self.space.labels.get(target, target).replace("Training: ", "")

    def _form(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.objective = QComboBox(self)
        self.objective.setObjectName("sweep_objective")
        self.objective.addItem("Validation loss (lower is better)", "val_loss")
        self.objective.addItem("Validation metric (higher is better)", "val_metric")
        self.sampler = QComboBox(self)
        self.sampler.setObjectName("sweep_sampler")
        for text, value in (("TPE (Bayesian)", "tpe"), ("Random", "random"),
                            ("Grid", "grid")):
            self.sampler.addItem(text, value)
        self.pruner = QComboBox(self)
        self.pruner.setObjectName("sweep_pruner")
        for text, value in (("Median", "median"), ("Hyperband", "hyperband"),
                            ("None", "none")):
            self.pruner.addItem(text, value)
        counts_tip = "Trials trained at once, each in its own process"
        self.trials = QSpinBox(self)
        self.trials.setObjectName("sweep_trials_count")
        self.trials.setRange(1, 10_000)
        self.trials.setValue(20)
        self.jobs = QSpinBox(self)
        self.jobs.setObjectName("sweep_jobs")
        self.jobs.setRange(1, 64)
        self.jobs.setToolTip(counts_tip)
        self.start_button = QPushButton("Start", self)
        self.start_button.setObjectName("sweep_start")
        self.start_button.clicked.connect(self._start)
        self.stop_button = QPushButton("Stop", self)
        self.stop_button.setObjectName("sweep_stop")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop_requested.emit)
        # Two rows, so the trials and plots keep their room in a short dock (1280x720).
        grid = QGridLayout()
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(4)
        for r, c, text in ((0, 0, "Objective"), (0, 4, "Trials"), (1, 0, "Sampler"),
                           (1, 2, "Pruning"), (1, 4, "Processes")):
            grid.addWidget(QLabel(text, self), r, c)
        grid.addWidget(self.objective, 0, 1, 1, 3)
        grid.addWidget(self.trials, 0, 5)
        grid.addWidget(self.start_button, 0, 6)
        grid.addWidget(self.sampler, 1, 1)
        grid.addWidget(self.pruner, 1, 3)
        grid.addWidget(self.jobs, 1, 5)
        grid.addWidget(self.stop_button, 1, 6)
        row.addLayout(grid)
        row.addStretch(1)
        return row

    # ---------------------------------------------------------------- settings
    def set_spec(self, spec) -> None:
        """Show a document's sweep (``runtime.sweeps.SweepSpec``) and take its settings."""
        words = []
        for p in spec.params:
            name = self.display(p.target)
            if p.kind == "choice":
                words.append(f"{name} in {list(p.choices)}")
            else:
                scale = " (log)" if p.kind == "log" else ""
                words.append(f"{name} {_format(p.low)}\u2013{_format(p.high)}{scale}")
        self.searched.setText("Searching " + "; ".join(words))
        self.log_params = {p.target for p in spec.params if p.kind == "log"}
        for combo, value in ((self.objective, spec.objective),
                             (self.sampler, spec.sampler), (self.pruner, spec.pruner)):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        self.trials.setValue(spec.trials)

    def set_space(self, entries: list[dict], options) -> None:
        """The searched entries and what else could be searched (space_editor)."""
        self.space.set_entries(entries, options)

    def settings(self) -> dict:
        return {"objective": self.objective.currentData(),
                "sampler": self.sampler.currentData(),
                "pruner": self.pruner.currentData(), "trials": self.trials.value(),
                "jobs": self.jobs.value()}

    def _start(self) -> None:
        self.start_requested.emit(self.settings())

    def set_running(self, running: bool) -> None:
        self.start_button.setEnabled(not running)
        self.stop_button.setEnabled(running)
        for widget in (self.objective, self.sampler, self.pruner, self.trials, self.jobs):
            widget.setEnabled(not running)

    def show_message(self, text: str) -> None:
        self.status.setText(text)

    # ---------------------------------------------------------------- results
    def show_view(self, view: SweepView) -> None:
        self.view = view
        rows = view.rows
        self.set_running(view.running)
        states = {s: sum(r.state == s for r in rows)
                  for s in ("complete", "pruned", "fail", "running")}
        done = [r for r in rows if r.state == "complete" and r.value is not None]
        pick = min if view.direction == "minimize" else max
        best = pick(done, key=lambda r: r.value) if done else None
        text = (f"{len(rows)} trials: {states['complete']} complete, {states['pruned']} "
                f"pruned, {states['fail']} failed, {states['running']} running")
        if best is not None:
            text += f". Best {view.objective} {best.value:.4g} (trial {best.number})"
        self.status.setText(f"{text}.\nStudy {view.study!r} in {view.storage}")
        self._fill_table(rows, view.objective)
        self.history.show_rows(rows, view.direction)
        self.importance.show_importance(view.importance, self.display)
        self.parallel.show_rows(rows, view.direction, view.objective, self.log_params,
                                self.display)

    def _fill_table(self, rows, objective: str) -> None:
        names = sorted({k for r in rows for k in r.params})
        selected = self._selected_number()
        self.table.setSortingEnabled(False)
        self.table.setColumnCount(len(FIXED_COLUMNS) + len(names))
        self.table.setHorizontalHeaderLabels(
            [*FIXED_COLUMNS[:2], objective.capitalize(), *FIXED_COLUMNS[3:],
             *map(self.display, names)])
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            number = _NumberItem(r.number, str(r.number))
            number.setData(FOLDER_ROLE, r.run_folder or "")
            value = r.value if r.value is not None else (
                r.history[-1] if r.history else None)
            cells = [number, QTableWidgetItem(r.state), _NumberItem(value),
                     _NumberItem(r.epochs, str(r.epochs)), _NumberItem(r.seconds)]
            cells += [_NumberItem(r.params.get(n)) if not isinstance(
                r.params.get(n), str) else QTableWidgetItem(r.params[n]) for n in names]
            for column, cell in enumerate(cells):
                self.table.setItem(i, column, cell)
        self.table.setSortingEnabled(True)
        if selected is not None:
            for i in range(self.table.rowCount()):
                item = self.table.item(i, 0)
                if isinstance(item, _NumberItem) and item.value == selected:
                    self.table.selectRow(i)
                    break

    def _selected_number(self) -> int | None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        return item.value if isinstance(item, _NumberItem) else None

    def _selection_changed(self) -> None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        self.open_button.setEnabled(bool(item is not None and item.data(FOLDER_ROLE)))

    def _open_row(self, row: int) -> None:
        item = self.table.item(row, 0) if row >= 0 else None
        if isinstance(item, _NumberItem) and item.data(FOLDER_ROLE):
            self.open_requested.emit(item.data(FOLDER_ROLE), item.value)


def _format(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return str(value)


def _key(value) -> tuple:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return (1, 0.0)
    return (0, float(value))
