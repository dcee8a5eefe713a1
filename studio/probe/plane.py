"""The 2-D plane of a two-feature dataset: its examples as dots, a click probes a point."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Signal

COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40),
           (148, 103, 189), (140, 86, 75), (227, 119, 194), (127, 127, 127)]


class PointPlane(pg.PlotWidget):
    made = Signal(object)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("probe_plane")
        self.setFixedHeight(200)
        self.setMenuEnabled(False)
        self.hideButtons()
        self.dots = pg.ScatterPlotItem(size=4, pen=None)
        self.marker = pg.ScatterPlotItem(size=14, symbol="x",
                                         pen=pg.mkPen("k", width=2), brush=None)
        self.addItem(self.dots)
        self.addItem(self.marker)
        self.scene().sigMouseClicked.connect(self._clicked)
        self._points = 0

    def set_points(self, xs: np.ndarray, labels: np.ndarray) -> None:
        if len(xs) == self._points:
            return
        self._points = len(xs)
        labels = np.asarray(labels).reshape(len(xs), -1)[:, 0].astype(int)
        brushes = [pg.mkBrush(*COLOURS[k % len(COLOURS)], 140) for k in labels]
        self.dots.setData(xs[:, 0], xs[:, 1], brush=brushes)

    def set_marker(self, point) -> None:
        self.marker.setData([float(point[0])], [float(point[1])])

    def click_at(self, x: float, y: float) -> None:
        point = np.array([x, y], dtype=np.float32)
        self.set_marker(point)
        self.made.emit(point)

    def _clicked(self, event) -> None:
        vb = self.getPlotItem().getViewBox()
        if not vb.sceneBoundingRect().contains(event.scenePos()):
            return
        p = vb.mapSceneToView(event.scenePos())
        self.click_at(p.x(), p.y())
