"""Feature maps of the convolution layers for one fixed validation example.

One row per convolution layer (network order, up to ``MAX_LAYERS``): the channels the
runtime sent (the first few) side by side. The same example is shown throughout the run,
so the first layer turning into edge and blob detectors is visible as it happens. The
selected layer's row is marked; clicking a row selects that layer.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QStackedLayout, QWidget

from runtime.run_record import RunRecord
from studio.panels.widgets import muted

from .common import layout_widget, theme_colors

MAX_LAYERS = 4
MAX_CHANNELS = 8
GRAY = pg.ColorMap(np.array([0.0, 1.0]), np.array([[12, 12, 16, 255],
                                                    [250, 250, 250, 255]], np.ubyte))


def mosaic(maps: np.ndarray, columns: int | None = None, gap: int = 2) -> np.ndarray:
    """Channels in a grid (``columns`` across; 4 for 5-8 channels, else one row),
    ``gap`` transparent (NaN) pixels between them: (channels, h, w) uint8 ->
    (rows * (h + gap) - gap, columns * (w + gap) - gap) float32."""
    c, h, w = maps.shape
    if columns is None:
        columns = 4 if 4 < c <= 8 else max(c, 1)
    rows = -(-c // columns)
    out = np.full((rows * (h + gap) - gap, columns * (w + gap) - gap), np.nan,
                  np.float32)
    for k in range(c):
        r, q = divmod(k, columns)
        out[r * (h + gap):r * (h + gap) + h, q * (w + gap):q * (w + gap) + w] = maps[k]
    return out


def best_columns(channels: int, width: float, height: float, map_h: int, map_w: int,
                 gap: int = 2) -> int | None:
    """How many channels across draw them largest in a ``width`` x ``height`` box (a
    short wide strip wants one row: 4 x 2 tiles in it were 16 pixels each); None
    before the box has a size."""
    if width < 4 or height < 4 or channels < 1:
        return None

    def scale(columns: int) -> float:
        rows = -(-channels // columns)
        return min(width / (columns * (map_w + gap)), height / (rows * (map_h + gap)))

    # Grids at least as wide as tall: channels read along rows.
    wide = [c for c in range(1, channels + 1) if c >= -(-channels // c)]
    return max(wide, key=scale)


class _Row:
    """The label and the channel mosaic of one convolution layer: one view, one image
    (a view per channel would cost a dozen milliseconds each to build)."""

    def __init__(self, canvas: pg.GraphicsLayoutWidget, row: int) -> None:
        _bg, fg, _grid = theme_colors()
        self.node_id: str | None = None
        # The name above its maps: the maps get the panel's whole width.
        self.label = canvas.addLabel("", row=2 * row, col=0, color=fg, size="9pt",
                                     justify="left")
        self.box = pg.ViewBox(lockAspect=True, enableMouse=False, invertY=True,
                              enableMenu=False)
        canvas.addItem(self.box, row=2 * row + 1, col=0)
        self.image = pg.ImageItem()
        self.image.setColorMap(GRAY)
        self.box.addItem(self.image)
        self.shape: tuple[int, ...] = ()
        self.maps: np.ndarray | None = None
        self.columns: int | None = None
        self.box.sigResized.connect(self._resized)

    def _columns(self, maps: np.ndarray) -> int | None:
        c, h, w = maps.shape
        size = self.box.size()
        return best_columns(c, size.width(), size.height(), h, w)

    def _resized(self, *_args) -> None:
        """A new size may lay the channels out better (one row in a wide strip)."""
        if self.maps is not None and self._columns(self.maps) != self.columns:
            self._draw(self.maps)

    def _draw(self, maps: np.ndarray) -> None:
        self.maps = maps
        self.columns = self._columns(maps)
        tiles = mosaic(maps, self.columns)
        self.image.setImage(tiles.T, levels=(0, 255), autoLevels=False)
        if tiles.shape != self.shape:
            self.shape = tiles.shape
            self.box.autoRange(padding=0.01)

    def show(self, name: str, maps: np.ndarray, note: str, selected: bool) -> None:
        mark = "\u25b6 " if selected else ""
        text = f"<b>{mark}{name}</b>&nbsp;&nbsp;<span style='font-size:8pt'>{note}</span>"
        if text != self.label.text:
            self.label.setText(text)
        self._draw(np.asarray(maps))


class FeatureMapsPlot(QWidget):
    layer_clicked = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.run: RunRecord | None = None
        self.focus: str | None = None
        self.canvas = layout_widget(self)
        self.rows: list[_Row] = []
        self.row_ids: list[str] = []
        self.shown: dict[str, int] = {}  # node id -> step of the maps on screen
        self.empty = muted(QLabel("Feature maps of the convolution layers appear here "
                                  "when training starts (the network needs a Conv "
                                  "layer).", self))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.canvas.scene().sigMouseClicked.connect(self._clicked)
        self.stack = QStackedLayout(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.canvas)

    def set_run(self, run: RunRecord | None) -> None:
        self.run = run
        self.shown = {}
        self.refresh()

    def set_focus(self, node_id: str | None) -> None:
        if node_id != self.focus:
            self.focus = node_id
            self.refresh()

    def layers(self) -> list[str]:
        """Conv layers with maps, in network order; the focus kept in view."""
        run = self.run
        if run is None:
            return []
        ids = [n for n in run.node_ids if n in run.feature_maps]
        if len(ids) > MAX_LAYERS and self.focus in ids[MAX_LAYERS:]:
            ids = ids[:MAX_LAYERS - 1] + [self.focus]
        return ids[:MAX_LAYERS]

    def refresh(self, changed: set[str] | None = None) -> None:
        if changed is not None and "features" not in changed:
            return
        ids = self.layers()
        run = self.run
        if ids != self.row_ids:  # a new set of layers: rows built once for it
            self.canvas.clear()
            self.rows = [_Row(self.canvas, r) for r in range(len(ids))]
            self.row_ids = ids
        for node_id, widgets in zip(ids, self.rows):
            assert run is not None  # layers() lists none without a run
            event = run.feature_maps[node_id]
            note = (f"{min(len(event.maps), MAX_CHANNELS)} of {event.channels} "
                    f"channels, step {event.step}")
            widgets.node_id = node_id
            widgets.show(run.layer_name(node_id), event.maps[:MAX_CHANNELS], note,
                         node_id == self.focus)
            self.shown[node_id] = event.step
        self.stack.setCurrentWidget(self.canvas if ids else self.empty)

    def _clicked(self, event) -> None:
        for widgets in self.rows:
            where = event.scenePos()
            hit = (widgets.label.sceneBoundingRect().contains(where)
                   or widgets.box.sceneBoundingRect().contains(where))
            if hit and widgets.node_id is not None:
                self.layer_clicked.emit(widgets.node_id)
                return
