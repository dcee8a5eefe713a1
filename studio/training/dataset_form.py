"""The dataset chooser: every dataset of the runtime's registry and a form for its options.

Generated from the registry's declarations (``runtime.datasets.describe``), as the
inspector is generated from the layer catalog: no code here knows a particular dataset.
A dataset that needs a missing package (scikit-learn for the digits) says so with the
command that installs it; datasets read from files get a Browse button that opens a file
or folder dialog with the dataset's filter.

The form never edits the document: a choice or an option edit is checked with the
registry's ``check_spec`` and reported as ``spec_committed(spec)``; a refused value is
shown at its field. The registry imports torch, so it is loaded on first use (``load``),
not when the window opens.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.panels.param_editors import ParamEditor, editor_for
from studio.panels.wheel_guard import guard_wheel
from studio.panels.widgets import muted
from studio.theme_colors import SEVERITY_COLORS


class DatasetForm(QWidget):
    spec_committed = Signal(dict)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.loaded = False
        self.spec: dict = {}
        self.editors: dict[str, ParamEditor] = {}
        self._shown_name: str | None = None

        self.combo = QComboBox(self)
        # Long entries ("auto (CPU here)") must not widen the form past a narrow dock.
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(6)
        self.combo.setObjectName("dataset_choice")
        guard_wheel(self.combo)
        self.combo.activated.connect(self._chosen)
        self.about = muted(QLabel(self))
        self.about.setWordWrap(True)
        self.missing = QLabel(self)
        self.missing.setObjectName("dataset_missing")
        self.missing.setWordWrap(True)
        self.missing.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.missing.setStyleSheet(f"color: {SEVERITY_COLORS['error']};")
        self.missing.hide()
        self.error = QLabel(self)
        self.error.setObjectName("dataset_error")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {SEVERITY_COLORS['error']};")
        self.error.hide()
        self.options = QFormLayout()
        # In a narrow dock a long label goes above its field instead of widening the form.
        self.options.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        self.options.setContentsMargins(0, 0, 0, 0)
        self.options.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.combo)
        layout.addWidget(self.about)
        layout.addWidget(self.missing)
        layout.addWidget(self.error)
        layout.addLayout(self.options)

    # ------------------------------------------------------------------ registry
    def load(self) -> None:
        """Fill the list from the registry (imports torch; call once it may)."""
        if self.loaded:
            return
        from runtime.datasets import dataset_names, describe

        self.loaded = True
        self.combo.clear()
        model = self.combo.model()
        category = None
        for name in dataset_names():
            spec = describe(name)
            if spec.category != category:
                if category is not None:
                    self.combo.insertSeparator(self.combo.count())
                category = spec.category
                self.combo.addItem(category.upper())
                if isinstance(model, QStandardItemModel):
                    header = model.item(self.combo.count() - 1)
                    header.setEnabled(False)
                    header.setSelectable(False)
            missing = spec.missing()
            text = spec.display_name + (f"  (needs {', '.join(missing)})" if missing
                                        else "")
            self.combo.addItem("   " + text, name)
            self.combo.setItemData(self.combo.count() - 1, spec.help,
                                   Qt.ItemDataRole.ToolTipRole)
        if self.spec:
            self.set_spec(self.spec)

    def info(self):
        """The registry's declaration of the dataset shown."""
        from runtime.datasets import describe

        return describe(str(self.spec.get("name")))

    # ------------------------------------------------------------------ showing
    def set_spec(self, spec: dict, error: str | None = None) -> None:
        """Show the document's dataset (never emits)."""
        self.spec = dict(spec or {})
        if not self.loaded:
            return
        from runtime.datasets import DatasetError, describe

        name = self.spec.get("name")
        if not name:  # a new network: a prompt, not an error
            self.combo.setCurrentIndex(-1)
            self.combo.setPlaceholderText("Choose a dataset")
            self.about.setText("Choose a dataset to train on: the network is checked "
                               "against it as soon as it is chosen.")
            self.error.hide()
            self.missing.hide()
            return
        try:
            info = describe(name)
        except DatasetError as e:
            self._show_error(str(e))
            self.combo.setCurrentIndex(-1)
            return
        index = self.combo.findData(name)
        self.combo.setCurrentIndex(index)
        if name != self._shown_name:
            self._build_options(info)
        about = info.help + (f" Input: {info.input_summary}." if info.input_summary
                             else "")
        self.about.setText(about)
        missing = info.missing()
        if missing:
            from runtime.datasets.registry import INSTALL_HINTS

            hints = "; ".join(INSTALL_HINTS.get(p, f"pip install {p}") for p in missing)
            self.missing.setText(f"This dataset needs {', '.join(missing)}, which is not "
                                 f"installed. Install it with: {hints}")
        self.missing.setVisible(bool(missing))
        for key, editor in self.editors.items():
            editor.set_value(self.spec.get(key, info.option(key).default))
        self._show_error(error)

    def _show_error(self, message: str | None) -> None:
        self.error.setText(message or "")
        self.error.setVisible(bool(message))

    def _build_options(self, info) -> None:
        while self.options.rowCount():
            self.options.removeRow(0)
        self.editors = {}
        self._shown_name = info.name
        for option in info.options:
            editor = editor_for(option)
            editor.setObjectName(f"dataset_{option.name}")
            editor.committed.connect(lambda value, k=option.name: self._commit(k, value))
            self.editors[option.name] = editor
            field: QWidget = editor
            if option.name == "path" and info.path_kind:
                field = QWidget()
                row = QHBoxLayout(field)
                row.setContentsMargins(0, 0, 0, 0)
                row.addWidget(editor, 1)
                browse = QPushButton("Browse\u2026", field)
                browse.setObjectName("dataset_browse")
                browse.clicked.connect(lambda _=False, i=info: self.browse(i))
                row.addWidget(browse, 0, Qt.AlignmentFlag.AlignTop)
            self.options.addRow(option.name.replace("_", " ").capitalize(), field)

    # ------------------------------------------------------------------ intents
    def _chosen(self, index: int) -> None:
        name = self.combo.itemData(index)
        if not name or name == self.spec.get("name"):
            return
        from runtime.datasets import DatasetError, check_spec

        try:
            spec = check_spec({"name": name})
        except DatasetError as e:
            self._show_error(str(e))
            return
        self.spec_committed.emit(spec)

    def _commit(self, key: str, value) -> None:
        from runtime.datasets import DatasetError, check_spec

        wanted = {**self.spec, key: value}
        try:
            spec = check_spec(wanted)
        except DatasetError as e:
            editor = self.editors.get(key)
            if editor is not None:
                editor.set_error(str(e))
            return
        self.spec_committed.emit(spec)

    def browse(self, info) -> str | None:
        """Pick the file or folder of a dataset read from disk; returns the path."""
        current = str(self.spec.get("path") or "")
        if info.path_kind == "folder":
            path = QFileDialog.getExistingDirectory(
                self, f"Choose the folder for {info.display_name}", current)
        else:
            path, _filter = QFileDialog.getOpenFileName(
                self, f"Choose the file for {info.display_name}", current,
                info.path_filter or "All files (*)")
        if path:
            self._commit("path", path)
            return path
        return None
