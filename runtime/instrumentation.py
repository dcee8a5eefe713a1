"""Per-layer statistics of a training step, measured cheaply, keyed by node id.

What a sample measures, per watched layer: the gradient norm of each parameter, the
weight norm, the update-to-weight ratio of the step, the mean, std, min and max of the
layer's output, the fraction of exact zeros and of dead units for ReLU-like layers, the
saturated fraction for Sigmoid/Tanh, and fixed-bin histograms of outputs and gradients.

How it stays cheap (the engine samples every ``sample_every`` steps):
- Between samples nothing is attached: forward hooks are registered just before a
  sampled forward pass (``arm``) and removed right after it (``disarm``), so ordinary
  steps run PyTorch's hook-free fast path. Handles are kept and always removed. A
  sampled pass runs the network's observable text (``graph.compiler.observe``), where
  the activations the exported code calls as functions (``torch.relu``) are modules.
- Every reduction stays on the device (``aminmax``, ``sum`` and ``dot`` for the mean and
  std, ``count_nonzero``, ``torch._foreach_norm`` over all parameters at once); the
  results are concatenated and copied to the host once per sample (``collect``).
- Gradients are read after backward and before the optimizer step (``before_step``);
  the update ratio compares the weights before and after that step.
- Histograms have a fixed number of bins spanning the tensor's min..max at that step,
  and count an evenly spaced subsample of at most ``HIST_SAMPLE`` values per layer (the
  whole tensor when smaller); all layers' histograms are counted in one batched pass.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from graph.compiler import observe

from .events import FeatureMapsEvent, LayerStats, LayerStatsEvent
from .layers import CONVOLUTIONS, RELU_LIKE, SQUASHING, LayerInfo

HIST_BINS = 32
HIST_SAMPLE = 1024  # values per histogram: an even subsample of larger tensors
FEATURE_CHANNELS = 8
_NAN = float("nan")


class SamplingPolicy:
    """Which steps are sampled (instrumented and reported as a StepEvent).

    Every ``every``-th step, except that after the first ``burst`` samples a sample is
    skipped when it would come sooner than ``1 / max_rate`` seconds after the last one,
    or when sampling has already cost more than ``budget`` of the training time. The
    burst is taken whatever it costs: the diagnoses need ``diagnoses.MIN_SAMPLES``
    samples, and under the budget a small, fast network (the deep sigmoid story: 33
    steps of 3 ms, a sample of 21 layers costing several steps) got one sample and
    never its vanishing-gradient diagnosis. So what looking costs is the budget plus
    ``burst`` samples, a fixed cost that a run of any real length does not notice.
    The rate limit keeps fast small models from drowning the viewer; the budget bounds
    what looking costs for any model. Either limit can be None (off), which makes the
    sampled steps depend on the step count only.
    """

    def __init__(self, every: int, max_rate: float | None = None, burst: int = 0,
                 budget: float | None = None) -> None:
        self.every = max(1, int(every))
        self.min_gap = 1.0 / max_rate if max_rate else 0.0
        self.burst = burst
        self.budget = budget
        self.taken = 0
        self.cost = 0.0  # seconds spent sampling so far
        self._last = -math.inf

    def due(self, step: int, now: float, elapsed: float) -> bool:
        """Sample ``step``? ``elapsed`` is the training time so far, in seconds."""
        if step % self.every:
            return False
        if self.taken < self.burst or not self.taken:
            return True
        if now - self._last < self.min_gap:
            return False
        return self.budget is None or self.cost <= self.budget * elapsed

    def took(self, now: float, seconds: float) -> None:
        """A sample was taken at ``now`` and cost ``seconds``."""
        self.taken += 1
        self._last = now
        self.cost += seconds


class _Pack:
    """Device tensors gathered during a sample, brought to the host in one transfer."""

    def __init__(self) -> None:
        self.floats: list[torch.Tensor] = []  # 0-d float tensors
        self.ints: list[torch.Tensor] = []  # 0-d integer tensors (counts)
        self.vectors: list[torch.Tensor] = []
        self._keys: list[tuple[str, object, int, int]] = []  # (group, key, index, size)

    def scalar(self, key, value: torch.Tensor) -> None:
        group = self.ints if not value.is_floating_point() else self.floats
        self._keys.append(("i" if group is self.ints else "f", key, len(group), 1))
        group.append(value)

    def vector(self, key, value: torch.Tensor) -> None:
        self._keys.append(("v", key, len(self.vectors), value.numel()))
        self.vectors.append(value.reshape(-1))

    def fetch(self) -> dict:
        parts = []
        if self.floats:
            parts.append(torch.stack(self.floats).double())
        if self.ints:
            parts.append(torch.stack(self.ints).double())
        parts += [v.double() for v in self.vectors]
        if not parts:
            return {}
        host = torch.cat(parts).cpu().numpy()  # the one host transfer of a sample
        n_f, n_i = len(self.floats), len(self.ints)
        starts, at = [], n_f + n_i
        for v in self.vectors:
            starts.append(at)
            at += v.numel()
        out = {}
        for group, key, index, size in self._keys:
            if group == "f":
                out[key] = float(host[index])
            elif group == "i":
                out[key] = float(host[n_f + index])
            else:
                out[key] = host[starts[index]:starts[index] + size]
        return out


class _Probe:
    """One watched layer: its module, parameters and how to subsample its gradients."""

    def __init__(self, info: LayerInfo, module: torch.nn.Module) -> None:
        self.info = info
        self.module = module
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        self.param_names = tuple(n for n, _ in named)
        self.params = [p for _, p in named]
        self.relu = info.type == "ReLU"
        self.zeros = info.type in RELU_LIKE
        self.squash = info.type if info.type in SQUASHING else ""


class Instrumentation:
    """Samples per-layer statistics of chosen training steps (see module docstring)."""

    def __init__(self, model: torch.nn.Module, layers: list[LayerInfo],
                 watch: tuple[str, ...] = (), bins: int = HIST_BINS) -> None:
        chosen = [i for i in layers if not watch or i.node_id in watch]
        self.model = model
        self.probes = [_Probe(i, model.get_submodule(i.attribute)) for i in chosen]
        self._restore: Callable[[], None] | None = None
        self.bins = bins
        self.params = [p for probe in self.probes for p in probe.params]
        self._weighted = [i for i, p in enumerate(self.probes) if p.params]
        self._handles: list = []
        self._device = self.params[0].device if self.params else torch.device("cpu")
        # Parameters are read as one flat vector (one copy), split back into views per
        # parameter for the norms; ``_spans`` is where each weighted layer's elements lie.
        self._sizes = [p.numel() for p in self.params]
        self._spans: list[tuple[int, int]] = []
        at = 0
        for probe in self.probes:
            n = sum(p.numel() for p in probe.params)
            if n:
                self._spans.append((at, at + n))
            at += n
        # Histogram rows: one per layer for outputs, one per weighted layer for gradients.
        self._rows = len(self.probes) + len(self._weighted)
        self._offsets = (torch.arange(self._rows, device=self._device)
                         * (bins + 1)).unsqueeze(1)
        # Each sample's subsamples go here (NaN where a row is shorter), allocated once.
        self._hist_buf = torch.empty((self._rows, HIST_SAMPLE), device=self._device)
        self._reset()

    def _reset(self) -> None:
        self._pack: _Pack | None = None
        self._buf: torch.Tensor | None = None
        self._low: list[torch.Tensor | None] = []
        self._high: list[torch.Tensor | None] = []
        self._shapes: dict[int, tuple[int, int]] = {}  # probe -> (numel, units)
        self._before: torch.Tensor | None = None
        self._outs: dict[int, torch.Tensor] = {}

    @property
    def node_ids(self) -> list[str]:
        return [p.info.node_id for p in self.probes]

    # ---------------------------------------------------------------- forward
    def arm(self) -> None:
        """Attach forward hooks for the next forward pass (a sampled step)."""
        self.disarm()
        self._reset()
        self._pack = _Pack()
        self._buf = self._hist_buf.fill_(_NAN)
        self._low = [None] * self._rows
        self._high = [None] * self._rows
        for index, probe in enumerate(self.probes):
            self._handles.append(probe.module.register_forward_hook(self._hook(index)))
        self._restore = observe(self.model)

    def disarm(self) -> None:
        """Remove the hooks, then measure what they caught (outputs of this forward)."""
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        if self._restore is not None:
            self._restore()
            self._restore = None
        outs, self._outs = self._outs, {}
        pack, buf = self._pack, self._buf
        if outs and pack is not None and buf is not None:  # armed: outputs were caught
            with torch.no_grad():
                for index, out in outs.items():
                    self._activation_stats(pack, buf, index, self.probes[index],
                                           out.detach())

    def _hook(self, index: int):
        def hook(_module, _args, output):
            # Only keep a reference here: measuring all layers together after the
            # forward pass saves a no_grad context and a closure call per layer.
            out = first_tensor(output)
            if out is not None and out.is_floating_point() and out.numel():
                self._outs[index] = out
        return hook

    def _activation_stats(self, pack: _Pack, buf: torch.Tensor, index: int, probe: _Probe,
                          x: torch.Tensor) -> None:
        flat = x.reshape(-1)
        if flat.dtype != torch.float32:
            flat = flat.float()
        n = flat.numel()
        low, high = torch.aminmax(flat)
        pack.scalar(("sum", index), flat.sum())
        pack.scalar(("sumsq", index), torch.dot(flat, flat))
        pack.scalar(("min", index), low)
        pack.scalar(("max", index), high)
        units = 0
        # Counting with sign().abs().sum() is ten times faster than count_nonzero on
        # the CPU for large tensors (exact: each term is 0 or 1). A ReLU's outputs are
        # >= 0, so their signs need no abs.
        if probe.relu:
            pack.scalar(("nonzero", index), torch.sign(flat).sum())
        elif probe.zeros:
            pack.scalar(("nonzero", index), torch.sign(flat).abs_().sum())
        if probe.relu and x.dim() >= 2:  # outputs >= 0: a unit is dead if its max is 0
            unit = x.dim() - 1 if x.dim() == 3 else 1  # (N, L, F) sequences, else channels
            dims = tuple(d for d in range(x.dim()) if d != unit)
            units = x.shape[unit]
            pack.scalar(("alive", index), torch.sign(x.amax(dim=dims)).sum())
        if probe.squash == "Sigmoid":  # slope under 5% of its maximum (0.25)
            pack.scalar(("saturated", index), ((flat - 0.5).abs_() > 0.4873).sum())
        elif probe.squash == "Tanh":  # slope under 5% of its maximum (1)
            pack.scalar(("saturated", index), (flat.abs() > 0.975).sum())
        stride = max(1, -(-n // HIST_SAMPLE))
        sub = flat[::stride]
        buf[index, :sub.numel()].copy_(sub)
        self._low[index], self._high[index] = low, high
        self._shapes[index] = (n, units)

    # ---------------------------------------------------------------- optimizer step
    def before_step(self) -> None:
        """Read gradients and weights; call after backward, before ``optimizer.step``."""
        pack, buf = self._pack, self._buf
        if not self.params or pack is None or buf is None:
            return
        with torch.no_grad():
            grads = torch.cat([(p.grad if p.grad is not None else torch.zeros_like(p))
                               .reshape(-1) for p in self.params]).float()
            # The flat copy of the weights is also "the weights before the step".
            self._before = torch.cat([p.reshape(-1) for p in self.params]).float()
            norms = torch._foreach_norm(
                list(grads.split(self._sizes)) + list(self._before.split(self._sizes)))
            pack.vector("norms", torch.stack(norms))
            row = len(self.probes)
            for start, stop in self._spans:
                sub = grads[start:stop:max(1, -(-(stop - start) // HIST_SAMPLE))]
                buf[row, :sub.numel()].copy_(sub)
                self._low[row], self._high[row] = torch.aminmax(sub)
                row += 1

    def collect(self, step: int, epoch: int, extras: Sequence[torch.Tensor] = ()
                ) -> tuple[LayerStatsEvent, list[float]]:
        """Finish the sample after ``optimizer.step``: one host transfer for everything.

        ``extras`` are further 0-d tensors (the batch metric) to bring along; their
        values are returned beside the event.
        """
        pack = self._pack or _Pack()
        with torch.no_grad():
            if self.params and self._before is not None:
                after = torch.cat([p.reshape(-1) for p in self.params]).float()
                moved = after.sub_(self._before).split(self._sizes)
                pack.vector("update_norms", torch.stack(torch._foreach_norm(moved)))
            buf = self._buf
            filled = [r for r in range(self._rows) if self._low[r] is not None] \
                if buf is not None else []
            if buf is not None and filled:
                low = torch.stack([self._low[r] for r in filled])
                high = torch.stack([self._high[r] for r in filled])
                pack.vector("hist", self._histograms(buf, filled, low, high))
                pack.vector("ranges", torch.cat([low, high]))
            for i, e in enumerate(extras):
                pack.scalar(("extra", i), e.detach().float())
            host = pack.fetch()
        shapes = dict(self._shapes)
        self._reset()
        return self._unpack(host, shapes, filled, step, epoch), [
            host[("extra", i)] for i in range(len(extras))]

    def _histograms(self, buf: torch.Tensor, rows: list[int], low: torch.Tensor,
                    high: torch.Tensor) -> torch.Tensor:
        """Counts of each row's values in ``bins`` equal bins from its min to its max.

        All rows at once: scale each row to [0, bins), clamp, and count in one go (the
        NaN padding of short rows goes to an extra bin per row, dropped on the host).
        """
        b = self.bins
        values = buf if len(rows) == self._rows else buf.index_select(
            0, torch.tensor(rows, device=self._device))
        low, high = low.unsqueeze(1), high.unsqueeze(1)
        scaled = (values - low) * (b / (high - low).clamp_min(1e-30))
        scaled.clamp_(0, b - 1).nan_to_num_(nan=float(b))
        bins = (scaled.long() + self._offsets[:len(rows)]).reshape(-1)
        size = len(rows) * (b + 1)
        if bins.device.type == "cpu":
            return torch.bincount(bins, minlength=size)
        # bincount sizes its result from the data, which would wait for the device
        return torch.zeros(size, device=bins.device).scatter_add_(
            0, bins, torch.ones_like(bins, dtype=torch.float32))

    def _unpack(self, host: dict, shapes: dict, filled: list[int], step: int, epoch: int
                ) -> LayerStatsEvent:
        b = self.bins
        hist_rows: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        if "hist" in host:
            counts = host["hist"].reshape(-1, b + 1)[:, :b].astype(np.int64)
            low, high = host["ranges"].reshape(2, -1)
            # All rows' edges at once; a row whose range is empty or not finite is
            # redone by ``_edges`` (rare).
            edges = (low[:, None] + (high - low)[:, None] * _unit(b)).astype(np.float32)
            plain = np.isfinite(low) & np.isfinite(high) & (high > low)
            for j, row in enumerate(filled):
                hist_rows[row] = (counts[j], edges[j]) if plain[j] else \
                    _edges(counts[j], np.array([low[j], high[j]]), b)
        gn = wn = None
        if "norms" in host:
            gn, wn = host["norms"].reshape(2, -1)
        un = host.get("update_norms")
        layers, bad = [], []
        k = 0
        grad_row = {p: len(self.probes) + j for j, p in enumerate(self._weighted)}
        for index, probe in enumerate(self.probes):
            n = len(probe.params)
            grad_norms: dict[str, float] = {}
            grad_norm = weight_norm = ratio = None
            if n and gn is not None and wn is not None:
                g, w = gn[k:k + n].tolist(), wn[k:k + n].tolist()
                grad_norms = dict(zip(probe.param_names, g))
                grad_norm = math.sqrt(sum(v * v for v in g))
                weight_norm = math.sqrt(sum(v * v for v in w))
                if un is not None and weight_norm > 0:
                    ratio = math.sqrt(sum(v * v for v in un[k:k + n].tolist())) / weight_norm
                if not math.isfinite(grad_norm):
                    bad.append(probe.info.node_id)
            k += n
            grad_hist, grad_edges = hist_rows.get(grad_row.get(index, -1), (None, None))
            act_hist, act_edges = hist_rows.get(
                index, (np.zeros(b, np.int64), np.zeros(b + 1, np.float32)))
            numel, units = shapes.get(index, (0, 0))
            mean = std = low = high = _NAN
            zero = dead = sat = None
            if numel:
                mean = host[("sum", index)] / numel
                var = host[("sumsq", index)] / numel - mean * mean
                std = math.sqrt(max(var, 0.0)) if math.isfinite(var) else _NAN
                low, high = host[("min", index)], host[("max", index)]
                if ("nonzero", index) in host:
                    zero = 1.0 - host[("nonzero", index)] / numel
                if units:
                    dead = 1.0 - host[("alive", index)] / units
                if ("saturated", index) in host:
                    sat = host[("saturated", index)] / numel
            layers.append(LayerStats(
                node_id=probe.info.node_id, grad_norms=grad_norms, grad_norm=grad_norm,
                weight_norm=weight_norm, update_ratio=ratio, act_mean=mean, act_std=std,
                act_min=low, act_max=high, zero_fraction=zero, dead_fraction=dead,
                saturation=sat, act_hist=act_hist, act_edges=act_edges,
                grad_hist=grad_hist, grad_edges=grad_edges))
        return LayerStatsEvent(step, epoch, tuple(layers), tuple(bad))

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles.clear()
        if self._restore is not None:
            self._restore()
            self._restore = None
        self._reset()


_UNIT: dict[int, np.ndarray] = {}


def _unit(bins: int) -> np.ndarray:
    unit = _UNIT.get(bins)
    if unit is None:
        unit = _UNIT[bins] = np.linspace(0.0, 1.0, bins + 1)
    return unit


def _edges(counts: np.ndarray, bounds: np.ndarray, bins: int):
    unit = _unit(bins)
    low, high = float(bounds[0]), float(bounds[1])
    if not (math.isfinite(low) and math.isfinite(high)):
        return np.zeros(bins, np.int64), np.zeros(bins + 1, np.float32)
    if high <= low:  # every value equal: one full bin in the middle of a unit range
        centred = np.zeros(bins, np.int64)
        centred[bins // 2] = counts.sum()
        return centred, (low - 0.5 + unit).astype(np.float32)
    return counts, (low + (high - low) * unit).astype(np.float32)


def first_tensor(value):
    """The first tensor of a layer's output (an LSTM returns a tuple), or None."""
    if isinstance(value, torch.Tensor):
        return value
    if isinstance(value, (tuple, list)) and value:
        return first_tensor(value[0])
    return None


# -------------------------------------------------------------------- feature maps
def feature_maps(model: torch.nn.Module, layers: list[LayerInfo], inputs: tuple,
                 step: int, epoch: int, watch: tuple[str, ...] = (),
                 channels: int = FEATURE_CHANNELS) -> list[FeatureMapsEvent]:
    """The first ``channels`` maps each convolution makes of one example (eval mode).

    ``inputs`` holds one example per network input, with a batch dimension of 1.
    """
    chosen = [i for i in layers if i.type in CONVOLUTIONS
              and (not watch or i.node_id in watch)]
    if not chosen:
        return []
    captured: dict[str, torch.Tensor] = {}
    handles = []
    for info in chosen:
        def hook(_m, _a, output, node_id=info.node_id):
            out = first_tensor(output)
            if out is not None:
                captured[node_id] = out.detach()[0, :channels]
        handles.append(model.get_submodule(info.attribute).register_forward_hook(hook))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(*inputs)
    finally:
        for h in handles:
            h.remove()
        model.train(was_training)
    if not captured:
        return []
    # One transfer for all layers, then scale each channel to 0..255 on the host.
    host = {k: v.float().cpu().numpy() for k, v in captured.items()}
    events = []
    for info in chosen:
        maps = host.get(info.node_id)
        if maps is None:
            continue
        if maps.ndim == 2:  # Conv1d: (channels, length) -> one row per channel
            maps = maps[:, None, :]
        flat = maps.reshape(len(maps), -1)
        flat = np.nan_to_num(flat, nan=0.0, posinf=0.0, neginf=0.0)
        low, high = flat.min(axis=1), flat.max(axis=1)
        scale = np.where(high > low, 255.0 / np.maximum(high - low, 1e-12), 0.0)
        scaled = ((flat - low[:, None]) * scale[:, None]).round().clip(0, 255)
        total = _channels_of(model.get_submodule(info.attribute))
        events.append(FeatureMapsEvent(
            step, epoch, info.node_id, scaled.astype(np.uint8).reshape(maps.shape),
            low.astype(np.float32), high.astype(np.float32), total or len(maps)))
    return events


def _channels_of(module) -> int | None:
    return getattr(module, "out_channels", None)
