"""Adding training to the main window: ``attach_training(main_window, controller)``.

The one call the main window makes. It adds two docks through the window's own
``add_panel`` (so their placement is remembered with the rest of the layout):
"Training" (run controls, setup, runs) tabbed with the layer palette on the left, since
the palette is of no use while the structure is locked, and "Training plots" tabbed with
the code preview at the bottom. It adds a Training toolbar and menu (Train, Pause, Stop,
gradient heat on the canvas) and stops the worker when the application quits.

Nothing here imports torch: the setup form and the worker load it when first used.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QToolBar

from .workbench import TrainingWorkbench

Area = Qt.DockWidgetArea


def attach_training(main_window, controller) -> TrainingWorkbench:
    """Add the training docks, toolbar and menu to ``main_window``; returns the
    workbench (also kept as ``main_window.training``)."""
    bench = TrainingWorkbench(controller, getattr(main_window, "scene", None),
                              getattr(main_window, "view", None), main_window,
                              problems=getattr(main_window, "problems", None))
    main_window.training = bench
    add = main_window.add_panel
    docks = getattr(main_window, "docks", {})
    add("training", "Training", bench.panel, Area.LeftDockWidgetArea,
        tabify_with="palette" if "palette" in docks else None)
    add("training_plots", "Training plots", bench.view, Area.BottomDockWidgetArea,
        tabify_with="code" if "code" in docks else None)

    a = bench.actions
    bar = QToolBar("Training", main_window)
    bar.setObjectName("toolbar_training")
    bar.setMovable(False)
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    bar.addActions([a.train, a.pause, a.stop])
    bar.addSeparator()
    bar.addAction(a.overlay)
    main_window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    menu = main_window.menuBar().addMenu("&Training")
    menu.addActions([a.train, a.pause, a.stop])
    menu.addSeparator()
    menu.addAction(a.overlay)

    def bring_forward() -> None:
        if bench.runner.active:
            for name in ("training", "training_plots"):
                dock = main_window.docks.get(name) if hasattr(main_window, "docks") \
                    else None
                if dock is not None:
                    dock.show()
                    dock.raise_()

    bench.runner.run_started.connect(lambda _run: bring_forward())
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(bench.shutdown)
    main_window.destroyed.connect(lambda *_: bench.runner.shutdown())
    return bench
