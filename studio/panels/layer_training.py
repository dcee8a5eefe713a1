"""How the selected layer trains: frozen or not, and its learning-rate factor.

A box under the inspector's form (``InspectorPanel.add_footer``) for one selected layer
with weights, or a block instance (whose inner layers all follow it). Both values live in
the training setup (``training["frozen"]``, ``training["lr_scale"]``), so they are saved
with the network, undone like any edit, kept by the exported train.py's parameter groups,
and shown on the canvas (a "frozen" tag, or a quiet "lr x0.1" one).

Inside an open block (``follow`` the level's controller) the box sets the inner layer of
*this instance* (its node path; ``studio.document.training_intents``): other instances
of the same definition keep their own setting, all copies of a repeated one follow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QGroupBox, QLabel, QVBoxLayout

from .wheel_guard import guard_wheel
from .widgets import form_layout, muted

if TYPE_CHECKING:
    from studio.document.controller import DocumentController

MAX_FACTOR = 10.0


class LayerTrainingBox(QGroupBox):
    def __init__(self, controller: DocumentController) -> None:
        super().__init__("Training of this layer")
        self.setObjectName("layer_training")
        self.controller = controller
        self.node_id: str | None = None
        self.freeze = QCheckBox("Freeze its weights")
        self.freeze.setObjectName("layer_freeze")
        self.freeze.setToolTip("Frozen weights get no gradients and do not change.")
        self.scale = QDoubleSpinBox()
        self.scale.setObjectName("layer_lr_scale")
        self.scale.setRange(0.0, MAX_FACTOR)
        self.scale.setDecimals(3)
        self.scale.setSingleStep(0.1)
        self.scale.setKeyboardTracking(False)  # one undo step per value, not per key
        guard_wheel(self.scale)
        self.scale.setPrefix("\u00d7 ")
        self.scale.setToolTip("This layer learns at this many times the setup's "
                              "learning rate (e.g. 0.1 for a pretrained backbone).")
        self.note = muted(QLabel())
        self.note.setObjectName("layer_training_note")
        self.note.setWordWrap(True)
        form = form_layout()
        form.addRow("Learning rate", self.scale)
        layout = QVBoxLayout(self)
        layout.addWidget(self.freeze)
        layout.addLayout(form)
        layout.addWidget(self.note)
        self.freeze.toggled.connect(self._freeze_toggled)
        self.scale.valueChanged.connect(self._scale_changed)
        self._connect(controller, True)
        self._follow(controller.selected)

    def follow(self, controller: DocumentController) -> None:
        """Set the layers of ``controller``'s level (the network's, an open block's)."""
        if controller is not self.controller:
            self._connect(self.controller, False)
            self.controller = controller
            self._connect(controller, True)
            self._follow(controller.selected)

    def _connect(self, c: DocumentController, on: bool) -> None:
        for signal, slot in ((c.selection_changed, self._follow),
                             (c.training_changed, self._training_changed),
                             (c.analysis_changed, self._analysed),
                             (c.document_replaced, self._replaced)):
            if on:
                signal.connect(slot)
            else:
                signal.disconnect(slot)

    def _training_changed(self, _event=None) -> None:
        self.show_node()

    def _analysed(self, _analysis=None) -> None:
        self.show_node()

    def _replaced(self) -> None:
        self._follow([])

    def _follow(self, node_ids: list[str]) -> None:
        self.node_id = node_ids[0] if len(node_ids) == 1 else None
        self.show_node()

    def show_node(self) -> None:
        node_id = self.node_id
        c = self.controller
        if node_id is None or node_id not in c.document.nodes or not c.weighted([node_id]):
            self.hide()
            return
        from studio.canvas.scene import block_layers

        frozen = node_id in c.frozen()
        around = c.frozen_with()  # the block shown (or one around it) frozen whole
        self.freeze.blockSignals(True)
        self.freeze.setChecked(frozen)
        self.freeze.blockSignals(False)
        self.freeze.setEnabled(around is None)
        own = c.lr_scales().get(node_id)
        inherited = c.inherited_lr_scale() if own is None and around is None else None
        self.scale.blockSignals(True)
        self.scale.setValue(own if own is not None else
                            inherited[0] if inherited is not None else 1.0)
        self.scale.blockSignals(False)
        self.scale.setEnabled(not frozen)
        layers = block_layers(c.document, node_id)
        notes = [f"A block: both apply to all {layers} of its inner layers."] if layers \
            else []
        if inherited is not None:
            notes.append(f"lr \u00d7 {inherited[0]:g} (from block '{inherited[1]}'): a "
                         "value here overrides it for this layer.")
        if c.training_root is not None:
            if around is not None:
                notes.append("Frozen with its block: unfreeze the block to choose per "
                             "layer.")
            else:
                notes.append(f"Inside {c.training_names} only: other instances of this "
                             "block keep their own setting; every copy of a repeated "
                             "block follows.")
        self.note.setText(" ".join(notes))
        self.note.setVisible(bool(notes))
        self.show()

    def _freeze_toggled(self, on: bool) -> None:
        if self.node_id is not None and on != (self.node_id in self.controller.frozen()):
            self.controller.toggle_frozen([self.node_id])

    def _scale_changed(self, value: float) -> None:
        c = self.controller
        if self.node_id is None:
            return
        inherited = c.inherited_lr_scale()
        shown = c.lr_scales().get(self.node_id,
                                  inherited[0] if inherited is not None else 1.0)
        if value != shown:
            c.set_lr_scale([self.node_id], round(value, 4))
