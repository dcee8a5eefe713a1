"""The training actions (Train, Pause/Resume, Stop, gradient heat on the canvas).

Made on their own, without the workbench, so the window's toolbar and menu can hold
them from the start while the training views are built only when first needed. Whoever
owns the actions connects their ``triggered``/``toggled`` signals.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence

from .icons import icon

if TYPE_CHECKING:
    from .workbench import TrainingWorkbench


def make_actions(parent) -> SimpleNamespace:
    a = SimpleNamespace()
    a.train = QAction(icon("train"), "&Train", parent)
    a.train.setShortcuts([QKeySequence("Ctrl+T"), QKeySequence("F5")])
    a.train.setToolTip("Train the network on its dataset (Ctrl+T, F5)")
    a.pause = QAction(icon("pause"), "&Pause", parent)
    a.pause.setShortcuts([QKeySequence("Ctrl+Shift+P"), QKeySequence("F6")])
    a.pause.setToolTip("Pause the training; again to resume where it stopped "
                       "(Ctrl+Shift+P, F6)")
    a.pause.setEnabled(False)
    a.stop = QAction(icon("stop"), "&Stop", parent)
    a.stop.setShortcuts([QKeySequence("Shift+F5"), QKeySequence("Ctrl+.")])
    a.stop.setToolTip("Stop the training after the current step (a checkpoint is "
                      "written) (Shift+F5, Ctrl+.)")
    a.stop.setEnabled(False)
    a.overlay = QAction(icon("heat"), "Gradient &heat on the canvas", parent)
    a.overlay.setCheckable(True)
    a.overlay.setChecked(True)
    a.overlay.setToolTip("Colour the nodes by their live gradient and show a health "
                         "strip under each while training")
    return a


def connect_actions(actions: SimpleNamespace, get: Callable[[], TrainingWorkbench],
                    train: Callable[[], object] | None = None) -> None:
    """Route the actions to the workbench ``get`` returns (built on first use);
    ``train``: what Train does instead of ``get().train()``."""
    press = train if train is not None else (lambda: get().train())
    actions.train.triggered.connect(lambda _=False: press())
    actions.pause.triggered.connect(lambda _=False: get().toggle_pause())
    actions.stop.triggered.connect(lambda _=False: get().stop())
    actions.overlay.toggled.connect(lambda on: get().set_overlay(on))
