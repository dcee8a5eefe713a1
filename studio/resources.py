"""The studio's look: light and dark themes, fonts and icons.

One place for the colours of the interface itself (the colours with a meaning, layer
categories and problem severities, live in ``studio.theme_colors``). Widgets get a QPalette and a style
sheet generated from the current ``Theme``; canvas items read ``current()`` when they
paint, so switching themes is ``apply(app, "dark")`` followed by a repaint. Icons are
small SVG files in ``resources/icons`` drawn in the theme's text colour and rendered at
the screen's device pixel ratio, so they stay crisp on high-DPI screens.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QIcon,
    QPainter,
    QPalette,
    QPixmap,
)
from PySide6.QtSvg import QSvgRenderer

from studio.theme_colors import SEVERITY_COLORS, category_color

__all__ = ["DARK", "LIGHT", "Theme", "apply", "category_color", "current", "icon"]

# Beside the packages: <repo>/resources. (This module's own path, not ``studio.__file__``:
# an editable install made before ``studio/__init__.py`` existed imports ``studio`` as a
# namespace package, whose ``__file__`` is None.)
RESOURCES = Path(__file__).resolve().parent.parent / "resources"
EXAMPLES = RESOURCES / "examples"
ICONS = RESOURCES / "icons"

@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str  # text fields, lists
    alt_base: str
    panel: str  # dock title bars, toolbar
    text: str
    muted: str
    border: str
    accent: str
    accent_text: str
    canvas: str
    grid_minor: str
    grid_major: str
    card: str
    card_border: str
    card_text: str
    wire: str
    wire_label: str
    wire_label_bg: str
    error: str
    warning: str
    ok: str

    @property
    def dark(self) -> bool:
        return self.name == "dark"

    def color(self, role: str) -> QColor:
        return QColor(getattr(self, role))


LIGHT = Theme(
    name="light", window="#f3f4f6", base="#ffffff", alt_base="#f7f8fa", panel="#e9ebef",
    text="#1f2329", muted="#667085", border="#d0d5dd", accent="#2f6fdf",
    accent_text="#ffffff", canvas="#f7f8fa", grid_minor="#eceef2", grid_major="#dde1e7",
    card="#ffffff", card_border="#c9ced6", card_text="#1f2329", wire="#8a94a6",
    wire_label="#475467", wire_label_bg="#f7f8fa", error=SEVERITY_COLORS["error"],
    warning=SEVERITY_COLORS["warning"], ok=SEVERITY_COLORS["ok"],
)

DARK = Theme(
    name="dark", window="#1e1f22", base="#26282c", alt_base="#2b2d31", panel="#2b2d31",
    text="#e4e6eb", muted="#9aa1ad", border="#3d4047", accent="#4c8dff",
    accent_text="#ffffff", canvas="#1a1b1e", grid_minor="#222428", grid_major="#2c2f34",
    card="#2b2d31", card_border="#474b53", card_text="#e4e6eb", wire="#7d8696",
    wire_label="#b4bac4", wire_label_bg="#1a1b1e", error=SEVERITY_COLORS["error"],
    warning=SEVERITY_COLORS["warning"], ok=SEVERITY_COLORS["ok"],
)

THEMES = {"light": LIGHT, "dark": DARK}
_current = LIGHT
_fusion_app: weakref.ref | None = None  # the application set to Fusion by ``apply``


def current() -> Theme:
    return _current


def ui_font(point_size: float | None = None, bold: bool = False) -> QFont:
    font = QFont(QGuiApplication.font())
    if point_size:
        font.setPointSizeF(point_size)
    font.setBold(bold)
    return font


def apply(app, name: str) -> Theme:
    """Switch the whole application to the ``light`` or ``dark`` theme."""
    global _current, _fusion_app
    theme = THEMES.get(name, LIGHT)
    _current = theme
    colours, sheet = palette(theme), style_sheet(theme)
    # Each of these re-polishes every widget of the application (a second or more on a
    # loaded machine): every window opening re-applies the theme it already shows, so
    # what is already in place is left alone.
    # (Under a style sheet, app.style() is its nameless proxy: remember where we set it.)
    if _fusion_app is None or _fusion_app() is not app:
        app.setStyle("Fusion")  # the same widgets on every platform: one style sheet fits
        _fusion_app = weakref.ref(app)
    if app.palette() != colours:
        app.setPalette(colours)
    if app.styleSheet() != sheet:
        app.setStyleSheet(sheet)
    return theme


def palette(t: Theme) -> QPalette:
    p = QPalette()
    roles = {
        QPalette.ColorRole.Window: t.window, QPalette.ColorRole.WindowText: t.text,
        QPalette.ColorRole.Base: t.base, QPalette.ColorRole.AlternateBase: t.alt_base,
        QPalette.ColorRole.Text: t.text, QPalette.ColorRole.Button: t.panel,
        QPalette.ColorRole.ButtonText: t.text, QPalette.ColorRole.ToolTipBase: t.base,
        QPalette.ColorRole.ToolTipText: t.text, QPalette.ColorRole.Highlight: t.accent,
        QPalette.ColorRole.HighlightedText: t.accent_text,
        QPalette.ColorRole.PlaceholderText: t.muted, QPalette.ColorRole.Link: t.accent,
        QPalette.ColorRole.Mid: t.border, QPalette.ColorRole.Midlight: t.alt_base,
        QPalette.ColorRole.Dark: t.border, QPalette.ColorRole.Light: t.base,
    }
    for role, value in roles.items():
        p.setColor(role, QColor(value))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText,
                 QPalette.ColorRole.ButtonText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(t.muted))
    return p


def style_sheet(t: Theme) -> str:
    return f"""
QMainWindow::separator {{ background: {t.border}; width: 1px; height: 1px; }}
QDockWidget {{ color: {t.text}; titlebar-close-icon: none; }}
QDockWidget::title {{
    background: {t.panel}; padding: 5px 8px; border-bottom: 1px solid {t.border};
    text-align: left;
}}
QToolBar {{ background: {t.panel}; border: none; border-bottom: 1px solid {t.border};
    spacing: 2px; padding: 3px 6px; }}
QToolBar::separator {{ background: {t.border}; width: 1px; margin: 4px 6px; }}
QToolButton {{ border: 1px solid transparent; border-radius: 5px; padding: 4px; }}
QToolButton:hover {{ background: {t.alt_base}; border-color: {t.border}; }}
QToolButton:pressed {{ background: {t.border}; }}
QMenuBar {{ background: {t.panel}; border-bottom: 1px solid {t.border}; }}
QMenuBar::item {{ padding: 4px 10px; background: transparent; }}
QMenuBar::item:selected {{ background: {t.alt_base}; border-radius: 4px; }}
QMenu {{ background: {t.base}; border: 1px solid {t.border}; padding: 4px; }}
QMenu::item {{ padding: 5px 28px 5px 24px; border-radius: 4px; }}
QMenu::item:selected {{ background: {t.accent}; color: {t.accent_text}; }}
QMenu::separator {{ height: 1px; background: {t.border}; margin: 4px 8px; }}
QStatusBar {{ background: {t.panel}; border-top: 1px solid {t.border}; color: {t.muted}; }}
QStatusBar QLabel {{ padding: 0 8px; }}
QStatusBar::item {{ border: none; }}
QLineEdit {{
    background: {t.base}; border: 1px solid {t.border}; border-radius: 4px;
    padding: 3px 5px; selection-background-color: {t.accent};
}}
QLineEdit:focus {{ border-color: {t.accent}; }}
QListView, QTreeView, QTableView {{ background: {t.base}; border: none;
    alternate-background-color: {t.alt_base}; }}
QListView::item, QTreeView::item {{ padding: 3px 2px; }}
QListView::item:selected, QTreeView::item:selected {{
    background: {t.accent}; color: {t.accent_text}; }}
QHeaderView::section {{ background: {t.panel}; border: none;
    border-bottom: 1px solid {t.border}; padding: 4px 6px; color: {t.muted}; }}
QTabBar::tab {{ background: {t.panel}; color: {t.muted}; padding: 5px 12px;
    border: 1px solid {t.border}; border-bottom: none; margin-right: 1px;
    border-top-left-radius: 4px; border-top-right-radius: 4px; }}
QTabBar::tab:selected {{ background: {t.base}; color: {t.text}; }}
QTabWidget#plot_tabs QTabBar::tab {{ padding: 5px 7px; }}
QToolTip {{ background: {t.base}; color: {t.text}; border: 1px solid {t.border};
    padding: 4px; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 0; }}
QScrollBar:horizontal {{ background: transparent; height: 10px; margin: 0; }}
QScrollBar::handle {{ background: {t.border}; border-radius: 4px; min-height: 24px;
    min-width: 24px; }}
QScrollBar::handle:hover {{ background: {t.muted}; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: none; }}
QFrame#QuickAdd {{ background: {t.base}; border: 1px solid {t.border};
    border-radius: 8px; }}
QFrame#QuickAdd QListWidget {{ background: {t.base}; }}
QLabel#Muted {{ color: {t.muted}; }}
QLabel#StatusError {{ color: {t.error}; }}
QLabel#StatusOk {{ color: {t.ok}; }}
"""


# ---------------------------------------------------------------------- icons
def _pixel_ratios() -> tuple[float, ...]:
    """1x, and the primary screen's ratio when it is another (HiDPI)."""
    screen = QGuiApplication.primaryScreen() if QGuiApplication.instance() else None
    ratio = float(screen.devicePixelRatio()) if screen is not None else 2.0
    return (1.0,) if ratio <= 1.0 else (1.0, ratio)


def icon(name: str) -> QIcon:
    """``resources/icons/<name>.svg`` in the theme's text colour (empty if missing)."""
    return _icon(name, _current.text)


@lru_cache(maxsize=128)
def _icon(name: str, colour: str) -> QIcon:
    path = ICONS / f"{name}.svg"
    if not path.is_file():
        return QIcon()
    svg = path.read_text(encoding="utf-8").replace("currentColor", colour)
    return icon_from_svg(svg)


def icon_from_svg(svg: str, sizes: tuple[int, ...] = (16, 20, 24, 32)) -> QIcon:
    """An icon drawn crisp at each size, at the screen's device pixel ratio.

    Only the ratio of the screen in use is rendered (plus 1x): rendering every icon at
    2x on a 1x screen was a twentieth of the studio's start."""
    renderer = QSvgRenderer(QByteArray(svg.encode("utf-8")))
    result = QIcon()
    for size in sizes:
        for ratio in _pixel_ratios():
            pixmap = QPixmap(int(size * ratio), int(size * ratio))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(Qt.GlobalColor.transparent)
            painter = QPainter(pixmap)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter, QRectF(0, 0, size, size))
            painter.end()
            result.addPixmap(pixmap)
    return result
