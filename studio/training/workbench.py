"""The training workbench: wires the runner, the panels, the plots, the canvas overlay and
the edit lock to one document controller.

One object owns the flow of a run so that no panel has to know another:
Train -> checks (a valid network, a readable setup) -> ``TrainingRunner.start`` on a
snapshot -> lock the structure, show the run live (plots, canvas heat, progress) ->
each drained tick redraws what changed -> the run ends (finished, stopped, failed) ->
unlock, keep the run in the history, leave the diagnoses on the canvas and in Problems.

Failures never leave this object as exceptions: a refused start, a dataset that does not
fit, a NaN or a dead worker become a message in the Training panel and a failed run,
and the document is never touched.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import shiboken6
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

from graph.errors import StrataError
from runtime.events import DiagnosisEvent
from runtime.run_record import CHANGES, RunRecord
from studio.panels.widgets import commit_pending_edits

from .actions import connect_actions, make_actions
from .dashboard import TrainingView
from .evaluation import Evaluation
from .icons import icon
from .layer_charts import LayerCharts
from .level_overlay import LevelOverlay
from .lock import EditLock
from .overlay import CanvasOverlay
from .panel import TrainingPanel
from .runner import TrainingRunner
from .stale_marks import StaleDiagnoses

if TYPE_CHECKING:
    from studio.panels.inspector import InspectorPanel

if TYPE_CHECKING:  # annotations only
    from types import SimpleNamespace

    from studio.block_levels import BlockLevels
    from studio.canvas.scene import NetworkScene
    from studio.canvas.view import NetworkView
    from studio.document.controller import DocumentController
    from studio.panels.problems import ProblemsPanel

PROGRESS_S = 0.5  # progress line refresh period


class DocumentKeys:
    """Which document is shown, as a key runs are filed under: its file when it has
    one (reopening the file brings its runs back), else a number per unsaved document.
    Saving a document under a new name keeps its runs with it."""

    def __init__(self) -> None:
        self._unsaved = 0
        self.document: object | None = None  # the document the key is for

    def key(self, controller: DocumentController) -> str:
        self.document = controller.document
        if controller.path is not None:
            return f"file:{Path(controller.path).resolve()}"
        self._unsaved += 1
        return f"unsaved:{self._unsaved}"


class TrainingWorkbench(QObject):
    state_changed = Signal()  # a run started, paused, resumed or ended
    message_shown = Signal(str, str)  # text, kind ("error", "warning", "ok", "info")

    def __init__(self, controller: DocumentController, scene: NetworkScene | None = None,
                 view: NetworkView | None = None, parent: QObject | None = None,
                 *, runner: TrainingRunner | None = None,
                 problems: ProblemsPanel | None = None,
                 actions: SimpleNamespace | None = None,
                 levels: BlockLevels | None = None,
                 made: dict[str, QWidget] | None = None) -> None:
        """``made``: widgets made ahead (``prestart``), by name: the plots of
        ``dashboard.PLOTS`` and ``"layer_charts"``; taken over."""
        super().__init__(parent)
        self.controller = controller
        self.runner = runner or TrainingRunner(self)
        self.panel = TrainingPanel(controller)
        self.made = dict(made or {})
        self.view = TrainingView(made=self.made)
        self.overlay = CanvasOverlay(scene, self, view) if scene is not None else None
        if self.overlay is not None:  # one drawing per frame: a plot or the canvas
            self.overlay.pacer = self.view.pacer
        self.lock = EditLock(controller, view, self)
        # A diagnosis whose layers an edit changed leaves the canvas and Problems.
        self.stale = StaleDiagnoses(controller, lambda: self._marks(self.shown), self)
        self.stale.changed.connect(self._show_fresh)
        if self.overlay is not None:
            self.overlay.keep = self.stale.keep
        # The selected layer's charts, once a window gives them a place (``add_charts``).
        self.layer_charts: LayerCharts | None = None
        self.problems = problems
        self.shown: RunRecord | None = None  # the run the plots show
        self.resume_from: str | None = None  # checkpoint the next run starts from
        self.evaluation = Evaluation(self)
        self.last_evaluation = None
        self._controls_at = 0.0
        self._paused_icon: bool | None = None  # which icon the Pause action shows
        self.keys = DocumentKeys()
        self.runner.set_source(self.keys.key(controller))
        # Actions given by the window's training docks are routed there; our own are
        # routed here.
        self.actions = actions or make_actions(self)
        if actions is None:
            connect_actions(self.actions, lambda: self)

        c = self.panel.controls
        c.train_clicked.connect(self.train)
        c.pause_clicked.connect(self.pause)
        c.resume_clicked.connect(self.resume)
        c.stop_clicked.connect(self.stop)
        r = self.panel.runs
        r.show_requested.connect(self.show_run)
        r.compare_requested.connect(self.compare)
        r.checkpoint_requested.connect(self.runner.checkpoint)
        r.resume_requested.connect(self.start_from)
        r.evaluate_requested.connect(self.evaluate)
        self.runner.run_started.connect(self._started)
        self.runner.run_updated.connect(self._updated)
        self.runner.run_ended.connect(self._ended)
        self.runner.runs_changed.connect(self._runs_changed)
        self.runner.ticked.connect(self.view.flush)
        self.view.layer_clicked.connect(self._layer_clicked)
        controller.selection_changed.connect(self.view.set_selection)
        controller.selection_changed.connect(self._selected)
        controller.document_replaced.connect(self._document_replaced)
        controller.path_changed.connect(self._path_changed)
        # The standby worker loads the shown network's dataset ahead of Train, and again
        # (once things settle) when another dataset or document is chosen. A window
        # starts it soon after it shows (``attach.TrainingDocks.start_ahead``); a
        # workbench of its own starts it when the Training panel first fills.
        self.runner.follow(controller)
        self.panel.setup.ready.connect(self.runner.warm_up)
        self.evaluation.done.connect(self._evaluated)
        self.evaluation.failed.connect(
            lambda text: self.panel.runs.note.setText(f"\u2716 {text}"))
        # Inside an open block: its inner layers' overlay, charts and heatmap rows.
        self.level_overlay: LevelOverlay | None = None
        if levels is not None:
            self.level_overlay = LevelOverlay(levels, self)
        self._sync_actions()
        controller.document_replaced.connect(self._expect)
        controller.training_changed.connect(lambda _event: self._expect())
        self._expect()

    def _expect(self) -> None:
        """Before a run, the plots' detail tabs fit the network shown (the run, once
        it starts, says what its data really is)."""
        if self.shown is None:
            points, conv, task = network_kind(self.controller.document)
            self.view.expect(points, conv, task)

    def add_charts(self, inspector: InspectorPanel) -> LayerCharts:
        """The selected layer's training charts, under ``inspector``'s forms (its
        footer, which follows the selection, an open block's inner layer too)."""
        if self.layer_charts is None:
            premade = self.made.pop("layer_charts", None)
            charts = self.layer_charts = (premade if isinstance(premade, LayerCharts)
                                          else LayerCharts())
            charts.pacer = self.view.pacer  # one drawing per frame, with the plots
            # Shown inside open blocks too: ``level_overlay`` sets it to the inner layer.
            inspector.add_footer(charts, follow=lambda _controller: None)
            ids = self.controller.selected
            charts.node_id = ids[0] if len(ids) == 1 else None
            charts.set_run(self.shown)
        return self.layer_charts

    def _layer_clicked(self, run_id: str) -> None:
        """A plot picked a layer (a node path inside blocks): select it on the canvas."""
        if self.level_overlay is not None:
            self.level_overlay.row_clicked(run_id)
        else:  # a layer inside a block selects its instance
            top = run_id.split("/", 1)[0].split(":", 1)[0]
            self.controller.select([top] if top in self.controller.document.nodes else [])

    def _selected(self, node_ids: list[str]) -> None:
        if self.layer_charts is not None:
            self.layer_charts.set_node(node_ids[0] if len(node_ids) == 1 else None)

    # ------------------------------------------------------------------ actions
    def _sync_actions(self) -> None:
        run = self.runner.current
        active = self.runner.active
        self.actions.train.setEnabled(not active)
        self.actions.pause.setEnabled(active and run is not None
                                      and run.status in ("running", "paused"))
        paused = self.runner.paused
        self.actions.pause.setText("&Resume" if paused else "&Pause")
        if paused != self._paused_icon:
            # setIcon announces a change (the toolbar button re-lays out) even for the
            # same icon: only when it changes, not on each progress refresh.
            self._paused_icon = paused
            self.actions.pause.setIcon(icon("train" if paused else "pause"))
        self.actions.stop.setEnabled(active)
        self.panel.runs.set_active(active)

    # ------------------------------------------------------------------ commands
    def train(self) -> RunRecord | None:
        """Start a run of the current document; None (with a message) when refused."""
        if self.runner.active:
            return None
        commit_pending_edits()  # Epochs typed without Enter counts
        problem = self._refusal()
        if problem:
            self.show_message(problem, "error")
            return None
        resume, self.resume_from = self.resume_from, None
        try:
            return self.runner.start(self.controller.document, resume=resume)
        except StrataError as e:
            self.show_message(str(e), "error")
            return None

    def _refusal(self) -> str | None:
        """Why the network cannot train as it is, in the user's words (None if it can)."""
        analysis = self.controller.analysis or self.controller.analyze_now()
        if analysis.doc is not self.controller.document:
            analysis = self.controller.analyze_now()
        errors = [p for p in analysis.problems if p.is_error]
        if errors:
            first = errors[0].describe(self.controller.document)
            more = f" (and {len(errors) - 1} more, see Problems)" if len(errors) > 1 else ""
            return f"The network cannot train until its errors are fixed: {first}{more}"
        if not (self.controller.document.training or {}).get("dataset"):
            return "Choose a dataset first (Training > Setup > Dataset)."
        from .data_check import CHECKS

        check = CHECKS.get(self.controller)
        if check is not None and check.problems:  # known before any worker starts
            more = (f" (and {len(check.problems) - 1} more, see Problems)"
                    if len(check.problems) > 1 else "")
            return f"The dataset does not fit the network: {check.problems[0].message}{more}"
        from runtime.setup import SetupError, TrainingSetup

        try:
            TrainingSetup.from_document(self.controller.document)
        except SetupError as e:
            return f"The training setup has a problem: {e}"
        return None

    def pause(self) -> None:
        self.runner.pause()

    def resume(self) -> None:
        self.runner.resume()

    def toggle_pause(self) -> None:
        if self.runner.paused:
            self.resume()
        else:
            self.pause()

    def stop(self) -> None:
        self.runner.stop()
        self._refresh_controls()

    def set_overlay(self, on: bool) -> None:
        if self.overlay is not None:
            self.overlay.set_enabled(on)
        if self.level_overlay is not None:
            self.level_overlay.set_enabled(on)

    def show_message(self, text: str, kind: str = "info") -> None:
        self.panel.controls.show_message(text, kind)
        self.message_shown.emit(text, kind)

    def start_from(self, path: str) -> None:
        """The next Train starts from the checkpoint at ``path``."""
        self.resume_from = path
        self.panel.runs.note.setText(
            f"The next Train starts from {Path(path).name} ({Path(path).parent.name}): "
            "its weights, optimizer state and epoch count. Raise Epochs above the "
            "checkpoint's to train further.")

    def evaluate(self, path: str) -> None:
        self.evaluation.start(path, self.controller.document.to_dict())

    def _evaluated(self, result) -> None:
        self.last_evaluation = result
        self.panel.runs.note.setText(f"\u2714 {result.describe()}")

    # ------------------------------------------------------------------ runs
    def show_run(self, run: RunRecord | None) -> None:
        """Show ``run`` in the plots (the current one, or an earlier one to look at)."""
        self.shown = run
        self.view.set_run(run)
        if self.layer_charts is not None:
            self.layer_charts.set_run(run)
        self.view.set_selection(list(self.controller.selected))
        if run is not None and not run.active:
            self.view.refresh(set(CHANGES))  # a finished run: draw it all now
            self.view.flush(everything=True)
        if self.overlay is not None:
            if run is not None and run.active:
                self.overlay.set_run(run)
            else:
                self.overlay.set_diagnoses(list(run.diagnoses) if run else [], run=run)
        if self.level_overlay is not None:
            if run is not None and run.active:
                self.level_overlay.set_run(run)
            else:
                self.level_overlay.set_diagnoses(list(run.diagnoses) if run else [],
                                                 run=run)
        self._push_diagnoses(run)

    def compare(self, run: RunRecord | None) -> None:
        self.view.set_reference(run)

    def _started(self, run: RunRecord) -> None:
        self.panel.controls.show_message("", "")
        self.stale.reset()  # this run diagnoses the network as it is now
        self._refresh_controls()
        self.state_changed.emit()
        # The rest in later turns of the event loop: each piece is a few milliseconds,
        # together they would hold the GUI for one long frame.
        QTimer.singleShot(0, self.lock, self.lock.engage)
        QTimer.singleShot(0, self.view, lambda: self.show_run(run) if run is self.runner.current
                          else None)

    def _updated(self, run: RunRecord, changed: set) -> None:
        if run is self.shown:
            self.view.refresh(changed)
            if self.layer_charts is not None:
                self.layer_charts.refresh(changed)
            if self.overlay is not None:
                self.overlay.refresh(changed)
            if self.level_overlay is not None:
                self.level_overlay.refresh(changed)
            if "diagnoses" in changed:
                self._push_diagnoses(run)
        now = time.monotonic()
        if "status" in changed or (
                "progress" in changed and now - self._controls_at >= PROGRESS_S):
            # Progress text twice a second: each change re-lays out the panel, and
            # samples/s or time left need no more.
            self._controls_at = now
            self._refresh_controls()
        if "status" in changed:
            self.state_changed.emit()

    def _ended(self, run: RunRecord) -> None:
        self.lock.release()
        self._refresh_controls()
        self.state_changed.emit()
        if run.status == "failed":
            self.message_shown.emit(run.message, "error")
        # The rest piece by piece in later turns of the event loop (as at the start):
        # the canvas, Problems and the runs list each redraw in a frame of their own.
        # Each is tied to a widget it touches: a window closed meanwhile cancels it.
        QTimer.singleShot(0, self.view, self.view.drain)  # the final state, a plot per frame
        QTimer.singleShot(0, self.view, lambda: self._settle_canvas(run))
        QTimer.singleShot(0, self.panel, lambda: self._push_diagnoses(run))
        QTimer.singleShot(0, self.panel.runs, lambda: self.panel.runs.refresh_run(run))

    def _settle_canvas(self, run: RunRecord) -> None:
        """A run ended: the heat goes, its diagnoses (and failure) stay marked."""
        if self.overlay is not None and run is self.shown:
            self.overlay.end_run()
            self.overlay.set_diagnoses(self._marks(run))
            if self.level_overlay is not None:
                self.level_overlay.end_run(self._marks(run))

    def _refresh_controls(self) -> None:
        run = self.runner.current
        if run is not None and not run.active and run.source != self.runner.source:
            run = None  # the last run was another network's
        self.panel.controls.show_run(run)
        self._sync_actions()

    def _runs_changed(self) -> None:
        """The runs list shows the runs of the document shown, and only those."""
        self.panel.runs.set_runs(self.runner.runs_of_source(), self.runner.current)

    def _marks(self, run: RunRecord | None) -> list:
        """The run's diagnoses, plus its failure on the node it names."""
        if run is None:
            return []
        marks = list(run.diagnoses)
        if run.status == "failed" and run.failed_node:
            marks.append(DiagnosisEvent("training_failed", (run.failed_node,),
                                        "Training failed here", run.message, "",
                                        "error", run.step, run.epoch))
        return marks

    def _push_diagnoses(self, run: RunRecord | None) -> None:
        """Diagnoses to the Problems panel, when it can show them (not those an edit
        made out of date). Not to a panel Qt already deleted: a window closing
        deletes its docks before the document's last signals (``stale``) are let go."""
        if self.problems is not None and shiboken6.isValid(self.problems.tree):
            self.problems.set_diagnoses(self.stale.fresh(self._marks(run)))

    def _show_fresh(self) -> None:
        """A diagnosis went out of date (or came back with an undo): marks again."""
        if self.overlay is not None:
            self.overlay.set_diagnoses(self.overlay.given, run=self.shown)
            if self.level_overlay is not None:
                self.level_overlay.set_diagnoses(self.overlay.given, run=self.shown)
        self._push_diagnoses(self.shown)

    def _document_replaced(self) -> None:
        """Another network was opened: a run of the old one has nothing to show on."""
        self.panel.controls.show_message("", "")  # the old run's summary is not this one's
        if self.runner.active:
            self.runner.stop()
            self.show_message("Training was stopped: another network was opened.",
                              "warning")
        self.shown = None
        self.view.set_run(None)
        if self.layer_charts is not None:
            self.layer_charts.set_run(None)
        self.compare(None)  # a run of another network is no reference for this one
        self.panel.runs.reference = None
        self.view.flush(everything=True)
        self.resume_from = None
        self._push_diagnoses(None)
        self.runner.set_source(self.keys.key(self.controller))  # its own runs list
        if not self.runner.active:
            self._refresh_controls()

    def _path_changed(self, path) -> None:
        """Saved under a new name: the same document, its runs keep following it."""
        if path is not None and self.keys.document is self.controller.document:
            source = self.keys.key(self.controller)
            if source != self.runner.source:
                self.runner.set_source(source, rename=True)

    def shutdown(self) -> None:
        """Stop the worker and release the lock (the window is closing)."""
        self.runner.shutdown()
        self.lock.release()


def network_kind(document) -> tuple[bool, bool, str]:
    """(takes 2-D points, has a convolution, its output's task) of ``document``."""
    nodes = list(document.nodes.values())
    inputs = [n for n in nodes if n.type == "Input"]
    points = len(inputs) == 1 and list(inputs[0].params.get("shape") or ()) == [2]
    conv = any(n.type.startswith("Conv") for n in nodes)
    task = next((str(n.params.get("task", "")) for n in nodes if n.type == "Output"), "")
    return points, conv, task
