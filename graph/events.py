"""A tiny observer so the document can announce edits without knowing about Qt.

The studio subscribes and turns events into scene updates; tests subscribe and record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Listener = Callable[[str, dict[str, Any]], None]


class EventSource:
    """Holds listeners and calls each with ``(event_name, payload)``."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add ``listener``; the returned function removes it again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def emit(self, event: str, /, **payload: Any) -> None:
        # Positional-only: payloads may carry a ``name`` key (params_changed does).
        for listener in list(self._listeners):
            listener(event, payload)
