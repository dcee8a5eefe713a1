"""The window's layout on the screens people have (issue 10): the inspector's footers
scroll with the form instead of squeezing it, the Train workspace gives both the canvas
and the plots room at 1280x720, 1600x1000 and 1920x1080, and a layout restored from
QSettings is checked against the screen and the window before it is used."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from strata_paths import EXAMPLES
from test_training_support import in_train_workspace, node_id, settle, tiny_mlp

import graph
from runtime.cli import main as strata_cli
from studio.canvas.node_item import LOD_TEXT
from studio.workspaces import STATE_VERSION

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


def shown_height(widget, viewport) -> int:
    """How many of ``widget``'s rows a scroll area's ``viewport`` shows."""
    top = widget.mapTo(viewport, QPoint(0, 0)).y()
    return max(0, min(viewport.height(), top + widget.height()) - max(0, top))


def test_the_inspectors_footers_scroll_with_the_form_at_1280x720(make_window, qtbot,
                                                                   tmp_path, capsys):
    path = tmp_path / "tiny.strata"
    graph.save(tiny_mlp(epochs=1), path)
    # A real run (in this process, quicker than starting a worker), opened in the studio.
    assert strata_cli(["train", str(path), "--out", str(tmp_path / "run"),
                       "--no-tensorboard"]) == 0
    capsys.readouterr()
    window = make_window(path)
    window.resize(1280, 720)
    bench = window.training.workbench()
    assert window.training.open_run(str(tmp_path / "run")) is not None
    window.workspaces.switch("design")
    window.controller.select([node_id(window.controller.document, "fc1")])
    inspector, charts = window.inspector, bench.layer_charts
    qtbot.waitUntil(charts.isVisible)
    settle(qtbot)
    form = inspector.form
    assert form is not None
    # The form has the panel's whole height to show itself: the training box and the
    # charts (over 300 px) come after it, in the same scroll area.
    room = inspector.height() - inspector.actions_bar.height()
    shown = shown_height(form, inspector.scroll_area.viewport())
    assert shown >= min(form.sizeHint().height(), room) - 8, (shown, room)
    assert inspector.scroll_area.widget().isAncestorOf(charts)
    # Scrolled to the end, the charts are there to read.
    bar = inspector.scroll_area.verticalScrollBar()
    bar.setValue(bar.maximum())
    settle(qtbot)
    assert shown_height(charts.canvas, inspector.scroll_area.viewport()) >= 250


# ---------------------------------------------------------------------- Train workspace
@pytest.mark.parametrize("size", [(1280, 720), (1600, 1000), (1920, 1080)])
def test_the_train_workspace_gives_canvas_and_plots_room(make_window, qtbot, size):
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    window.resize(*size)
    settle(qtbot)
    view = window.view
    view.set_zoom(0.3)  # whole but small: switching fits it to the new canvas
    bench = window.training.workbench()
    window.workspaces.switch("train")
    settle(qtbot, 60)
    plots = bench.view
    width, height = size
    # The canvas: at least 36% of the height and half the width, the network fitted
    # whole at a zoom where its cards show their text.
    assert view.height() >= 0.36 * height and view.width() >= 0.5 * width, view.size()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(view.network_scene.nodes_rect())
    assert view.zoom() >= LOD_TEXT, view.zoom()
    # The plots: as tall as the canvas or taller, the curves and the detail tabs
    # side by side, every tab but at most one readable without scrolling.
    assert plots.height() >= 0.38 * height and plots.width() >= 0.5 * width, plots.size()
    assert plots.curves.width() >= 250 and plots.curves.height() >= 250
    bar = plots.tabs.tabBar()
    cut = [i for i in range(bar.count()) if bar.tabRect(i).right() > bar.width()]
    assert len(cut) <= 1, [bar.tabText(i) for i in cut]
    assert window.workspaces.canvas_has_room()


# ---------------------------------------------------------------------- restored state
def ini(tmp_path, name="settings.ini") -> QSettings:
    return QSettings(str(tmp_path / name), QSettings.Format.IniFormat)


def test_restored_geometry_is_clamped_to_the_screen(make_window, qtbot, tmp_path):
    area = QGuiApplication.primaryScreen().availableGeometry()
    first = make_window()
    first.resize(area.width() + 900, area.height() + 700)
    first.move(area.right() - 200, area.bottom() - 100)  # mostly off the screen
    first.save_settings()
    first.close()
    window = make_window()  # the same settings file
    settle(qtbot)
    frame = window.frameGeometry()
    assert area.contains(frame), (frame, area)


def test_a_layout_that_leaves_the_canvas_no_room_is_replaced(make_window, qtbot,
                                                               tmp_path):
    """As reported: a restored layout with the Sweep dock open and the canvas a strip."""
    first = make_window(EXAMPLES / "spiral_mlp.strata")
    first.resize(853, 585)
    settle(qtbot)
    sweep = first.docks["sweep"]
    first.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, sweep)
    sweep.show()
    settle(qtbot)
    first.resizeDocks([sweep], [400], Qt.Orientation.Vertical)
    settle(qtbot)
    assert first.centralWidget().height() < 0.4 * first.height()  # the bad layout
    first.save_settings()
    first.close()

    window = make_window(EXAMPLES / "spiral_mlp.strata")
    canvas = window.centralWidget()
    qtbot.waitUntil(lambda: canvas.height() >= 0.6 * window.height()
                    and canvas.width() >= 0.4 * window.width(), timeout=3000)
    assert window.workspaces.canvas_has_room()
    assert window.docks["sweep"].isHidden()  # the Design workspace as designed
    # The network fits the canvas it was given.
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert shown.contains(window.view.network_scene.nodes_rect())


def test_a_layout_saved_by_an_older_version_is_dropped(make_window, qtbot, tmp_path):
    first = make_window()
    first.docks["sweep"].show()
    settings = first.settings
    state = first.saveState(STATE_VERSION - 1)  # what the previous layout saved
    first.close()  # saves this version's layout...
    settings.setValue("window/state", state)  # ...which an older Strata had written
    settings.setValue("workspace/train", state)
    settings.sync()
    window = make_window()
    settle(qtbot)
    assert window.docks["sweep"].isHidden()  # the defaults, not the old layout
    assert window.workspaces.canvas_has_room()
    # Switching to Train lays out its defaults too (the old saved one is refused).
    window.workspaces.switch("train")
    settle(qtbot)
    assert window.docks["training_plots"].isVisible()
    assert window.workspaces.canvas_has_room()


# ---------------------------------------------------------------------- cut off, covered
def test_the_lock_banner_does_not_cover_a_fitted_network(make_window, qtbot):
    window, bench = in_train_workspace(make_window, qtbot, "blocks_resnet")
    bench.lock.engage()
    settle(qtbot)
    banner, view = bench.lock.banner, window.view
    assert banner is not None and banner.isVisible()
    top = view.mapFromScene(view.network_scene.nodes_rect().topLeft()).y() + view.viewport().y()
    assert top >= banner.geometry().bottom(), (top, banner.geometry())
    bench.lock.release()
    settle(qtbot)
    assert view.top_room == 0


def test_wrapped_run_progress_and_summary_names_are_not_cut(make_window, qtbot):
    window, bench = in_train_workspace(make_window, qtbot, "blocks_resnet")
    controls = bench.panel.controls
    controls.progress.setText("Epoch 2 of 4 \u00b7 step 11 of 88 \u00b7 350 samples/s "
                              "\u00b7 13 s left")
    controls.show_message("A long message that wraps over several lines in a narrow "
                          "panel and must be read whole", "warning")
    settle(qtbot)
    for label in (controls.progress, controls.message):
        assert label.height() >= label.heightForWidth(label.width()), label.objectName()
    # The inspector's layer table: the layer column keeps room for its names.
    window.workspaces.switch("design")
    settle(qtbot)
    table = window.inspector.network.table
    assert table.header().sectionSize(0) >= 0.38 * table.viewport().width()
    assert table.topLevelItem(0).toolTip(0) == table.topLevelItem(0).text(0)


def test_diagnoses_in_the_train_workspace_leave_the_plots_their_width(make_window, qtbot):
    from runtime.events import DiagnosisEvent

    window, bench = in_train_workspace(make_window, qtbot, "deep_sigmoid_mlp")
    fc = [n.id for n in window.controller.document.nodes.values() if n.label == "fc1"]
    window.problems.set_diagnoses([DiagnosisEvent(
        "vanishing_gradients", tuple(fc), "Vanishing gradients", "The gradient fades.",
        "Replace Sigmoid with ReLU.", "warning", 10, 1)])
    problems = window.docks["problems"]
    qtbot.waitUntil(problems.isVisible)
    settle(qtbot)
    # Under the inspector, not beside the plots.
    inspector = window.docks["inspector"]
    assert abs(problems.x() - inspector.x()) <= 2 and problems.y() > inspector.y()
    assert bench.view.width() >= 0.5 * window.width()
    assert problems.height() >= 150


def test_the_heat_legend_does_not_cover_a_fitted_network(make_window, qtbot):
    # A network the Train canvas shows whole at a readable zoom (at 1280x720 this one
    # is framed readably from its start, the rest a pan away: test_train_workspace).
    window, bench = in_train_workspace(make_window, qtbot, "edges_cnn", (1920, 1080))
    legend, view = bench.overlay.legend, window.view
    bench.overlay._show_legend(True)  # as when a run's first heat arrives
    settle(qtbot)
    assert legend is not None and legend.isVisible()
    # In the top right corner, on the line it shares with the lock's note.
    top = view.mapFromScene(view.network_scene.nodes_rect().topLeft()).y() \
        + view.viewport().y()
    assert top >= legend.geometry().bottom(), (top, legend.geometry())
    bench.overlay._show_legend(False)
    assert view.top_room == 0 and view.bottom_room == 0
