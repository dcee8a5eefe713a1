"""What an empty canvas says: how to start a network.

A new user's first sight is a blank dotted canvas; this centred note names the three
ways in (drag a layer from the Layers panel, double-click or Tab to search one, or open
an example) and disappears with the first card. It ignores the mouse, so drops and
double-clicks on it reach the canvas underneath.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

if TYPE_CHECKING:
    from studio.canvas.scene import NetworkScene
    from studio.canvas.view import NetworkView

TEXT = ("<p style='font-size:13pt'><b>Start a network</b></p>"
        "<p>Drag a layer from the <b>Layers</b> panel onto the canvas,<br>"
        "or double-click here (or press <b>Tab</b>) to search for one.</p>"
        "<p>Or open a ready-made network: <b>File \u25b8 Examples</b>.</p>")
BLOCK_TEXT = ("<p style='font-size:13pt'><b>An empty block</b></p>"
              "<p>Add its layers as on the main canvas: drag one from the <b>Layers</b> "
              "panel,<br>or double-click here (or press <b>Tab</b>).</p>")


class EmptyCanvasHint(QLabel):
    def __init__(self, view: NetworkView) -> None:
        super().__init__(view.viewport())
        self.view = view
        self.setObjectName("empty_canvas_hint")
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setStyleSheet("color: palette(placeholder-text); background: transparent;")
        self.root = self.scene = view.network_scene  # the network's own level
        self.scene.contents_changed.connect(self.refresh)
        self.refresh()

    def follow(self, scene: NetworkScene) -> None:
        """The view shows another level (an open block's inside, or the network)."""
        self.scene.contents_changed.disconnect(self.refresh)
        self.scene = scene
        scene.contents_changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        empty = not self.scene.nodes
        if empty:
            self.setText(TEXT if self.scene is self.root else BLOCK_TEXT)
            self.reposition()
        self.setVisible(empty)

    def reposition(self) -> None:
        self.adjustSize()
        area = self.view.viewport().rect()
        self.move(area.center() - self.rect().center())
