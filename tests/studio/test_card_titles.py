"""Card titles stay legible at every zoom and never jump in size (issue 10): the title's
height on screen is measured in the pixels of a real view, zoom by zoom."""

from __future__ import annotations

from itertools import pairwise

import pytest
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QImage

from graph.builder import Builder
from studio.canvas import NetworkView
from studio.canvas.node_item import HEADER, LOD_TEXT, WIDTH
from studio.document.controller import DocumentController

ZOOMS = (0.2, 0.3, 0.4, 0.5, 0.54, 0.55, 0.56, 0.7, 0.85, 1.0, 1.25)


@pytest.fixture
def view(qtbot):
    b = Builder("titles")
    x = b.add("Input", "x", shape=[8])
    # A title of capital letters: its ink spans the font's cap height.
    b.chain(x, ("Linear", {"out_features": 4}, "HEADER"), ("Output", {}, "y"))
    controller = DocumentController(b.done())
    view = NetworkView(controller)
    view.minimap.set_enabled(False)
    qtbot.addWidget(view)
    view.resize(900, 500)
    view.show()
    qtbot.waitExposed(view)
    return view


def title_ink(view: NetworkView, zoom: float) -> tuple[int, int]:
    """The width and height, in the view's pixels, of the title's white ink at
    ``zoom``."""
    node_id = view.controller.document.find_label("HEADER").id
    item = view.network_scene.nodes[node_id]
    view.set_zoom(zoom)
    view.centerOn(item.mapToScene(QPointF(WIDTH / 2, HEADER)))
    image = view.viewport().grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    # The header band on screen (a far-zoom header grows to hold the title): the
    # card's body and the canvas are nearly white too.
    top_left = view.mapFromScene(item.mapToScene(QPointF(0, 0)))
    band = QRectF(top_left.x() + 2, top_left.y() + 1, WIDTH * zoom - 4,
                  item.header_height(zoom) * zoom - 2).toRect()
    ink = [(x, y) for y in range(band.top(), band.bottom())
           for x in range(band.left(), band.right()) if _white(image.pixelColor(x, y))]
    assert ink, f"no title drawn at {zoom:.0%}"
    xs, ys = [x for x, _ in ink], [y for _, y in ink]
    return max(xs) - min(xs) + 1, max(ys) - min(ys) + 1


def _white(c: QColor) -> bool:
    return c.red() > 235 and c.green() > 235 and c.blue() > 235


def test_card_titles_keep_a_legible_size_at_every_zoom(view):
    ink = {zoom: title_ink(view, zoom) for zoom in ZOOMS}
    # Capitals of an 11 px bold font are 8 px tall: no title is drawn smaller,
    # whatever the zoom (at 55-90% it was drawn in 6.6-11 px).
    assert min(h for _, h in ink.values()) >= 7, ink
    # "HEADER" is then about 48 px wide; on cards wide enough to hold it (below 40%
    # a card is too narrow, and its title is elided) it is never narrower.
    wide = [z for z in ZOOMS if z >= 0.4]
    widths = [ink[z][0] for z in wide]
    assert min(widths) >= 44, ink
    # Zooming out never makes a title grow, and crossing LOD_TEXT (where the card
    # drops its body text) does not make it jump.
    assert all(b >= a - 2 for a, b in pairwise(widths)), ink
    below = max(z for z in ZOOMS if z < LOD_TEXT)
    assert abs(ink[LOD_TEXT][0] - ink[below][0]) <= 2, ink
