"""The training setup form: dataset (with a preview), split, optimizer, schedule, batch
size, epochs, device.

Everything shown is read from ``doc.training`` through ``TrainingSetup`` (defaults for
what the document leaves out) and everything edited is written back with
``controller.set_training``: one undo step per edit, saved with the network. Values are
checked by ``TrainingSetup`` before they are written; a refused value stays at its field
with the runtime's reason. The form is generated from ``runtime.setup.SETTINGS`` (each
setting's editor, label, group, help and when it is shown), so it cannot disagree with
what a run accepts.

The dataset registry and device probe import torch, so the form fills itself the first
time it is shown rather than when the window opens.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QVBoxLayout, QWidget

from graph.events import TrainingChanged
from runtime.setup import SETTINGS, SETTINGS_BY_NAME, setting_groups
from studio.panels.param_editors import ParamEditor, editor_for
from studio.panels.widgets import section
from studio.theme_colors import SEVERITY_COLORS

from .augment_panel import AugmentPanel
from .dataset_form import DatasetForm
from .dataset_preview import DatasetPreview

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

# Checks the other settings while no dataset is chosen (never written to the document).
PLACEHOLDER = {"name": "spirals"}


class TrainingSetupPanel(QWidget):
    ready = Signal()  # the form was filled (first shown): training is near

    def __init__(self, controller: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("TrainingSetupPanel")
        self.controller = controller
        self.loaded = False
        self.values: dict = {}
        self.editors: dict[str, ParamEditor] = {}
        self.rows: dict[str, tuple[QLabel, ParamEditor]] = {}
        self.devices: list[str] = []
        self._preview_key: tuple | None = None  # what the preview last showed

        self.problem = QLabel(self)
        self.problem.setObjectName("setup_problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet(f"color: {SEVERITY_COLORS['error']};")
        self.problem.hide()
        self.dataset = DatasetForm(self)
        self.dataset.spec_committed.connect(lambda spec: self.commit("dataset", spec))
        self.preview = DatasetPreview(self)
        self.augment = AugmentPanel(controller, self)
        self.preview.sampled.connect(self.augment.set_samples)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 4, 10, 10)
        layout.setSpacing(2)
        layout.addWidget(self.problem)
        layout.addWidget(section("Dataset", self))
        layout.addWidget(self.dataset)
        layout.addWidget(self.preview)
        layout.addWidget(section("Augmentation", self))
        layout.addWidget(self.augment)
        for title, settings in setting_groups():
            layout.addWidget(section(title, self))
            form = QFormLayout()
            # In a narrow dock a long label goes above its field instead of widening the form.
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            form.setContentsMargins(0, 0, 0, 0)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for setting in settings:
                key = setting.name
                editor = editor_for(setting.param)
                editor.setObjectName(f"setting_{key}")
                editor.committed.connect(lambda value, k=key: self.commit(k, value))
                label = QLabel(setting.label)
                label.setToolTip(setting.param.help)
                form.addRow(label, editor)
                self.editors[key] = editor
                self.rows[key] = (label, editor)
            layout.addLayout(form)
        layout.addStretch(1)

        controller.document_replaced.connect(self.refresh)
        controller.training_changed.connect(self._on_training_changed)

    # ------------------------------------------------------------------ loading
    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.load()

    def load(self) -> None:
        """Fill the dataset list and devices (imports torch) and show the document."""
        if self.loaded:
            return
        self.loaded = True
        self.dataset.load()
        self.augment.load()
        self._load_devices()
        self.refresh()
        from .runner import freeze_heap

        freeze_heap()  # torch is in now: keep its objects out of the collector's way
        self.ready.emit()

    def _load_devices(self) -> None:
        from runtime.setup import available_devices

        self.devices = available_devices()
        combo = self.editors["device"].field
        if not isinstance(combo, QComboBox):  # a choice setting is edited in a combo box
            return
        choices = SETTINGS_BY_NAME["device"].param.choices
        model = combo.model()
        for i, name in enumerate(choices):
            if name == "auto":
                text = f"auto ({self.devices[0].upper()} here)"
            elif name in self.devices:
                text = f"{name} (available)"
            else:
                text = f"{name} (not available on this machine)"
            combo.setItemText(i, text)
            item = model.item(i) if isinstance(model, QStandardItemModel) else None
            if item is not None:
                item.setEnabled(name == "auto" or name in self.devices)

    # ------------------------------------------------------------------ document -> form
    def _on_training_changed(self, _event: TrainingChanged) -> None:
        self.refresh()

    def setup(self):
        """The document's setup (checked, defaults filled) or None with the reason shown."""
        from runtime.setup import SetupError, TrainingSetup

        raw = dict(self.controller.document.training or {})
        try:
            if not raw.get("dataset"):  # nothing chosen yet: the other fields still show
                return TrainingSetup.from_dict({**raw, "dataset": PLACEHOLDER})
            return TrainingSetup.from_document(self.controller.document)
        except SetupError as e:
            self._show_problem(f"The training setup in this file has a problem: {e}")
            return None

    def refresh(self) -> None:
        if not self.loaded:
            return
        self._show_problem(None)
        raw = dict(self.controller.document.training or {})
        setup = self.setup()
        if setup is not None:
            values = setup.to_dict()
        else:  # show what can be shown; the problem line says what is wrong
            values = {s.name: raw.get(s.name, s.param.default) for s in SETTINGS}
            values["dataset"] = raw.get("dataset") or {}
        if isinstance(values.get("dataset"), str):
            values["dataset"] = {"name": values["dataset"]}
        if not raw.get("dataset"):
            values["dataset"] = {}
        self.values = values
        for key, editor in self.editors.items():
            editor.set_value(values.get(key))
            label, _ = self.rows[key]
            shown = SETTINGS_BY_NAME[key].applies(values)
            label.setVisible(shown)
            editor.setVisible(shown)
        self.dataset.set_spec(values.get("dataset") or {})
        self._request_preview()

    def _request_preview(self) -> None:
        spec = self.values.get("dataset")
        if not spec or not spec.get("name"):
            return
        key = (repr(sorted(spec.items())), self.values.get("seed", 0),
               self.values.get("val_fraction"), self.values.get("test_fraction"))
        if key != self._preview_key:
            self._preview_key = key
            self.preview.request(spec, int(self.values.get("seed", 0) or 0),
                                 float(self.values.get("val_fraction", 0.2)),
                                 float(self.values.get("test_fraction", 0.1)))

    def _show_problem(self, message: str | None) -> None:
        self.problem.setText(message or "")
        self.problem.setVisible(bool(message))

    # ------------------------------------------------------------------ form -> document
    def commit(self, key: str, value) -> bool:
        """Check ``key = value`` with the runtime and write it as one undo step."""
        from runtime.setup import SetupError, TrainingSetup

        raw = dict(self.controller.document.training or {})
        try:
            probe = {**raw, key: value}
            if not probe.get("dataset"):  # other settings may come before the dataset
                probe["dataset"] = PLACEHOLDER
            TrainingSetup.from_dict(probe)
        except SetupError as e:
            editor = self.editors.get(key)
            if editor is not None:
                editor.set_error(str(e))
            elif key == "dataset":
                self.dataset.set_spec(self.values.get("dataset") or {}, str(e))
            else:
                self._show_problem(str(e))
            return False
        setting = SETTINGS_BY_NAME.get(key)
        stack = self.controller.undo_stack
        stack.beginMacro(f"Set {setting.label.lower() if setting else key}")
        try:
            self.controller.set_training(key, value)
        finally:
            stack.endMacro()
        return True
