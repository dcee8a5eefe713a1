"""A pyqtgraph widget's paint prepared in a turn of its own, so the paint only plays.

A plot's paint after its data changed is mostly its axes: an axis whose range or size
changed lays out its ticks and labels again (``AxisItem.generateDrawSpecs``: tick
values, label strings, text measures) into a picture, in the paint. In a profile of the
training monitor coming forward that was two thirds of each plot's first paint (10-25
ms of GUI time a plot on a loaded 2-core machine). ``prepare_paint`` does that work
before the paint, as the paint would do it (the views' deferred auto-range first, then
each axis' picture, drawn as ``AxisItem.paint`` draws it), so the paint, in a later
turn, finds the pictures and plays them.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QPainter, QPicture
from PySide6.QtWidgets import QWidget

from .ahead import settle_layouts

ROUNDS = 3  # layouts of the axes that fit their size to their labels


def graphics_views(widget: QWidget) -> list[pg.GraphicsView]:
    views = widget.findChildren(pg.GraphicsView)
    return [widget, *views] if isinstance(widget, pg.GraphicsView) else list(views)


def prepare_paint(widget: QWidget, rounds: int = ROUNDS) -> int:
    """Prepare the next paint of ``widget``'s pyqtgraph views; returns how many axes
    laid themselves out (0: nothing waited).

    An axis fits its width (height) to its widest label as it lays them out, and the
    plot's layout then resizes it, which throws its picture away: the paint would lay
    it out twice. Here the layouts run after each round, until no axis waits."""
    prepared = 0
    for _ in range(rounds):
        laid_out = 0
        for view in graphics_views(widget):
            if not view.isVisible():
                continue
            scene = view.scene()
            scene.prepareForPaint()  # (auto-ranges wait for it: the axes follow them)
            for item in scene.items():
                if isinstance(item, pg.AxisItem) and item.picture is None \
                        and item.isVisible():
                    item.picture = axis_picture(item)
                    laid_out += 1
        if not laid_out:
            break
        prepared += laid_out
        settle_layouts()  # the axes' new sizes: those resized lay out again
    return prepared


def axis_picture(axis: pg.AxisItem) -> QPicture:
    """The picture ``AxisItem.paint`` would make (pyqtgraph 0.13-0.14)."""
    picture = QPicture()
    painter = QPainter(picture)
    try:
        if axis.style["tickFont"]:
            painter.setFont(axis.style["tickFont"])
        specs = axis.generateDrawSpecs(painter)
        if specs is not None:
            axis.drawPicture(painter, *specs)
    finally:
        painter.end()
    return picture
