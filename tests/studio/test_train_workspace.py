"""The Train workspace and its monitor as a new user meets them (issue 10): notices
styled as information, the first detail tab chosen by the data, plots that show an empty
state with sensible axes before a run, and a canvas whose titles stay legible."""

from __future__ import annotations

import pytest
from strata_paths import EXAMPLES
from test_training_support import tiny_cnn, tiny_mlp, trained_record, workbench

from runtime.events import NoticeEvent
from runtime.run_record import RunRecord
from studio.theme_colors import SEVERITY_COLORS
from studio.training.controls import RunControls


def finished_run(status: str = "finished") -> RunRecord:
    run = RunRecord(1, network="Tiny", label="#1 Tiny", status=status,
                    message="Finished: 2 epochs, accuracy 90.0%")
    run.notices.append(NoticeEvent("weights_loaded", "Weights loaded from start.pt"))
    return run


def test_a_runs_notices_are_information_not_success(qtbot):
    """The summary of a finished run is a success (green, check mark); the notices
    under it are information: the text's colour under an info mark, never green."""
    controls = RunControls()
    qtbot.addWidget(controls)
    controls.show_run(finished_run())
    html = controls.message.text()
    summary, notice = html.split("<br>", 1)
    green = SEVERITY_COLORS["ok"]
    assert "\u2714" in summary and green in summary and "accuracy" in summary
    assert "Weights loaded" in notice
    assert "\u2139" in notice and "\u2714" not in notice and green not in notice
    assert controls.message_kind == "ok"


def test_a_notice_alone_and_a_stopped_run_are_not_styled_as_success(qtbot):
    controls = RunControls()
    qtbot.addWidget(controls)
    controls.show_message("Weights loaded from start.pt", "info")
    html = controls.message.text()
    assert "\u2139" in html and SEVERITY_COLORS["ok"] not in html
    run = finished_run("stopped")
    run.message = "Stopped after epoch 1"
    controls.show_run(run)
    html = controls.message.text()
    assert "\u2714" not in html and SEVERITY_COLORS["ok"] not in html
    assert "Stopped after epoch 1" in html and controls.message_kind == "info"


def test_the_detail_tab_fits_the_network_shown_before_any_run(qtbot, tmp_path):
    """An image network: no decision-boundary tab (it only means something for 2-D
    points) and its feature maps in front; opening a 2-D points network brings the
    boundary back, in front."""

    controller, _view, bench = workbench(qtbot, tiny_cnn(), tmp_path)
    tabs = bench.view.tabs
    boundary = tabs.indexOf(bench.view.boundary)
    assert not tabs.isTabVisible(boundary)
    assert tabs.currentWidget() is bench.view.features
    controller.set_document(tiny_mlp())
    assert tabs.isTabVisible(tabs.indexOf(bench.view.boundary))
    assert tabs.currentWidget() is bench.view.boundary


def test_before_a_run_the_plots_have_sensible_empty_axes(qtbot):
    """No run yet: step axes start at 0 and count steps (they read -400..400 with a
    "x0.001" prefix), the statistics axis spans 1e-3..1, and the histograms draw no
    made-up bar at 0."""
    from studio.training.dashboard import TrainingView

    view = TrainingView()
    qtbot.addWidget(view)
    view.resize(715, 290)
    view.show()
    view.set_run(None)
    for plot in view.plots:  # every tab, as each comes on screen
        view.show_plot(plot)
        view.flush(everything=True)
    for heatmap in (view.gradients, view.updates):
        (x0, x1), _y = heatmap.lines_plot.viewRange()
        assert -5 <= x0 <= 0 and x1 >= 50
        _x, (y0, y1) = heatmap.lines_plot.viewRange()
        assert y0 < -2 and -0.5 < y1 < 0.5  # log10: 1e-3 to 1
        assert heatmap.lines_plot.getAxis("bottom").autoSIPrefixScale == 1.0
    spread = view.activations.spread_plot
    (x0, x1), _y = spread.viewRange()
    assert -5 <= x0 <= 0 and x1 >= 50
    assert not view.activations.act_hist.isVisible()
    (x0, x1), _y = view.curves.loss_plot.viewRange()
    assert -1 <= x0 <= 0 and x1 >= 5  # epochs


def test_a_running_heatmap_holds_a_span_its_data_fills():
    """While a run goes the heatmap's x axis is held (no relayout per redraw) but over
    a span the samples fill at least two thirds of (it spanned the whole run: three
    samples of a 330-step run sat in its first tenth), growing a few times per run."""
    from studio.training.plots.common import grow_span

    spans, held = [], None
    for step in range(1, 10_001, 7):
        held = grow_span(step, held, 10_000)
        assert step <= held <= 10_000 and (held == 10_000 or step >= held / 1.5 - 7
                                           or held == 10.0)
        spans.append(held)
    assert len(set(spans)) < 20
    assert grow_span(21, None, 330) < 50


# ---------------------------------------------------------------------- the canvas
def _settle(qtbot, ms: int = 60) -> None:
    from PySide6.QtWidgets import QApplication

    for _ in range(5):
        QApplication.processEvents()
    qtbot.wait(ms)


def _title_fits(title: str, zoom: float) -> bool:
    from PySide6.QtGui import QFontMetricsF

    from studio import resources
    from studio.canvas.node_item import MIN_TITLE_PX, WIDTH

    font = resources.ui_font()
    font.setPixelSize(MIN_TITLE_PX)
    font.setBold(True)
    return QFontMetricsF(font).horizontalAdvance(title) <= (WIDTH - 20) * zoom


@pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")
def test_the_train_canvas_frames_a_deep_network_with_titles_that_read(make_window, qtbot):
    """At 1280x720 the Train canvas is short: the 21-layer sigmoid MLP framed whole was
    at 28% with its titles cut ("sig\u2026"). Framed at a zoom where every title fits,
    from its input end; a layer selected elsewhere (a plot, Problems) is scrolled to;
    back in Design the network is framed whole again."""
    window = make_window(EXAMPLES / "deep_sigmoid_mlp.strata")
    window.resize(1280, 720)
    _settle(qtbot)
    view = window.view
    window.workspaces.switch("train")
    _settle(qtbot)
    assert view.readable_fit
    scene = view.network_scene
    titles = [item.face.title for item in scene.nodes.values()]
    assert all(_title_fits(t, view.zoom()) for t in titles), (view.zoom(), titles)
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    doc = window.controller.document
    first = next(n.id for n in doc.nodes.values() if n.type == "Input")
    last = next(n.id for n in doc.nodes.values() if n.type == "Output")
    assert shown.contains(scene.nodes[first].sceneBoundingRect())
    assert not shown.contains(scene.nodes_rect())  # too deep to show whole, readably
    window.controller.select([last])
    _settle(qtbot)
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.intersects(scene.nodes[last].sceneBoundingRect())
    window.controller.select([])
    window.workspaces.switch("design")
    _settle(qtbot)
    assert not view.readable_fit
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(scene.nodes_rect())


def test_another_network_opened_clears_the_last_runs_summary(qtbot, tmp_path):
    """The Training panel belongs to the network shown: after opening another one it
    said "Ready to train" over the previous network's "Finished: ... accuracy 50%"."""
    controller, _view, bench = workbench(qtbot, tiny_mlp(), tmp_path)
    controls = bench.panel.controls
    controls.show_run(finished_run())
    assert not controls.message.isHidden()
    controller.set_document(tiny_cnn())
    assert controls.message.isHidden() and controls.message_kind == ""
    assert controls.status.text() == "Ready to train"


def test_feature_maps_in_a_short_wide_strip_lie_in_one_row(qtbot):
    """At 1280x720 each layer's row of the Features tab is a short wide strip: its 8
    channels in a 4 x 2 grid were 16-pixel tiles with the width left empty."""
    import numpy as np

    from runtime.events import FeatureMapsEvent
    from studio.training.plots import FeatureMapsPlot
    from studio.training.plots.feature_maps import best_columns

    assert best_columns(8, 420, 40, 14, 14) == 8
    assert best_columns(8, 120, 200, 14, 14) == 3  # 3 x 3: never taller than wide
    run = RunRecord(1, status="running", node_ids=("c1", "c2", "c3", "c4"),
                    node_names=("c1", "c2", "c3", "c4"))
    for n in run.node_ids:
        maps = np.random.default_rng(0).integers(0, 255, (8, 14, 14), dtype=np.uint8)
        run.feature_maps[n] = FeatureMapsEvent(5, 1, n, maps, np.zeros(8, np.float32),
                                               np.ones(8, np.float32), 16)
    plot = FeatureMapsPlot()
    qtbot.addWidget(plot)
    plot.resize(420, 260)
    plot.show()
    plot.set_run(run)
    qtbot.waitUntil(lambda: all(row.columns == 8 for row in plot.rows))
    def tile() -> float:  # on screen, once the row's view has its range
        return plot.rows[0].image.sceneBoundingRect().width() / 8

    qtbot.waitUntil(lambda: tile() > 20)


def test_the_minimap_keeps_clear_of_the_widgets_over_the_canvas(qtbot):
    """The overview took the top right corner over the training banner's "Edit anyway"
    (at 1280x720 the banner reaches it): a corner under another widget over the canvas
    is not free."""
    from PySide6.QtWidgets import QFrame

    from studio.canvas import NetworkView
    from studio.document.controller import DocumentController

    doc = tiny_mlp()
    ids = list(doc.nodes)
    for k, node_id in enumerate(ids):  # far apart: the view shows none of them
        doc.nodes[node_id].position = (k * 3000.0, 0.0)
    controller = DocumentController()
    controller.set_document(doc)
    view = NetworkView(controller)
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.set_zoom(1.0)
    view.centerOn(1500, 2000)
    view.minimap.refresh()
    minimap = view.minimap
    assert minimap.isVisible()
    cover = QFrame(view)  # e.g. the banner, the legend
    cover.setGeometry(minimap.geometry().adjusted(-20, -20, 20, 20))
    cover.show()
    view.minimap.refresh()
    assert not minimap.isVisible() or not minimap.geometry().intersects(cover.geometry())
    assert minimap.isVisible()  # another corner is free


def test_a_layers_charts_in_the_inspector_are_tall_enough_to_read(qtbot):
    """Each of the selected layer's four charts gets room for a few labelled ticks (at
    40 pixels a plot, its log axis labels lay on one another)."""
    from studio.training.layer_charts import LayerCharts

    run = trained_record(epochs=2)
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    footer = QWidget()  # the inspector's footer: the charts take the height they ask
    qtbot.addWidget(footer)
    layout = QVBoxLayout(footer)
    charts = LayerCharts()
    layout.addWidget(charts)
    layout.addStretch(1)
    footer.resize(280, 900)
    footer.show()
    charts.set_run(run)
    charts.set_node(next(n for n in run.node_ids if n in run.weighted))
    qtbot.waitUntil(lambda: charts.draws > 0 and charts.isVisible())
    footer.resize(280, charts.sizeHint().height() + 20)
    _settle(qtbot)
    for plot in (charts.grad_plot, charts.ratio_plot, charts.act_plot):
        assert plot.getViewBox().height() >= 60, plot.getViewBox().height()


def test_a_wrapped_rows_return_wire_runs_under_the_cards(qtbot):
    """Auto-arranged in rows, the wire from a row's last card back to the next row's
    first crosses the cards between, and was drawn over their titles ("fc3",
    "sigmoid5" struck through at the Train workspace's zoom)."""
    from studio.canvas import NetworkView
    from studio.document.controller import DocumentController

    doc = tiny_mlp()
    order = list(doc.nodes)
    for k, node_id in enumerate(order):  # rows of three
        doc.nodes[node_id].position = ((k % 3) * 220.0, (k // 3) * 150.0)
    controller = DocumentController()
    controller.set_document(doc)
    view = NetworkView(controller)
    qtbot.addWidget(view)
    scene = view.network_scene
    back = [w for w in scene.wires.values()
            if w.source_item.x() > w.target_item.x()]
    assert back
    for wire in back:
        assert wire.zValue() < wire.target_item.zValue(), wire.zValue()
