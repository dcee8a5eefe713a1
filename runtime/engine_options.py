"""How the engine runs (``EngineOptions``), apart from the engine: the studio builds
the options of a run on its GUI thread, and importing ``runtime.engine`` imports torch
(seconds; the studio's worker process imports it, the studio itself need not).
``runtime.engine`` re-exports it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EngineOptions:
    """How the engine runs, as opposed to what it trains (that is the setup)."""

    # Sampling (see instrumentation.SamplingPolicy): every ``sample_every`` steps, but
    # after the first ``sample_burst`` at most this often, and layer statistics within
    # this share of training time.
    max_sample_rate: float | None = 20.0  # step events (and samples) per second
    sample_budget: float | None = 0.01  # layer statistics only
    sample_burst: int = 3
    instrument: bool = True  # per-layer statistics at sample steps
    # The epoch's training accuracy/F1/R^2, counted from the batches as they are
    # trained (like the training loss; no second pass over the data).
    train_metric: bool = True
    boundary_resolution: int = 64  # decision-boundary grid (2-D point data); 0: none
    # Decision-boundary images a second at most (the first and last epochs always have
    # one): a small model runs hundreds of epochs a second, a viewer shows a few.
    boundary_rate: float | None = 5.0
    feature_maps: bool = True
    keep_best: bool = True  # also write best.pt when validation improves
    eval_batch_size: int = 1024
