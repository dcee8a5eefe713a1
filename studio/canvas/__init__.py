"""The network canvas: a QGraphicsScene that mirrors the document and the view that
turns gestures into controller intents.

Invariants: items hold node ids and edges, never node state of their own (a card keeps a
display cache rebuilt from the document's events); nothing here edits the document; a
gesture becomes exactly one controller call (one undo step), a drag of many cards
included, reported on mouse release.
"""

from .node_item import NodeItem
from .scene import NetworkScene
from .view import LAYER_MIME, NetworkView
from .wire_item import WireItem

__all__ = ["LAYER_MIME", "NetworkScene", "NetworkView", "NodeItem", "WireItem"]
