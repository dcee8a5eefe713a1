"""Keeping work safe across sessions: autosave and crash recovery, recent files.

Nothing here decides anything for the user: the main window asks whether to restore a
recovery or save before closing; these classes only keep the data needed to offer it.
"""

from .autosave import AutosaveManager, Recovery
from .recent import RecentFiles

__all__ = ["AutosaveManager", "RecentFiles", "Recovery"]
