"""The training view: every live plot of the current run, arranged to tell its story.

Side by side: the loss and metric curves, the per-layer gradient heatmap (the two views
a run is judged by; when narrow, the heatmap becomes the first tab), and tabs for the
details (decision boundary, confusion matrix,
feature maps, activations of the selected layer, update-to-weight ratios); when a run
starts the tab that fits its data comes forward (the boundary for 2-D points, feature
maps for a convolution network).

Selection is shared with the canvas: the view follows ``controller.selection_changed``
and a click on a layer in a plot becomes ``controller.select([node_id])``. Only plots on
screen redraw, one per drain tick (``flush``), so the painting of a busy run is spread
over frames; a hidden plot keeps its changes and catches up when shown, so a run costs
the same whichever tab is open. When the view comes on screen (the Train workspace
comes forward) its plots paint one per frame too (``reveal.StagedReveal``), each with
its data drawn just before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QSplitter, QTabWidget, QVBoxLayout, QWidget

from runtime.run_record import RunRecord

from .pacing import FramePacer
from .plots import (
    ActivationsPlot,
    BoundaryPlot,
    ConfusionPlot,
    CurvesPlot,
    FeatureMapsPlot,
    LayerHeatmap,
)
from .prepaint import prepare_paint
from .reveal import StagedReveal

RESET = "run"  # pending change: the plot still shows another run
FRAME_MS = 30
WIDE = 720  # pixels from which the plots stand in three columns


# How each plot is made, by name. Each takes tens of milliseconds (pyqtgraph lays out
# its axes and menus): ``studio.training.prestart`` makes them one per turn of the
# event loop ahead of need and hands them over (``TrainingView(made=...)``).
PLOTS: dict[str, Callable[[], QWidget]] = {
    "curves": CurvesPlot,
    "gradients": lambda: LayerHeatmap("grad_norm", "Gradient norm per layer",
                                      "gradient norm"),
    "updates": lambda: LayerHeatmap("update_ratio", "Update-to-weight ratio per layer",
                                    "|update| / |weights|"),
    "activations": ActivationsPlot,
    "features": FeatureMapsPlot,
    "boundary": BoundaryPlot,
    "confusion": ConfusionPlot,
}

Plot = TypeVar("Plot", bound=QWidget)


def _take(made: dict[str, QWidget], name: str, kind: type[Plot]) -> Plot:
    """The plot ``name`` made ahead (taken out of ``made``), else made now."""
    plot = made.pop(name, None)
    return plot if isinstance(plot, kind) else cast(Plot, PLOTS[name]())


class TrainingView(QWidget):
    layer_clicked = Signal(str)  # a plot picked a layer (node id)

    def __init__(self, parent=None, made: dict[str, QWidget] | None = None) -> None:
        """``made``: plots made already, by their ``PLOTS`` name (taken over)."""
        super().__init__(parent)
        self.setObjectName("TrainingView")
        self.run: RunRecord | None = None
        self.selection: list[str] = []
        made = made if made is not None else {}
        self.curves = _take(made, "curves", CurvesPlot)
        self.gradients = _take(made, "gradients", LayerHeatmap)
        self.updates = _take(made, "updates", LayerHeatmap)
        self.activations = _take(made, "activations", ActivationsPlot)
        self.features = _take(made, "features", FeatureMapsPlot)
        self.boundary = _take(made, "boundary", BoundaryPlot)
        self.confusion = _take(made, "confusion", ConfusionPlot)
        self.plots = (self.curves, self.gradients, self.updates, self.activations,
                      self.features, self.boundary, self.confusion)
        # Plots with changes not drawn yet, oldest first (dicts keep insertion order).
        self._pending: dict[QWidget, set[str]] = {}
        self._story_for: RunRecord | None = None
        # One drawing per frame, shared with the canvas overlay (``workbench``).
        self.pacer = FramePacer()
        # Plots held back from painting when the view comes on screen, then let go one
        # per frame (each drawn just before it paints).
        self.reveal = StagedReveal(self, self._draw_missed, self.pacer, prepare_paint)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("plot_tabs")  # compact tabs (studio.resources)
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.boundary, "Boundary")
        self.tabs.addTab(self.confusion, "Confusion")
        self.tabs.addTab(self.features, "Features")
        self.tabs.addTab(self.activations, "Activations")
        self.tabs.addTab(self.updates, "Updates")
        self.tabs.currentChanged.connect(lambda _i: self._catch_up())
        self._arranging = False  # tabs moving between the tab widget and the columns

        # Wide: three columns, each the strip's full height (curves, gradients,
        # details). Narrow: curves beside the details, gradients the first detail tab.
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.curves)
        self.splitter.addWidget(self.tabs)
        self.wide: bool | None = None
        self.user_sized = False  # the user moved the splitter: keep their sizes
        self.splitter.splitterMoved.connect(lambda *_: setattr(self, "user_sized", True))
        self._arrange_timer = QTimer(self)
        self._arrange_timer.setSingleShot(True)
        self._arrange_timer.setInterval(0)
        self._arrange_timer.timeout.connect(self._size_rested)
        self._arrange(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

        for plot in (self.gradients, self.updates, self.features):
            plot.layer_clicked.connect(self.layer_clicked)
        self.set_run(None)  # each plot's empty state, drawn when it first shows

    # ------------------------------------------------------------------ layout
    def _arrange(self, wide: bool) -> None:
        if wide == self.wide:
            return
        self.wide = wide
        current = self.tabs.currentWidget()
        self._arranging = True
        try:
            self._move_gradients(wide, current)
        finally:
            self._arranging = False
        self._catch_up()

    def _move_gradients(self, wide: bool, current: QWidget | None) -> None:
        if wide:
            index = self.tabs.indexOf(self.gradients)
            if index >= 0:
                self.tabs.removeTab(index)
            self.splitter.insertWidget(1, self.gradients)
            self.gradients.show()
            self.splitter.setSizes([300, 360, 380])
        else:
            self.tabs.insertTab(0, self.gradients, "Gradients")
            self.splitter.setSizes([40, 60])  # as resizeEvent keeps them
        if current is not None and self.tabs.indexOf(current) >= 0:
            self.tabs.setCurrentWidget(current)
        stretch = (1, 1, 1) if wide else (2, 3)
        for i in range(self.splitter.count()):
            self.splitter.setStretchFactor(i, stretch[min(i, len(stretch) - 1)])

    def show_plot(self, plot: QWidget) -> None:
        """Bring ``plot`` on screen (its tab forward, if it is in one)."""
        if self.tabs.indexOf(plot) >= 0:
            self.tabs.setCurrentWidget(plot)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # Arranged once the size rests: while a dock layout settles the view passes
        # through several widths in one turn, and each crossing of WIDE moved the
        # gradients between a tab and a column (a relayout of every plot) for nothing.
        if not self._arrange_timer.isActive():
            self._arrange_timer.start()

    def settle(self) -> None:
        """Arrange the plots for the view's size now (its layout has run), instead of
        in a later turn: after their first paint, which the move would redo."""
        self._arrange_timer.stop()
        self._size_rested()

    def _size_rested(self) -> None:
        if not self.isVisible():
            return  # a hidden view's size means nothing (its workspace is not shown)
        width = self.width()
        self._arrange(width >= WIDE)
        if not self.wide and not self.user_sized:
            # Narrow: the details get the larger part, so their six tabs all show
            # (at 1280x720 the strip is about 715 px wide).
            self.splitter.setSizes([width * 2 // 5, width - width * 2 // 5])

    # ------------------------------------------------------------------ feeding
    def set_run(self, run: RunRecord | None) -> None:
        """Show ``run``. The plots switch over one per ``flush`` (a new run has no data
        yet, so nothing is lost), or all at once with ``flush(everything=True)``."""
        self.run = run
        self._pending = {plot: {RESET} for plot in self.plots}
        self._apply_selection()
        self._story_for = None
        if run is not None and run.node_ids:
            self.show_story_tab(run)

    def show_story_tab(self, run: RunRecord) -> None:
        """Bring forward the detail that fits the run's data (once per run)."""
        self._story_for = run
        self.expect(run.is_2d, any(t.startswith("Conv") for t in run.node_types),
                    run.dataset.get("task", ""))

    def expect(self, points_2d: bool, conv: bool, task: str) -> None:
        """The detail tabs for a network of this kind (before its run, from the
        document; then from what the run says): the decision boundary only for 2-D
        points (for an image it has nothing to draw), and in front the detail that
        tells the story: the boundary, feature maps of a convolution network, the
        confusion matrix of a classifier, else the activations."""
        self.tabs.setTabVisible(self.tabs.indexOf(self.boundary), points_2d)
        if points_2d:
            self.tabs.setCurrentWidget(self.boundary)
        elif conv:
            self.tabs.setCurrentWidget(self.features)
        elif task in ("classification", "multilabel"):
            self.tabs.setCurrentWidget(self.confusion)  # multi-label: F1 per label
        else:
            self.tabs.setCurrentWidget(self.activations)

    def set_reference(self, run: RunRecord | None) -> None:
        self.curves.set_reference(run)

    def refresh(self, changed: set[str]) -> None:
        """Note what changed; the plots concerned redraw on the next ``flush``."""
        if self.run is None or not changed:
            return
        if self._story_for is not self.run and self.run.node_ids:
            self.show_story_tab(self.run)  # the run has said what it is
        for plot in self.plots:
            self._pending[plot] = self._pending.get(plot, set()) | changed

    def flush(self, everything: bool = False) -> int:
        """Redraw waiting plots that are on screen: the one waiting longest, or all.

        Called once per drain tick. Drawing one plot per tick spreads the painting
        (axes, images) over frames, so no frame of the GUI carries every plot at once;
        each plot still redraws several times a second. Returns how many redrew.
        """
        if everything:
            self.reveal.reveal_all()  # each drawn as it is let go
        else:
            if self.reveal.veiled and self.reveal.reveal_next() is not None:
                return 1  # a plot held back since the view showed: its turn now
            if not self.pacer.free():
                return 0  # this frame has its drawing (a reveal, the canvas overlay)
        drawn = 0
        for plot in list(self._pending):  # oldest first
            if not plot.isVisible() or self.reveal.is_veiled(plot):
                continue  # stays pending; drawn when it comes on screen
            self._draw(plot, self._pending.pop(plot))
            drawn += 1
            if not everything:
                break
        return drawn

    def drain(self) -> None:
        """Draw what waits, one plot per frame, until nothing on screen waits (after a
        run ended, when no drain ticks come any more)."""
        self.flush()
        if not self.settled:  # (a frame already used by another drawing is retried)
            QTimer.singleShot(FRAME_MS, self, self.drain)

    @property
    def settled(self) -> bool:
        """Every plot on screen shows the latest data."""
        return not any(plot.isVisible() and (plot in self._pending
                                             or self.reveal.is_veiled(plot))
                       for plot in self.plots)

    def _catch_up(self) -> None:
        """A plot came on screen (tab, dock): draw what it missed while hidden."""
        if self._arranging:
            return  # tabs come and go while the gradients move: once done
        for plot in self.plots:
            # A plot held back is drawn when its turn comes (within a few frames).
            if plot.isVisible() and plot in self._pending \
                    and not self.reveal.is_veiled(plot):
                self._draw(plot, self._pending.pop(plot) | {RESET})

    def _draw_missed(self, plot: QWidget) -> None:
        """Just before a held-back plot paints: what it missed, so it paints once."""
        if plot in self._pending:
            self._draw(plot, self._pending.pop(plot) | {RESET})

    def _draw(self, plot, changed: set[str]) -> None:
        self.pacer.take()
        if RESET in changed:
            plot.set_run(self.run)  # draws all of the run
        else:
            plot.refresh(changed)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        # The view came on screen (its dock, its workspace): what its plots missed is
        # drawn one plot per frame, not all in the frame that shows them.
        for plot in self.plots:
            if plot in self._pending:
                self._pending[plot].add(RESET)
        if not event.spontaneous():  # not a window restored from the task bar
            # Painted one per frame: the curves, the gradients, the open tab, and the
            # rest (hidden in tabs: let go at no cost when their turn comes).
            first = [self.curves, self.gradients, self.tabs.currentWidget()]
            self.reveal.veil([p for p in first if p is not None]
                             + [p for p in self.plots if p not in first])
        QTimer.singleShot(FRAME_MS, self, self.drain)

    # ------------------------------------------------------------------ selection
    def set_selection(self, node_ids: list[str]) -> None:
        self.selection = list(node_ids)
        self._apply_selection()

    def _apply_selection(self) -> None:
        ids = self.selection
        self.gradients.set_selection(ids)
        self.updates.set_selection(ids)
        focus = self.focus()
        self.activations.set_focus(focus)
        self.features.set_focus(focus)

    def focus(self) -> str | None:
        """The first selected node the run measures (None: let each plot choose)."""
        run = self.run
        if run is None:
            return self.selection[0] if self.selection else None
        return next((n for n in self.selection if n in run.node_ids), None)
