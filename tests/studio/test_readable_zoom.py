"""Deep networks open, fit and auto-arrange at a zoom where their cards are drawn
(issue 10): residual_cnn and deep_sigmoid_mlp opened at 54% in the default window of a
1280x720 screen (1152x648), under LOD_TEXT, every card body blank. Now a network is
framed whole when that is readable, else at READABLE_MIN from its input end (the rest a
pan away), and auto-arrange wraps a chain into rows sized from the cards themselves."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from strata_paths import EXAMPLES

from graph.builder import Builder
from graph.layout import wrapped_positions
from studio.canvas.node_item import LOD_TEXT
from studio.canvas.readable import READABLE_MIN

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

DEEP = ["residual_cnn", "deep_sigmoid_mlp", "deep_batchnorm_mlp", "blocks_resnet",
        "transformer_classifier"]
# The default window on a 1280x720 screen (90% of it), and a window of the screen's size.
SIZES = [(1152, 648), (1280, 720)]


@pytest.fixture
def open_at(qtbot, tmp_path):
    """A real window of ``size`` (sized before it shows, as the studio sizes itself
    for a screen) on an example."""
    from PySide6.QtCore import QSettings

    from studio.main_window import MainWindow

    def make(name, size):
        path = name if isinstance(name, Path) else EXAMPLES / f"{name}.strata"
        window = MainWindow(str(path),
                            settings=QSettings(str(tmp_path / "s.ini"),
                                               QSettings.Format.IniFormat),
                            autosave_dir=tmp_path / "recovery")
        window.ask = lambda *a: QMessageBox.StandardButton.Discard  # an arranged doc
        qtbot.addWidget(window)
        window.resize(*size)
        window.show()
        qtbot.waitExposed(window)
        for _ in range(5):  # the docks settle; the view frames the document again
            QApplication.processEvents()
        return window
    return make


def cards_drawn(window) -> bool:
    return window.view.zoom() >= LOD_TEXT


def overlapping(window) -> list[tuple[str, str]]:
    rects = {i.node_id: i.mapRectToScene(i.card_rect())
             for i in window.scene.nodes.values()}
    ids = list(rects)
    return [(a, b) for k, a in enumerate(ids) for b in ids[k + 1:]
            if rects[a].intersects(rects[b])]


def visible_ids(window) -> set[str]:
    shown = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    return {i.node_id for i in window.scene.nodes.values()
            if shown.contains(i.sceneBoundingRect())}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", DEEP)
def test_open_fit_and_arrange_keep_cards_drawn(open_at, name, size):
    window = open_at(name, size)
    assert cards_drawn(window), f"opened at {window.view.zoom():.0%}"
    assert not overlapping(window)
    doc = window.controller.document
    inputs = {n.id for n in doc.nodes.values() if n.type == "Input"}
    assert inputs & visible_ids(window), "the network's start is in view"
    window.menu_actions.fit.trigger()
    assert cards_drawn(window), f"fitted at {window.view.zoom():.0%}"
    window.menu_actions.arrange.trigger()
    assert cards_drawn(window), f"arranged at {window.view.zoom():.0%}"
    assert not overlapping(window)
    # Cards of a row wrap at most as far as the view is wide at the readable zoom.
    assert inputs & visible_ids(window)


def test_a_network_too_large_to_read_whole_shows_its_start(open_at, tmp_path):
    """A 40-layer chain in one row: framed at READABLE_MIN from its input, the rest a
    pan away; Fit to Window frames it the same way."""
    b = Builder("one long row")
    x = b.add("Input", "x", shape=[8])
    b.chain(x, *[("Linear", {"out_features": 8}, f"fc{k}") for k in range(38)],
            ("Output", {}, "y"))
    from graph.fileformat import save

    path = tmp_path / "row.strata"
    save(b.done(), path)
    window = open_at(path, (1152, 648))
    for frame in (lambda: None, window.menu_actions.fit.trigger):
        frame()
        assert window.view.zoom() == pytest.approx(READABLE_MIN)
        shown = visible_ids(window)
        assert window.controller.document.find_label("x").id in shown
        assert 0 < len(shown) < len(window.scene.nodes)


def test_arranging_a_long_chain_fits_more_than_the_card_default_allowed():
    """A band is as tall as its own cards (a Linear card is 69 units, not the 110 of
    the tallest common card): the 21-layer chain fits a 650x552 canvas at 66%."""
    b = Builder("chain")
    x = b.add("Input", "x", shape=[8])
    steps = []
    for k in range(9):
        steps += [("Linear", {"out_features": 8}, f"fc{k}"), ("Sigmoid", {}, f"s{k}")]
    b.chain(x, *steps, ("Linear", {"out_features": 2}, "head"), ("Output", {}, "y"))
    doc = b.done()
    positions = wrapped_positions(doc, None, (650, 552))
    from graph.layout import card_size

    left = min(x for x, _ in positions.values())
    top = min(y for _, y in positions.values())
    right = max(x + card_size(doc.nodes[n])[0] for n, (x, _) in positions.items())
    bottom = max(y + card_size(doc.nodes[n])[1] for n, (_, y) in positions.items())
    zoom = min(650 / (right - left + 80), 552 / (bottom - top + 100))
    assert zoom >= 0.62, zoom


def test_a_wide_view_wraps_a_chain_at_nearly_its_largest_zoom():
    """In a 1920x1080 window (a 1320x985 canvas) a 10-layer chain wrapped into 7 + 3
    columns at 78% (the fewest bands over 70%), where 6 + 4 fit at 93%."""
    from graph.layout import COLUMN

    b = Builder("chain")
    x = b.add("Input", "x", shape=[1, 28, 28])
    b.chain(x, *[("Linear", {"out_features": 8}, f"fc{k}") for k in range(8)],
            ("Output", {}, "y"))
    doc = b.done()
    positions = wrapped_positions(doc, None, (1320, 985))
    per_row = len({x for x, _ in positions.values()})
    rows = len({y for _, y in positions.values()})
    assert (per_row, rows) == (6, 2), (per_row, rows)
    assert (per_row - 1) * COLUMN + 140 + 80 <= 1320 / 0.9
