"""The inspector's page for the network itself: name, description and a summary.

Shown when no node or several nodes are selected. The summary is a Keras-style table
(layer (type), output shape, parameters) of the whole network or of the selection, with
totals and the validation state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph.errors import DocumentError
from graph.outputs import output_ids, output_task
from graph.problems import Problem

from ..theme_colors import category_color, severity_color, swatch_icon
from .param_count import ParamCounter, countable, format_count
from .param_editors import _Line
from .widgets import align_forms, form_layout, muted, section, value_label

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

SUMMARY_ROWS = 500  # beyond this the table would only slow down big networks


class _Description(QPlainTextEdit):
    """Multi-line text committed when the user leaves the field."""

    committed = Signal(str)

    def focusOutEvent(self, event) -> None:
        super().focusOutEvent(event)
        self.committed.emit(self.toPlainText())


class NetworkForm(QWidget):
    def __init__(self, controller: DocumentController, counter: ParamCounter, parent: QWidget | None = None):
        super().__init__(parent)
        self.controller = controller
        self.counter = counter
        self.selection: list[str] = []
        self.listed: list[Problem] | None = None  # what Problems lists, once it feeds us
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(4)

        self.heading = QLabel("Network", self)
        font = QFont(self.heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.heading.setFont(font)
        layout.addWidget(self.heading)
        self.hint = muted(QLabel("Select a layer to edit its parameters.", self))
        layout.addWidget(self.hint)

        layout.addWidget(section("Network", self))
        form = form_layout()
        self.name = _Line(self)
        self.name.setObjectName("network_name")
        self.name.editingFinished.connect(self._commit_name)
        self.name.escaped.connect(self.show_metadata)
        self.name_error = QLabel(self)
        self.name_error.setStyleSheet(f"color: {severity_color('error').name()};")
        self.name_error.hide()
        self.description = _Description(self)
        self.description.setObjectName("network_description")
        self.description.setPlaceholderText("What the network does, for the docstring of "
                                            "the generated code.")
        self.description.setTabChangesFocus(True)
        self.description.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.description.committed.connect(self._commit_description)
        form.addRow("name", self.name)
        form.addRow("", self.name_error)
        form.addRow("description", self.description)
        layout.addLayout(form)

        layout.addWidget(section("Summary", self))
        summary = form_layout()
        self.counts = value_label("", self)
        self.params = value_label("", self)
        self.status = value_label("", self)
        self.io = value_label("", self)
        summary.addRow("layers", self.counts)
        summary.addRow("parameters", self.params)
        summary.addRow("status", self.status)
        summary.addRow("tensors", self.io)
        layout.addLayout(summary)
        align_forms(form, summary)

        self.table = QTreeWidget(self)
        self.table.setObjectName("summary_table")
        self.table.setHeaderLabels(["Layer (type)", "Output shape", "Params"])
        self.table.setRootIsDecorated(False)
        self.table.setUniformRowHeights(True)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        header = self.table.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.table.setMinimumHeight(160)
        self.table.viewport().installEventFilter(self)  # its width: _fit_columns
        layout.addWidget(self.table, 1)

        # (analysis, selected ids or None) whose total the label waits for
        self._total_of: tuple[object, tuple[str, ...] | None] | None = None
        self.show_metadata()
        counter.ready.connect(self.show_analysis)
        counter.total_counted.connect(self._counted)

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.Resize and watched is self.table.viewport():
            self._fit_columns()
        return False

    def _fit_columns(self) -> None:
        """The shape and count columns as wide as their text while the layer column
        keeps 40% of the table; narrower (their text elided) when it would not (in a
        280 px inspector "14,528 (14.5 k)" left the layer names 30 px)."""
        header, width = self.table.header(), self.table.viewport().width()
        want = [max(self.table.sizeHintForColumn(i), header.sectionSizeHint(i))
                for i in (1, 2)]
        room = width - max(110, int(0.4 * width))
        mode = QHeaderView.ResizeMode
        if sum(want) <= room:
            for i in (1, 2):
                header.setSectionResizeMode(i, mode.ResizeToContents)
            return
        for i, w in zip((1, 2), want):
            header.setSectionResizeMode(i, mode.Interactive)
            header.resizeSection(i, max(40, int(w * max(room, 0) / sum(want))))

    # ------------------------------------------------------------------ document -> form
    def set_selection(self, node_ids: list[str]) -> None:
        self.selection = list(node_ids)
        self.hint.setText("Select a single layer to edit its parameters."
                          if node_ids else "Select a layer to edit its parameters.")
        self.show_analysis()

    def show_metadata(self) -> None:
        doc = self.controller.document
        if self.name.text() != doc.name:
            self.name.setText(doc.name)
        if self.description.toPlainText() != doc.description:
            self.description.setPlainText(doc.description)
        self.name_error.hide()
        self.heading.setText(doc.name or "Network")

    def show_analysis(self, *_args) -> None:
        analysis = self.controller.analysis
        doc = self.controller.document
        if analysis is None or analysis.doc is not doc:
            return
        chosen = [i for i in self.selection if i in doc.nodes]
        # The analysis may be one edit behind (it reruns on the next event-loop turn).
        ids = chosen or [i for i in (analysis.order or doc.nodes) if i in doc.nodes]
        wires = len(doc.edges)
        if chosen:
            self.counts.setText(f"{len(chosen)} of {len(doc.nodes)} selected")
        else:
            self.counts.setText(f"{len(doc.nodes)} layers, {wires} wire"
                                f"{'s' if wires != 1 else ''}")
        troubled = {i for p in analysis.problems for i in p.node_ids}
        self.table.setUpdatesEnabled(False)
        self.table.clear()
        # Only the first rows are shown; the total of a large network is counted in
        # the background (``ParamCounter.request_total``) and arrives in ``_counted``.
        for node_id in ids[:SUMMARY_ROWS]:
            node = doc.nodes[node_id]
            shapes = analysis.shapes.get(node_id)
            n = None
            if shapes is not None and countable(node.spec, shapes):
                n = self.counter.count(node.type, shapes.params, shapes.values)
            out = next(iter(shapes.outputs.values()), None) if shapes else None
            item = QTreeWidgetItem(self.table, [
                f"{node.title} ({node.spec.display_name})",
                out.wire_label() if out is not None else "\u2014",
                format_count(n) if n is not None else "\u2014"])
            item.setIcon(0, swatch_icon(category_color(node.spec.category), 10, 5.0))
            for column in range(3):  # whole, one hover away, when a column is cut
                item.setToolTip(column, item.text(column))
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight
                                  | Qt.AlignmentFlag.AlignVCenter)
            if node_id in troubled:
                item.setForeground(0, severity_color("error"))
        self.table.setUpdatesEnabled(True)
        self._fit_columns()
        self._total_of = (analysis, tuple(chosen) if chosen else None)
        total = self.counter.request_total(analysis, chosen or None)
        self.params.setText(format_count(total))  # None: "..." until it is counted
        self._show_validity(self.listed if self.listed is not None else analysis.problems)
        ins = [f"{doc.nodes[i].title} {_shape(analysis, i, 'out')}"
               for i in ids if doc.nodes[i].type == "Input"]
        outs = [f"{doc.nodes[i].title} ({output_task(analysis, i)})"
                for i in output_ids(analysis)]
        self.io.setText(" \u2192 ".join(x for x in ("; ".join(ins), "; ".join(outs)) if x)
                        or "\u2014")

    def show_problems(self, problems: list[Problem]) -> None:
        """Count what Problems lists (the dataset check's mismatches too)."""
        self.listed = problems
        self._show_validity(problems)

    def _show_validity(self, problems: list[Problem]) -> None:
        errors = sum(p.is_error for p in problems)
        warnings = len(problems) - errors
        if errors:
            self.status.setText(f"<span style='color:{severity_color('error').name()}'>"
                                f"{_count(errors, 'error')}</span>"
                                + (f", {_count(warnings, 'warning')}" if warnings else ""))
        else:
            ok = severity_color("ok").name()
            self.status.setText(f"<span style='color:{ok}'>valid</span>"
                                + (f", {_count(warnings, 'warning')}" if warnings else ""))

    def _counted(self, analysis, node_ids, total: int | None) -> None:
        if self._total_of is not None and self._total_of[0] is analysis \
                and self._total_of[1] == node_ids:
            self.params.setText(format_count(total) if total is not None else "\u2014")

    # ------------------------------------------------------------------ intents
    def _commit_name(self) -> None:
        text = self.name.text().strip()
        if not text:
            self.name_error.setText("The network needs a name: it becomes the class "
                                    "name of the generated code.")
            self.name_error.show()
            return
        if text != self.controller.document.name:
            try:
                self.controller.set_metadata(name=text)
            except DocumentError as e:  # longer than a file may hold, or not Unicode
                self.name_error.setText(e.message)
                self.name_error.show()
                return
        self.name_error.hide()

    def _commit_description(self, text: str) -> None:
        if text != self.controller.document.description:
            try:
                self.controller.set_metadata(description=text)
            except DocumentError as e:
                self.name_error.setText(e.message)
                self.name_error.show()
                return
            self.name_error.hide()


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def _shape(analysis, node_id: str, port: str) -> str:
    shapes = analysis.shapes.get(node_id)
    t = shapes.outputs.get(port) if shapes else None
    return f"({t.wire_label()})" if t is not None else ""
