"""Dockable panels around the canvas: palette, inspector, problems and code preview.

Each panel is built from a ``DocumentController`` and nothing else. Panels read the
document and the latest analysis, and report what the user wants as controller intents
(``set_param``, ``select``, ``insert_on_edge``...) or as their own signals; they never
mutate the document themselves and hold no copy of its state. Forms and lists are
generated from the layer catalog's declarations: no panel has code for a particular
layer type.
"""

from .code_view import CodePanel
from .inspector import InspectorPanel
from .palette import PalettePanel
from .problems import ProblemsPanel

__all__ = ["CodePanel", "InspectorPanel", "PalettePanel", "ProblemsPanel"]
