"""Workarounds for defects in the Qt bindings, each with the reproducer that shows it.

PySide6 6.12.0 drops one reference to ``True`` on every signal emitted from Python
(``Signal().emit()``, whatever the arguments)::

    import sys
    from PySide6.QtCore import QObject, Signal
    class O(QObject):
        s = Signal()
    o, before = O(), sys.getrefcount(True)
    for _ in range(100):
        o.s.emit()
    assert sys.getrefcount(True) == before - 100   # PySide6 6.12.0, Python 3.11

On Python < 3.12 ``True`` is an ordinary refcounted object, so after a few thousand
emits (every edit emits several) its count reaches zero and the interpreter aborts with
"bool_dealloc: deallocating True or False" (at the latest while exiting). Python 3.12
made ``True`` and ``False`` immortal; ``protect_bools`` does the same by hand, which is
harmless (the bools are static objects that are never freed anyway).
"""

from __future__ import annotations

import sys

_done = False


def protect_bools() -> None:
    """Make ``True`` and ``False`` effectively immortal (no-op on Python >= 3.12)."""
    global _done
    if _done or sys.version_info >= (3, 12):
        return
    import ctypes

    for value in (True, False):
        # ob_refcnt is the first field of every CPython object, at id(value).
        ctypes.c_ssize_t.from_address(id(value)).value += 1 << 40
    _done = True
