"""Adding training to the main window: ``attach_training(main_window, controller)``.

The one call the main window makes. It adds two docks through the window's own
``add_panel`` (so their placement is remembered with the rest of the layout):
"Training" (run controls, setup, runs) tabbed with the layer palette on the left, since
the palette is of no use while the structure is locked, and "Training plots" tabbed with
Problems and the code preview in the strip under the canvas, so the plots get its whole
width; diagnoses also show on the canvas itself. It adds a Training toolbar and menu (Train, Pause, Stop,
gradient heat on the canvas) and stops the worker when the application quits.

Nothing here imports torch: the setup form and the worker load it when first used.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QToolBar

from .workbench import TrainingWorkbench

Area = Qt.DockWidgetArea
PLOTS_HEIGHT = 400


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
    # With Problems and Code as tabs, the plots get the whole strip under the canvas.
    plots = add("training_plots", "Training plots", bench.view, Area.BottomDockWidgetArea,
                tabify_with="code" if "code" in docks else None)
    if "problems" in docks and "code" in docks:
        main_window.tabifyDockWidget(docks["problems"], docks["code"])
        main_window.tabifyDockWidget(docks["problems"], plots)
    main_window.resizeDocks([main_window.docks["training"]], [300],
                            Qt.Orientation.Horizontal)
    # Plots need height; the strip is shared with Problems and Code (tabs). A saved
    # layout, restored after this, wins.
    main_window.resizeDocks([plots], [PLOTS_HEIGHT], Qt.Orientation.Vertical)

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
        """A run started: its controls and plots come into view (in the user's own
        layout: resizing docks now would re-lay out every plot in one frame)."""
        for name in ("training", "training_plots"):
            dock = main_window.docks.get(name)
            if dock is not None and (dock.isHidden() or dock.visibleRegion().isEmpty()):
                dock.show()
                dock.raise_()

    bench.runner.run_started.connect(lambda _run: bring_forward())
    app = QApplication.instance()
    if app is not None:
        app.aboutToQuit.connect(bench.shutdown)
    main_window.destroyed.connect(lambda *_: bench.runner.shutdown())
    return bench
