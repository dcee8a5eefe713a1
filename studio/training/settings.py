"""The training settings the panel edits, declared once as ``ParamSpec``s.

The settings themselves (names, choices, meaning) belong to ``runtime.setup``; this
module only says how the panel presents them: labels, help, grouping, and when a setting
matters (momentum only for SGD and RMSprop, the step size only for the step schedule).
Values are checked by ``TrainingSetup`` itself, so the panel refuses exactly what a run
would refuse, with the same words. Importing this module does not import torch.
"""

from __future__ import annotations

from graph.catalog import ParamSpec
from runtime.setup import DEVICES, LOSSES, OPTIMIZERS, SCHEDULES

SETTINGS: dict[str, ParamSpec] = {p.name: p for p in (
    ParamSpec("val_fraction", "float", 0.2, "Share of the examples held out to measure "
              "the network after every epoch (never trained on).", min=0.0, max=0.9),
    ParamSpec("test_fraction", "float", 0.1, "Share held out for a final test you ask "
              "for; neither trained nor validated on.", min=0.0, max=0.9),
    ParamSpec("optimizer", "choice", "adam", "How the weights follow the gradient.",
              choices=OPTIMIZERS),
    ParamSpec("lr", "float", 1e-3, "Learning rate: the size of each step. Too large "
              "and the loss diverges; too small and nothing happens.", min=0.0),
    ParamSpec("weight_decay", "float", 0.0, "Pulls weights towards zero at each step "
              "(regularisation against overfitting).", min=0.0),
    ParamSpec("momentum", "float", 0.9, "SGD / RMSprop momentum: how much of the last "
              "step carries into the next.", min=0.0, max=1.0),
    ParamSpec("schedule", "choice", "none", "How the learning rate changes during "
              "training.", choices=SCHEDULES),
    ParamSpec("step_size", "int", 10, "Epochs between learning-rate decays.", min=1),
    ParamSpec("gamma", "float", 0.1, "Factor applied to the learning rate at each "
              "decay.", min=0.0, max=1.0),
    ParamSpec("batch_size", "int", 64, "Examples per optimizer step.", min=1),
    ParamSpec("epochs", "int", 10, "Passes over the training examples.", min=1),
    ParamSpec("device", "choice", "auto", "Where to train; auto picks a GPU when there "
              "is one.", choices=DEVICES),
    ParamSpec("loss", "choice", "auto", "auto: chosen from the Output's task "
              "(cross-entropy, BCE or MSE).", choices=LOSSES),
    ParamSpec("grad_clip", "float", None, "Largest total gradient norm (empty: no "
              "clipping).", min=0.0, optional=True),
    ParamSpec("seed", "int", 0, "Same seed, same data split and same initial "
              "weights.", min=0),
    ParamSpec("sample_every", "int", 10, "Per-layer statistics every N steps (larger: "
              "less overhead, coarser plots).", min=1),
)}

LABELS = {
    "val_fraction": "Validation", "test_fraction": "Test", "optimizer": "Optimizer",
    "lr": "Learning rate", "weight_decay": "Weight decay", "momentum": "Momentum",
    "schedule": "LR schedule", "step_size": "Step every", "gamma": "Decay by",
    "batch_size": "Batch size", "epochs": "Epochs", "device": "Device", "loss": "Loss",
    "grad_clip": "Clip gradients", "seed": "Seed", "sample_every": "Sample every",
}

GROUPS = (
    ("Split", ("val_fraction", "test_fraction")),
    ("Optimizer", ("optimizer", "lr", "weight_decay", "momentum")),
    ("Schedule", ("schedule", "step_size", "gamma")),
    ("Run", ("batch_size", "epochs", "device")),
    ("Advanced", ("loss", "grad_clip", "seed", "sample_every")),
)


def relevant(key: str, values: dict) -> bool:
    """Whether ``key`` matters given the other settings (irrelevant rows are hidden)."""
    if key == "momentum":
        return values.get("optimizer") in ("sgd", "rmsprop")
    if key in ("step_size", "gamma"):
        return values.get("schedule") == "step"
    return True
