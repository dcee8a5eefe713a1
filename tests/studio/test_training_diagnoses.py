"""Diagnoses from a real run land on the right nodes of the canvas: the deep sigmoid
story example is diagnosed with vanishing gradients on its first layers, and its ReLU
twin (same depth) is not."""

from __future__ import annotations

from test_training_support import node_id, wait_ended, workbench

import graph
from studio.resources import EXAMPLES


def story(name: str, epochs: int = 3):
    doc = graph.load(EXAMPLES / f"{name}.strata")
    doc.training["epochs"] = epochs  # the story shows within the first epochs
    return doc


def test_vanishing_gradients_are_marked_on_the_first_layers(qtbot, tmp_path):
    doc = story("deep_sigmoid_mlp")
    controller, _view, bench = workbench(qtbot, doc, tmp_path, problems=True)
    bench.train()
    qtbot.waitUntil(lambda: bool(bench.overlay.marked_nodes()), timeout=120_000)
    marks = bench.overlay.marked_nodes()
    fc1 = node_id(doc, "fc1")
    assert marks[fc1].startswith("Vanishing gradients")
    assert node_id(doc, "classifier") not in marks  # the output side learns fine
    # The mark explains and suggests the fix in its tooltip.
    tip = bench.overlay.marks[fc1].toolTip()
    assert "smaller" in tip and "ReLU" in tip
    run = wait_ended(qtbot, bench)
    assert run.status == "finished"
    assert fc1 in bench.overlay.marked_nodes()  # still there after the run
    # In the heatmap, the first layer's gradient is orders of magnitude below the last.
    values = bench.view.gradients.row_values(fc1)
    last = bench.view.gradients.row_values(node_id(doc, "classifier"))
    assert values[-1] < last[-1] - 2  # log10: more than 100 times smaller
    # Selecting the marked node selects its plots.
    controller.select([fc1])
    assert bench.view.gradients.chosen() == [fc1]
    # The Problems panel lists it with the explanation and the fix; a click selects.
    panel = bench.problems
    rows = [p for p in panel.problems if p.kind == "training:vanishing_gradients"]
    assert len(rows) == 1 and fc1 in rows[0].node_ids
    assert "Vanishing gradients" in rows[0].message and "ReLU" in rows[0].hint
    controller.select([])
    panel.activate(panel.problems.index(rows[0]))
    assert fc1 in controller.selected


def test_the_relu_twin_is_not_diagnosed(qtbot, tmp_path):
    doc = story("deep_relu_mlp")
    _controller, _view, bench = workbench(qtbot, doc, tmp_path)
    bench.train()
    run = wait_ended(qtbot, bench)
    assert run.status == "finished", run.message
    assert run.layer_samples >= 3  # enough samples for a verdict were taken
    assert not [d for d in run.diagnoses if d.kind == "vanishing_gradients"]
    assert not bench.overlay.marked_nodes()
