"""Training in the studio: set up a run, watch the network learn, compare runs.

Roles: ``runner`` talks to the runtime's worker process and folds its events into
``run.RunRecord``s (bounded per-run history); ``workbench`` wires a run to the views:
the Training panel (``panel``: controls, ``setup_panel``, ``runs_panel``), the plots
(``dashboard.TrainingView`` built from ``plots``), the canvas ``overlay`` and the edit
``lock``. ``attach.attach_training(context)`` adds it all to the window, given the
window's typed ``studio.context.StudioContext``; the window keeps the result as
``window.training``.

Invariants: training runs in another process on an immutable snapshot of the document;
the GUI drains events on one ~30 Hz timer with bounded work per tick and redraws only
what changed; nothing here edits the document except the setup form, through
``controller.set_training`` (one undo step per edit); runtime failures become messages
in the window, never exceptions or modal tracebacks. Importing this package imports
neither torch nor pyqtgraph: the names below other than ``attach_training`` load their
modules when first used.
"""

from __future__ import annotations

import importlib

from .attach import TrainingDocks, attach_training

_LAZY = {"RunRecord": "run", "TrainingPanel": "panel", "TrainingRunner": "runner",
         "TrainingView": "dashboard", "TrainingWorkbench": "workbench"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["RunRecord", "TrainingDocks", "TrainingPanel", "TrainingRunner",
           "TrainingView", "TrainingWorkbench", "attach_training"]
