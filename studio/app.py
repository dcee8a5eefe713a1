"""Starting and stopping the studio: ``strata`` and ``strata FILE`` end up in ``run``.

Sets up the QApplication (names for QSettings, high-DPI rounding, theme), opens the main
window, offers to recover work left by a crash, and tears Qt down in order when the event
loop ends: the window and its items first, then the application, so the interpreter
exits without touching deleted C++ objects.

``STRATA_QUIT_AFTER_SHOW=1`` quits as soon as the window is on screen (the cold-start
benchmark uses it).
"""

from __future__ import annotations

import gc
import os
import sys

USAGE = "usage: strata [FILE]"


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
    from PySide6.QtCore import QTimer

    app = create_application()
    from studio.main_window import MainWindow

    window = MainWindow(argv[0] if argv else None)
    window.show()
    if os.environ.get("STRATA_QUIT_AFTER_SHOW"):
        QTimer.singleShot(0, app.quit)
    else:
        QTimer.singleShot(0, window.offer_recovery)
    try:
        code = app.exec()
    finally:
        shutdown(app, window)
    return code


def shutdown(app, window) -> None:
    """Delete the window (scene, items, panels) while the application still exists,
    then the application itself, so nothing is destroyed twice at interpreter exit."""
    from PySide6.QtCore import QCoreApplication, QEvent

    window.hide()
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    del window
    gc.collect()
    app.processEvents()
