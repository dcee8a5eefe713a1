"""Diagnoses: what the statistics say is going wrong, with the layers concerned and a fix.

Each detector is a pure function of a piece of the run's history (recent layer samples,
the step losses, the epoch losses) returning a ``Diagnosis`` or ``None``, so each can be
tested on hand-made numbers as well as on real training. ``Diagnostician`` keeps the
bounded history during a run and reports each kind of problem once, when it first shows.

Thresholds are deliberately coarse (orders of magnitude, majorities of units), so a
healthy network stays silent; they are named constants below.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .events import DiagnosisEvent, LayerStats, LayerStatsEvent
from .layers import RELU_LIKE, SQUASHING, WEIGHTED, LayerInfo

RECENT = 5  # layer samples averaged for a verdict
MIN_SAMPLES = 3
VANISH_RATIO = 1000.0  # relative gradient falls this much from the best hidden layer to
#                       the first (three orders of magnitude)
EXPLODE_RATIO = 1000.0  # ... or rises this much towards the input
GROWTH_RATIO = 100.0  # the total gradient norm grows this much during the run
DEAD_FRACTION = 0.5  # units silent for a whole batch
SATURATED_FRACTION = 0.5  # outputs in the flat tails of Sigmoid / Tanh
OVERFIT_RISE = 1.25  # validation loss 25% above its best ...
OVERFIT_RECLAIM = 0.1  # ... losing at least 10% of the ground it had gained ...
OVERFIT_PATIENCE = 3  # ... for this many epochs after the best ...
OVERFIT_TRAIN_FALL = 0.9  # ... while the training loss fell by 10% or more
DIVERGE_FACTOR = 2.0  # loss twice where it started


@dataclass(frozen=True)
class Diagnosis:
    kind: str
    node_ids: tuple[str, ...]
    title: str
    explanation: str
    fix: str
    severity: str = "warning"

    def event(self, step: int = 0, epoch: int = 0) -> DiagnosisEvent:
        return DiagnosisEvent(self.kind, self.node_ids, self.title, self.explanation,
                              self.fix, self.severity, step, epoch)


def _geomean(values: list[float]) -> float | None:
    good = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    if not good:
        return None
    return math.exp(sum(math.log(v) for v in good) / len(good))


Sample = LayerStatsEvent | Mapping[str, LayerStats]


def _index(sample: Sample) -> Mapping[str, LayerStats]:
    """A sample as {node id: stats} (callers running many detectors pass it so)."""
    if isinstance(sample, LayerStatsEvent):
        return {s.node_id: s for s in sample.layers}
    return sample


def _recent(samples: Sequence[Sample]) -> list[Mapping[str, LayerStats]]:
    return [_index(s) for s in list(samples)[-RECENT:]]


def _relative_gradients(samples: Sequence[Sample], layers: Sequence[LayerInfo]
                        ) -> list[tuple[LayerInfo, float]]:
    """Per weighted layer, in network order: |grad| / |weights|, over recent samples."""
    recent = _recent(samples)
    out = []
    for info in layers:
        if info.type not in WEIGHTED:
            continue
        values = []
        for sample in recent:
            s = sample.get(info.node_id)
            if s is not None and s.grad_norm is not None and s.weight_norm:
                values.append(s.grad_norm / s.weight_norm)
        g = _geomean(values)
        if g is not None:
            out.append((info, g))
    return out


def _names(infos: Sequence[LayerInfo]) -> str:
    names = [f"'{i.name}'" for i in infos]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _times(x: float) -> str:
    return f"{x:,.0f}" if x < 1e6 else f"{x:.0e}".replace("e+0", "e").replace("e+", "e")


# ------------------------------------------------------------------ gradients
def _hidden(rel: list[tuple[LayerInfo, float]]) -> list[tuple[LayerInfo, float]]:
    """Leave out the last weighted layer: the output layer takes the loss's gradient
    first hand, so its relative gradient is large in every network."""
    return rel[:-1]


def vanishing_gradients(samples: Sequence[Sample], layers: Sequence[LayerInfo]
                        ) -> Diagnosis | None:
    """Gradients shrink by orders of magnitude from the output side towards the input."""
    if len(samples) < MIN_SAMPLES:
        return None
    rel = _hidden(_relative_gradients(samples, layers))
    if len(rel) < 3:
        return None
    top = max(range(len(rel)), key=lambda i: rel[i][1])
    first_info, first = rel[0]
    best_info, best = rel[top]
    if top == 0 or first * VANISH_RATIO > best:
        return None
    weak = [info for info, g in rel[:top] if g * 10 < best]
    squash = sorted({i.type for i in layers if i.type in SQUASHING})
    between = [i for i in layers if i.type in SQUASHING]
    if squash:
        fix = (f"Replace {' and '.join(squash)} with ReLU (its slope is 1, so gradients "
               "pass through unchanged); also consider BatchNorm after each layer or "
               "a residual connection (an Add that skips a few layers).")
    else:
        fix = ("Add BatchNorm after each Linear or convolution, or add a residual "
               "connection (an Add that skips a few layers) so gradients get a short path "
               "back to the first layers.")
    concerned = {i.node_id for i in weak + between}
    return Diagnosis(
        "vanishing_gradients", tuple(i.node_id for i in layers if i.node_id in concerned),
        "Vanishing gradients",
        f"Relative to its weights, the gradient reaching '{first_info.name}' is "
        f"{_times(best / first)} times smaller than at '{best_info.name}'. "
        f"The first layers ({_names(weak)}) barely learn: each layer the gradient passes "
        "on the way back towards the input shrinks it further.",
        fix)


def exploding_gradients(samples: Sequence[Sample], layers: Sequence[LayerInfo]
                        ) -> Diagnosis | None:
    """Gradients grow by orders of magnitude towards the input, or over the run."""
    if len(samples) < MIN_SAMPLES:
        return None
    rel = _hidden(_relative_gradients(samples, layers))
    fix = ("Lower the learning rate, set gradient clipping (for example 1.0), or add "
           "BatchNorm / LayerNorm between layers.")
    if len(rel) >= 3:
        low = min(range(len(rel)), key=lambda i: rel[i][1])
        if low > 0 and rel[0][1] > EXPLODE_RATIO * rel[low][1]:
            grow = [info for info, g in rel[:low] if g > 10 * rel[low][1]]
            return Diagnosis(
                "exploding_gradients", tuple(i.node_id for i in grow),
                "Exploding gradients",
                f"Relative to its weights, the gradient at '{rel[0][0].name}' is "
                f"{_times(rel[0][1] / rel[low][1])} times larger than at "
                f"'{rel[low][0].name}': it grows at each layer on its way back to the "
                "input, so the first layers take huge, erratic steps.", fix, "error")
    totals = []
    for sample in samples:
        norms = [s.grad_norm for s in _index(sample).values() if s.grad_norm is not None]
        if norms and all(math.isfinite(n) for n in norms):
            totals.append(math.sqrt(sum(n * n for n in norms)))
    if len(totals) < MIN_SAMPLES + 2:
        return None
    start = sorted(totals[:MIN_SAMPLES])[MIN_SAMPLES // 2]
    now = _geomean(totals[-2:]) or 0.0
    if start > 0 and now > GROWTH_RATIO * start:
        last = _index(samples[-1])
        worst = sorted((s for s in last.values() if s.grad_norm is not None),
                       key=lambda s: -(s.grad_norm or 0))[:3]
        return Diagnosis(
            "exploding_gradients", tuple(s.node_id for s in worst), "Exploding gradients",
            f"The gradient norm grew {_times(now / start)} times since training began "
            f"(from {start:.3g} to {now:.3g}): each update is larger than the last and "
            "the weights are running away.", fix, "error")
    return None


# ------------------------------------------------------------------ activations
def _layers_where(samples: Sequence[Sample], layers: Sequence[LayerInfo], types,
                  field: str, holds) -> list[tuple[LayerInfo, float]]:
    """Layers of ``types`` whose recent ``field`` values satisfy ``holds(values)``,
    each with the mean of those values. Too few samples: none."""
    if len(samples) < MIN_SAMPLES:
        return []
    recent = _recent(samples)
    found = []
    for info in layers:
        if info.type not in types:
            continue
        values = [getattr(s, field) for s in (x.get(info.node_id) for x in recent)
                  if s is not None and getattr(s, field) is not None]
        if len(values) >= min(MIN_SAMPLES, len(recent)) and holds(values):
            found.append((info, sum(values) / len(values)))
    return found


def dead_relus(samples: Sequence[Sample], layers: Sequence[LayerInfo]
               ) -> Diagnosis | None:
    """Most units of a ReLU layer output zero for every example."""
    found = _layers_where(samples, layers, RELU_LIKE, "dead_fraction",
                          lambda values: min(values) >= DEAD_FRACTION)
    if not found:
        return None
    worst = max(found, key=lambda f: f[1])
    return Diagnosis(
        "dead_relus", tuple(i.node_id for i, _ in found), "Dead ReLUs",
        f"{worst[1]:.0%} of the units of '{worst[0].name}' output zero for every example "
        f"({_names([i for i, _ in found])}). A ReLU whose input stays negative has zero "
        "gradient, so these units can no longer learn; usually a learning rate too high "
        "pushed them there.",
        "Lower the learning rate, replace ReLU with LeakyReLU (it keeps a small slope "
        "below zero), or add BatchNorm before the ReLU.")


def saturated_activations(samples: Sequence[Sample], layers: Sequence[LayerInfo]
                          ) -> Diagnosis | None:
    """Sigmoid / Tanh outputs sit in their flat tails, where the slope is nearly zero."""
    found = _layers_where(
        samples, layers, SQUASHING, "saturation",
        lambda values: sum(values) / len(values) >= SATURATED_FRACTION)
    if not found:
        return None
    worst = max(found, key=lambda f: f[1])
    kinds = " / ".join(sorted({i.type for i, _ in found}))
    return Diagnosis(
        "saturated_activations", tuple(i.node_id for i, _ in found),
        f"Saturated {kinds} units",
        f"{worst[1]:.0%} of the outputs of '{worst[0].name}' sit in the flat ends of "
        f"{worst[0].type}, where its slope is under 5% of its maximum, so almost no "
        f"gradient passes ({_names([i for i, _ in found])}). Its inputs are too large.",
        "Standardize the inputs, add BatchNorm (or LayerNorm) before the activation, "
        f"or replace {kinds} with ReLU.")


# ------------------------------------------------------------------ losses
def loss_text(value: float) -> str:
    """A loss as every message quotes it (diagnoses, the run's summary), so the same
    recorded value reads the same everywhere."""
    return f"{value:.4g}"


EpochLosses = tuple[float, float] | tuple[int, float, float]


def overfitting(epochs: Sequence[EpochLosses]) -> Diagnosis | None:
    """Validation loss rises for epochs while training loss keeps falling.

    ``epochs`` holds ``(epoch, train_loss, val_loss)`` per completed epoch (or
    ``(train_loss, val_loss)``, numbered from 1). Both curves are smoothed with a
    running median of three epochs, so one noisy epoch says nothing; the rise must
    also be a real part of the ground the validation loss had gained. The text quotes
    the recorded validation losses of named epochs, the numbers the run's summary
    quotes too (one source for a run's numbers).
    """
    numbered = [e if len(e) == 3 else (i + 1, *e) for i, e in enumerate(epochs)]
    good = [(int(n), t, v) for n, t, v in numbered if math.isfinite(t) and math.isfinite(v)]
    if len(good) < OVERFIT_PATIENCE + 3:
        return None
    train = _running_median([t for _, t, _ in good])
    val = _running_median([v for _, _, v in good])
    best = min(range(len(val)), key=val.__getitem__)
    last = len(val) - 1
    rise = val[last] - val[best]
    if (last - best < OVERFIT_PATIENCE or val[last] < OVERFIT_RISE * val[best]
            or rise < OVERFIT_RECLAIM * (val[0] - val[best])
            or train[last] > OVERFIT_TRAIN_FALL * train[best]):
        return None
    raw = [v for _, _, v in good]
    low = min(range(len(raw)), key=raw.__getitem__)
    low_epoch, low_train, low_val = good[low]
    now_epoch, now_train, now_val = good[-1]
    return Diagnosis(
        "overfitting", (), "Overfitting",
        f"The validation loss was lowest after epoch {low_epoch} ({loss_text(low_val)}) "
        f"and was {loss_text(now_val)} after epoch {now_epoch}, while the training loss "
        f"kept falling ({loss_text(low_train)} -> {loss_text(now_train)}): the network "
        "is memorising the training examples instead of learning what generalises.",
        "Add Dropout (or weight decay), use more training data, or stop earlier: the "
        f"best checkpoint holds the network after epoch {low_epoch}.")


def _running_median(values: list[float]) -> list[float]:
    """Median of each value and the two before it (fewer at the start)."""
    out = []
    for i in range(len(values)):
        window = sorted(values[max(0, i - 2):i + 1])
        out.append(window[(len(window) - 1) // 2])
    return out


def learning_rate_too_high(losses: Sequence[float], lr: float | None = None
                           ) -> Diagnosis | None:
    """The training loss diverges: it climbs well above where it started or its best.

    ``losses`` are the step losses in order (each already a mean over a few steps);
    the first one is the untrained network's loss.
    """
    if len(losses) < 6:
        return None
    low = min(sum(losses[i:i + 3]) / 3 for i in range(len(losses) - 2))
    return _diverging(losses[0], low, losses[-3:], lr)


def _diverging(start: float, low: float, last3: Sequence[float], lr: float | None
               ) -> Diagnosis | None:
    """The verdict of ``learning_rate_too_high`` from the first loss, the lowest mean of
    three successive losses and the last three."""
    if not math.isfinite(start) or not math.isfinite(low):
        return None
    recent = sum(last3) / 3 if all(math.isfinite(v) for v in last3) else math.inf
    diverged = recent >= DIVERGE_FACTOR * start or (
        recent >= 5 * low and recent - low >= 0.5 * (start - low) and start > low)
    if not diverged:
        return None
    now = "" if lr is None else f" (now {lr:g}; try {lr / 10:g})"
    return Diagnosis(
        "learning_rate_too_high", (), "Learning rate too high",
        f"The training loss is diverging: it started at {start:.3g}, got down to "
        f"{low:.3g} and is now {recent:.3g}. Steps this large overshoot the minimum "
        "and make things worse at each update.",
        f"Lower the learning rate{now}, or use a schedule that lowers it (cosine, "
        "one-cycle), or set gradient clipping.", "error")


# ------------------------------------------------------------------ the run
class Diagnostician:
    """Keeps the history of a run and reports each kind of problem once."""

    def __init__(self, layers: Sequence[LayerInfo], samples_kept: int = 20) -> None:
        self.layers = list(layers)
        self.samples: deque[Mapping[str, LayerStats]] = deque(maxlen=samples_kept)
        # The loss history is summarised as it grows (first loss, lowest mean of three,
        # the last three), so each new loss costs the same however long the run.
        self.first_loss: float | None = None
        self.low_loss = math.inf
        self.last_losses: deque[float] = deque(maxlen=3)
        self.loss_count = 0
        self.epochs: list[EpochLosses] = []
        self.reported: set[str] = set()

    def _new(self, found: list[Diagnosis | None]) -> list[Diagnosis]:
        out = []
        for d in found:
            if d is not None and d.kind not in self.reported:
                self.reported.add(d.kind)
                out.append(d)
        return out

    def add_sample(self, sample: LayerStatsEvent) -> list[Diagnosis]:
        self.samples.append(_index(sample))
        s, ls = self.samples, self.layers
        return self._new([vanishing_gradients(s, ls), exploding_gradients(s, ls),
                          dead_relus(s, ls), saturated_activations(s, ls)])

    def add_loss(self, loss: float, lr: float | None = None) -> list[Diagnosis]:
        if self.first_loss is None:
            self.first_loss = loss
        self.last_losses.append(loss)
        self.loss_count += 1
        if len(self.last_losses) == 3 and all(math.isfinite(v) for v in self.last_losses):
            self.low_loss = min(self.low_loss, sum(self.last_losses) / 3)
        if self.loss_count < 6 or "learning_rate_too_high" in self.reported:
            return []
        return self._new([_diverging(self.first_loss, self.low_loss, self.last_losses, lr)])

    def add_epoch(self, train_loss: float, val_loss: float, epoch: int | None = None
                  ) -> list[Diagnosis]:
        """One epoch's losses; ``epoch``: its number (the next one when None)."""
        number = epoch if epoch is not None else len(self.epochs) + 1
        self.epochs.append((number, train_loss, val_loss))
        return self._new([overfitting(self.epochs)])

    def state(self) -> dict:
        """What a checkpoint keeps so a resumed run does not repeat itself."""
        return {"reported": sorted(self.reported), "epochs": list(self.epochs),
                "losses": {"first": self.first_loss, "low": self.low_loss,
                           "last": list(self.last_losses), "count": self.loss_count}}

    def restore(self, state: dict) -> None:
        self.reported = set(state.get("reported", ()))
        self.epochs = [tuple(e) for e in state.get("epochs", ())]
        losses = state.get("losses") or {}
        self.first_loss = losses.get("first")
        self.low_loss = losses.get("low", math.inf)
        self.last_losses.extend(losses.get("last", ()))
        self.loss_count = losses.get("count", 0)
