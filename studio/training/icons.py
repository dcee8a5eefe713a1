"""The training actions' icons (train, pause, stop, heat), drawn like the studio's own:
24-pixel line icons in the theme's text colour, rendered crisp at 1x and 2x."""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtGui import QIcon

from studio import resources

_HEAD = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
         'stroke="{c}" stroke-width="1.8" stroke-linecap="round" stroke-linejoin="round">')
SHAPES = {
    "train": '<path d="M7 4.5v15l12-7.5z" fill="{f}"/>',
    "pause": '<rect x="6" y="5" width="4" height="14" rx="1"/>'
             '<rect x="14" y="5" width="4" height="14" rx="1"/>',
    "stop": '<rect x="6" y="6" width="12" height="12" rx="1.5"/>',
    "heat": '<path d="M12 3c1 3.5 5 5.5 5 10a5 5 0 0 1-10 0c0-2.2 1-3.6 2.3-4.8'
            '.2 1.6 1 2.6 2 3 0-3-.3-5.3.7-8.2z"/>',
    "checkpoint": '<path d="M6 4h12v16l-6-4-6 4z"/>',
}
FILLED = {"train": "#3a9d5d"}


def icon(name: str) -> QIcon:
    return _icon(name, resources.current().text)


@lru_cache(maxsize=32)
def _icon(name: str, colour: str) -> QIcon:
    fill = FILLED.get(name, "none")
    stroke = FILLED.get(name, colour)
    svg = _HEAD.format(c=stroke) + SHAPES[name].format(f=fill) + "</svg>"
    return resources.icon_from_svg(svg, (16, 20, 24))
