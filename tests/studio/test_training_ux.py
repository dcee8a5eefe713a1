"""The training view as a user meets it: the runs list and the plots belong to the
document shown, and a run's numbers agree wherever they are quoted."""

from __future__ import annotations

import numpy as np
import pytest
from strata_paths import EXAMPLES
from test_training_support import tiny_mlp, wait_ended, workbench

import graph


def test_runs_list_and_plots_follow_the_document_shown(qtbot, tmp_path):
    doc = tiny_mlp(epochs=1)
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    path = tmp_path / "tiny.strata"
    controller.save(path)
    bench.train()
    first = wait_ended(qtbot, bench)
    runs = bench.panel.runs
    assert runs.tree.topLevelItemCount() == 1
    assert bench.view.run is first

    # Another network (an example opens untitled): no runs, no plots of the old one.
    other = tiny_mlp(epochs=1, depth=1)
    other.name = "Other MLP"
    controller.set_document(other)
    assert runs.tree.topLevelItemCount() == 0
    assert bench.view.run is None and bench.view.curves.run is None
    assert "Ready to train" in bench.panel.controls.status.text()
    xs, _ys = bench.view.curves.loss_train.getOriginalDataset()
    assert xs is None or len(xs) == 0

    # Its own run is listed alone; saved under a name, its run stays with it.
    bench.train()
    second = wait_ended(qtbot, bench)
    assert [runs.tree.topLevelItem(i).text(1) for i in range(runs.tree.topLevelItemCount())
            ] == ["Other MLP"]
    controller.save(tmp_path / "other.strata")
    assert runs.runs == [second]

    # Reopening the first file brings its run back.
    controller.set_document(graph.load(path), path)
    assert runs.runs == [first]


LONG = ("Relative to its weights, the gradient reaching 'fc1' is 12,345 times smaller than "
        "at 'fc6'. The first layers ('fc1', 'fc2' and 'fc3') barely learn: each layer the "
        "gradient passes on the way back towards the input shrinks it further.")


def test_problem_text_wraps_and_is_whole_in_its_tooltip(make_window, qtbot):
    from PySide6.QtCore import QRect, Qt

    from runtime.events import DiagnosisEvent

    window = make_window(EXAMPLES / "deep_sigmoid_mlp.strata")
    window.resize(1280, 720)
    doc = window.controller.document
    fc = [n.id for n in doc.nodes.values() if n.label in ("fc1", "fc2")]
    window.problems.set_diagnoses([DiagnosisEvent(
        "vanishing_gradients", tuple(fc), "Vanishing gradients", LONG,
        "Replace Sigmoid with ReLU.", "warning", 10, 1)])
    window._show_problems()
    tree = window.problems.tree
    qtbot.waitUntil(lambda: tree.isVisible() and tree.topLevelItemCount() == 1)
    item = tree.topLevelItem(0)
    text = item.text(1)
    assert LONG in text and "Fix:" in text

    def fits() -> bool:  # the row is as tall as its text wrapped at the column's width
        width = tree.header().sectionSize(1) - 12
        needed = tree.fontMetrics().boundingRect(
            QRect(0, 0, width, 100_000), int(Qt.TextFlag.TextWordWrap), text).height()
        return tree.visualItemRect(item).height() >= needed

    qtbot.waitUntil(fits)
    assert tree.textElideMode() == Qt.TextElideMode.ElideNone
    tip = item.toolTip(1)
    assert "barely learn" in tip and "shrinks it further" in tip and "Fix:" in tip
    # Narrower panel: the row grows again rather than cutting the text.
    window.resize(1000, 720)
    qtbot.waitUntil(fits)


READABLE_CARD_PX = 70  # a card this wide on screen shows a title of ~10 characters


@pytest.mark.parametrize("size", [(1152, 648), (1280, 720)])
def test_every_example_opens_whole_and_readable(qtbot, tmp_path, size):
    """The default window (1152x648 on a 1280x720 screen) and a 1280x720 one: each
    shipped example opens showing all its layers, cards wide enough to read."""
    from PySide6.QtCore import QSettings

    from studio.canvas.node_item import WIDTH
    from studio.main_window import MainWindow
    from studio.window_files import examples

    window = MainWindow(None, settings=QSettings(str(tmp_path / "s.ini"),
                                                 QSettings.Format.IniFormat),
                        autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(window)
    window.resize(*size)  # as the window opens: its docks take their default sizes
    window.show()
    qtbot.waitExposed(window)
    view = window.view
    cut = []
    for path in examples():
        assert window.files.open_example(path)
        qtbot.wait(10)  # the docks settle; a resize refits the view
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
        nodes = view.network_scene.nodes_rect()
        if not shown.contains(nodes) or WIDTH * view.zoom() < READABLE_CARD_PX:
            cut.append(f"{path.stem}: zoom {view.zoom():.2f}, shown {shown.width():.0f}"
                       f" of {nodes.width():.0f} wide")
    assert not cut, cut


def test_a_selected_layers_training_charts_in_the_inspector(make_window, qtbot, tmp_path):
    from test_training_support import node_id

    from studio.training.layer_charts import density_columns

    doc = tiny_mlp(epochs=2, activation="Sigmoid")
    path = tmp_path / "tiny.strata"
    graph.save(doc, path)
    window = make_window(path)
    bench = window.training.workbench()
    bench.runner.out_root = tmp_path / "runs"
    bench.runner.threads = 1
    charts = bench.layer_charts
    inspector = window.inspector
    assert inspector.isAncestorOf(charts) and not charts.isVisible()
    bench.train()
    run = wait_ended(qtbot, bench)
    assert run.status == "finished", run.message

    doc = window.controller.document
    window.controller.select([node_id(doc, "fc1")])
    qtbot.waitUntil(charts.isVisible)
    assert "fc1" in charts.title.text() and "after the run" in charts.title.text()
    xs, ys = charts.grad.getOriginalDataset()
    assert len(xs) >= 3  # the same series as the heatmap: one point per sample
    _steps, values, ids = run.layer_series("grad_norm")
    row = ids.index(node_id(doc, "fc1"))
    assert np.allclose(ys, values[row][np.isfinite(values[row])])
    assert len(charts.ratio.getOriginalDataset()[0]) >= 3
    assert len(charts.mean.getOriginalDataset()[0]) >= 3
    density = density_columns(charts)
    assert density is not None and density.shape[1] >= 3  # a column per sample
    assert np.allclose(density.sum(axis=0), 1.0, atol=1e-4)

    # An activation: no gradient, but its saturation share over time.
    window.controller.select([node_id(doc, "act1")])
    qtbot.waitUntil(lambda: "act1" in charts.title.text())
    assert len(charts.grad.getOriginalDataset()[0] or ()) == 0
    assert len(charts.share.getOriginalDataset()[0]) >= 3
    # Nothing selected: the charts go.
    window.controller.select([])
    qtbot.waitUntil(lambda: not charts.isVisible())


def test_a_run_through_blocks_shows_on_instances_and_inner_layers(qtbot, tmp_path):
    """blocks_resnet, a few steps on a little data: the inner layers are measured
    under their paths, and each collapsed instance card shows their health."""
    from strata_paths import EXAMPLES

    from studio.training.block_health import BlockHealthItem, inner_ids

    doc = graph.load(EXAMPLES / "blocks_resnet.strata")
    doc.training.update({"dataset": {"name": "shapes", "size": 96}, "epochs": 1,
                         "batch_size": 32, "sample_every": 1})
    _controller, view, bench = workbench(qtbot, doc, tmp_path)
    bench.train()
    run = wait_ended(qtbot, bench)
    assert run.status == "finished", run.message
    blocks = [n for n, node in doc.nodes.items() if node.type == "Block"]
    assert len(blocks) == 2
    for block in blocks:
        inside = inner_ids(run, block)
        measured = [n for n in inside if n in run.latest]
        assert measured, f"nothing measured inside {block}"
        assert any(n in run.weighted for n in measured)  # convolutions have gradients
    # The canvas: each instance has its strip, one bar per inner weighted layer, and
    # the heat of its weakest inner layer.
    bench.overlay.set_run(run)
    bench.overlay._draw_live(run)
    for block in blocks:
        strip = bench.overlay.health.get(block)
        assert isinstance(strip, BlockHealthItem) and strip.isVisible()
        weighted = [n for n in inner_ids(run, block) if n in run.weighted]
        assert len(strip.bars) == len(weighted) >= 2
        assert strip.status in ("ok", "warning", "error")
        assert block in bench.overlay.node_heat
        assert "gradient norm" in strip.toolTip()
        assert strip.parentItem() is view.network_scene.nodes[block]
    # The gradient heatmap: inner rows set off by lines, and each block folds to a row.
    heatmap = bench.view.gradients
    heatmap.set_run(run)
    inner_rows = [n for n in heatmap.row_ids if "/" in n]
    assert inner_rows and heatmap.fold.isVisibleTo(heatmap) and heatmap.separators
    heatmap.fold.setChecked(True)
    assert [n for n in heatmap.row_ids if n in blocks] == blocks
    assert not any("/" in n for n in heatmap.row_ids)
    assert len(heatmap.row_ids) == len(heatmap_rows_outside(run)) + len(blocks)
    assert heatmap.image.image.shape[1] == len(heatmap.row_ids)
    heatmap.fold.setChecked(False)
    assert any("/" in n for n in heatmap.row_ids)


def heatmap_rows_outside(run) -> list[str]:
    return [n for n in run.rows("grad_norm") if "/" not in n]
