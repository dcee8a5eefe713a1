"""While a deep network trains at 1280x720, the training lock's note and the gradient
heat legend share one thin line at the top of the canvas (the note on the left, the
legend in the right corner), so the canvas keeps its height for the network: a banner at
the top and a legend at the bottom took about 90 of its 285 pixels, leaving 1.5-2.5 rows
of cards. A long note is elided before the legend's corner, whole in its tooltip."""

from __future__ import annotations

import pytest
from test_training_support import in_train_workspace, settle

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


@pytest.mark.parametrize("example", ["deep_sigmoid_mlp", "blocks_resnet"])
def test_the_lock_note_and_the_legend_share_one_thin_line(make_window, qtbot, example):
    window, bench = in_train_workspace(make_window, qtbot, example)
    view = window.view
    bench.lock.engage()  # as when a run starts ...
    bench.overlay._show_legend(True)  # ... and its first heat arrives
    settle(qtbot)
    banner, legend = bench.lock.banner, bench.overlay.legend
    assert banner is not None and legend is not None
    assert banner.isVisible() and legend.isVisible()
    line = banner.geometry().united(legend.geometry())
    assert line.height() <= 26, (banner.geometry(), legend.geometry())  # one line
    assert not banner.geometry().intersects(legend.geometry())
    assert legend.geometry().right() >= view.width() - 12  # the right corner
    # The canvas keeps its height: the room kept over a fitted network is that line.
    assert view.bottom_room == 0 and view.top_room <= line.height() + 10
    assert view.top_room + view.bottom_room <= 0.12 * view.viewport().height()
    # ... and the network starts below it.
    top = view.mapFromScene(view.network_scene.nodes_rect().topLeft()).y() \
        + view.viewport().y()
    assert top >= line.bottom()
    # A long note is elided before the legend's corner, whole in its tooltip.
    bench.lock._show("Changed since this run started \u2014 changes apply to the next "
                     "run, and this note goes on and on so that it cannot fit", False)
    settle(qtbot)
    assert not banner.geometry().intersects(legend.geometry())
    assert "\u2026" in banner.label.text() and "cannot fit" in banner.label.toolTip()
    bench.lock.release()
    bench.overlay._show_legend(False)
    settle(qtbot)
    assert view.top_room == 0 and not banner.isVisible()


def test_a_deep_network_shows_three_rows_of_titles_while_training_at_1280x720(make_window, qtbot):
    """deep_sigmoid_mlp is laid out in rows of five cards; framed readably under the
    thin line, three of its rows show their titles (two before)."""
    from studio.canvas.node_item import HEADER

    window, bench = in_train_workspace(make_window, qtbot, "deep_sigmoid_mlp")
    view = window.view
    bench.lock.engage()
    bench.overlay._show_legend(True)
    settle(qtbot)
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    shown.setTop(view.mapToScene(0, view.top_room).y())
    rows = {round(item.y()) for item in view.network_scene.nodes.values()}
    headed = {y for y in rows if shown.top() <= y and y + HEADER + 8 <= shown.bottom()}
    assert len(headed) >= 3, (sorted(rows), shown)
    bench.lock.release()
