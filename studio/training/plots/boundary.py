"""The decision boundary of a network on 2-D points, with the training points over it.

Each epoch the runtime sends the model's prediction over a grid covering the data
(``BoundaryGrid``); the grid is drawn in the class colours, paler where the model is less
sure, and the points keep their true class colour with a dark outline, so misclassified
points stand out against the region they fell in.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from runtime.run_record import RunRecord

from .common import (
    CLASS_COLORS,
    color_map,
    layout_widget,
    placeholder,
    set_title,
    style_plot,
)


def class_rgb(k: int) -> tuple[int, int, int]:
    c = QColor(CLASS_COLORS[k % len(CLASS_COLORS)])
    return c.red(), c.green(), c.blue()


def boundary_image(predicted: np.ndarray, confidence: np.ndarray | None,
                   classes: int) -> np.ndarray:
    """RGBA (height, width, 4) uint8: class colours, alpha growing with confidence."""
    h, w = predicted.shape
    if predicted.dtype.kind == "f":  # regression or a raw score: a colour scale
        values = predicted.astype(np.float32)
        finite = values[np.isfinite(values)]
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        lut = color_map("viridis").getLookupTable(0.0, 1.0, 256, alpha=True)
        index = np.clip((values - lo) / max(hi - lo, 1e-9) * 255, 0, 255)
        out = lut[np.nan_to_num(index).astype(np.intp)].copy()
        out[..., 3] = 170
        return out
    palette = np.array([class_rgb(k) for k in range(max(classes, 1))], np.uint8)
    out = np.empty((h, w, 4), np.uint8)
    out[..., :3] = palette[np.clip(predicted.astype(np.intp), 0, len(palette) - 1)]
    if confidence is None:
        out[..., 3] = 110
    else:
        chance = 1.0 / max(classes, 2)
        sure = np.clip((confidence.astype(np.float32) - chance) / (1 - chance), 0, 1)
        out[..., 3] = (40 + 130 * sure).astype(np.uint8)
    return out


class BoundaryPlot(QWidget):
    point_hovered = Signal(float, float)  # data coordinates under the mouse (the Probe)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.run: RunRecord | None = None
        self.canvas = layout_widget(self)
        self.plot = style_plot(self.canvas.addPlot(enableMenu=False), "Decision boundary")
        self.plot.setAspectLocked(True)
        self.plot.showGrid(x=False, y=False)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.plot.scene().sigMouseMoved.connect(self._hovered)
        self.points: list[pg.ScatterPlotItem] = []  # one per class: one brush each
        self.hint = placeholder(self.plot, "For 2-D point datasets: the regions the "
                                "network assigns to each class, as it trains")
        self.shown_epoch = 0
        self._points_for: RunRecord | None = None
        self._shown: object | None = None  # the grid on screen (not every epoch has one)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)

    def _hovered(self, scene_pos) -> None:
        box = self.plot.getViewBox()
        if self.run is None or not box.sceneBoundingRect().contains(scene_pos):
            return
        p = box.mapSceneToView(scene_pos)
        self.point_hovered.emit(p.x(), p.y())

    def set_run(self, run: RunRecord | None) -> None:
        self.run = run
        self.shown_epoch = 0
        self._points_for = None
        self._shown = None
        self.image.clear()
        for item in self.points:
            self.plot.removeItem(item)
        self.points = []
        self.refresh()

    def refresh(self, changed: set[str] | None = None) -> None:
        run = self.run
        if run is None or not run.is_2d:
            self.hint.show()
            return
        if self._points_for is not run:
            self._points_for = run
            self._draw_points(run)
        self.hint.setVisible(run.boundary is None)
        grid = run.boundary
        if grid is None or (changed is not None and ("epochs" not in changed
                                                     or grid is self._shown)):
            return
        self._shown = grid
        classes = int(run.dataset.get("num_classes") or 2)
        rgba = boundary_image(np.asarray(grid.predicted), grid.confidence, classes)
        xs, ys = np.asarray(grid.xs, float), np.asarray(grid.ys, float)
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        # Column-major: axis 0 is x. Row i of ``predicted`` is ys[i] (bottom to top).
        self.image.setImage(rgba.transpose(1, 0, 2), autoLevels=False)
        self.image.setRect(QRectF(xs[0] - dx / 2, ys[0] - dy / 2,
                                  xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy))
        self.shown_epoch = grid.epoch or run.epoch
        set_title(self.plot, f"Decision boundary after epoch {self.shown_epoch}")

    def _draw_points(self, run: RunRecord) -> None:
        # A scatter item per class with one brush: per-point brushes cost a brush
        # object per point and tens of milliseconds per draw.
        points = np.asarray(run.dataset["points"], float)
        labels = np.asarray(run.dataset.get("labels", np.zeros(len(points)))).astype(int)
        pen = pg.mkPen(20, 20, 24, 200, width=0.8)
        for k in np.unique(labels):
            chosen = points[labels == k]
            item = pg.ScatterPlotItem(chosen[:, 0], chosen[:, 1], size=6, pxMode=True,
                                      brush=pg.mkBrush(*class_rgb(int(k)), 235), pen=pen)
            item.setZValue(5)
            self.plot.addItem(item)
            self.points.append(item)
        self.plot.autoRange(padding=0.02)
