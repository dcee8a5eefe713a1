"""An overview of the whole network in the view's corner, for large networks.

It paints one small rectangle per card (in its category colour) and the visible part of
the scene; clicking or dragging in it moves the view there. It reads positions from the
scene's items and hides itself while the whole network is already in view.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QPointF, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QWidget

from studio import resources

if TYPE_CHECKING:
    from studio.canvas.view import NetworkView

SIZE = (180, 110)
MARGIN = 12


class Minimap(QWidget):
    def __init__(self, view: NetworkView) -> None:
        super().__init__(view)
        self.view = view
        self.enabled = True
        self.resize(*SIZE)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Overview: click or drag to move the view")
        self._cards: QPixmap | None = None  # the cards, drawn once per change
        self._cards_key: tuple[QSize, str, float] | None = None
        view.network_scene.contents_changed.connect(self._contents_changed)
        self.hide()

    def _contents_changed(self) -> None:
        self._cards = None
        self.refresh()

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        self.refresh()

    def _corners(self) -> list[QPoint]:
        vp = self.view.viewport().geometry()
        right = vp.right() - self.width() - MARGIN
        bottom = vp.bottom() - self.height() - MARGIN
        left, top = vp.left() + MARGIN, vp.top() + MARGIN
        return [QPoint(right, bottom), QPoint(left, bottom), QPoint(right, top),
                QPoint(left, top)]

    def free_corner(self) -> QPoint | None:
        """A corner of the view where the overview covers no card and no other widget
        over the canvas (the training banner, the heat legend): None when none is."""
        from .node_item import NodeItem

        viewport = self.view.viewport()
        overlays = [w.geometry() for w in self.view.findChildren(
            QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
            if w is not self and w is not viewport and w.isVisible()]
        for corner in self._corners():
            if any(QRect(corner, self.size()).adjusted(-4, -4, 4, 4).intersects(o)
                   for o in overlays):
                continue
            local = QRect(viewport.mapFrom(self.view, corner), self.size())
            area = self.view.mapToScene(local.adjusted(-4, -4, 4, 4)).boundingRect()
            if not any(isinstance(i, NodeItem) for i in self.view.scene().items(area)):
                return corner
        return None

    def reposition(self) -> None:
        corner = self.free_corner()
        if corner is not None:
            self.move(corner)

    def refresh(self) -> None:
        """Repaint, showing the overview only while part of the network is out of view
        and in a corner where it covers no card."""
        scene = self.view.network_scene
        nodes = scene.nodes_rect()
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        needed = self.enabled and not nodes.isNull() and not visible.contains(nodes)
        corner = self.free_corner() if needed else None
        needed = corner is not None
        if corner is not None and corner != self.pos():
            self.move(corner)
        if needed != self.isVisible():
            self.setVisible(needed)
            if needed:
                self.raise_()
        self.update()

    def _mapping(self) -> tuple[QRectF, float, QPointF]:
        world = self.view.network_scene.nodes_rect().adjusted(-80, -80, 80, 80)
        inner = QRectF(self.rect()).adjusted(6, 6, -6, -6)
        scale = min(inner.width() / max(world.width(), 1.0),
                    inner.height() / max(world.height(), 1.0))
        offset = QPointF(inner.center().x() - world.center().x() * scale,
                         inner.center().y() - world.center().y() * scale)
        return world, scale, offset

    def paintEvent(self, event) -> None:
        theme = resources.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        background = QColor(theme.base)
        background.setAlpha(235)
        painter.setPen(QPen(theme.color("border"), 1))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        _world, scale, offset = self._mapping()
        key = (self.size(), theme.name, self.devicePixelRatioF())
        if self._cards is None or self._cards_key != key:
            self._cards, self._cards_key = self._draw_cards(scale, offset), key
        painter.drawPixmap(0, 0, self._cards)
        visible = self.view.mapToScene(self.view.viewport().rect()).boundingRect()
        frame = QRectF(visible.x() * scale + offset.x(), visible.y() * scale + offset.y(),
                       visible.width() * scale, visible.height() * scale)
        accent = theme.color("accent")
        painter.setPen(QPen(accent, 1.5))
        fill = QColor(accent)
        fill.setAlpha(30)
        painter.setBrush(fill)
        painter.drawRect(frame.intersected(QRectF(self.rect()).adjusted(1, 1, -1, -1)))
        painter.end()

    def _draw_cards(self, scale: float, offset: QPointF) -> QPixmap:
        ratio = self.devicePixelRatioF()
        pixmap = QPixmap(int(self.width() * ratio), int(self.height() * ratio))
        pixmap.setDevicePixelRatio(ratio)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setPen(Qt.PenStyle.NoPen)
        colours: dict[str, QColor] = {}
        for item in self.view.network_scene.nodes.values():
            b, category = item.boundingRect(), item.face.category
            if category not in colours:
                colours[category] = resources.category_color(category)
            painter.setBrush(colours[category])
            painter.drawRect(QRectF((item.x() + b.x()) * scale + offset.x(),
                                    (item.y() + b.y()) * scale + offset.y(),
                                    max(b.width() * scale, 2.0), max(b.height() * scale, 2.0)))
        painter.end()
        return pixmap

    def _go(self, pos: QPointF) -> None:
        _world, scale, offset = self._mapping()
        self.view.navigated = True
        self.view.centerOn((pos.x() - offset.x()) / scale, (pos.y() - offset.y()) / scale)

    def mousePressEvent(self, event) -> None:
        self._go(event.position())

    def mouseMoveEvent(self, event) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._go(event.position())
