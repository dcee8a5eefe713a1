"""The Open Recent list, kept in QSettings: newest first, at most ``LIMIT`` files, and
files that no longer exist are dropped when the list is read."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QObject, QSettings, Signal

LIMIT = 10
KEY = "files/recent"


class RecentFiles(QObject):
    changed = Signal()

    def __init__(self, settings: QSettings | None = None, key: str = KEY,
                 limit: int = LIMIT, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings if settings is not None else QSettings()
        self.key = key
        self.limit = limit

    def _stored(self) -> list[str]:
        value = self.settings.value(self.key, [])
        if isinstance(value, str):  # INI files give a lone entry back as a string
            return [value] if value else []
        return [str(v) for v in value] if isinstance(value, list) else []

    def _store(self, paths: list[str]) -> None:
        self.settings.setValue(self.key, paths)
        self.settings.sync()
        self.changed.emit()

    def files(self) -> list[Path]:
        """Existing recent files, newest first (missing ones are forgotten)."""
        stored = self._stored()
        existing = [p for p in stored if Path(p).is_file()]
        if existing != stored:
            self._store(existing)
        return [Path(p) for p in existing]

    def add(self, path: str | os.PathLike) -> None:
        text = str(Path(path).resolve())
        paths = [text] + [p for p in self._stored() if p != text]
        self._store(paths[: self.limit])

    def remove(self, path: str | os.PathLike) -> None:
        text = str(Path(path).resolve())
        self._store([p for p in self._stored() if p != text])

    def clear(self) -> None:
        self._store([])
