"""Shared helpers for the training tests: small networks, small data, one call to train."""

from __future__ import annotations

import numpy as np
from strata_paths import EXAMPLES

import graph
from graph.builder import Builder
from runtime.datasets.bundle import make_bundle
from runtime.engine import EngineOptions, Trainer
from runtime.setup import TrainingSetup

# Sample exactly every ``sample_every`` steps (no limits that depend on the clock).
EVERY = {"max_sample_rate": None, "sample_budget": None}
EVERY_STEP = EngineOptions(**EVERY, feature_maps=False, boundary_resolution=0,
                           train_metric=False)


def example(name: str) -> graph.Document:
    return graph.load(EXAMPLES / f"{name}.strata")


def train(doc, setup: TrainingSetup | dict | None = None, *, options=None, out_dir=None,
          resume=None, bundle=None, control=None, base_dir=None, **changes):
    """Train in-process; returns (final event, every event in order)."""
    if setup is None:
        setup = TrainingSetup.from_document(doc)
    elif isinstance(setup, dict):
        setup = TrainingSetup.from_dict(setup)
    if changes:
        setup = setup.replace(**changes)
    events: list = []
    final = Trainer(doc, setup, emit=events.append, control=control, out_dir=out_dir,
                    resume=resume, bundle=bundle, options=options,
                    base_dir=base_dir).run()
    return final, events


def of(events, cls) -> list:
    return [e for e in events if isinstance(e, cls)]


def mlp(width: int, depth: int, activation: str = "ReLU", inputs: int = 2,
        outputs: int = 2, task: str = "classification", name: str = "MLP",
        training: dict | None = None) -> graph.Document:
    """Input -> depth x (Linear(width), activation) -> Linear(outputs) -> Output."""
    b = Builder(name)
    h = b.add("Input", shape=[inputs])
    for i in range(1, depth + 1):
        h = b.chain(h, ("Linear", {"out_features": width}, f"fc{i}"),
                    (activation, {}, f"act{i}"))
    b.chain(h, ("Linear", {"out_features": outputs}, "head"), ("Output", {"task": task}))
    return b.done(training or {"dataset": {"name": "spirals"}})


def points_bundle(x: np.ndarray, y: np.ndarray, seed: int = 0, val_fraction: float = 0.2,
                  name: str = "points"):
    """A classification bundle from arrays, used as given (no standardisation)."""
    return make_bundle(name, [x.astype(np.float32)], y.astype(np.int64),
                       "classification", seed=seed, val_fraction=val_fraction,
                       test_fraction=0.1)
