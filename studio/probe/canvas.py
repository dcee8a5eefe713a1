"""The probed example on the canvas: a thumbnail beside every node it passed through.

Feature maps show as a small grid, vectors as a bar strip, sequences as a heatmap,
scalars as their value; under each, this example's gradient at that node (``∇``), so a
dying error signal reads down the network. Items are children of the node cards (they
move with them) and go when the probe is cleared or the document replaced.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPen
from PySide6.QtWidgets import QGraphicsItem

from runtime.probe import images

if TYPE_CHECKING:
    from studio.canvas.node_item import NodeItem
    from studio.canvas.scene import NetworkScene

THUMB_W, THUMB_H = 72.0, 44.0


def to_qimage(rgb: np.ndarray) -> QImage:
    rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ThumbnailItem(QGraphicsItem):
    """One node's value for the probed example, drawn right of its card."""

    def __init__(self, parent: NodeItem, card_width: float) -> None:
        super().__init__(parent)
        # Under the card (chains run left to right, so the space below is free), and
        # under the training health strip that may sit there too.
        from studio.training.overlay import STRIP_H

        self.setPos((card_width - THUMB_W) / 2, parent.card_rect().height() + STRIP_H + 10)
        self.setZValue(5)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.image: QImage | None = None
        self.text = ""
        self.grad = ""

    def set_value(self, value, grad_rms: float | None) -> None:
        self.prepareGeometryChange()
        picture = (images.heatmap(value.attention.mean(axis=0))
                   if value.attention is not None  # attention: who looks at whom
                   else images.value_image(value.kind, value.value))
        self.image = to_qimage(picture) if picture is not None else None
        self.text = "" if picture is not None else _scalar_text(value.value)
        self.grad = "" if grad_rms is None else f"\u2207 {grad_rms:.2g}"
        self.setToolTip(_tooltip(value))
        self.update()

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, THUMB_W, THUMB_H + 14)

    def paint(self, painter: QPainter, option, widget=None) -> None:
        box = QRectF(0, 0, THUMB_W, THUMB_H)
        painter.setPen(QPen(QColor(120, 120, 120), 1))
        painter.setBrush(QColor(255, 255, 255))
        painter.drawRect(box)
        if self.image is not None:
            scaled = self.image.size().scaled(int(THUMB_W) - 2, int(THUMB_H) - 2,
                                              Qt.AspectRatioMode.KeepAspectRatio)
            target = QRectF(1 + (THUMB_W - 2 - scaled.width()) / 2,
                            1 + (THUMB_H - 2 - scaled.height()) / 2,
                            scaled.width(), scaled.height())
            painter.drawImage(target, self.image)
        else:
            painter.setPen(QColor(40, 40, 40))
            painter.setFont(QFont("", 9))
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, self.text)
        if self.grad:
            painter.setPen(QColor(90, 90, 90))
            painter.setFont(QFont("", 8))
            painter.drawText(QRectF(0, THUMB_H, THUMB_W, 14),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             self.grad)


def _scalar_text(value: np.ndarray) -> str:
    flat = np.asarray(value).ravel()
    if flat.size == 1:
        return f"{float(flat[0]):.3g}"
    return f"{flat.size} values"


def _tooltip(value) -> str:
    stats = value.stats
    parts = [f"shape {tuple(value.shape)}"]
    if stats:
        parts.append(f"mean {stats['mean']:.3g}, std {stats['std']:.3g}, "
                     f"min {stats['min']:.3g}, max {stats['max']:.3g}")
    if value.grad_norm is not None:
        parts.append(f"gradient of this example's loss: norm {value.grad_norm:.3g}")
    return "\n".join(parts)


class ProbeCanvas:
    """Keeps one ``ThumbnailItem`` per probed node on ``scene``'s cards."""

    def __init__(self, scene: NetworkScene) -> None:
        self.scene = scene
        self.items: dict[str, ThumbnailItem] = {}
        self.enabled = True

    def show(self, result) -> None:
        if not self.enabled:
            self.clear()
            return
        from studio.canvas.node_item import WIDTH

        alive = set()
        for node_id, value in result.nodes.items():
            card = self.scene.nodes.get(node_id)
            if card is None:
                continue
            item = self.items.get(node_id)
            if item is None or item.parentItem() is not card:
                item = ThumbnailItem(card, WIDTH)
                self.items[node_id] = item
            item.set_value(value, value.grad_rms)
            alive.add(node_id)
        for node_id in set(self.items) - alive:
            self._drop(node_id)

    def clear(self) -> None:
        for node_id in list(self.items):
            self._drop(node_id)

    def _drop(self, node_id: str) -> None:
        item = self.items.pop(node_id)
        try:
            if item.scene() is not None:
                item.scene().removeItem(item)
        except RuntimeError:
            pass  # the card (and with it the item) was deleted already
