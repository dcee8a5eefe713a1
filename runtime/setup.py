"""The training setup a document carries: dataset, split, optimizer, schedule, loss, device.

``doc.training`` holds plain JSON data; ``TrainingSetup.from_document`` turns it into one
checked, frozen value (defaults for missing keys, a ``SetupError`` naming the key and the
value for anything wrong) and ``to_dict`` writes it back in the flat form. Older files nest
the optimizer (``{"optimizer": {"name": "adam", "lr": 0.01}}``) or the schedule; both forms
are read, the flat one is written.

The setup also builds what it describes (optimizer, learning-rate schedule, loss), so the
meaning of each setting lives here and nowhere else. Schedules are stepped once per
optimizer step, never per epoch, so that every schedule is driven the same way.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from graph.errors import StrataError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "step", "cosine", "onecycle")
LOSSES = ("auto", "cross_entropy", "bce_with_logits", "mse")
DEVICES = ("auto", "cpu", "cuda", "mps")
TASKS = ("classification", "binary", "regression")

# The loss each Output task trains with when the setup says "auto", and the tasks each
# explicit loss can train (cross-entropy needs class scores, BCE one logit, MSE numbers).
AUTO_LOSS = {"classification": "cross_entropy", "binary": "bce_with_logits",
             "regression": "mse"}
LOSS_TASKS = {"cross_entropy": ("classification",), "bce_with_logits": ("binary",),
              "mse": ("regression",)}


class SetupError(StrataError):
    """A training setting was refused; the message names the key and the value."""

    def __init__(self, message: str, key: str | None = None):
        self.key = key
        super().__init__(message)


@dataclass(frozen=True)
class TrainingSetup:
    """Every choice a training run depends on besides the network itself."""

    dataset: dict  # {"name": "spirals", ...options}; see runtime.datasets
    val_fraction: float = 0.2
    test_fraction: float = 0.1
    batch_size: int = 64
    epochs: int = 10
    optimizer: str = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    momentum: float = 0.9  # SGD momentum, RMSprop momentum
    schedule: str = "none"
    step_size: int = 10  # "step": epochs between decays
    gamma: float = 0.1  # "step": factor applied at each decay
    loss: str = "auto"
    grad_clip: float | None = None  # max total gradient norm
    seed: int = 0
    device: str = "auto"
    sample_every: int = 10  # instrumentation: one statistics sample every N steps
    watch: tuple[str, ...] = ()  # node ids to instrument; empty means all

    def __post_init__(self) -> None:
        for name, value in _checked(self).items():
            object.__setattr__(self, name, value)

    # ------------------------------------------------------------- document I/O
    @classmethod
    def from_document(cls, doc_or_dict: Any) -> TrainingSetup:
        """The setup stored in ``doc.training`` (a Document or the plain dict itself)."""
        raw = getattr(doc_or_dict, "training", doc_or_dict)
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            raise SetupError(f"The training setup must be a mapping of settings, "
                             f"found {type(raw).__name__}", "training")
        return cls.from_dict(raw)

    @classmethod
    def from_dict(cls, raw: dict) -> TrainingSetup:
        flat = _flatten(raw)
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(flat) - names)
        if unknown:
            raise SetupError(
                f"Unknown training setting `{unknown[0]}` "
                f"(known settings: {', '.join(sorted(names))})", unknown[0])
        if "dataset" not in flat:
            raise SetupError("The training setup names no dataset: choose one "
                             "(for example {\"name\": \"spirals\"})", "dataset")
        return cls(**flat)

    def to_dict(self) -> dict:
        """The flat, JSON-ready form ``doc.training`` holds; ``from_dict`` reads it back."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "watch":
                value = list(value)
            elif f.name == "dataset":
                value = dict(value)
            out[f.name] = value
        return out

    def replace(self, **changes: Any) -> TrainingSetup:
        """A copy with some settings changed (checked like any other)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------- meaning
    def resolved_loss(self, task: str) -> str:
        """The loss to train an Output of ``task`` with; SetupError if they do not fit."""
        if task not in TASKS:
            raise SetupError(f"Unknown Output task {task!r}, expected one of "
                             f"{', '.join(TASKS)}", "loss")
        if self.loss == "auto":
            return AUTO_LOSS[task]
        if task not in LOSS_TASKS[self.loss]:
            raise SetupError(
                f"The loss `{self.loss}` cannot train an Output whose task is {task} "
                f"(it expects {LOSS_TASKS[self.loss][0]}); choose `auto` to use "
                f"`{AUTO_LOSS[task]}`", "loss")
        return self.loss

    def make_loss(self, task: str):
        """The loss module for an Output of ``task`` (mean over the batch)."""
        from torch import nn

        return {"cross_entropy": nn.CrossEntropyLoss, "bce_with_logits":
                nn.BCEWithLogitsLoss, "mse": nn.MSELoss}[self.resolved_loss(task)]()

    def make_optimizer(self, params):
        """The optimizer over ``params`` (an iterable of tensors or parameter groups)."""
        import torch

        wd = self.weight_decay
        if self.optimizer == "sgd":
            return torch.optim.SGD(params, lr=self.lr, momentum=self.momentum,
                                   weight_decay=wd)
        if self.optimizer == "adam":
            return torch.optim.Adam(params, lr=self.lr, weight_decay=wd)
        if self.optimizer == "adamw":
            return torch.optim.AdamW(params, lr=self.lr, weight_decay=wd)
        return torch.optim.RMSprop(params, lr=self.lr, momentum=self.momentum,
                                   weight_decay=wd)

    def make_scheduler(self, optimizer, steps_per_epoch: int):
        """The learning-rate schedule; call its ``step()`` after every optimizer step.

        "none" still returns a (constant) scheduler so the engine needs no special case.
        """
        import torch

        steps_per_epoch = max(1, int(steps_per_epoch))
        total = steps_per_epoch * self.epochs
        sched = torch.optim.lr_scheduler
        if self.schedule == "step":
            return sched.StepLR(optimizer, step_size=self.step_size * steps_per_epoch,
                                gamma=self.gamma)
        if self.schedule == "cosine":
            return sched.CosineAnnealingLR(optimizer, T_max=total)
        if self.schedule == "onecycle":
            return sched.OneCycleLR(optimizer, max_lr=self.lr, total_steps=total)
        return sched.ConstantLR(optimizer, factor=1.0, total_iters=0)


# ---------------------------------------------------------------- devices
def available_devices() -> list[str]:
    """The devices this machine can train on, CPU always last."""
    import torch

    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found.append("mps")
    return [*found, "cpu"]


def resolve_device(name: str):
    """``torch.device`` for a setup's device; "auto" prefers CUDA, then MPS, then CPU."""
    import torch

    if name not in DEVICES:
        raise SetupError(f"Unknown device {name!r}, expected one of {', '.join(DEVICES)}",
                         "device")
    available = available_devices()
    if name == "auto":
        return torch.device(available[0])
    if name not in available:
        why = {"cuda": "no CUDA GPU is visible to PyTorch (is a CUDA build of torch "
                       "installed and a driver present?)",
               "mps": "Apple's Metal (MPS) backend is not available on this machine"}
        raise SetupError(
            f"The setup asks for device '{name}' but {why[name]}; available here: "
            f"{', '.join(available)}. Choose 'auto' to use the best one available.",
            "device")
    return torch.device(name)


# ---------------------------------------------------------------- checking
def _flatten(raw: dict) -> dict:
    """Accept the nested optimizer/schedule form older files use."""
    flat = dict(raw)
    opt = flat.get("optimizer")
    if isinstance(opt, dict):
        nested = dict(opt)
        flat["optimizer"] = nested.pop("name", "adam")
        for key, value in nested.items():
            if key in flat:
                raise SetupError(f"The setting `{key}` is given twice: inside `optimizer` "
                                 "and at the top level", key)
            flat[key] = value
    sched = flat.get("schedule")
    if isinstance(sched, dict):
        nested = dict(sched)
        flat["schedule"] = nested.pop("name", "none")
        for key, value in nested.items():
            if key in flat:
                raise SetupError(f"The setting `{key}` is given twice: inside `schedule` "
                                 "and at the top level", key)
            flat[key] = value
    return flat


def _refuse(key: str, expected: str, value: Any) -> SetupError:
    return SetupError(f"Received an invalid value for the training setting `{key}`, "
                      f"expected {expected}. Received: {key}={value!r}", key)


def _int(key: str, value: Any, low: int) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise _refuse(key, f"an integer >= {low}", value)
    return value


def _number(key: str, value: Any, low: float, high: float, *, low_open=False,
            high_open=False, words: str = "") -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = math.isfinite(value) and (value > low if low_open else value >= low) and (
            value < high if high_open else value <= high)
    if not ok:
        if not words:
            lo = ">" if low_open else ">="
            hi = "<" if high_open else "<="
            words = (f"a number {lo} {low:g}" if math.isinf(high)
                     else f"a number {lo} {low:g} and {hi} {high:g}")
        raise _refuse(key, words, value)
    return value


def _choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise _refuse(key, "one of " + ", ".join(choices), value)
    return value


def _checked(s: TrainingSetup) -> dict[str, Any]:
    inf = math.inf
    out: dict[str, Any] = {}
    dataset = s.dataset
    if isinstance(dataset, str):
        dataset = {"name": dataset}
    if not isinstance(dataset, dict) or not isinstance(dataset.get("name"), str):
        raise _refuse("dataset", 'a mapping with a "name", such as {"name": "spirals"}',
                      dataset)
    from .datasets import DatasetError, check_spec

    try:
        out["dataset"] = check_spec(dataset)
    except DatasetError as e:
        raise SetupError(f"In the training setting `dataset`: {e}", "dataset") from None
    out["val_fraction"] = _number("val_fraction", s.val_fraction, 0.0, 0.9,
                                  low_open=True, words="a fraction above 0 and at most "
                                  "0.9 (validation runs every epoch)")
    out["test_fraction"] = _number("test_fraction", s.test_fraction, 0.0, 0.9,
                                   words="a fraction from 0 to 0.9")
    if out["val_fraction"] + out["test_fraction"] > 0.9:
        raise SetupError(
            f"val_fraction + test_fraction = "
            f"{out['val_fraction'] + out['test_fraction']:g} leaves less than 10% of the "
            "data for training; lower one of them", "val_fraction")
    out["batch_size"] = _int("batch_size", s.batch_size, 1)
    out["epochs"] = _int("epochs", s.epochs, 1)
    out["optimizer"] = _choice("optimizer", s.optimizer, OPTIMIZERS)
    out["lr"] = _number("lr", s.lr, 0.0, 10.0, low_open=True)
    out["weight_decay"] = _number("weight_decay", s.weight_decay, 0.0, inf)
    out["momentum"] = _number("momentum", s.momentum, 0.0, 1.0, high_open=True)
    out["schedule"] = _choice("schedule", s.schedule, SCHEDULES)
    out["step_size"] = _int("step_size", s.step_size, 1)
    out["gamma"] = _number("gamma", s.gamma, 0.0, 1.0, low_open=True)
    out["loss"] = _choice("loss", s.loss, LOSSES)
    if s.grad_clip is not None:
        out["grad_clip"] = _number("grad_clip", s.grad_clip, 0.0, inf, low_open=True,
                                   words="a positive number, or null for no clipping")
    out["seed"] = _int("seed", s.seed, 0)
    out["device"] = _choice("device", s.device, DEVICES)
    out["sample_every"] = _int("sample_every", s.sample_every, 1)
    watch = s.watch
    if isinstance(watch, str) or not isinstance(watch, (list, tuple)) or not all(
            isinstance(w, str) for w in watch):
        raise _refuse("watch", "a list of node ids (empty to watch every layer)", watch)
    out["watch"] = tuple(watch)
    return out
