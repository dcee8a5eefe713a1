"""The inspector's parts for blocks (``graph.blocks``).

- ``BlockSection``: for a selected instance, at any level, what its definition holds
  (inner layers, counted through nested blocks and repeats), its parameter and MAC
  counts from the headless analysis, how many places use the definition, and an
  "Open Block" button. Its exposed parameters and repeat count are the instance's own
  parameters, edited by the ``NodeForm`` above it like any layer's.
- ``BlockPage``: inside an open block with nothing selected, which block it is, how many
  instances its edits reach, its ports and exposed parameters.
- ``BoundParam``: inside an open block, an inner parameter that an exposed block
  parameter sets (``conv1.out_channels`` follows ``planes``) reads "= planes": each
  instance writes its own value there, so a number typed into the body would change
  nothing. It is changed on the instances (or by unexposing it).
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from graph.blocks import BLOCK

from .param_count import format_count
from .widgets import form_layout, muted, section, value_label

if TYPE_CHECKING:
    from graph import Document


def bound_params(doc: Document, node_id: str) -> dict[str, str]:
    """Parameters of inner node ``node_id`` that an exposed parameter of the block
    ``doc`` is the body of sets: {parameter: exposed name}."""
    if doc.block_name is None:
        return {}
    definition = doc.blocks.definitions.get(doc.block_name)
    if definition is None or definition.body is not doc:
        return {}
    bound = {param: e.name for e in definition.exposed
             for target, param in e.targets if target == node_id}
    bound.update({param: d.name for d in definition.derived
                  for target, param in d.targets if target == node_id})
    return bound


class BoundParam(QWidget):
    """"= planes" in place of an inner parameter's editor."""

    def __init__(self, exposed: str, default, parent: QWidget | None = None,
                 formula: str | None = None) -> None:
        super().__init__(parent)
        self.exposed = exposed
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.value = value_label(f"= <b>{exposed}</b>", self)
        self.value.setObjectName("bound_value")
        row.addWidget(self.value)
        # A derived value shows how it is computed (= in_channels * expand_ratio).
        note = muted(QLabel(f"(= {formula})" if formula is not None
                            else f"(default {_plain(default)})", self))
        row.addWidget(note, 1)
        self.setToolTip(f"Computed for each instance as {formula}, from its parameters "
                        "and its input." if formula is not None else
                        f"Each instance of the block sets this from its parameter "
                        f"`{exposed}`: change it in the instance's inspector, one "
                        "level up.")

    def text(self) -> str:
        return f"= {self.exposed}"


class BlockSection(QWidget):
    """What an instance holds, and a way in."""

    open_requested = Signal(str)  # the instance's node id

    def __init__(self, doc: Document, node_id: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.doc, self.node_id = doc, node_id
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(section("Block", self))
        self.form = form_layout()
        self.definition = value_label("", self)
        self.definition.setObjectName("block_definition")
        self.layers = value_label("", self)
        self.layers.setObjectName("block_layers")
        self.params = value_label("", self)
        self.params.setObjectName("block_params")
        self.macs = value_label("", self)
        self.macs.setObjectName("block_macs")
        self.form.addRow("definition", self.definition)
        self.form.addRow("inner layers", self.layers)
        self.form.addRow("parameters", self.params)
        self.form.addRow("MACs / example", self.macs)
        layout.addLayout(self.form)
        row = QHBoxLayout()
        row.setContentsMargins(0, 4, 0, 0)
        self.open_button = QPushButton("Open Block", self)
        self.open_button.setObjectName("inspector_open_block")
        self.open_button.setToolTip("Edit the block's inside on the canvas (double-click "
                                    "does the same; Escape comes back)")
        self.open_button.clicked.connect(lambda: self.open_requested.emit(self.node_id))
        row.addWidget(self.open_button)
        row.addStretch(1)
        layout.addLayout(row)

    def show_block(self, analysis) -> None:
        node = self.doc.nodes.get(self.node_id)
        if node is None or node.type != BLOCK:
            return
        lib = self.doc.blocks
        name = node.params.get("block")
        definition = lib.definitions.get(name) if isinstance(name, str) else None
        if definition is None:
            self.definition.setText(f"'{name}' (not defined in this network)")
            self.layers.setText("\u2014")
            self.open_button.setEnabled(False)
        else:
            uses = len(lib.instances_of(definition.name))
            self.definition.setText(
                f"{definition.name}" + (f"  \u00b7 used {uses} times: editing it "
                                        "changes every one" if uses > 1 else ""))
            repeat = int(node.params.get("repeat", 1) or 1)
            inner = definition.layer_count()
            self.layers.setText(f"{inner * repeat}  ({repeat} \u00d7 {inner})"
                                if repeat > 1 else str(inner))
            self.open_button.setEnabled(True)
        shapes = analysis.shapes.get(self.node_id) if analysis is not None else None
        values = shapes.values if shapes is not None and shapes.ok else {}
        known = "params" in values
        self.params.setText(format_count(int(values["params"])) if known
                            else "unknown until the input shape is known")
        self.macs.setText(format_count(int(values.get("macs", 0))) if known
                          else "\u2014")


def _plain(value) -> str:
    if isinstance(value, (list, tuple)):
        return "(" + ", ".join(str(v) for v in value) + ")"
    return str(value)


class BlockPage(QWidget):
    """The inspector inside an open block when no layer is selected: which block this
    is, how many places use it, its ports and its parameters."""

    def __init__(self, body: Document, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.body = body
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(4)
        self.heading = QLabel(self)
        self.heading.setObjectName("block_heading")
        font = QFont(self.heading.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.heading.setFont(font)
        layout.addWidget(self.heading)
        self.hint = muted(value_label("", self))
        self.hint.setObjectName("block_hint")
        layout.addWidget(self.hint)
        layout.addWidget(section("Block", self))
        self.form = form_layout()
        self.ports = value_label("", self)
        self.ports.setObjectName("block_ports")
        self.params = value_label("", self)
        self.params.setObjectName("block_exposed")
        self.layers = value_label("", self)
        self.layers.setObjectName("block_layers")
        self.form.addRow("ports", self.ports)
        self.form.addRow("parameters", self.params)
        self.form.addRow("inner layers", self.layers)
        layout.addLayout(self.form)
        layout.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        name = self.body.block_name
        definition = self.body.blocks.definitions.get(name) if name else None
        if definition is None or definition.body is not self.body:
            return
        uses = len(self.body.blocks.instances_of(definition.name))
        self.heading.setText(definition.name)
        self.hint.setText(
            ("Edits here change every instance of the block "
             f"({uses} in this network). " if uses > 1 else "")
            + "Select a layer to edit it; Escape goes back up.")
        self.ports.setText(f"{', '.join(definition.input_ports) or '(none)'} \u2192 "
                           f"{', '.join(definition.output_ports) or '(none)'}")
        rows = []
        for e in definition.exposed:
            targets = ", ".join(
                f"{self.body.nodes[t].label}.{p}" for t, p in e.targets if t in self.body.nodes)
            rows.append(f"<b>{e.name}</b> = {_plain(e.default)}"
                        + (f" \u2192 {targets}" if targets else ""))
        for d in definition.derived:
            targets = ", ".join(
                f"{self.body.nodes[t].label}.{p}" for t, p in d.targets if t in self.body.nodes)
            rows.append(f"<b>{d.name}</b> = {html.escape(d.expression)}"
                        + (f" \u2192 {targets}" if targets else ""))
        self.params.setText("<br>".join(rows) or "none")
        self.layers.setText(str(definition.layer_count()))
