"""Fixtures the studio tests share, and the check that no test leaks a window.

- ``make_controller(source)``: a ``DocumentController`` on an example name
  (``"spiral_mlp"``), a path or a ``Document``; ``controller`` is the one on
  ``shapes_cnn`` most panel tests start from.
- ``make_window(source=None, settings="settings.ini")``: a real ``MainWindow``
  offscreen with its settings and recovery folder in ``tmp_path``, shown and exposed;
  the questions it would ask are answered from ``window.answers`` (default: Discard)
  and recorded in ``window.asked``.
- Every test must leave no visible top-level window behind (register widgets with
  ``qtbot.addWidget`` so pytest-qt closes them): a leak fails the test that made it.
- Mouse buttons and keyboard modifiers left held are released after every test.
  QTest remembers pressed buttons for the whole process (a press without its
  release, and QTest's own ``mouseDClick``, which sends no release): a right-button
  press left held made a later test's releases carry "right still down", so Qt never
  ended that test's rubber band and its next, Shift-extended band replaced the
  selection instead of adding to it. The modifiers of a test's last click stay
  "held" too, and Qt's item views read them when they select.
- At the end of the session every widget is deleted, pending deletions run,
  background pools are waited for and the clipboard is emptied while the
  QApplication still exists: Qt objects left to the interpreter's own shutdown were
  destroyed after the application and crashed Python (SIGSEGV) after the results
  were reported (the last cause: the offscreen clipboard deleting the ``QMimeData``
  of a Copy from a C exit handler, see ``studio.qt_workarounds``).
"""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QPoint, QSettings, Qt, QThreadPool
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from strata_paths import EXAMPLES

import graph
from studio import resources
from studio.document.controller import DocumentController
from studio.qt_workarounds import release_clipboard

Answer = QMessageBox.StandardButton


@pytest.fixture
def make_controller(qapp):
    def make(source: str | Path | graph.Document = "shapes_cnn") -> DocumentController:
        c = DocumentController()
        if isinstance(source, graph.Document):
            c.set_document(source)
        elif isinstance(source, str) and "/" not in source and not source.endswith(".strata"):
            c.open(EXAMPLES / f"{source}.strata")
        else:
            c.open(source)
        return c

    return make


@pytest.fixture
def controller(make_controller) -> DocumentController:
    return make_controller("shapes_cnn")


@pytest.fixture
def make_window(qtbot, tmp_path, qapp):
    from studio.main_window import MainWindow

    def make(source=None, settings: str = "settings.ini") -> MainWindow:
        window = MainWindow(source, settings=QSettings(str(tmp_path / settings),
                                                       QSettings.Format.IniFormat),
                            autosave_dir=tmp_path / "recovery")
        window.answers = []  # what the user answers to the next questions
        window.asked = []

        def ask(title, text, buttons, default):
            window.asked.append(title)
            return window.answers.pop(0) if window.answers else Answer.Discard

        window.ask = ask
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        return window

    yield make
    resources.apply(qapp, "light")


@pytest.fixture(autouse=True)
def no_leaked_windows(request):
    """Fail a test that leaves a visible top-level window (set up before pytest-qt's
    ``qtbot``, so this runs after it closed the widgets it was given)."""
    app = QApplication.instance()
    before = set(map(id, app.topLevelWidgets())) if app is not None else set()
    yield
    app = QApplication.instance()
    if app is None:
        return
    leaked = [w for w in app.topLevelWidgets() if w.isVisible() and id(w) not in before]
    for w in leaked:  # close them, so the next test starts clean
        w.close()
    if leaked:
        names = ", ".join(f"{type(w).__name__} {w.objectName() or w.windowTitle()!r}"
                          for w in leaked)
        pytest.fail(f"{request.node.nodeid} left visible top-level windows: {names} "
                    "(register them with qtbot.addWidget)", pytrace=False)


@pytest.fixture(autouse=True)
def no_held_input():
    """Release the mouse buttons and modifiers a test left held (see the docstring),
    so the next test starts with none."""
    yield
    if QApplication.instance() is None:
        return
    held = QGuiApplication.mouseButtons()
    if held == Qt.MouseButton.NoButton and \
            QGuiApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier:
        return
    sink = QWidget()
    # A release carries no modifiers and takes its button off QTest's record.
    for button in (Qt.MouseButton.LeftButton, Qt.MouseButton.RightButton,
                   Qt.MouseButton.MiddleButton):
        if held & button or button == Qt.MouseButton.LeftButton:
            QTest.mouseRelease(sink, button, Qt.KeyboardModifier.NoModifier, QPoint(1, 1))
    sink.deleteLater()


@pytest.fixture(autouse=True)
def closed_widgets_deleted():
    """Delete what the test's teardown closed and gave to ``deleteLater`` (pytest-qt's
    closing of the widgets a test registered), now: a deletion posted outside any
    event loop waited for the end of the session, so every test's window lived on,
    hidden, with its timers and connections (a training workbench's runner warmed up
    during a later test)."""
    yield
    if QCoreApplication.instance() is not None:
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


@pytest.fixture(scope="session", autouse=True)
def qt_torn_down_in_order(qapp):
    """Delete what the tests left, while the application exists (see the docstring)."""
    yield
    for widget in qapp.topLevelWidgets():
        widget.close()
        widget.deleteLater()
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        qapp.processEvents()
        gc.collect()
    QThreadPool.globalInstance().waitForDone(30_000)
    # The offscreen clipboard would delete a QMimeData made in Python (Copy) after
    # Python has shut down: see studio.qt_workarounds.release_clipboard.
    release_clipboard()
