"""Workarounds for defects in the Qt bindings, each with the reproducer that shows it.

PySide6 6.12.0 (the ``cp310-abi3`` wheel) hands ``None`` and ``True`` back to Python
without taking a reference: every call of a C++ method returning ``void`` (or a null
pointer) drops one reference to ``None``, and every ``Signal.emit`` drops one to
``True``::

    import sys
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtGui import QPainterPath
    class O(QObject):
        s = Signal()
    o, path = O(), QPainterPath()
    none, true = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(100):
        o.s.emit()
        path.lineTo(1, 1)
    print(sys.getrefcount(None) - none, sys.getrefcount(True) - true)  # -100 -100

Python 3.12 made these singletons immortal, so nothing happens there. On Python 3.10
and 3.11 they are ordinary refcounted objects: after some ten thousand Qt calls (moving
a card recomputes its wires with several) the count reaches zero and the interpreter
aborts with "none_dealloc: deallocating None" or "bool_dealloc". ``protect_singletons``
makes them immortal by hand, as 3.12 does; that is harmless, because these objects are
static and never freed anyway.
"""

from __future__ import annotations

import sys

_done = False


def protect_singletons() -> None:
    """Make ``None``, ``True`` and ``False`` effectively immortal (no-op on 3.12+)."""
    global _done
    if _done or sys.version_info >= (3, 12) or not _affected_bindings():
        return
    import ctypes

    for value in (None, True, False):
        # ob_refcnt is the first field of every CPython object, at id(value).
        ctypes.c_ssize_t.from_address(id(value)).value += 1 << 40
    _done = True


def _affected_bindings() -> bool:
    """Only the release known to leak needs the fix (pyproject excludes it; a user
    may still have it installed by hand). The module's own version string, not
    ``importlib.metadata``: scanning every installed distribution cost a tenth of the
    studio's start."""
    import PySide6

    return str(getattr(PySide6, "__version__", "")).startswith("6.12.0")


# Platforms whose clipboard is Qt's in-process fallback (no system clipboard).
_LOCAL_CLIPBOARD_PLATFORMS = ("offscreen", "minimal")


def release_clipboard() -> None:
    """Delete clipboard data made in Python while Python still runs.

    Without a system clipboard (the offscreen and minimal platforms: the tests,
    headless screenshots) Qt keeps the clipboard's ``QMimeData`` in a static of QtGui,
    deleted by the C library's exit handlers after Python has shut down. Deleting a
    ``QMimeData`` created in Python (Copy makes one) then crashes in
    ``Shiboken::Object::destroy`` (SIGSEGV after the results were reported)::

        QT_QPA_PLATFORM=offscreen python -c "from PySide6.QtCore import QMimeData
        from PySide6.QtWidgets import QApplication
        app = QApplication([]); m = QMimeData(); m.setText('x')
        app.clipboard().setMimeData(m)"     # exit status 139

    A system clipboard (X11, Wayland, Windows, macOS) belongs to the platform
    integration and is released with the application, so what the user copied stays
    for other programs there; it is cleared only on the fallback platforms."""
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is None:
        return
    if QGuiApplication.platformName() in _LOCAL_CLIPBOARD_PLATFORMS:
        QGuiApplication.clipboard().clear()
