"""Starting and stopping the studio: ``strata`` and ``strata FILE`` end up in ``run``.

Sets up the QApplication (names for QSettings, high-DPI rounding, theme), opens the main
window, offers to recover work left by a crash, and tears Qt down in order when the event
loop ends: the window and its items first, then the application, so the interpreter
exits without touching deleted C++ objects.

``STRATA_QUIT_AFTER_SHOW=<ms>`` quits that many milliseconds after the window is shown
(the cold-start benchmark and the start-up tests use it).
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from typing import TYPE_CHECKING

USAGE = "usage: strata [FILE]"



if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from studio.main_window import MainWindow

def create_application(argv: list[str] | None = None):
    """The QApplication with Strata's names (they key QSettings) and DPI policy."""
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from studio.qt_workarounds import protect_singletons

    protect_singletons()
    app = QApplication.instance()
    if app is None:
        # Fractional scale factors (125%, 150%) as they are: text and wires stay crisp.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication([sys.argv[0] if sys.argv else "strata", *(argv or [])])
    QCoreApplication.setOrganizationName("Strata")
    QCoreApplication.setOrganizationDomain("strata.invalid")
    QCoreApplication.setApplicationName("Strata Studio")
    QGuiApplication.setApplicationDisplayName("Strata")
    QGuiApplication.setDesktopFileName("strata")
    return app


def run(argv: list[str]) -> int:
    """Open the studio (on ``argv[0]`` if given); returns the exit status."""
    argv = list(argv)
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        print(USAGE, file=sys.stderr)
        return 2
    from studio.system_libraries import check_display_libraries

    # Qt's own error for a missing X11 library names the wrong one and no fix.
    problem = check_display_libraries()
    if problem:
        print(problem, file=sys.stderr)
        return 1
    _import_headless_first()
    from PySide6.QtCore import QTimer

    app = create_application()
    from studio.main_window import MainWindow

    window = MainWindow(argv[0] if argv else None)
    window.show()
    quit_after = os.environ.get("STRATA_QUIT_AFTER_SHOW")
    if quit_after:
        QTimer.singleShot(int(quit_after) if quit_after.isdigit() else 0, app.quit)
    else:
        QTimer.singleShot(0, window.offer_recovery)
    try:
        code = app.exec()
    finally:
        shutdown(app, window)
    return code


# The Qt-free modules the window uses (and the standard library they pull in:
# multiprocessing, socket, pickle), imported before PySide6 by ``run``.
HEADLESS_FIRST = ("graph", "graph.block_insert", "graph.block_library", "graph.builder",
                  "graph.fixes", "graph.outputs", "runtime.transfer.formats",
                  "runtime.transfer.isolated")


def _import_headless_first() -> None:
    """Import the Qt-free layers the window uses before PySide6.

    Once PySide6 is imported it checks every module imported after it for its
    ``__feature__`` switches by reading the module's source (``inspect.getsource``);
    for the hundred-odd modules of ``graph`` and ``runtime.transfer`` that read was a
    tenth of the cold start. Imported first, they are never looked at.
    """
    import importlib

    for name in HEADLESS_FIRST:
        importlib.import_module(name)


def shutdown(app: QApplication, window: MainWindow) -> None:
    """Delete the window (scene, items, panels) while the application still exists, so
    nothing is destroyed twice at interpreter exit, and let background loads finish.

    Background work runs on ``studio.background.BackgroundTask`` pools owned by the
    window's parts: deleting the window waits for any job still running. Python
    threads named ``strata-...`` (none today) are joined too."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from studio.qt_workarounds import release_clipboard

    window.hide()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    del window
    release_clipboard()
    gc.collect()
    app.processEvents()
    # A background load (the device probe imports torch) must not be cut off half-way
    # through an import by the interpreter's own shutdown.
    for thread in threading.enumerate():
        if thread.name.startswith("strata-") and thread is not threading.current_thread():
            thread.join(timeout=60)


if __name__ == "__main__":  # ``python -m studio.app [FILE]``: the window only
    sys.exit(run(sys.argv[1:]))
