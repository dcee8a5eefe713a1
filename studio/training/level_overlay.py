"""Training shown inside an open block: the overlay of the level on the canvas.

The run measures a block's inner layers under their node paths (``n5/n3``; ``n5:1/n3``
in a repeated instance's second copy). When a block is opened (``studio.block_levels``),
this keeps a ``CanvasOverlay`` on the level's scene whose prefix is the level's node path
(``BlockLevels.run_path``, with the copy chosen in the breadcrumb), so each inner layer
shows its heat, its health strip and its diagnoses as a layer of the network does: live
during a run, dimmed after it, frozen layers saying so. Going up, down or to another copy
rebuilds it from the run record; the network's own overlay keeps its state meanwhile.

It also keeps the selected layer's training charts and the heatmap's outline on the inner
layer selected inside an open block (by its path).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from .overlay import CanvasOverlay

if TYPE_CHECKING:
    from runtime.run_record import RunRecord
    from studio.block_levels import BlockLevels
    from studio.document.controller import DocumentController

    from .workbench import TrainingWorkbench


class LevelOverlay(QObject):
    """The overlay of the open block shown (none at the network level)."""

    def __init__(self, levels: BlockLevels, bench: TrainingWorkbench) -> None:
        super().__init__(bench)
        self.levels = levels
        self.bench = bench
        self.overlay: CanvasOverlay | None = None
        self._selection_of: DocumentController | None = None
        levels.changed.connect(self.rebuild)
        levels.copy_changed.connect(self.rebuild)
        self.rebuild()

    @property
    def prefix(self) -> str:
        return self.levels.run_path()

    def key(self, node_id: str) -> str:
        """The run's name for node ``node_id`` of the level shown."""
        prefix = self.prefix
        return f"{prefix}/{node_id}" if prefix else node_id

    def rebuild(self, _path: list | None = None) -> None:
        """Another level (or copy) is shown: an overlay for it, drawn from the run."""
        if self.overlay is not None:
            self.overlay.clear()
            self.overlay.deleteLater()
            self.overlay = None
        self._follow_selection()
        root = self.bench.overlay
        if root is None or not self.levels.levels:
            return
        level = self.levels.levels[-1]
        overlay = self.overlay = CanvasOverlay(level.scene, self, prefix=self.prefix,
                                               legend=root.legend)
        overlay.enabled = root.enabled
        overlay.keep = root.keep  # out-of-date diagnoses stay off inside blocks too
        run = root.run
        if run is not None and root.live:
            overlay.set_run(run)
        elif run is not None and root.dimmed and root.enabled:
            overlay.show_finished(run)
        overlay.set_diagnoses(root.given, run=run or self.bench.shown)

    def _follow_selection(self) -> None:
        """The charts and heatmap outlines follow the selection of the level shown."""
        current = self.levels.current
        if self._selection_of is current:
            return
        if self._selection_of is not None and self._selection_of is not self.bench.controller:
            try:
                self._selection_of.selection_changed.disconnect(self.selected)
            except (RuntimeError, TypeError):  # the level's controller is gone already
                pass
        self._selection_of = current
        if current is not self.bench.controller:
            current.selection_changed.connect(self.selected)
        self.selected(list(current.selected))

    def row_clicked(self, run_id: str) -> None:
        """A plot picked layer ``run_id``: select it on the canvas, or the instance of
        the level shown that holds it; a layer elsewhere selects its network node."""
        overlay = self.overlay
        local = overlay.local(run_id) if overlay is not None else None
        if local is not None and local in self.levels.current.document.nodes:
            self.levels.current.select([local])
        else:
            top = run_id.split("/", 1)[0].split(":", 1)[0]
            self.bench.controller.select([top] if top in self.bench.controller.document.nodes
                                         else [])

    def selected(self, node_ids: list[str]) -> None:
        keys = [self.key(n) for n in node_ids]
        self.bench.view.set_selection(keys)
        if self.bench.layer_charts is not None:
            self.bench.layer_charts.set_node(keys[0] if len(keys) == 1 else None)

    # ------------------------------------------------------------------ forwarding
    def set_run(self, run: RunRecord | None) -> None:
        if self.overlay is not None:
            self.overlay.set_run(run)

    def refresh(self, changed: set[str] | None = None) -> None:
        if self.overlay is not None:
            self.overlay.refresh(changed)

    def end_run(self, marks: list) -> None:
        if self.overlay is not None:
            self.overlay.end_run()
            self.overlay.set_diagnoses(marks)

    def set_diagnoses(self, diagnoses: list, run: RunRecord | None = None) -> None:
        if self.overlay is not None:
            self.overlay.set_diagnoses(diagnoses, run=run)

    def set_enabled(self, on: bool) -> None:
        if self.overlay is not None:
            self.overlay.set_enabled(on)
