"""One training run as a viewer keeps it: everything its events said, in bounded form.

``RunRecord.apply(event)`` folds one ``runtime.events`` event into the record and notes
which views it touched (``changed``: "progress", "steps", "epochs", "layers",
"features", "diagnoses", "checkpoints", "status"), so the dashboard redraws only what
changed. Memory is bounded whatever the run's length: step curves and per-layer
statistics go through ``Decimator``s, histograms and feature maps keep only the latest.

Layers are rows in network order (input first); rows hold node ids, so a view can find
the canvas node. Plain Python and numpy: the studio's dashboard reads it, and so can any
headless consumer of a worker's events.
"""

from __future__ import annotations

import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .diagnoses import loss_text
from .events import (
    BoundaryGrid,
    CheckpointEvent,
    DiagnosisEvent,
    EpochEvent,
    FailedEvent,
    FeatureMapsEvent,
    FinishedEvent,
    LayerStats,
    LayerStatsEvent,
    NoticeEvent,
    PausedEvent,
    ResumedEvent,
    StartedEvent,
    StepEvent,
    label_f1_text,
)
from .series import Decimator, HistogramHistory, log10_or_nan

STEP_CAPACITY = 4096  # points per step curve
LAYER_CAPACITY = 512  # heatmap columns
SPARK_LENGTH = 48  # samples in a node's sparkline

# Per-layer statistics kept over time; gradient norm and update ratio as log10.
LAYER_STATS = ("grad_norm", "update_ratio", "act_mean", "act_std", "dead_fraction",
               "saturation")
LOG_STATS = frozenset({"grad_norm", "update_ratio"})

ACTIVE = ("starting", "running", "paused", "stopping")
# What ``RunRecord.changed`` may hold: which views an event touched.
CHANGES = ("status", "progress", "steps", "layers", "features", "epochs", "diagnoses",
           "checkpoints")


@dataclass
class EpochRecord:
    epoch: int
    step: int
    train_loss: float
    val_loss: float
    train_metric: float | None
    val_metric: float | None
    seconds: float
    best: bool


@dataclass
class RunRecord:
    number: int  # 1, 2, ... within the session
    network: str = ""
    label: str = ""  # what the runs list shows, e.g. "#2 Deep sigmoid MLP"
    setup: dict[str, Any] = field(default_factory=dict)  # the flat training dict
    document: dict[str, Any] | None = None  # the snapshot it trained
    status: str = "starting"  # starting, running, paused, stopping, finished,
    #                           stopped, failed
    out_dir: str = ""  # where the worker writes checkpoints
    source: str = ""  # which document it belongs to (a viewer's key: its file, ...)
    message: str = ""  # the failure reason, or a one-line summary
    failed_node: str | None = None
    created: float = field(default_factory=time.time)

    # from StartedEvent
    device: str = ""
    parameter_count: int = 0
    node_ids: tuple[str, ...] = ()
    node_names: tuple[str, ...] = ()
    node_types: tuple[str, ...] = ()
    dataset: dict[str, Any] = field(default_factory=dict)
    epochs: int = 0
    steps_per_epoch: int = 0
    start_step: int = 0

    # progress
    step: int = 0
    epoch: int = 0
    samples_per_second: float = 0.0
    metric_name: str = "accuracy"
    started_at: float | None = None  # monotonic time of the first step seen
    started_step: int = 0
    last_event_at: float = 0.0

    summary: dict[str, Any] = field(default_factory=dict)
    changed: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.steps = Decimator(STEP_CAPACITY, 3)  # loss, metric, lr
        self.epoch_records: list[EpochRecord] = []
        self.layers: dict[str, Decimator] = {}
        self.layer_rows: dict[str, int] = {}
        self.latest: dict[str, LayerStats] = {}
        self.sparks: dict[str, deque] = {}
        # Each layer's activation histograms over time (the inspector's chart).
        self.histograms: dict[str, HistogramHistory] = {}
        self.weighted: set[str] = set()  # layers that report a gradient norm
        self.feature_maps: dict[str, FeatureMapsEvent] = {}
        self.confusion: np.ndarray | None = None
        self.class_names: tuple[str, ...] = ()
        # Multi-label: each label's F1 on the latest validation pass (class_names order).
        self.label_f1: tuple[float, ...] = ()
        self.boundary: BoundaryGrid | None = None
        self.diagnoses: list[DiagnosisEvent] = []
        self.checkpoints: list[CheckpointEvent] = []
        # What the run says besides progress: weights loaded, files skipped, settings
        # ignored (shown with the run's message).
        self.notices: list[NoticeEvent] = []
        self.nonfinite: tuple[str, ...] = ()
        self.layer_samples = 0

    # ------------------------------------------------------------------ state
    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def total_steps(self) -> int:
        return self.epochs * self.steps_per_epoch

    @property
    def is_2d(self) -> bool:
        return "points" in self.dataset

    def seconds_left(self, now: float | None = None) -> float | None:
        """Time remaining at the pace seen so far (validation passes included)."""
        if self.started_at is None or not self.total_steps:
            return None
        now = time.monotonic() if now is None else now
        done = self.step - self.started_step
        elapsed = now - self.started_at
        if done <= 0 or elapsed <= 0.5:
            return None
        return max(0.0, (self.total_steps - self.step) * elapsed / done)

    def fraction_done(self) -> float:
        total = self.total_steps
        return min(1.0, self.step / total) if total else 0.0

    def layer_name(self, node_id: str) -> str:
        try:
            return self.node_names[self.node_ids.index(node_id)]
        except ValueError:
            return node_id

    def rows(self, stat: str = "grad_norm") -> list[str]:
        """Node ids that have a heatmap row for ``stat``, in network order."""
        if stat in ("grad_norm", "update_ratio"):
            return [n for n in self.node_ids if n in self.weighted]
        return [n for n in self.node_ids if n in self.latest]

    def layer_series(self, stat: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """``(steps, values[rows, points], node_ids)`` of one statistic over time."""
        ids = self.rows(stat)
        grid = self.layers.get(stat)
        if grid is None or not len(grid) or not ids:
            return np.zeros(0), np.zeros((len(ids), 0)), ids
        rows = [self.layer_rows[n] for n in ids]
        return grid.xs(), grid.values()[:, rows].T, ids

    def validation_losses(self) -> str:
        """The last epoch's validation loss and the lowest, each with its epoch, from
        the epoch records (the values the diagnoses quote): "validation loss 0.4705
        after epoch 12 (lowest 0.39 after epoch 5)". Empty before the first epoch."""
        done = [r for r in self.epoch_records if math.isfinite(r.val_loss)]
        if not done:
            return ""
        last = done[-1]
        text = f"validation loss {loss_text(last.val_loss)} after epoch {last.epoch}"
        best = min(done, key=lambda r: r.val_loss)
        if best is not last:
            text += f" (lowest {loss_text(best.val_loss)} after epoch {best.epoch})"
        return text

    def frozen(self, node_id: str) -> bool:
        """Whether the layer ``node_id`` (a node path inside blocks) trained frozen in
        this run: named in its setup's ``frozen``, or inside an instance that is (a
        repeated instance's layer also when named without copy numbers)."""
        frozen = self.setup.get("frozen") or ()
        if not frozen:
            return False
        exact = node_id.split("/")
        plain = re.sub(r":\d+(?=/|$)", "", node_id).split("/")
        return any("/".join(parts[:depth]) in frozen for parts in (exact, plain)
                   for depth in range(1, len(parts) + 1))

    def diagnoses_for(self, node_id: str) -> list[DiagnosisEvent]:
        return [d for d in self.diagnoses if node_id in d.node_ids]

    # ------------------------------------------------------------------ events
    def apply(self, event) -> None:
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            self.last_event_at = time.monotonic()
            handler(self, event)

    def _started(self, e: StartedEvent) -> None:
        self.device, self.parameter_count = e.device, e.parameter_count
        self.node_ids, self.node_names = tuple(e.node_ids), tuple(e.node_names)
        self.node_types = tuple(e.node_types)
        self.dataset = dict(e.dataset)
        self.epochs, self.steps_per_epoch = e.epochs, e.steps_per_epoch
        self.start_step = self.step = self.started_step = e.start_step
        self.epoch = e.start_epoch
        self.network = e.network or self.network
        self.layer_rows = {n: i for i, n in enumerate(self.node_ids)}
        self.layers = {s: Decimator(LAYER_CAPACITY, len(self.node_ids))
                       for s in LAYER_STATS}
        self.sparks = {n: deque(maxlen=SPARK_LENGTH) for n in self.node_ids}
        if self.status == "starting":
            self.status = "running"
        self.changed |= {"status", "progress", "layers"}

    def _step(self, e: StepEvent) -> None:
        if self.started_at is None:
            self.started_at, self.started_step = time.monotonic(), self.step
        self.step, self.epoch = e.step, e.epoch
        self.samples_per_second = e.samples_per_second
        metric = e.metric if e.metric is not None else math.nan
        self.steps.append(e.step, (e.loss, metric, e.lr))
        self.changed |= {"progress", "steps"}

    def _layer_stats(self, e: LayerStatsEvent) -> None:
        if not self.layers:
            return
        n = len(self.node_ids)
        grids = np.full((len(LAYER_STATS), n), np.nan)
        for s in e.layers:
            row = self.layer_rows.get(s.node_id)
            if row is None:
                continue
            self.latest[s.node_id] = s
            history = self.histograms.get(s.node_id)
            if history is None:
                history = self.histograms[s.node_id] = HistogramHistory()
            history.append(e.step, s.act_hist, s.act_edges)
            if s.grad_norm is not None:
                self.weighted.add(s.node_id)
            dead = s.dead_fraction if s.dead_fraction is not None else s.zero_fraction
            values = (log10_or_nan(s.grad_norm), log10_or_nan(s.update_ratio),
                      s.act_mean, s.act_std, dead, s.saturation)
            for k, value in enumerate(values):
                grids[k, row] = math.nan if value is None else value
            spark = s.grad_norm if s.grad_norm is not None else s.act_std
            self.sparks[s.node_id].append(
                spark if spark is not None and math.isfinite(spark) else math.nan)
        for k, stat in enumerate(LAYER_STATS):
            self.layers[stat].append(e.step, grids[k])
        self.nonfinite = tuple(e.nonfinite_grads)
        self.layer_samples += 1
        self.changed.add("layers")

    def _feature_maps(self, e: FeatureMapsEvent) -> None:
        self.feature_maps[e.node_id] = e
        self.changed.add("features")

    def _epoch(self, e: EpochEvent) -> None:
        self.epoch_records.append(EpochRecord(
            e.epoch, e.step, e.train_loss, e.val_loss, e.train_metric, e.val_metric,
            e.seconds, e.best))
        self.metric_name = e.metric_name
        self.epoch = e.epoch
        self.step = max(self.step, e.step)
        if e.confusion is not None:
            self.confusion = np.asarray(e.confusion)
            self.class_names = tuple(e.class_names)
        if e.boundary is not None:
            self.boundary = e.boundary
        if e.label_f1:
            self.label_f1, self.class_names = tuple(e.label_f1), tuple(e.class_names)
        self.changed |= {"epochs", "progress"}

    def _diagnosis(self, e: DiagnosisEvent) -> None:
        self.diagnoses.append(e)
        self.changed.add("diagnoses")

    def _notice(self, e: NoticeEvent) -> None:
        self.notices.append(e)
        self.changed.add("notices")

    def notes(self) -> str:
        """The run's notices, one per line."""
        return "\n".join(n.message for n in self.notices)

    def _checkpoint(self, e: CheckpointEvent) -> None:
        self.checkpoints.append(e)
        self.changed.add("checkpoints")

    def _paused(self, e: PausedEvent) -> None:
        self.status = "paused"
        self.changed |= {"status", "progress"}

    def _resumed(self, e: ResumedEvent) -> None:
        self.status = "running"
        # The pause is not training time: restart the pace measurement.
        self.started_at, self.started_step = None, self.step
        self.changed |= {"status", "progress"}

    def _finished(self, e: FinishedEvent) -> None:
        self.summary = dict(e.summary)
        self.status = "stopped" if e.stopped else "finished"
        metric = self.summary.get("val_metric")
        name = self.summary.get("metric_name", self.metric_name)
        parts = [f"{self.summary.get('epochs', self.epoch)} epochs"]
        losses = self.validation_losses()
        if losses:
            parts.append(losses)
        if metric is not None:
            words = {"accuracy": "accuracy", "f1": "F1 (micro)"}.get(name, "R²")
            parts.append(f"{words} " + (f"{metric:.1%}" if name == "accuracy"
                                        else f"{metric:.3f}"))
        if self.label_f1:
            parts.append(label_f1_text(self.class_names, self.label_f1))
        self.message = ("Stopped after " if e.stopped else "Finished: ") + ", ".join(parts)
        self.changed |= {"status", "progress"}

    def _failed(self, e: FailedEvent) -> None:
        self.status = "failed"
        self.message = e.reason
        self.failed_node = e.node_id
        if e.checkpoint:
            self.summary["checkpoint"] = e.checkpoint
        self.changed |= {"status", "progress"}

    def fail(self, reason: str) -> None:
        """Mark the run failed from the studio's side (the worker could not be reached)."""
        self._failed(FailedEvent(reason))

    def take_changes(self) -> set[str]:
        changed, self.changed = self.changed, set()
        return changed


_HANDLERS: dict[type, Callable[[RunRecord, Any], None]] = {
    StartedEvent: RunRecord._started,
    StepEvent: RunRecord._step,
    LayerStatsEvent: RunRecord._layer_stats,
    FeatureMapsEvent: RunRecord._feature_maps,
    EpochEvent: RunRecord._epoch,
    DiagnosisEvent: RunRecord._diagnosis,
    CheckpointEvent: RunRecord._checkpoint,
    NoticeEvent: RunRecord._notice,
    PausedEvent: RunRecord._paused,
    ResumedEvent: RunRecord._resumed,
    FinishedEvent: RunRecord._finished,
    FailedEvent: RunRecord._failed,
}
