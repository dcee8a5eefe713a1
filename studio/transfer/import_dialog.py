"""The Import dialog: a network from PyTorch code, traced in the background.

Pick a ``.py`` file; its classes and factory functions are listed by reading it (``ast``,
nothing runs). Choose one, give the input shape(s) batch first with their dtype, the
task of the output and, optionally, a weights file. Only pressing Import runs the
file's code, and in a separate process (``runtime.transfer.isolated``) with a time
limit; Cancel import stops it, and so does closing the dialog. On success
the network opens in the window as a new unsaved document (after asking to save the
current one if it has changes) and the dialog reports the measured difference from the
original and any notes, with a table of what each layer was in the code (module path or
operation, source line; a row selects the layer in the window). On failure the dialog
shows the importer's message, every unmapped operation listed (also in the table, with
its source line), and the current document is left as it was. Tests use
``set_source``, ``set_target``, ``set_inputs``, ``set_weights`` and ``start``.
"""

from __future__ import annotations

import threading
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from graph.errors import StrataError
from graph.importers import UnmappedError
from runtime.transfer import (
    ImportOutcome,
    ImportRequest,
    import_candidates,
    import_network_isolated,
    parse_arguments,
    parse_shape,
)
from runtime.transfer.isolated import IMPORT_TIMEOUT
from studio.background import BackgroundTask
from studio.panels.widgets import form_layout, muted, value_label

from .mapping_view import MappingView
from .widgets import PathField, StatusStrip

if TYPE_CHECKING:  # the window imports this module
    from studio.main_window import MainWindow

# "auto": token ids (long) when an Embedding reads the input, else float.
DTYPES = (("auto", "auto"), ("float", "float"), ("long (token ids)", "long"))
TASKS = (("Classification", "classification"), ("Binary (one logit)", "binary"),
         ("Regression", "regression"))
REPORT_MAX = 16_777_215  # Qt's QWIDGETSIZE_MAX
REPORT_WITH_TABLE = 60  # px: about three lines of the summary above the mapping table
SHAPE_HELP = ("Batch first: 1,3,32,32 is one 32\u00d732 colour image, 1,784 a flattened "
              "28\u00d728 image, 1,20 twenty token ids (long).")


class InputRow(QWidget):
    removed = Signal(object)

    def __init__(self, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shape = QLineEdit(self)
        self.shape.setPlaceholderText("e.g. 1,3,32,32")
        self.dtype = QComboBox(self)
        for text, value in DTYPES:
            self.dtype.addItem(text, value)
        self.remove = QToolButton(self)
        self.remove.setText("\u2212")
        self.remove.setToolTip("Remove this input")
        self.remove.clicked.connect(lambda: self.removed.emit(self))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.number = QLabel(f"{number}.", self)
        row.addWidget(self.number)
        row.addWidget(self.shape, 1)
        row.addWidget(self.dtype)
        row.addWidget(self.remove)


class ImportDialog(QDialog):
    imported = Signal(object)  # ImportOutcome, after the network opened in the window
    failed = Signal(str)
    candidates_listed = Signal(list)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.setObjectName("ImportDialog")
        self.setWindowTitle("Import from PyTorch code")
        self.setModal(True)
        self.task = BackgroundTask(self)
        self.task.succeeded.connect(self._succeeded)
        self.task.failed.connect(self._failed)
        self.task.running_changed.connect(self._sync)
        self.lister = BackgroundTask(self)
        self.lister.succeeded.connect(self._listed)
        self.lister.failed.connect(self._list_failed)
        self.lister.running_changed.connect(self._sync)
        self.outcome: ImportOutcome | None = None
        self._listed_path: Path | None = None  # the file whose names are listed
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(400)
        self._debounce.timeout.connect(self.list_candidates)

        title = QLabel("Import a network from PyTorch code", self)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        title.setFont(font)
        self.about = about = muted(value_label(
            "Strata runs the module on an example input, traces it with torch.fx and "
            "maps every layer and operation to its own layers. It checks the imported "
            "network gives the same outputs as your module and lists anything it cannot "
            "map.", self))
        self.warning = value_label(
            "<b>Importing runs the file's code</b>, as opening a notebook does: import "
            "only files you trust. It runs in a separate process, stopped by Cancel "
            f"import or after {IMPORT_TIMEOUT:g} seconds; listing the file's classes "
            "does not run it.", self)
        self.warning.setObjectName("import_runs_code")
        self.warning.setTextFormat(Qt.TextFormat.RichText)
        self._cancel = threading.Event()

        self.source = PathField("open", "Choose a Python file", "Python files (*.py)",
                                "model.py", self)
        self.source.changed.connect(lambda _text: self._debounce.start())
        self.target = QComboBox(self)
        self.target.setMinimumContentsLength(18)
        self.target.setPlaceholderText("choose a file first")
        self.arguments = QLineEdit(self)
        self.arguments.setPlaceholderText("optional, e.g. num_classes=10, hidden=64")
        self.inputs_box = QVBoxLayout()
        self.inputs_box.setContentsMargins(0, 0, 0, 0)
        self.inputs_box.setSpacing(6)
        self.rows: list[InputRow] = []
        self.add_input_button = QPushButton("Add input", self)
        self.add_input_button.setToolTip("For a forward() that takes several tensors")
        self.add_input_button.clicked.connect(lambda: self.add_input())
        inputs = QWidget(self)
        inputs_layout = QVBoxLayout(inputs)
        inputs_layout.setContentsMargins(0, 0, 0, 0)
        inputs_layout.setSpacing(4)
        inputs_layout.addLayout(self.inputs_box)
        help_row = QHBoxLayout()
        help_row.addWidget(muted(value_label(SHAPE_HELP, inputs)), 1)
        help_row.addWidget(self.add_input_button, 0, Qt.AlignmentFlag.AlignTop)
        inputs_layout.addLayout(help_row)
        self.task_choice = QComboBox(self)
        for text, value in TASKS:
            self.task_choice.addItem(text, value)
        self.weights = PathField("open", "Choose the weights",
                                 "Weights (*.pt *.pth *.safetensors);;All files (*)",
                                 "optional: a state_dict or checkpoint file", self)

        form = form_layout()
        form.addRow("Python file", self.source)
        form.addRow("Class or function", self.target)
        form.addRow("Arguments", self.arguments)
        form.addRow("Input shape", inputs)
        form.addRow("Output predicts", self.task_choice)
        form.addRow("Weights", self.weights)

        self.status = StatusStrip(self)
        self.mapping = MappingView(self)
        self.mapping.node_chosen.connect(self.select_in_window)
        self.buttons = QDialogButtonBox(self)
        self.import_button = self.buttons.addButton(
            "Import", QDialogButtonBox.ButtonRole.AcceptRole)
        self.import_button.setDefault(True)
        self.cancel_button = self.buttons.addButton(
            "Cancel import", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.setToolTip("Stop the file's code; nothing is imported")
        self.cancel_button.clicked.connect(self.cancel_import)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.import_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(about)
        layout.addWidget(self.warning)
        layout.addLayout(form)
        layout.addWidget(self.status, 1)
        layout.addWidget(self.mapping, 3)
        layout.addWidget(self.buttons)
        self.add_input()
        self.setMinimumWidth(560)
        screen = self.screen().availableGeometry() if self.screen() else None
        self.resize(780, min(820, screen.height() - 40) if screen else 640)
        self._sync()

    # ------------------------------------------------------------------ inputs
    def add_input(self, shape: str = "", dtype: str = "auto") -> InputRow:
        row = InputRow(len(self.rows) + 1, self)
        row.shape.setText(shape)
        row.dtype.setCurrentIndex(row.dtype.findData(dtype))
        row.removed.connect(self._remove_input)
        self.rows.append(row)
        self.inputs_box.addWidget(row)
        self._renumber()
        return row

    def _remove_input(self, row: InputRow) -> None:
        if len(self.rows) > 1:
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()
            self._renumber()

    def _renumber(self) -> None:
        several = len(self.rows) > 1
        for i, row in enumerate(self.rows, 1):
            row.number.setText(f"{i}.")
            row.number.setVisible(several)
            row.remove.setVisible(several)

    def set_inputs(self, inputs) -> None:
        """``[("1,3,32,32", "float"), ((1, 20), "long")]``: one row per forward input."""
        for row in list(self.rows):
            self.rows.remove(row)
            row.setParent(None)
            row.deleteLater()
        for shape, dtype in inputs:
            text = shape if isinstance(shape, str) else ",".join(map(str, shape))
            self.add_input(text, dtype)

    # ------------------------------------------------------------------ source
    def set_source(self, path) -> None:
        """Use the Python file ``path`` and list what it defines (in the background)."""
        self.source.set_path(path)
        self._debounce.stop()
        self.list_candidates()

    def list_candidates(self) -> None:
        self._debounce.stop()
        path = self.source.path()
        if path is None or path == self._listed_path:
            return
        self._listed_path = path
        self.lister.cancel()
        self.target.clear()
        self.target.setPlaceholderText("reading the file\u2026")
        self.lister.start(partial(import_candidates, path), what=f"Reading {path.name}")
        self.status.show_busy(f"Reading {path.name}\u2026")

    def candidates(self) -> list[str]:
        return [self.target.itemText(i) for i in range(self.target.count())]

    def set_target(self, name: str) -> None:
        index = self.target.findText(name)
        if index < 0:
            raise ValueError(f"{name!r} is not among {self.candidates()}")
        self.target.setCurrentIndex(index)

    def set_task(self, task: str) -> None:
        self.task_choice.setCurrentIndex(self.task_choice.findData(task))

    def set_arguments(self, text: str) -> None:
        self.arguments.setText(text)

    def set_weights(self, path) -> None:
        self.weights.set_path(path)

    def _listed(self, names: list[str]) -> None:
        self.target.clear()
        self.target.addItems(names)
        self.target.setPlaceholderText("")
        self.target.setCurrentIndex(0)
        listed = self._listed_path
        self.status.set_status(f"{listed.name if listed else 'The file'} defines "
                               f"{_count(len(names), 'module or function', 'modules or functions')}"
                               ": choose one and give its input shape.", "info", report="")
        self.candidates_listed.emit(names)

    def _list_failed(self, message: str, _error) -> None:
        self._listed_path = None  # try again when asked
        self.target.clear()
        self.target.setPlaceholderText("nothing to import")
        self._show_failure("Cannot read the file", message)
        self.candidates_listed.emit([])

    # ------------------------------------------------------------------ import
    @property
    def busy(self) -> bool:
        return self.task.running

    def request(self) -> ImportRequest:
        """The import the fields describe; StrataError naming the field that is wrong."""
        path = self.source.path()
        if path is None:
            raise StrataError("Choose the Python file that defines the network.")
        name = self.target.currentText()
        if not name:
            raise StrataError(f"Choose the class or function in {path.name} to import.")
        if not any(row.shape.text().strip() for row in self.rows):
            raise StrataError("Give the input shape, batch first (e.g. 1,3,32,32).")
        shapes = [parse_shape(row.shape.text()) for row in self.rows]
        dtypes = [row.dtype.currentData() for row in self.rows]
        kwargs = parse_arguments(self.arguments.text())
        return ImportRequest(path, name, shapes, dtypes, self.task_choice.currentData(),
                             self.weights.path(), kwargs)

    def start(self) -> bool:
        """Begin the import; False (the reason shown in the dialog) when it cannot."""
        if self.busy:
            return False
        if self.lister.running:
            return self._refuse("Wait until the file has been read.")
        try:
            request = self.request()
        except StrataError as e:
            return self._refuse(str(e))
        self.outcome = None
        self.mapping.clear()
        self.mapping.folder = request.path.parent
        self.status.report.setMaximumHeight(REPORT_MAX)
        self.about.show()
        self._cancel = threading.Event()
        self.task.start(partial(import_network_isolated, request, cancel=self._cancel),
                        what=f"Importing {request.target}")
        self.status.show_busy(f"Importing {request.target}: running its code in a "
                              "separate process, tracing and checking the "
                              "outputs\u2026")
        return True

    def cancel_import(self) -> None:
        """Stop the file's code (its process ends); ``failed`` follows."""
        if self.busy:
            self._cancel.set()
            self.status.show_busy("Cancelling: stopping the file's code\u2026")

    def _show_mapping(self, report, unmapped=(), selectable: bool = False) -> None:
        if report is not None:
            self.mapping.show_report(report, selectable)
        else:
            self.mapping.show_rows([], list(unmapped))
        # The table needs the room on a 720-pixel screen: the summary above it scrolls,
        # and the introduction (said before the import) steps aside.
        self.status.report.setMaximumHeight(REPORT_WITH_TABLE)
        self.about.hide()

    def select_in_window(self, nodes: tuple[str, ...]) -> None:
        """Open the blocks holding an imported layer and select it (the network the
        import opened; ``nodes`` from the network down)."""
        levels = self.window_.levels
        levels.go_to(0)
        for node_id in nodes[:-1]:
            if not levels.open_block(node_id):
                break
        levels.current.select([nodes[-1]])
        self.window_.view.center_on_node(nodes[-1])

    def _refuse(self, message: str) -> bool:
        self.status.set_status(message, "error", report="")
        return False

    def _succeeded(self, outcome: ImportOutcome) -> None:
        self.outcome = outcome
        report = outcome.result.report
        if not self.window_.files.open_document(outcome.document):
            self.status.set_status(
                "Imported, but not opened: the current network was kept (its changes "
                "are unsaved). Import again to open it.", "info", report=outcome.describe())
            if report is not None:
                self._show_mapping(report, selectable=False)
            return
        if report is not None:
            self._show_mapping(report, selectable=True)
        self.status.set_status(f"Opened \u201c{outcome.document.name}\u201d as a new, "
                               "unsaved network.", "ok", report=outcome.describe())
        self.window_.statusBar().showMessage(
            f"Imported {outcome.request.target}", 6000)
        self.imported.emit(outcome)

    def _failed(self, message: str, error) -> None:
        self._show_failure("Not imported", message,
                           "Nothing was imported: the network in the editor is unchanged.")
        if isinstance(error, UnmappedError):  # each with its reason and source line
            self._show_mapping(None, error.items)
        self.failed.emit(message)

    def _show_failure(self, title: str, message: str, after: str = "") -> None:
        first, _, rest = message.partition("\n")
        report = "\n\n".join(part for part in (rest.rstrip(), after) if part)
        self.status.set_status(f"{title}: {first.rstrip(':')}", "error", report=report)

    def _sync(self, *_args) -> None:
        busy = self.task.running
        self.import_button.setEnabled(not busy and not self.lister.running)
        self.cancel_button.setVisible(busy)
        for widget in (self.source, self.target, self.arguments, self.task_choice,
                       self.weights, self.add_input_button, *self.rows):
            widget.setEnabled(not busy)

    def reject(self) -> None:
        if self.busy:
            self._cancel.set()  # the process running the file's code is stopped
            self.task.cancel()
            self.status.set_status("Import cancelled; the current network is unchanged.")
        self.lister.cancel()
        super().reject()


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"
