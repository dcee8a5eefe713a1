"""Ways to make one example by hand: draw it, click it, type it, or drop an image file.

Each editor emits ``made(array)`` with one example shaped like the network's input
(no batch dimension); the panel probes it. Which editors show depends on the input: a
drawing pad for one-channel images, a plane to click for two features, a row of numbers
for other vectors, a token list for integer sequences; images of any kind can also be
dropped on the panel (``image_file_example``).
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from graph.errors import StrataError


class DrawPad(QWidget):
    """A square to draw a digit or shape on with the mouse, read at the input's size."""

    made = Signal(object)

    def __init__(self, size: tuple[int, int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows, self.cols = size
        self.setObjectName("probe_draw_pad")
        self.setMinimumSize(112, 112)
        self.setMaximumSize(168, 168)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.resize(140, 140)
        self.setToolTip("Draw with the left mouse button; the network's answer follows "
                        "each stroke. Right-click clears.")
        self.image = QImage(self.cols * 8, self.rows * 8, QImage.Format.Format_Grayscale8)
        self.image.fill(0)
        self._last: QPointF | None = None

    def clear(self) -> None:
        self.image.fill(0)
        self.update()

    def array(self) -> np.ndarray:
        """The drawing averaged down to (1, rows, cols) in [0, 1]."""
        img = self.image
        ptr = img.constBits()
        raw = np.frombuffer(ptr, dtype=np.uint8, count=img.sizeInBytes())
        raw = raw.reshape(img.height(), img.bytesPerLine())[:, :img.width()]
        small = raw.reshape(self.rows, 8, self.cols, 8).mean(axis=(1, 3)) / 255.0
        return small[None].astype(np.float32)

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.drawImage(QRectF(self.rect()), self.image)
        painter.setPen(QPen(QColor(128, 128, 128), 1))
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))

    def _to_image(self, pos: QPointF) -> QPointF:
        return QPointF(pos.x() * self.image.width() / max(self.width(), 1),
                       pos.y() * self.image.height() / max(self.height(), 1))

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.RightButton:
            self.clear()
            self.made.emit(self.array())
            return
        self._last = self._to_image(event.position())
        self._stroke(self._last)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._last is None:
            return
        point = self._to_image(event.position())
        self._stroke(point)
        self._last = point

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if self._last is not None:
            self._last = None
            self.made.emit(self.array())

    def _stroke(self, point: QPointF) -> None:
        painter = QPainter(self.image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor(255, 255, 255), self.image.width() / 9,
                   Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        painter.drawLine(self._last or point, point)
        painter.end()
        self.update()


class ValuesEditor(QWidget):
    """A row of numbers (a table row) or token ids (a sequence), typed and probed."""

    made = Signal(object)

    def __init__(self, shape: tuple[int, ...], dtype: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.shape, self.dtype = shape, dtype
        self.edit = QLineEdit(self)
        self.edit.setObjectName("probe_values")
        what = "token ids" if dtype == "long" else "values"
        self.edit.setPlaceholderText(f"{int(np.prod(shape))} {what}, separated by "
                                     "commas or spaces")
        self.button = QPushButton("Probe", self)
        self.error = ""
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.edit, 1)
        row.addWidget(self.button)
        self.edit.returnPressed.connect(self.submit)
        self.button.clicked.connect(self.submit)

    def show_values(self, array: np.ndarray) -> None:
        flat = np.asarray(array).ravel()
        fmt = (lambda v: str(int(v))) if self.dtype == "long" else (lambda v: f"{v:.4g}")
        self.edit.setText(", ".join(fmt(v) for v in flat))

    def parse(self) -> np.ndarray:
        text = self.edit.text().replace(",", " ").split()
        count = int(np.prod(self.shape))
        if len(text) != count:
            raise StrataError(f"expected {count} values, got {len(text)}")
        try:
            if self.dtype == "long":
                values = np.array([int(t) for t in text], dtype=np.int64)
            else:
                values = np.array([float(t) for t in text], dtype=np.float32)
        except ValueError as e:
            raise StrataError(f"not a number: {str(e).split(':')[-1].strip()}") from None
        if self.dtype != "long" and not np.isfinite(values).all():
            raise StrataError("values must be finite numbers")
        return values.reshape(self.shape)

    def submit(self) -> None:
        try:
            values = self.parse()
        except StrataError as e:
            self.error = str(e)
            self.edit.setToolTip(self.error)
            self.edit.setStyleSheet("QLineEdit { border: 1px solid #c0392b; }")
            return
        self.error = ""
        self.edit.setToolTip("")
        self.edit.setStyleSheet("")
        self.made.emit(values)


def image_file_example(path: str, shape: tuple[int, ...]) -> np.ndarray:
    """An image file as one example shaped (C, H, W) in [0, 1] (grey or RGB, resized)."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise StrataError("Dropping images needs Pillow: "
                          "pip install 'strata-studio[images]'") from None
    if len(shape) != 3 or shape[0] not in (1, 3):
        raise StrataError(f"this network's input is shaped {tuple(shape)}, not an image")
    channels, rows, cols = shape
    try:
        with Image.open(path) as img:
            img.draft("L" if channels == 1 else "RGB", (cols * 2, rows * 2))
            img = img.convert("L" if channels == 1 else "RGB").resize((cols, rows))
            array = np.asarray(img, dtype=np.float32) / 255.0
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError) as e:
        raise StrataError(f"{path}: not an image this can read ({e})") from None
    return array[None] if channels == 1 else array.transpose(2, 0, 1)


class Editors(QWidget):
    """The editors that fit an input of ``shape`` and ``dtype``; each one's example
    arrives through ``made``. ``pad``, ``plane`` and ``values`` are None when absent."""

    made = Signal(object)

    def __init__(self, shape: tuple[int, ...], dtype: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.pad: DrawPad | None = None
        self.plane = None
        self.values: ValuesEditor | None = None
        self.hint = ""
        if len(shape) == 3 and shape[0] == 1 and dtype == "float":
            self.pad = DrawPad((shape[1], shape[2]))
            self.pad.made.connect(self.made)
            layout.addWidget(self.pad)
            self.hint = "Draw here (right-click clears), or drop an image file on the panel."
        elif len(shape) == 3 and shape[0] == 3:
            self.hint = "Drop an image file on the panel to probe it."
        elif shape == (2,) and dtype == "float":
            from .plane import PointPlane

            self.plane = PointPlane()
            self.plane.made.connect(self.made)
            layout.addWidget(self.plane)
            self.hint = "Click a point of the plane to probe it."
        if len(shape) <= 2 and int(np.prod(shape)) <= 64:
            self.values = ValuesEditor(tuple(shape), dtype)
            self.values.made.connect(self.made)
            layout.addWidget(self.values)
            self.hint = self.hint or "Edit the values and press Enter to probe them."
        layout.addWidget(QLabel(self.hint, wordWrap=True))
