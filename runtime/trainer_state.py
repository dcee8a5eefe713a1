"""The state a ``Trainer`` keeps, declared once for the parts it is built from.

``Trainer`` (``engine.py``) sets these attributes; its mixins (``CheckpointMixin`` in
``checkpoints.py``, ``ReportingMixin`` in ``reporting.py``) read and restore them. The
declarations here let the type checker follow every use across the three modules; a
mixin using an attribute not declared here is an error in ``make lint``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import torch

    from graph import Document

    from .diagnoses import Diagnostician
    from .layers import LayerInfo
    from .metrics import RunningMetric
    from .setup import TrainingSetup


class TrainerState:
    # The run's inputs
    document_dict: dict[str, Any]
    doc: Document
    setup: TrainingSetup
    out_dir: Path | None
    bundle: Any  # runtime.datasets.DataBundle
    task: str
    loss_name: str
    fingerprint: str
    # What trains
    device: torch.device
    model: torch.nn.Module
    layers: list[LayerInfo]
    params: list[torch.nn.Parameter]
    optimizer: torch.optim.Optimizer
    scheduler: Any
    shuffle: torch.Generator
    diagnostician: Diagnostician
    # Where the run is
    epoch_gen_state: torch.Tensor | None
    epoch: int
    step: int
    batch: int
    batches: int
    epoch_loss: float
    epoch_count: int
    running: RunningMetric | None  # the epoch's training metric so far
    best_val: float | None
    best_epoch: int
    history: list[dict[str, Any]]
    last_checkpoint: str | None
    best_checkpoint: str | None
    # Time accounting
    train_seconds: float
    train_cpu_seconds: float
    looking_seconds: float

    def _send(self, event: Any) -> None:
        raise NotImplementedError

    def _lr(self) -> float:
        raise NotImplementedError
