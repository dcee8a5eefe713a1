"""The training setup a document carries: dataset, split, optimizer, schedule, loss, device.

``doc.training`` holds plain JSON data; ``TrainingSetup.from_document`` turns it into one
checked, frozen value (defaults for missing keys, a ``SetupError`` naming the key and the
value for anything wrong) and ``to_dict`` writes it back. The settings are flat; the
nested optimizer/schedule layout of older files is rewritten flat by the file format's
migration (``graph.fileformat.MIGRATIONS``) before a setup ever sees it.

``SETTINGS`` declares every setting once (its check, label, group and when it matters);
the studio's training form is generated from it.

The setup also builds what it describes (optimizer, learning-rate schedule, loss), so the
meaning of each setting lives here and nowhere else. Schedules are stepped once per
optimizer step, never per epoch, so that every schedule is driven the same way.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from graph.catalog import ParamSpec
from graph.errors import ParamError, StrataError

OPTIMIZERS = ("sgd", "adam", "adamw", "rmsprop")
SCHEDULES = ("none", "step", "cosine", "onecycle")
LOSSES = ("auto", "cross_entropy", "bce_with_logits", "mse")
DEVICES = ("auto", "cpu", "cuda", "mps")
DATA_PATHS = ("auto", "memory", "stream")
TASKS = ("classification", "binary", "multilabel", "regression")

# The loss each Output task trains with when the setup says "auto", and the tasks each
# explicit loss can train (cross-entropy needs class scores, BCE one logit, MSE numbers).
AUTO_LOSS = {"classification": "cross_entropy", "binary": "bce_with_logits",
             "multilabel": "bce_with_logits", "regression": "mse"}
LOSS_TASKS = {"cross_entropy": ("classification",),
              "bce_with_logits": ("binary", "multilabel"),
              "mse": ("regression",)}


@dataclass(frozen=True)
class Setting:
    """One training setting, declared once: the ``ParamSpec`` its value is checked with
    (name, kind, default, range, help), how a form shows it (``label`` in ``group``),
    when it matters (``applies_when``: another setting and the values that make this one
    count) and, for an open lower bound, what a value must be (``positive``)."""

    param: ParamSpec
    label: str
    group: str
    applies_when: tuple[str, tuple[str, ...]] | None = None
    positive: str | None = None  # ParamSpec bounds are closed: "above 0" is said here

    @property
    def name(self) -> str:
        return self.param.name

    def applies(self, values: dict) -> bool:
        """Whether this setting matters given the others (``values``, flat)."""
        if self.applies_when is None:
            return True
        other, wanted = self.applies_when
        return values.get(other) in wanted


# Every setting but ``dataset`` and ``watch``, in the order a form shows them. The
# training panel builds its form from this table and ``TrainingSetup`` checks values
# with it, so the panel refuses exactly what a run refuses, in the same words.
SETTINGS: tuple[Setting, ...] = (
    Setting(ParamSpec("val_fraction", "float", 0.2, "Share of the examples held out to "
                      "measure the network after every epoch (never trained on).",
                      min=0.0, max=0.9), "Validation", "Split",
            positive="a fraction above 0 (validation runs every epoch)"),
    Setting(ParamSpec("test_fraction", "float", 0.1, "Share held out for a final test you "
                      "ask for; neither trained nor validated on.", min=0.0, max=0.9),
            "Test", "Split"),
    Setting(ParamSpec("optimizer", "choice", "adam", "How the weights follow their "
                      "gradients: SGD with momentum, Adam, AdamW (decoupled weight decay) "
                      "or RMSprop.", choices=OPTIMIZERS), "Optimizer", "Optimizer"),
    Setting(ParamSpec("lr", "float", 1e-3, "Learning rate: the size of each step. Too "
                      "large and the loss diverges; too small and nothing happens.",
                      min=0.0, max=10.0), "Learning rate", "Optimizer",
            positive="a number > 0"),
    Setting(ParamSpec("weight_decay", "float", 0.0, "Pulls weights towards zero at each "
                      "step (regularisation against overfitting); 0 to turn off.",
                      min=0.0), "Weight decay", "Optimizer"),
    Setting(ParamSpec("momentum", "float", 0.9, "SGD / RMSprop momentum: how much of the "
                      "last step carries into the next (below 1).", min=0.0, max=1.0,
                      max_exclusive=True), "Momentum", "Optimizer",
            applies_when=("optimizer", ("sgd", "rmsprop"))),
    Setting(ParamSpec("schedule", "choice", "none", "How the learning rate changes over "
                      "the run: constant, step decay, cosine decay to 0, or one cycle "
                      "(warm up, then decay).", choices=SCHEDULES), "LR schedule",
            "Schedule"),
    Setting(ParamSpec("step_size", "int", 10, "Step schedule: epochs between decays.",
                      min=1), "Step every", "Schedule",
            applies_when=("schedule", ("step",))),
    Setting(ParamSpec("gamma", "float", 0.1, "Step schedule: factor applied to the "
                      "learning rate at each decay.", min=0.0, max=1.0), "Decay by",
            "Schedule", applies_when=("schedule", ("step",)), positive="a number > 0"),
    Setting(ParamSpec("batch_size", "int", 64, "Examples per optimizer step.", min=1),
            "Batch size", "Run"),
    Setting(ParamSpec("epochs", "int", 10, "Passes over the training split.", min=1),
            "Epochs", "Run"),
    Setting(ParamSpec("device", "choice", "auto", "Where to train; auto picks CUDA, then "
                      "Apple MPS, then the CPU.", choices=DEVICES), "Device", "Run"),
    Setting(ParamSpec("data_path", "choice", "auto", "memory keeps the whole dataset on "
                      "the training device (fastest, for data that fits); stream reads "
                      "files in batches with worker processes (any size); auto decides by "
                      "the data's size against free memory.", choices=DATA_PATHS),
            "Data path", "Data"),
    Setting(ParamSpec("workers", "int", 2, "Streaming: worker processes decoding files.",
                      min=0, max=64), "Workers", "Data",
            applies_when=("data_path", ("auto", "stream"))),
    Setting(ParamSpec("strict_files", "bool", False, "Stop the run at the first file that "
                      "cannot be read, instead of skipping it and counting it in the "
                      "run's log."), "Stop at a bad file", "Data",
            applies_when=("data_path", ("auto", "stream"))),
    Setting(ParamSpec("loss", "choice", "auto", "auto picks the loss from the Output's "
                      "task: cross-entropy, binary cross-entropy with logits, or mean "
                      "squared error.", choices=LOSSES), "Loss", "Advanced"),
    Setting(ParamSpec("grad_clip", "float", None, "Clip the total gradient norm to this "
                      "value; empty for no clipping.", min=0.0, optional=True),
            "Clip gradients", "Advanced",
            positive="a positive number, or nothing for no clipping"),
    Setting(ParamSpec("seed", "int", 0, "Seeds the data, the split, the initial weights "
                      "and the shuffling: same seed, same run.", min=0), "Seed",
            "Advanced"),
    Setting(ParamSpec("sample_every", "int", 10, "Record layer statistics every this many "
                      "steps (larger: less overhead, coarser plots).", min=1),
            "Sample every", "Advanced"),
    Setting(ParamSpec("init_weights", "str", "", "Start from trained weights: a .pt or "
                      ".safetensors file (a state_dict or a Strata checkpoint), matched "
                      "by layer name; empty for fresh weights."), "Start from weights",
            "Advanced"),
)
SETTINGS_BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}


def setting_groups() -> list[tuple[str, tuple[Setting, ...]]]:
    """The settings by group, groups and settings in declaration order."""
    groups: dict[str, list[Setting]] = {}
    for setting in SETTINGS:
        groups.setdefault(setting.group, []).append(setting)
    return [(name, tuple(members)) for name, members in groups.items()]


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
    data_path: str = "auto"  # "memory" (device-resident), "stream" (DataLoader), "auto"
    workers: int = 2  # streaming: DataLoader worker processes
    strict_files: bool = False  # streaming: stop at an unreadable file instead of skipping
    init_weights: str = ""  # .pt/.safetensors to start from, matched by layer name
    # Training split augmentation: [{"op": "flip", "p": 0.5}, ...] (runtime.augment).
    augment: tuple[dict, ...] = ()
    frozen: tuple[str, ...] = ()  # node ids whose weights do not train
    # Per node id, a factor on the learning rate (e.g. 0.1 for a pretrained backbone).
    lr_scale: dict = dataclasses.field(default_factory=dict)

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
        flat = dict(raw)
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
            if f.name in ("watch", "frozen"):
                value = list(value)
            elif f.name == "augment":
                value = [dict(step) for step in value]
            elif f.name == "lr_scale" or f.name == "dataset":
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
            return sched.OneCycleLR(  # each parameter group peaks at its own rate
                optimizer, max_lr=[g["lr"] for g in optimizer.param_groups],
                total_steps=total)
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
def _refuse(key: str, expected: str, value: Any) -> SetupError:
    return SetupError(f"Received an invalid value for `{key}`, expected {expected}. "
                      f"Received: {key}={value!r}", key)


def _checked(s: TrainingSetup) -> dict[str, Any]:
    out: dict[str, Any] = {"dataset": _checked_dataset(s.dataset)}
    for setting in SETTINGS:
        raw = getattr(s, setting.name)
        try:
            value = setting.param.check(raw)
        except ParamError as e:
            raise SetupError(str(e), setting.name) from None
        if setting.positive and value is not None and value <= 0:
            raise _refuse(setting.name, setting.positive, raw)
        out[setting.name] = value
    if out["val_fraction"] + out["test_fraction"] > 0.9:
        raise SetupError(
            f"val_fraction + test_fraction = "
            f"{out['val_fraction'] + out['test_fraction']:g} leaves less than 10% of the "
            "data for training; lower one of them", "val_fraction")
    watch = s.watch
    if isinstance(watch, str) or not isinstance(watch, (list, tuple)) or not all(
            isinstance(w, str) for w in watch):
        raise _refuse("watch", "a list of node ids (empty to watch every layer)", watch)
    out["watch"] = tuple(watch)
    frozen = s.frozen
    if isinstance(frozen, str) or not isinstance(frozen, (list, tuple)) or not all(
            isinstance(f, str) for f in frozen):
        raise _refuse("frozen", "a list of node ids", frozen)
    out["frozen"] = tuple(sorted(set(frozen)))
    scale = s.lr_scale
    if not isinstance(scale, dict) or not all(
            isinstance(k, str) and isinstance(v, (int, float)) and not isinstance(v, bool)
            and v >= 0 for k, v in scale.items()):
        raise _refuse("lr_scale", "a mapping of node id to a factor >= 0 on the "
                      "learning rate", scale)
    out["lr_scale"] = {k: float(v) for k, v in sorted(scale.items())}
    from .augment import AugmentError, check_pipeline

    try:
        out["augment"] = tuple(check_pipeline(s.augment))
    except AugmentError as e:
        raise SetupError(f"In the training setting `augment`: {e}", "augment") from None
    return out


def _checked_dataset(dataset: Any) -> dict:
    if isinstance(dataset, str):
        dataset = {"name": dataset}
    if not isinstance(dataset, dict) or not isinstance(dataset.get("name"), str):
        raise _refuse("dataset", 'a mapping with a "name", such as {"name": "spirals"}',
                      dataset)
    from .datasets import DatasetError, check_spec

    try:
        return check_spec(dataset)
    except DatasetError as e:
        raise SetupError(f"In the training setting `dataset`: {e}", "dataset") from None
