"""What a training run streams to whoever watches it: small, frozen, picklable events.

The studio's dashboard, the command line and the tests are all views of this stream; a
run tells nothing that is not in an event. Events cross a process boundary up to a few
dozen times a second, so they hold plain numbers, short strings, tuples, dicts and small
numpy arrays (histograms, uint8 feature maps), never tensors, modules or documents.

Layers are named by node id everywhere, so a view can find the canvas node; display
names travel once, in ``StartedEvent``.

Order of a run: ``StartedEvent``, then ``StepEvent`` / ``LayerStatsEvent`` while training,
``EpochEvent`` and ``FeatureMapsEvent`` after each validation pass, ``DiagnosisEvent`` as
soon as a problem shows, ``CheckpointEvent`` whenever one is written, ``PausedEvent`` /
``ResumedEvent`` on request, and exactly one of ``FinishedEvent`` or ``FailedEvent`` last.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np


@dataclass(frozen=True)
class StartedEvent:
    device: str  # "cpu", "cuda", "cuda:1", "mps"
    parameter_count: int
    node_ids: tuple[str, ...]  # every layer with a module, in network order
    node_names: tuple[str, ...]  # what the user calls each of them (label or type)
    node_types: tuple[str, ...]
    dataset: dict[str, Any]  # name, task, sizes, input shapes, classes; ``points`` for 2-D
    epochs: int  # the epoch the run will end after
    steps_per_epoch: int
    start_epoch: int = 0  # > 0 when resumed from a checkpoint
    start_step: int = 0
    network: str = ""


@dataclass(frozen=True)
class StepEvent:
    step: int  # optimizer steps done so far (1-based for the first step)
    epoch: int  # 1-based epoch the step belongs to
    loss: float  # mean training loss over the steps since the previous StepEvent
    metric: float | None  # accuracy (or R^2) on the latest batch, when known
    lr: float
    samples_per_second: float


@dataclass(frozen=True)
class LayerStats:
    """One layer at one sampled step. Unused statistics are ``None``."""

    node_id: str
    grad_norms: dict[str, float]  # per parameter name ("weight", "bias", ...)
    grad_norm: float | None  # over all the layer's parameters
    weight_norm: float | None
    update_ratio: float | None  # |w_after - w_before| / |w_before| for this step
    act_mean: float
    act_std: float
    act_min: float
    act_max: float
    zero_fraction: float | None  # ReLU-like layers: outputs that are exactly zero
    dead_fraction: float | None  # ReLU-like layers: units zero for the whole batch
    saturation: float | None  # Sigmoid / Tanh: outputs where the slope is < 5% of max
    # Histograms count an even subsample (at most 1,024 values) of the tensor in 32
    # equal bins from its min to its max at that step.
    act_hist: np.ndarray  # int64 counts
    act_edges: np.ndarray  # float32 bin edges, one more than counts
    grad_hist: np.ndarray | None = None
    grad_edges: np.ndarray | None = None


@dataclass(frozen=True)
class LayerStatsEvent:
    step: int
    epoch: int
    layers: tuple[LayerStats, ...]  # watched layers, in network order
    nonfinite_grads: tuple[str, ...] = ()  # node ids whose gradient is NaN or inf

    def layer(self, node_id: str) -> LayerStats | None:
        return next((s for s in self.layers if s.node_id == node_id), None)


@dataclass(frozen=True)
class FeatureMapsEvent:
    """The first channels a layer produces for one fixed validation example."""

    step: int
    epoch: int
    node_id: str
    maps: np.ndarray  # uint8, (channels, height, width), each channel scaled to 0..255
    low: np.ndarray  # float32 per channel: the value shown as 0
    high: np.ndarray  # float32 per channel: the value shown as 255
    channels: int  # how many channels the layer has in all


@dataclass(frozen=True)
class BoundaryGrid:
    """The model's predictions over a grid of 2-D inputs (a decision boundary)."""

    xs: np.ndarray  # float32 (width,) x coordinates, in the data's own units
    ys: np.ndarray  # float32 (height,)
    predicted: np.ndarray  # (height, width): uint8 class ids, or float16 values
    confidence: np.ndarray | None  # float16 (height, width): probability of ``predicted``
    epoch: int = 0  # drawn after this epoch (not every epoch has one: EngineOptions)


@dataclass(frozen=True)
class EpochEvent:
    epoch: int
    step: int
    train_loss: float
    val_loss: float
    train_metric: float | None  # over the epoch's training batches, as trained (as the loss)
    val_metric: float | None
    metric_name: str  # "accuracy" or "r2"
    lr: float
    seconds: float  # wall time of this epoch, validation included
    confusion: np.ndarray | None = None  # int64 (classes, classes): rows true, cols predicted
    class_names: tuple[str, ...] = ()
    boundary: BoundaryGrid | None = None
    best: bool = False  # the best validation result so far
    # Multi-label: the validation F1 of each label, in ``class_names`` order (the
    # micro F1 over every label is ``val_metric``).
    label_f1: tuple[float, ...] = ()

    @property
    def macro_f1(self) -> float | None:
        """Multi-label: the mean of the labels' F1, or None."""
        return sum(self.label_f1) / len(self.label_f1) if self.label_f1 else None


def label_f1_text(names, values, shown: int = 8) -> str:
    """"F1 per label (validation): hot 0.95, big 0.81; macro 0.88": the first
    ``shown`` labels, then how many more."""
    pairs = [f"{name} {value:.3f}" for name, value in zip(names, values)]
    more = f", and {len(pairs) - shown} more" if len(pairs) > shown else ""
    macro = sum(values) / len(values) if len(values) else float("nan")
    return f"F1 per label (validation): {', '.join(pairs[:shown])}{more}; macro {macro:.3f}"



@dataclass(frozen=True)
class DiagnosisEvent:
    kind: str  # "vanishing_gradients", "exploding_gradients", "dead_relus",
    #            "saturated_activations", "overfitting", "learning_rate_too_high"
    node_ids: tuple[str, ...]
    title: str
    explanation: str
    fix: str
    severity: str  # "warning" or "error"
    step: int = 0
    epoch: int = 0


@dataclass(frozen=True)
class CheckpointEvent:
    path: str
    epoch: int  # completed epochs the checkpoint holds
    step: int
    reason: str  # "epoch", "stop", "request", "best"


@dataclass(frozen=True)
class NoticeEvent:
    """Something the run's log should say that is neither progress nor a diagnosis."""

    kind: str  # "weights_loaded", "files_skipped", "data_path", "training_setup"
    message: str  # in plain words, for the user
    step: int = 0
    epoch: int = 0
    names: tuple[str, ...] = ()  # the layers or files concerned (the first few)


@dataclass(frozen=True)
class PausedEvent:
    step: int
    epoch: int


@dataclass(frozen=True)
class ResumedEvent:
    step: int
    epoch: int


@dataclass(frozen=True)
class FinishedEvent:
    summary: dict[str, Any]  # epochs, steps, seconds, losses, metrics, checkpoint...
    stopped: bool = False  # True when the user stopped the run early


@dataclass(frozen=True)
class FailedEvent:
    reason: str  # in plain words, for the user
    node_id: str | None = None  # the layer concerned, when known
    exit_status: int | None = None  # for a worker process that died
    checkpoint: str | None = None  # the last checkpoint written, still usable
    details: str = ""  # a traceback for unexpected errors (for a bug report)


TrainingEvent = (StartedEvent | StepEvent | LayerStatsEvent | FeatureMapsEvent | EpochEvent
                 | DiagnosisEvent | CheckpointEvent | NoticeEvent | PausedEvent | ResumedEvent
                 | FinishedEvent | FailedEvent)

TERMINAL = (FinishedEvent, FailedEvent)


def to_json(event) -> dict[str, Any]:
    """A JSON-ready dict of ``event`` (arrays become lists), tagged with its kind."""
    out: dict[str, Any] = {"event": kind_of(event)}
    for f in fields(event):
        out[f.name] = _plain(getattr(event, f.name))
    return out


def kind_of(event) -> str:
    """``StepEvent`` -> ``"step"``."""
    name = type(event).__name__
    return name[:-len("Event")].lower() if name.endswith("Event") else name.lower()


def _plain(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return _plain(value.tolist()) if value.dtype.kind == "f" else value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "__dataclass_fields__"):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):  # not JSON
        return None
    return value


__all__ = [
    "TERMINAL",
    "BoundaryGrid",
    "CheckpointEvent",
    "DiagnosisEvent",
    "EpochEvent",
    "FailedEvent",
    "FeatureMapsEvent",
    "FinishedEvent",
    "LayerStats",
    "LayerStatsEvent",
    "NoticeEvent",
    "PausedEvent",
    "ResumedEvent",
    "StartedEvent",
    "StepEvent",
    "TrainingEvent",
    "kind_of",
    "label_f1_text",
    "to_json",
]
