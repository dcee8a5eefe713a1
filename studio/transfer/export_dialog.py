"""The Export dialog: the network as Python, a training script, weights or ONNX.

One dialog, four formats listed on the left; each format's page says what will be
written and asks only what that format needs (where to; which checkpoint). The export
itself runs on a ``BackgroundTask`` with a busy bar, so the editor never freezes, and
the dialog stays open to show what was written and how it was checked. A network with
errors is refused with its first problem named. Tests drive it through ``set_format``,
``set_destination``, ``set_checkpoint`` and ``start`` instead of file dialogs.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from graph import state_dicts
from graph.naming import snake_case
from runtime.transfer import (
    EXPORT_FORMATS,
    ExportOutcome,
    data_note,
    export_network,
    runtime_available,
)
from studio.background import BackgroundTask
from studio.panels.widgets import form_layout, muted, value_label

from .checkpoints import CheckpointChoice, session_checkpoints
from .widgets import PathField, StatusStrip

if TYPE_CHECKING:
    from studio.document.controller import DocumentController

if TYPE_CHECKING:  # the window imports this module
    from studio.main_window import MainWindow

FORMATS = {spec.id: spec for spec in EXPORT_FORMATS}
Answer = QMessageBox.StandardButton
CHOOSE_FILE = "__file__"


def network_refusal(controller: DocumentController) -> str | None:
    """Why the current network cannot be exported (its first error), or None."""
    doc = controller.document
    analysis = controller.analysis
    if analysis is None or analysis.doc is not doc:
        analysis = controller.analyze_now()
    errors = analysis.errors
    if not errors:
        return None
    more = len(errors) - 1
    rest = (f" ({more} more problem{'s' if more != 1 else ''} in the Problems panel)"
            if more else "")
    return f"Fix this first: {errors[0].describe(doc)}{rest}"


class CheckpointPicker(QWidget):
    """The session's checkpoints that fit, or any weights file."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox(self)
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.file = PathField("open", "Choose a checkpoint",
                              "Checkpoints and weights (*.pt *.pth *.safetensors);;"
                              "All files (*)", "a checkpoint (.pt) or weights file", self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.combo)
        layout.addWidget(self.file)
        self.combo.currentIndexChanged.connect(self._chosen)
        self.set_choices([])

    def set_choices(self, choices: list[CheckpointChoice]) -> None:
        keep = self.path() if self.combo.currentData() == CHOOSE_FILE else None
        self.combo.blockSignals(True)
        self.combo.clear()
        for choice in choices:
            self.combo.addItem(choice.label, choice.path)
            self.combo.setItemData(self.combo.count() - 1, choice.path,
                                   Qt.ItemDataRole.ToolTipRole)
        self.combo.addItem("A checkpoint or weights file\u2026", CHOOSE_FILE)
        self.combo.setCurrentIndex(self.combo.count() - 1 if keep else 0)
        self.combo.blockSignals(False)
        self._chosen()

    def set_file(self, path) -> None:
        self.combo.setCurrentIndex(self.combo.findData(CHOOSE_FILE))
        self.file.set_path(path)

    def path(self) -> str | None:
        data = self.combo.currentData()
        if data == CHOOSE_FILE:
            chosen = self.file.path()
            return str(chosen) if chosen else None
        return data

    def _chosen(self, *_args) -> None:
        self.file.setVisible(self.combo.currentData() == CHOOSE_FILE)


class ExportDialog(QDialog):
    exported = Signal(object)  # ExportOutcome
    failed = Signal(str)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window_ = window
        self.controller = window.controller
        self.setObjectName("ExportDialog")
        self.setWindowTitle("Export")
        self.setModal(True)
        self.task = BackgroundTask(self)
        self.task.succeeded.connect(self._succeeded)
        self.task.failed.connect(self._failed)
        self.task.running_changed.connect(self._sync)
        self.outcome: ExportOutcome | None = None
        self._auto: dict[str, str] = {}  # destinations we filled in, per format

        self.formats = QListWidget(self)
        self.formats.setObjectName("ExportFormats")
        self.formats.setFixedWidth(170)
        self.formats.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.formats.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.formats.setStyleSheet("QListWidget#ExportFormats::item { padding: 8px 10px; "
                                   "border-radius: 4px; }")
        self.pages = QStackedWidget(self)
        self.destinations: dict[str, PathField] = {}
        for spec in EXPORT_FORMATS:
            item = QListWidgetItem(spec.title)
            item.setData(Qt.ItemDataRole.UserRole, spec.id)
            self.formats.addItem(item)
            self.pages.addWidget(self._page(spec.id))
        self.formats.currentRowChanged.connect(self._format_changed)

        self.status = StatusStrip(self)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(
            "Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setDefault(True)
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.export_button.clicked.connect(self.start)
        self.close_button.clicked.connect(self.reject)

        body = QHBoxLayout()
        body.setSpacing(16)
        body.addWidget(self.formats)
        body.addWidget(self.pages, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 12)
        layout.setSpacing(12)
        layout.addLayout(body, 1)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self.resize(760, 470)
        self.formats.setCurrentRow(0)
        self.refresh()

    # ------------------------------------------------------------------ pages
    def _page(self, fmt: str) -> QWidget:
        heading, text = FORMATS[fmt].heading, FORMATS[fmt].description
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        title = QLabel(heading, page)
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        about = value_label(text, page)
        layout.addWidget(muted(about))
        form = form_layout()
        if fmt == "python":
            self.python_class = value_label("", page)
            form.addRow("Class", self.python_class)
            self._destination(fmt, form, "save", "Export Python", "Python files (*.py)")
        elif fmt == "train":
            self._destination(fmt, form, "folder", "Folder for train.py", "",
                              label="Folder")
            self.train_setup = value_label("", page)
            form.addRow("Setup", self.train_setup)
            self.train_data = value_label("", page)
            form.addRow("Data", self.train_data)
        elif fmt == "weights":
            self.weights_picker = CheckpointPicker(page)
            form.addRow("Checkpoint", self.weights_picker)
            self.weights_format = QComboBox(page)
            self.weights_format.addItem("PyTorch state_dict (.pt)", ".pt")
            self.weights_format.addItem("safetensors (.safetensors)", ".safetensors")
            self.weights_format.currentIndexChanged.connect(self._weights_format_changed)
            form.addRow("Format", self.weights_format)
            self._destination(fmt, form, "save", "Export weights",
                              "Weights (*.pt *.safetensors)")
            self.safetensors_note = muted(value_label(
                "safetensors is not installed: run \u201cpip install safetensors\u201d to "
                "write .safetensors files.", page))
            form.addRow("", self.safetensors_note)
        else:
            self.onnx_missing = value_label("", page)
            self.onnx_missing.setObjectName("StatusError")
            form.addRow(self.onnx_missing)
            self.onnx_use_weights = QCheckBox("Use trained weights", page)
            self.onnx_use_weights.toggled.connect(self._sync)
            form.addRow("Weights", self.onnx_use_weights)
            self.onnx_picker = CheckpointPicker(page)
            form.addRow("", self.onnx_picker)
            self._destination(fmt, form, "save", "Export ONNX", "ONNX models (*.onnx)")
            self.onnx_check = muted(value_label("", page))
            form.addRow("", self.onnx_check)
        layout.addLayout(form)
        layout.addStretch(1)
        return page

    def _destination(self, fmt, form, mode, title, file_filter, label="Save to") -> None:
        field = PathField(mode, title, file_filter, parent=self)
        field.setObjectName(f"destination_{fmt}")
        self.destinations[fmt] = field
        form.addRow(label, field)

    # ------------------------------------------------------------------ state
    def refresh(self) -> None:
        """Read the network again: names, default destinations, checkpoints."""
        doc = self.controller.document
        self.setWindowTitle(f"Export \u201c{doc.name or 'Untitled'}\u201d")
        try:
            import graph

            class_name = graph.generate_code(doc, self.controller.analysis
                                             if self.controller.analysis is not None
                                             and self.controller.analysis.doc is doc
                                             else None).class_name
            self.python_class.setText(f"{class_name}(nn.Module)")
        except Exception:  # noqa: BLE001 - errors are reported when exporting
            self.python_class.setText("(the network has errors)")
        self.train_setup.setText(_setup_summary(doc))
        note = data_note(doc, self._base_dir()).removeprefix("Data: ")
        self.train_data.setText(note[:1].upper() + note[1:])
        choices = session_checkpoints(self.window_.context.session_runs(), doc)
        self.weights_picker.set_choices(choices)
        self.onnx_picker.set_choices(choices)
        self.onnx_use_weights.setChecked(bool(choices) or self.onnx_use_weights.isChecked())
        has_safetensors = state_dicts.safetensors_available()
        model = self.weights_format.model()  # a combo box's own: a QStandardItemModel
        item = model.item(1) if isinstance(model, QStandardItemModel) else None
        if item is not None:
            item.setEnabled(has_safetensors)
        self.safetensors_note.setVisible(not has_safetensors)
        if not has_safetensors:
            self.weights_format.setCurrentIndex(0)
        onnx_missing = FORMATS["onnx"].missing()
        self.onnx_missing.setText(onnx_missing or "")
        self.onnx_missing.setVisible(onnx_missing is not None)
        self.onnx_check.setText(
            "Outputs will be compared with PyTorch's in onnxruntime at batch sizes 1 and 3."
            if runtime_available() else
            "onnxruntime is not installed: the model is checked but its outputs are not "
            "compared with PyTorch's (pip install onnxruntime).")
        for fmt, field in self.destinations.items():
            if not field.edit.text() or field.edit.text() == self._auto.get(fmt):
                default = str(self._default_destination(fmt))
                field.set_path(default)
                self._auto[fmt] = default
        self._sync()

    def _base_dir(self) -> Path | None:
        path = self.controller.path
        return path.parent if path else None

    def _default_destination(self, fmt: str) -> Path:
        path = self.controller.path
        folder = path.parent if path else Path.home()
        stem = path.stem if path else snake_case(self.controller.document.name, "network")
        if fmt == "train":
            return folder / f"{stem}_train"
        suffix = {"python": ".py", "onnx": ".onnx"}.get(fmt) or \
            self.weights_format.currentData()
        return folder / f"{stem}{suffix}"

    def format(self) -> str:
        item = self.formats.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else "python"

    def set_format(self, fmt: str) -> None:
        self.formats.setCurrentRow(list(FORMATS).index(fmt))

    def set_destination(self, path, fmt: str | None = None) -> None:
        self.destinations[fmt or self.format()].set_path(path)

    def destination(self, fmt: str | None = None) -> Path | None:
        return self.destinations[fmt or self.format()].path()

    def set_checkpoint(self, path) -> None:
        """Use the checkpoint or weights file ``path`` (weights and ONNX)."""
        self.weights_picker.set_file(path)
        self.onnx_picker.set_file(path)
        self.onnx_use_weights.setChecked(True)

    def set_weights_format(self, suffix: str) -> None:
        self.weights_format.setCurrentIndex(self.weights_format.findData(suffix))

    @property
    def busy(self) -> bool:
        return self.task.running

    def _format_changed(self, row: int) -> None:
        self.pages.setCurrentIndex(max(row, 0))
        if not self.busy:
            self.status.set_status("")
            self.status.set_report("")
        self._sync()

    def _weights_format_changed(self) -> None:
        field = self.destinations.get("weights")
        path = field.path() if field is not None else None
        if field is not None and path is not None:
            new = str(path.with_suffix(self.weights_format.currentData()))
            if field.edit.text() == self._auto.get("weights"):
                self._auto["weights"] = new
            field.set_path(new)

    def _sync(self, *_args) -> None:
        busy = self.busy
        fmt = self.format()
        can = not busy and FORMATS[fmt].missing() is None
        self.export_button.setEnabled(can)
        self.formats.setEnabled(not busy)
        self.pages.setEnabled(not busy)
        available = FORMATS["onnx"].missing() is None
        for widget in (self.onnx_use_weights, self.destinations["onnx"]):
            widget.setEnabled(available)
        self.onnx_picker.setEnabled(available and self.onnx_use_weights.isChecked())

    # ------------------------------------------------------------------ export
    def start(self) -> bool:
        """Begin the export of the chosen format; False (with the reason shown in the
        dialog) when it cannot start."""
        if self.busy:
            return False
        fmt = self.format()
        refusal = network_refusal(self.controller)
        if refusal:
            return self._refuse(refusal)
        missing = FORMATS[fmt].missing()
        if missing:
            return self._refuse(missing)
        destination = self.destination()
        if destination is None:
            return self._refuse("Choose where to write the export first.")
        checkpoint = None
        if fmt == "weights":
            checkpoint = self.weights_picker.path()
            if checkpoint is None:
                return self._refuse("Choose the checkpoint (or weights file) whose "
                                    "weights to export.")
            missing = FORMATS[fmt].suffix_missing(destination.suffix)
            if missing:
                return self._refuse(missing)
        elif fmt == "onnx" and self.onnx_use_weights.isChecked():
            checkpoint = self.onnx_picker.path()
            if checkpoint is None:
                return self._refuse("Choose the checkpoint whose weights go into the "
                                    "ONNX model, or untick \u201cUse trained weights\u201d.")
        if not self._may_replace(fmt, destination):
            return False
        doc = self.controller.document.copy()  # the editor may change the original
        name = doc.name or "the network"
        self.outcome = None
        self.task.start(partial(export_network, fmt, doc, destination, checkpoint=checkpoint,
                                base_dir=self._base_dir()),
                        what=f"Exporting {name}")
        self.status.show_busy(f"Exporting {FORMATS[fmt].title.lower()} of "
                              f"\u201c{name}\u201d\u2026")
        return True

    def _refuse(self, message: str) -> bool:
        self.status.set_status(message, "error", report="")
        return False

    def _may_replace(self, fmt: str, destination: Path) -> bool:
        script = fmt == "train" and destination.suffix != ".py"
        existing = destination / "train.py" if script else destination
        if not existing.is_file():
            return True
        answer = self.window_.ask(
            "Replace the existing file?",
            f"{existing} already exists. Replace it with the export?",
            Answer.Yes | Answer.No, Answer.No)
        return answer == Answer.Yes

    def _succeeded(self, outcome: ExportOutcome) -> None:
        self.outcome = outcome
        self.status.set_status(outcome.summary, "ok", report=outcome.details)
        self.window_.statusBar().showMessage(outcome.summary, 6000)
        self.exported.emit(outcome)

    def _failed(self, message: str, _error) -> None:
        first, _, rest = message.partition("\n")
        self.status.set_status(f"Not exported: {first.rstrip(':')}", "error",
                               report=rest.rstrip())
        self.failed.emit(message)

    def reject(self) -> None:
        if self.busy:
            # Closing abandons the wait; the file is written atomically or not at all.
            self.task.cancel()
            self.status.set_status("Export cancelled.", "info")
        super().reject()


def _setup_summary(doc) -> str:
    from graph.errors import StrataError
    from runtime.setup import TrainingSetup

    try:
        s = TrainingSetup.from_document(doc)
    except StrataError as e:
        return f"needs attention: {e}"
    schedule = "" if s.schedule == "none" else f", {s.schedule} schedule"
    return (f"{s.epochs} epochs, batch {s.batch_size}, {s.optimizer} (learning rate "
            f"{s.lr:g}){schedule}, seed {s.seed}, device {s.device}")

