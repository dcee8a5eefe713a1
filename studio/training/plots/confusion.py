"""The confusion matrix of the validation set after the latest epoch.

Rows are the true classes (first at the top), columns the predicted ones; each cell is
shaded by the share of its row, so a class the network mixes up shows as a bright cell
off the diagonal whatever the class sizes. Counts are written in the cells while they
are few enough to read.

A multi-label run has no confusion matrix: the same place shows each label's F1 on the
validation set as a bar (first label at the top), with the micro and macro F1 in the
title, so a label the network misses stands out.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from runtime.run_record import RunRecord

from .common import (
    data_range,
    empty_range,
    layout_widget,
    placeholder,
    set_title,
    small_font,
    style_plot,
    theme_colors,
)

MAX_TEXT = 12  # classes up to which counts are written in the cells
BLUES = pg.ColorMap(np.array([0.0, 1.0]), np.array([[238, 243, 250, 255],
                                                     [31, 86, 170, 255]], np.ubyte))


class ConfusionPlot(QWidget):
    cell_clicked = Signal(int, int)  # true class, predicted class (the Probe lists them)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.run: RunRecord | None = None
        self.canvas = layout_widget(self)
        self.plot = style_plot(self.canvas.addPlot(enableMenu=False), "Confusion matrix (validation)",
                               left="true class", bottom="predicted class")
        self.plot.showGrid(x=False, y=False)
        self.plot.invertY(True)  # cells need not be square: the matrix fills the plot
        self.image = pg.ImageItem()
        self.image.setColorMap(BLUES)
        self.plot.addItem(self.image)
        self.texts: list[pg.TextItem] = []
        self.classes = 0
        self.bars = pg.BarGraphItem(x0=[], y=[], width=[], height=0.7,
                                    brush=pg.mkBrush(31, 86, 170, 220), pen=None)
        self.bars.setVisible(False)
        self.plot.addItem(self.bars)
        self.labels = 0  # labels drawn as bars (multi-label runs)
        self.hint = placeholder(self.plot, "For classification (multi-label: F1 per "
                                "label): filled after each validation pass")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

    def _clicked(self, event) -> None:
        box = self.plot.getViewBox()
        if not self.classes or not box.sceneBoundingRect().contains(event.scenePos()):
            return
        p = box.mapSceneToView(event.scenePos())
        true, predicted = int(p.y()), int(p.x())
        if 0 <= true < self.classes and 0 <= predicted < self.classes:
            self.cell_clicked.emit(true, predicted)

    def set_run(self, run: RunRecord | None) -> None:
        self.run = run
        self.image.clear()
        self._set_classes(0, ())
        self._set_labels(())
        self.refresh()

    def refresh(self, changed: set[str] | None = None) -> None:
        if changed is not None and "epochs" not in changed:
            return
        run = self.run
        if run is not None and run.label_f1:
            self._show_labels(run)
            return
        matrix = run.confusion if run is not None else None
        self.hint.setVisible(matrix is None)
        if run is None or matrix is None:
            empty_range(self.plot)  # no classes yet: no ticks, no made-up range
            return
        k = len(matrix)
        if k != self.classes:
            self._set_classes(k, run.class_names)
        totals = matrix.sum(axis=1, keepdims=True)
        share = matrix / np.maximum(totals, 1)
        self.image.setImage(share.T, levels=(0, 1), autoLevels=False)
        self.image.setRect(QRectF(0, 0, k, k))
        if k <= MAX_TEXT:
            for i in range(k):
                for j in range(k):
                    text = self.texts[i * k + j]
                    # Colour first: setting it after the text leaves a stale paint.
                    text.setText(str(int(matrix[i, j])),
                                 "#ffffff" if share[i, j] > 0.55 else "#1f2329")
        accuracy = np.trace(matrix) / max(matrix.sum(), 1)
        set_title(self.plot, f"Confusion (validation): {accuracy:.0%} right")

    def _set_classes(self, k: int, names) -> None:
        for text in self.texts:
            self.plot.removeItem(text)
        self.texts = []
        self.classes = k
        labels = [(i + 0.5, (names[i] if i < len(names) else str(i))[:12])
                  for i in range(k)]
        self.plot.getAxis("bottom").setTicks([labels, []])
        self.plot.getAxis("left").setTicks([labels, []])
        if 0 < k <= MAX_TEXT:
            font = small_font(11 if k <= 6 else 9)
            for i in range(k):
                for j in range(k):
                    text = pg.TextItem("", anchor=(0.5, 0.5))
                    text.setFont(font)
                    text.setPos(j + 0.5, i + 0.5)
                    text.setZValue(5)
                    self.plot.addItem(text)
                    self.texts.append(text)
        if k:
            data_range(self.plot, x=False, y=False)  # the classes set the range
            self.plot.setRange(xRange=(0, k), yRange=(0, k), padding=0.02)

    # ------------------------------------------------------------ multi-label
    def _show_labels(self, run: RunRecord) -> None:
        """Each label's validation F1 as a horizontal bar."""
        self.hint.setVisible(False)
        names, scores = run.class_names, np.asarray(run.label_f1, np.float64)
        if len(scores) != self.labels:
            self._set_labels(names)
        k = len(scores)
        self.bars.setOpts(x0=np.zeros(k), y=np.arange(k) + 0.5, width=scores, height=0.7)
        micro = run.epoch_records[-1].val_metric if run.epoch_records else None
        head = f"micro {micro:.3f}, " if micro is not None else ""
        set_title(self.plot, f"F1 per label: {head}macro {scores.mean():.3f}")

    def _set_labels(self, names) -> None:
        """Bars for ``names`` (none: back to the confusion matrix)."""
        self.labels = len(names)
        self.bars.setVisible(bool(names))
        self.image.setVisible(not names)
        if not names:
            self._axis_titles("true class", "predicted class")
            return
        self._set_classes(0, ())
        self._axis_titles("label", "F1")
        ticks = [(i + 0.5, str(name)[:16]) for i, name in enumerate(names)]
        self.plot.getAxis("left").setTicks([ticks, []])
        self.plot.getAxis("bottom").setTicks(None)
        self.plot.setRange(xRange=(0, 1), yRange=(0, len(names)), padding=0.02)

    def _axis_titles(self, left: str, bottom: str) -> None:
        _bg, fg, _grid = theme_colors()
        for axis, text in (("left", left), ("bottom", bottom)):
            if self.plot.getAxis(axis).labelText != text:
                self.plot.setLabel(axis, text, **{"font-size": "10px", "color": fg})
