"""Training through blocks in the window: a short real run of blocks_resnet shows
statistics on the collapsed instances and, once a block is opened (during the run and
after it), on its inner layers; a diagnosis inside a block shows on the instance, in
Problems, and on the inner layer of the copy shown; an inner layer is frozen from the
inspector for this instance only, and its overlay says so."""

from __future__ import annotations

import math

import pytest
from strata_paths import EXAMPLES
from test_training_support import wait_ended

import graph
from runtime.events import DiagnosisEvent
from studio.training.block_health import BlockHealthItem
from studio.training.overlay import DIMMED, HealthItem

# blocks_resnet: n5 "layer1" is BasicBlock x2 (inner n2 conv1, n4 relu, n5 conv2),
# n6 "layer2" a DownBlock.
SMALL = {"dataset": {"name": "shapes", "size": 96}, "epochs": 1, "batch_size": 16,
         "sample_every": 1}


@pytest.fixture
def resnet_window(make_window, tmp_path):
    doc = graph.load(EXAMPLES / "blocks_resnet.strata")
    doc.training.update(SMALL, frozen=["n5/n2"])  # conv1 of layer1, both copies
    path = tmp_path / "resnet.strata"
    graph.save(doc, path)
    window = make_window(path)
    window.resize(1600, 900)
    bench = window.training.workbench()
    bench.runner.out_root = tmp_path / "runs"
    bench.runner.threads = 1
    return window, bench


def test_an_open_block_shows_its_inner_layers_and_diagnoses_during_and_after_a_run(
        resnet_window, qtbot):
    window, bench = resnet_window
    levels = window.levels
    root_scene = window.view.network_scene
    assert "1 inner frozen" in root_scene.nodes["n5"].frozen_tag.text
    assert levels.open_block("n5")
    assert levels.run_path() == "n5:0" and levels.setup_path() == "n5"
    level = bench.level_overlay
    assert level is not None and level.overlay is not None
    scene = levels.levels[-1].scene
    assert scene.nodes["n2"].frozen  # conv1 frozen, inside too

    bench.train()
    # Live, while the run goes: the inner layers glow and have strips at full opacity.
    qtbot.waitUntil(lambda: level.overlay is not None and level.overlay.live_draws > 0,
                    timeout=120_000)
    run = wait_ended(qtbot, bench)
    assert run.status == "finished", run.message
    overlay = level.overlay
    assert overlay.prefix == "n5:0"
    conv2 = overlay.health["n5"]
    assert isinstance(conv2, HealthItem) and conv2.isVisible()
    assert conv2.opacity() == pytest.approx(DIMMED)  # the run ended: dimmed, kept
    grad = run.latest["n5:0/n5"].grad_norm
    assert grad is not None and math.isfinite(grad)
    assert f"{grad:.3g}" in conv2.toolTip()
    conv1 = overlay.health["n2"]  # frozen: no gradient, and the strip says why
    assert conv1.text == "frozen" and conv1.toolTip().startswith("Frozen")
    assert "n5:0/n2" not in run.weighted
    assert "n5" in overlay.node_heat and "n2" not in overlay.node_heat  # no gradient

    # Another copy from the breadcrumb: the second copy's numbers.
    box = window.findChild(object, "block_copy_1")
    assert box is not None and box.count() == 2
    box.setCurrentIndex(1)
    assert levels.run_path() == "n5:1"
    overlay = level.overlay
    second = run.latest["n5:1/n5"].grad_norm
    assert f"{second:.3g}" in overlay.health["n5"].toolTip()
    # Selecting an inner layer: its charts in the inspector, by its path.
    levels.current.select(["n5"])
    charts = bench.layer_charts
    qtbot.waitUntil(lambda: charts.isVisible())
    assert charts.node_id == "n5:1/n5"
    assert "layer1[1] > conv2" in charts.title.text()
    assert bench.view.gradients.selected == ["n5:1/n5"]
    levels.current.select(["n2"])  # conv1, frozen in this run: the charts say so
    assert charts.node_id == "n5:1/n2"
    assert "frozen" in charts.grad_plot.titleLabel.text
    bench.view.layer_clicked.emit("n5:1/n6")  # a heatmap row of this copy: its card
    assert levels.current.selected == ["n6"]

    # Back to the network: the instance's own strip, dimmed; reopened after the run,
    # the block shows the last run's overlays dimmed.
    levels.go_to(0)
    assert level.overlay is None
    strip = bench.overlay.health["n5"]
    assert isinstance(strip, BlockHealthItem) and strip.isVisible()
    assert "2 frozen (no gradients)" in strip.toolTip()  # conv1 of both copies
    bench.view.layer_clicked.emit("n5:0/n2")  # an inner row: its instance here
    assert window.controller.selected == ["n5"]
    assert levels.open_block("n5")
    assert level.overlay.health["n5"].isVisible()
    assert level.overlay.health["n5"].opacity() == pytest.approx(DIMMED)
    levels.go_to(0)

    # A diagnosis inside a block, as the worker sends it when a ReLU of layer1's
    # second copy dies. when a ReLU of layer1's second copy dies.
    run.apply(DiagnosisEvent("dead_relus", ("n5:1/n4",), "Dead ReLUs",
                             "62% of the units of 'layer1[1] > relu' output zero.",
                             "Lower the learning rate.", "warning", run.step, run.epoch))
    bench.runner.run_updated.emit(run, run.take_changes())  # as a drained tick does
    # The collapsed instance carries the tag; its tooltip names the inner layer by path.
    marks = bench.overlay.marked_nodes()
    assert marks == {"n5": "Dead ReLUs"}
    mark = bench.overlay.marks["n5"]
    assert "Inside this block: <b>layer1[1] &gt; relu</b>" in mark.toolTip()
    # Problems lists it on the instance (the text names the layer).
    problems = window.problems
    found = [p for p in problems.problems if p.kind == "training:dead_relus"]
    assert len(found) == 1 and found[0].node_ids == ("n5",)
    assert found[0].path == ("n5:1/n4",)
    assert "layer1[1] > relu" in found[0].message

    assert levels.open_block("n5")  # copy 1 shown: the diagnosis is in copy 2
    assert bench.level_overlay.overlay.marked_nodes() == {}
    window.findChild(object, "block_copy_1").setCurrentIndex(1)
    assert bench.level_overlay.overlay.marked_nodes() == {"n4": "Dead ReLUs"}
    assert bench.level_overlay.overlay.health["n4"].status == "warning"


def test_freezing_an_inner_layer_from_the_inspector_sets_this_instance_only(
        resnet_window, qtbot):
    window, _bench = resnet_window
    root = window.controller
    levels = window.levels
    assert levels.open_block("n5")
    box = window.findChild(object, "layer_training")
    level = levels.current
    level.select(["n5"])  # conv2 of layer1
    qtbot.waitUntil(box.isVisible)
    assert not box.freeze.isChecked() and "Inside layer1 only" in box.note.text()
    box.freeze.click()
    assert root.document.training["frozen"] == ["n5/n2", "n5/n5"]
    assert levels.levels[-1].scene.nodes["n5"].frozen
    assert not box.scale.isEnabled()  # no factor for frozen weights
    level.select(["n2"])
    assert box.freeze.isChecked()
    box.freeze.click()  # unfreeze conv1
    assert root.document.training["frozen"] == ["n5/n5"]
    box.scale.setValue(0.25)
    assert root.document.training["lr_scale"] == {"n5/n2": 0.25}
    root.undo_stack.undo()
    root.undo_stack.undo()
    assert root.document.training["frozen"] == ["n5/n2", "n5/n5"]
    assert not root.document.training.get("lr_scale")

    # The whole instance frozen at the network level: every inner layer says so, and
    # cannot be set apart inside.
    levels.go_to(0)
    root.toggle_frozen(["n5"])
    assert levels.open_block("n5")
    levels.current.select(["n5"])
    assert box.freeze.isChecked() and not box.freeze.isEnabled()
    assert "Frozen with its block" in box.note.text()
    assert levels.levels[-1].scene.nodes["n5"].frozen_tag.text.endswith("with its block")
