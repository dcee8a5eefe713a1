"""The window's remembered geometry and dock layout, checked before they are used.

What QSettings holds was saved on another screen, by an older layout, or by a session
that ended with a panel pulled wide: restored blindly it gave an 853x585 window with the
Sweep dock open and the canvas 160 px tall at 14%. So the geometry is clamped to the
screen the window opens on, a dock state saved by another layout version is dropped
(``STATE_VERSION`` in ``studio.workspaces``), and once the window is shown a layout
that leaves the canvas less room than its workspace promises (``Workspace.canvas_width``
and ``canvas_height``) is replaced by that workspace's defaults.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtGui import QGuiApplication, QScreen

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMainWindow

    from studio.workspaces import WorkspaceSwitcher

DEFAULT_SIZE = (1440, 900)  # a first start: this, or 90% of a smaller screen


def screen_of(window: QMainWindow) -> QScreen:
    """The screen the window is on (its centre), else the primary one."""
    app = QGuiApplication.instance()
    screen = None
    if isinstance(app, QGuiApplication):
        screen = app.screenAt(window.geometry().center())
    return screen or window.screen() or QGuiApplication.primaryScreen()


def clamp_to_screen(window: QMainWindow) -> bool:
    """Fit the window inside the available area of its screen (resized, then moved);
    True when it had to change."""
    if window.isMaximized() or window.isFullScreen():
        return False
    area = screen_of(window).availableGeometry()
    frame = window.frameGeometry()
    extra_w = frame.width() - window.width()  # the window manager's frame
    extra_h = frame.height() - window.height()
    width = min(window.width(), area.width() - extra_w)
    height = min(window.height(), area.height() - extra_h)
    changed = (width, height) != (window.width(), window.height())
    if changed:
        window.resize(width, height)
    frame = window.frameGeometry()
    x = min(max(frame.left(), area.left()), area.left() + area.width() - frame.width())
    y = min(max(frame.top(), area.top()), area.top() + area.height() - frame.height())
    if (x, y) != (frame.left(), frame.top()):
        window.move(x, y)
        changed = True
    return changed


def restore_window(window: QMainWindow, settings: QSettings, version: int) -> bool:
    """The remembered geometry (clamped to the screen) and dock layout; True when a
    layout of this ``version`` was restored, False when the defaults must be laid."""
    geometry, state = settings.value("window/geometry"), settings.value("window/state")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty() \
            and window.restoreGeometry(geometry):
        clamp_to_screen(window)
    else:
        area = QGuiApplication.primaryScreen().availableGeometry()
        window.resize(min(DEFAULT_SIZE[0], int(area.width() * 0.9)),
                      min(DEFAULT_SIZE[1], int(area.height() * 0.9)))
    return (isinstance(state, QByteArray) and not state.isEmpty()
            and window.restoreState(state, version))


def check_room(window: QMainWindow, workspaces: WorkspaceSwitcher) -> bool:
    """After a restored layout has settled: lay out the workspace's defaults when the
    canvas was left less room than the workspace promises. True if it was."""
    if workspaces.canvas_has_room():
        return False
    workspaces.reset()
    return True
