"""The window's layout on the screens people have (issue 10): the inspector's footers
scroll with the form instead of squeezing it, the Train workspace gives both the canvas
and the plots room at 1280x720, 1600x1000 and 1920x1080, and a layout restored from
QSettings is checked against the screen and the window before it is used."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication
from test_training_support import node_id, tiny_mlp

import graph
from runtime.cli import main as strata_cli

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


def settle(qtbot, ms: int = 30) -> None:
    for _ in range(5):
        QApplication.processEvents()
    qtbot.wait(ms)


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
    shown = shown_height(form, inspector.scroll.viewport())
    assert shown >= min(form.sizeHint().height(), room) - 8, (shown, room)
    assert inspector.scroll.widget().isAncestorOf(charts)
    # Scrolled to the end, the charts are there to read.
    bar = inspector.scroll.verticalScrollBar()
    bar.setValue(bar.maximum())
    settle(qtbot)
    assert shown_height(charts.canvas, inspector.scroll.viewport()) >= 250
