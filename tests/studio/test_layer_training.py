"""The selected layer's training in the inspector: freeze and learning-rate factor, one
undo step each, shown on the canvas; a frozen block says all its inner layers are."""

from __future__ import annotations

from strata_paths import EXAMPLES

import graph
from studio.canvas.scene import block_layers
from studio.panels.layer_training import LayerTrainingBox


# blocks_resnet: n2 the stem Conv2d, n4 its ReLU, n5 the first residual Block.
def test_the_learning_rate_factor_is_edited_undone_and_shown(qtbot, make_window):
    window = make_window(EXAMPLES / "blocks_resnet.strata")
    controller = window.controller
    qtbot.waitUntil(lambda: controller.analysis is not None)
    box = window.inspector.findChild(LayerTrainingBox)
    doc = controller.document
    stem = "n2"
    controller.select([stem])
    assert not box.isHidden() and not box.freeze.isChecked() and box.scale.value() == 1.0
    box.scale.setValue(0.1)
    assert doc.training["lr_scale"] == {stem: 0.1}
    item = window.scene.nodes[stem]
    assert item.frozen_tag.isVisible() and item.frozen_tag.text == "lr \u00d70.1"
    assert not item.frozen_tag.strong and "0.1 \u00d7 the learning rate" in item.toolTip()
    controller.undo_stack.undo()
    assert doc.training.get("lr_scale") in (None, {}) and box.scale.value() == 1.0
    assert (not item.frozen_tag.isVisible())
    controller.undo_stack.redo()
    assert box.scale.value() == 0.1
    # A layer without weights has nothing to scale or freeze.
    controller.select(["n4"])
    assert box.isHidden()


def test_freezing_a_block_freezes_its_inner_layers_and_its_card_says_so(qtbot,
                                                                         make_window):
    window = make_window(EXAMPLES / "blocks_resnet.strata")
    controller = window.controller
    qtbot.waitUntil(lambda: controller.analysis is not None)
    box = window.inspector.findChild(LayerTrainingBox)
    doc = controller.document
    block = "n5"
    controller.select([block])
    layers = block_layers(doc, block)  # the definition's layers, times its repeat
    assert layers > 6
    assert f"all {layers} of its inner layers" in box.note.text() and not box.note.isHidden()
    box.freeze.click()
    assert doc.training["frozen"] == [block] and not box.scale.isEnabled()
    tag = window.scene.nodes[block].frozen_tag
    assert tag.isVisible() and tag.strong
    assert tag.text == f"\u2744 frozen: all {layers} inner layers"
    controller.undo_stack.undo()
    assert not doc.training.get("frozen") and not box.freeze.isChecked()
    assert (not tag.isVisible())
    assert graph.blocks.BLOCK == doc.nodes[block].type
