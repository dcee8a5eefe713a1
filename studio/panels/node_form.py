"""The inspector's form for one node, generated from its layer type's declaration.

One editor per ``ParamSpec`` (see ``param_editors``), then what analysis inferred: values
such as ``in_features``, the tensors in and out, the parameter count and the problems of
this node. The form holds only the node id; values are read from the document and the
latest analysis whenever they change, so undo and redo show through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from graph.blocks import BLOCK
from graph.errors import DocumentError, ParamError

from ..theme_colors import SEVERITY_COLORS, category_color, swatch_icon
from .block_form import BlockSection, BoundParam, bound_params
from .param_count import ParamCounter, countable, format_count
from .param_editors import ParamEditor, StrEditor, _Line, editor_for
from .widgets import align_forms, form_layout, muted, section, value_label

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

ERROR_MARK = "\u2716"
WARNING_MARK = "\u26a0"


class NodeForm(QWidget):
    open_block_requested = Signal(str)  # a block instance's "Open Block"

    def __init__(self, controller: DocumentController, node_id: str, counter: ParamCounter,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.node_id = node_id
        self.document = controller.document  # edits never go to another document
        self.counter = counter
        node = controller.document.node(node_id)
        spec = node.spec
        self.spec = spec

        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(4)

        # header: category swatch, title, type and category, help
        head = QHBoxLayout()
        head.setSpacing(8)
        swatch = QLabel(self)
        swatch.setPixmap(swatch_icon(category_color(spec.category), 14).pixmap(14, 14))
        head.addWidget(swatch, 0, Qt.AlignmentFlag.AlignVCenter)
        self.title = QLabel(self)
        font = QFont(self.title.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.title.setFont(font)
        head.addWidget(self.title, 1)
        layout.addLayout(head)
        self.subtitle = muted(QLabel(f"{spec.display_name} \u00b7 {spec.category}", self))
        layout.addWidget(self.subtitle)
        help_text = muted(QLabel(spec.help, self))
        help_text.setWordWrap(True)
        layout.addWidget(help_text)

        # the label, then one editor per declared parameter
        layout.addWidget(section("Layer", self))
        form = self.label_form = form_layout()
        self.label_editor = _LabelEditor(self)
        self.label_editor.committed.connect(self._commit_label)
        form.addRow("label", self.label_editor)
        layout.addLayout(form)
        if spec.params:
            layout.addWidget(section("Parameters", self))
        form = self.param_form = form_layout()
        self.editors: dict[str, ParamEditor] = {}
        # Inside an open block: parameters an exposed block parameter sets.
        self.bound: dict[str, BoundParam] = {}
        bound = bound_params(controller.document, node_id)
        block_name = controller.document.block_name  # set whenever ``bound`` is not empty
        for p in spec.params:
            if p.name in bound and block_name is not None:
                exposed = bound[p.name]
                definition = controller.document.blocks[block_name]
                default = next((e.default for e in definition.exposed
                                if e.name == exposed), None)
                formula = next((d.expression for d in definition.derived
                                if d.name == exposed), None)
                widget = self.bound[p.name] = BoundParam(exposed, default, self, formula)
                widget.setObjectName(f"bound_{p.name}")
                name = QLabel(p.name, self)
                name.setToolTip(p.help)
                form.addRow(name, widget)
                continue
            editor = editor_for(p, self)
            editor.setObjectName(f"param_{p.name}")
            editor.committed.connect(lambda value, name=p.name: self._commit(name, value))
            name = QLabel(p.name, self)
            name.setToolTip(p.help)
            form.addRow(name, editor)
            self.editors[p.name] = editor
        layout.addLayout(form)
        self.block: BlockSection | None = None
        if node.type == BLOCK:
            self.block = BlockSection(controller.document, node_id, self)
            self.block.open_requested.connect(self.open_block_requested)
            layout.addWidget(self.block)

        # what analysis found
        self.inferred_header = section("Inferred", self)
        layout.addWidget(self.inferred_header)
        self.inferred_form = form_layout()
        layout.addLayout(self.inferred_form)
        self.inferred: dict[str, QLabel] = {}

        layout.addWidget(section("Tensors", self))
        self.tensor_form = form_layout()
        layout.addLayout(self.tensor_form)

        self.size_header = section("Size", self)
        layout.addWidget(self.size_header)
        size_form = self.size_form = form_layout()
        self.param_count = value_label("", self)
        self.macs = value_label("", self)
        size_form.addRow("parameters", self.param_count)
        size_form.addRow("MACs / example", self.macs)
        layout.addLayout(size_form)
        if self.block is not None:  # its counts are in the Block section
            self.size_header.hide()
            for row in range(size_form.rowCount()):
                size_form.setRowVisible(row, False)

        self.problems = value_label("", self)
        self.problems.setStyleSheet(f"color: {SEVERITY_COLORS['error']};")
        self.problems.setContentsMargins(0, 8, 0, 0)
        layout.addWidget(self.problems)
        layout.addStretch(1)

        self.show_node()
        self.show_analysis(controller.analysis)
        counter.ready.connect(self._counter_ready)

    # ------------------------------------------------------------------ document -> form
    def show_node(self) -> None:
        node = self.controller.document.node(self.node_id)
        self.title.setText(node.title)
        self.label_editor.set_value(node.label)
        for name, editor in self.editors.items():
            editor.set_value(node.params.get(name))

    def show_param(self, name: str) -> None:
        node = self.controller.document.node(self.node_id)
        if name in self.editors:
            self.editors[name].set_value(node.params.get(name))

    def show_analysis(self, analysis) -> None:
        shapes = analysis.shapes.get(self.node_id) if analysis else None
        self._show_inferred(shapes.values if shapes else {})
        self._show_tensors(shapes)
        self._show_size(shapes)
        forms = [self.label_form, self.param_form, self.inferred_form,
                 self.tensor_form, self.size_form]
        if self.block is not None:
            self.block.show_block(analysis)
            forms.append(self.block.form)
        align_forms(*forms)
        problems = analysis.problems_of(self.node_id) if analysis else []
        own = [p for p in problems if p.node_ids and p.node_ids[0] == self.node_id] or problems
        self.problems.setText("\n".join(
            (WARNING_MARK if p.severity == "warning" else ERROR_MARK) + " " + p.message
            + (f" \u2014 {p.hint}" if p.hint else "") for p in own))
        worst = "error" if any(p.is_error for p in own) else "warning"
        self.problems.setStyleSheet(f"color: {SEVERITY_COLORS[worst]};")
        self.problems.setVisible(bool(own))

    def _show_inferred(self, values: dict[str, Any]) -> None:
        # A block instance's "runs" are the analyses of its inside (for code and
        # the canvas), not a value to read: its macs and params say the totals.
        hidden = ("runs", "params", "macs") if self.block is not None else ("runs",)
        values = {k: v for k, v in values.items() if k not in hidden}
        for name in list(self.inferred):
            if name not in values:
                self.inferred_form.removeRow(self.inferred.pop(name))
        for name, value in values.items():
            text = f"{_plain(value)}  <i>(inferred)</i>"
            if name in self.inferred:
                self.inferred[name].setText(text)
            else:
                label = muted(value_label(text, self))
                label.setObjectName(f"inferred_{name}")
                label.setToolTip("Computed from the incoming tensor; not editable.")
                self.inferred[name] = label
                self.inferred_form.addRow(name, label)
        self.inferred_header.setVisible(bool(values))

    def _show_tensors(self, shapes) -> None:
        while self.tensor_form.rowCount():
            self.tensor_form.removeRow(0)
        node = self.controller.document.node(self.node_id)
        params = node.params
        rows: list[tuple[str, str]] = []
        for port in node.spec.input_names(params):
            t = shapes.inputs.get(port) if shapes else None
            rows.append((f"in: {port}" if port != "in" else "input", _tensor(t)))
        for port in node.spec.output_names(params):
            t = shapes.outputs.get(port) if shapes else None
            rows.append((f"out: {port}" if port != "out" else "output", _tensor(t)))
        for name, text in rows:
            label = value_label(text, self)
            label.setObjectName(f"tensor_{name}")
            self.tensor_form.addRow(name, label)

    def _show_size(self, shapes) -> None:
        if not countable(self.spec, shapes):
            self.param_count.setText("unknown until the input shape is known")
            self.macs.setText("\u2014")
            return
        n = self.counter.count(self.spec.type, shapes.params, shapes.values)
        self.param_count.setText("counting\u2026" if n is None else format_count(n))
        macs = None
        if self.spec.macs and shapes.outputs:
            try:
                macs = self.spec.macs({**shapes.params, **shapes.values},
                                      list(shapes.inputs.values()),
                                      list(shapes.outputs.values()))
            except (KeyError, TypeError, ValueError, IndexError):
                macs = None
        self.macs.setText(format_count(int(macs)) if macs is not None else "\u2014")

    def _counter_ready(self) -> None:
        self._show_size(self.controller.analysis.shapes.get(self.node_id)
                        if self.controller.analysis else None)

    # ------------------------------------------------------------------ form -> intents
    def _alive(self) -> bool:
        doc = self.controller.document
        return doc is self.document and self.node_id in doc.nodes

    def _commit(self, name: str, value: Any) -> None:
        if not self._alive():
            return
        editor = self.editors[name]
        try:
            self.controller.set_param(self.node_id, name, value)
        except ParamError as e:
            editor.set_error(str(e))
            return
        # Also when nothing changed ("3" for (3, 3)): show the stored form.
        self.show_param(name)
        if self.controller.locked:  # refused: say why where the user typed
            editor.set_error(self.controller.lock_reason or "The network is locked")

    def _commit_label(self, text: str) -> None:
        if not self._alive():
            return
        if not text.strip():
            self.label_editor.set_error("A layer needs a label; it names the layer in "
                                        "the generated code. Received an empty label.")
            return
        try:
            self.controller.set_label(self.node_id, text)
        except DocumentError as e:  # longer than a file may hold, or not Unicode
            self.label_editor.set_error(e.message)
            return
        node = self.controller.document.node(self.node_id)
        self.label_editor.set_value(node.label)
        self.title.setText(node.title)

    def flush(self) -> None:
        """Commit what is being typed before the form goes away."""
        if not self._alive():
            return
        for editor in [self.label_editor, *self.editors.values()]:
            if editor.field.hasFocus() and hasattr(editor, "_finished"):
                editor._finished()


class _LabelEditor(StrEditor):
    def __init__(self, parent: QWidget | None = None) -> None:
        from graph.catalog import ParamSpec

        super().__init__(ParamSpec("label", "str", "", "The layer's name: the attribute "
                                   "name in the generated code."), parent)
        self.setObjectName("label")

    def _make_field(self) -> _Line:
        field = _Line(self)
        field.editingFinished.connect(self._finished)
        field.escaped.connect(self.revert)
        return field


def _tensor(t) -> str:
    if t is None:
        return "\u2014"
    text = t.wire_label()
    return f"{text}   (token ids)" if t.dtype == "long" else text


def _plain(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)
