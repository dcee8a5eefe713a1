"""A loaded dataset: three seeded splits of tensors plus what the network must match.

Every dataset kind, generated or read from a file, ends as arrays handed to
``make_bundle``, which splits them (stratified by class for classification, so small
validation sets still hold every class), optionally standardises float inputs with
statistics of the training split only, and wraps each split as a ``TensorSplit``.

Target conventions (what the losses in ``runtime.setup`` expect):
classification: int64 class ids shaped (); binary: float 0/1 shaped (1,);
regression: float shaped (k,).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import torch
from torch.utils.data import TensorDataset

SPLITS = ("train", "val", "test")


class TensorSplit(TensorDataset):
    """One split as tensors. Items are ``(inputs, target)``; ``inputs`` is a tensor, or a
    tuple of tensors for networks with several Inputs. ``tensors`` is
    ``(input_1, ..., input_k, target)`` for code that batches by slicing."""

    def __init__(self, inputs: tuple[torch.Tensor, ...], target: torch.Tensor):
        super().__init__(*inputs, target)
        self.input_count = len(inputs)

    @property
    def inputs(self) -> tuple[torch.Tensor, ...]:
        return self.tensors[:-1]

    @property
    def target(self) -> torch.Tensor:
        return self.tensors[-1]

    def __getitem__(self, index):
        xs = tuple(t[index] for t in self.tensors[:-1])
        return (xs[0] if self.input_count == 1 else xs), self.tensors[-1][index]


@dataclass
class DatasetBundle:
    name: str
    train: TensorSplit
    val: TensorSplit
    test: TensorSplit  # held out: only for a final evaluation the user asks for
    input_shapes: list[tuple[int, ...]]  # per network input, without the batch
    input_dtypes: list[str]  # "float" or "long"
    task: str  # "classification", "binary", "regression"
    num_classes: int | None
    class_names: list[str]
    target_shape: tuple[int, ...]  # per example: () class ids, (1,) binary / regression
    display_name: str = ""
    options: dict = field(default_factory=dict)  # the spec with every default filled in
    feature_names: list[str] = field(default_factory=list)  # for table data
    # For 2-D point inputs: the plotting area (x_min, x_max, y_min, y_max) a decision
    # boundary is drawn over; None otherwise.
    extent: tuple[float, float, float, float] | None = None
    # Standardisation applied to float inputs (from the training split), per input;
    # None where the input is used as it comes.
    input_mean: list[torch.Tensor | None] = field(default_factory=list)
    input_std: list[torch.Tensor | None] = field(default_factory=list)
    # Which examples of the source (rows of a CSV, files in sorted order, generated
    # examples) each split holds, in the split's order.
    indices: dict[str, torch.Tensor] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)  # unreadable files left out
    # What reading found that the user should know (label lists found by "auto").
    notes: list[str] = field(default_factory=list)

    @property
    def streaming(self) -> bool:
        """True when the splits read files on demand instead of holding tensors."""
        return not isinstance(self.train, TensorSplit)

    # ------------------------------------------------------------- access
    def split(self, name: str) -> TensorSplit:
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}, expected one of {SPLITS}")
        return getattr(self, name)

    def tensors(self, split: str) -> tuple[torch.Tensor, ...]:
        """The whole split as ``(input_1, ..., input_k, target)`` (the fast path)."""
        return self.split(split).tensors

    @property
    def sizes(self) -> dict[str, int]:
        return {s: len(self.split(s)) for s in SPLITS}

    @property
    def input_count(self) -> int:
        return len(self.input_shapes)

    @property
    def target_dtype(self) -> str:
        return "long" if self.task == "classification" else "float"

    @property
    def is_2d_points(self) -> bool:
        return self.extent is not None

    def boundary_grid(self, resolution: int = 64):
        """Points covering ``extent`` for drawing a decision boundary.

        Returns ``(xs, ys, points)``: the ``resolution`` x and y coordinates and the
        ``resolution**2`` points shaped (resolution**2, 2), row-major in y then x, so
        ``model(points)`` reshaped to (resolution, resolution, ...) is an image whose
        row i is ``ys[i]``.
        """
        if self.extent is None:
            raise ValueError(f"dataset '{self.name}' is not made of 2-D points")
        x0, x1, y0, y1 = self.extent
        xs = torch.linspace(x0, x1, resolution)
        ys = torch.linspace(y0, y1, resolution)
        gy, gx = torch.meshgrid(ys, xs, indexing="ij")
        points = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
        if self.input_mean and self.input_mean[0] is not None:
            points = (points - self.input_mean[0]) / self.input_std[0]
        return xs, ys, points

    def describe(self) -> str:
        """One line such as "spirals: 700 train / 200 val / 100 test, 2 classes"."""
        s = self.sizes
        what = (f"{self.num_classes} classes" if self.task == "classification"
                else f"multi-label, {len(self.class_names)} labels"
                if self.task == "multilabel" else self.task)
        return (f"{self.display_name or self.name}: {s['train']} train / {s['val']} val "
                f"/ {s['test']} test, {what}")

    # ------------------------------------------------------------- adapting
    def for_task(self, task: str) -> DatasetBundle:
        """The same data with targets shaped for an Output of ``task``, when possible.

        Two-class classification and binary are the same data in two encodings (class
        ids vs. one 0/1 float), so either converts to the other. Anything else is
        returned unchanged for the compatibility check to explain.
        """
        if task == self.task:
            return self
        if self.streaming:
            from ..streaming import streaming_for_task

            return streaming_for_task(self, task)
        if self.task == "classification" and task == "binary" and self.num_classes == 2:
            convert = _to_binary
        elif self.task == "binary" and task == "classification":
            convert = _to_classes
        else:
            return self
        splits = {s: TensorSplit(self.split(s).inputs, convert(self.split(s).target))
                  for s in SPLITS}
        return dataclasses.replace(
            self, **splits, task=task, num_classes=2 if task == "classification" else None,
            target_shape=() if task == "classification" else (1,))


def _to_binary(target: torch.Tensor) -> torch.Tensor:
    return target.to(torch.float32).reshape(-1, 1)


def _to_classes(target: torch.Tensor) -> torch.Tensor:
    return target.reshape(-1).round().to(torch.int64)


# ---------------------------------------------------------------- building
def split_indices(n: int, labels: np.ndarray | None, seed: int, val_fraction: float,
                  test_fraction: float) -> dict[str, np.ndarray]:
    """Disjoint, seeded index sets; stratified by ``labels`` when they are given.

    Within each class the (shuffled) examples are dealt out by rank, so every split keeps
    the class proportions and the split depends only on (n, labels, seed, fractions).
    """
    rng = np.random.default_rng([seed, 0x5B1])
    groups = [np.arange(n)] if labels is None else [
        np.flatnonzero(labels == c) for c in np.unique(labels)]
    parts: dict[str, list[np.ndarray]] = {s: [] for s in SPLITS}
    for group in groups:
        group = rng.permutation(group)
        m = len(group)
        n_test = round(m * test_fraction)
        n_val = round(m * val_fraction)
        parts["test"].append(group[:n_test])
        parts["val"].append(group[n_test:n_test + n_val])
        parts["train"].append(group[n_test + n_val:])
    # Shuffle each split once more so classes are interleaved in the stored order.
    return {s: rng.permutation(np.concatenate(p)) if p else np.zeros(0, np.int64)
            for s, p in parts.items()}


def make_bundle(name: str, inputs: list[np.ndarray], target: np.ndarray, task: str, *,
                seed: int, val_fraction: float, test_fraction: float,
                class_names: list[str] | None = None, display_name: str = "",
                options: dict | None = None, feature_names: list[str] | None = None,
                standardize: bool = False, input_dtypes: list[str] | None = None,
                splits: dict[str, np.ndarray] | None = None,
                skipped: list[str] | None = None,
                notes: list[str] | None = None) -> DatasetBundle:
    """Split arrays into a bundle. ``inputs`` holds one array per network input, each
    shaped (examples, ...); ``target`` holds class ids, 0/1 or numbers."""
    n = len(target)
    dtypes = input_dtypes or ["long" if np.issubdtype(x.dtype, np.integer) else "float"
                              for x in inputs]
    xs = [torch.from_numpy(np.ascontiguousarray(
        x, dtype=np.int64 if d == "long" else np.float32)) for x, d in zip(inputs, dtypes)]
    labels: np.ndarray | None  # what a stratified split follows
    if task == "classification":
        y = torch.from_numpy(np.ascontiguousarray(target, dtype=np.int64)).reshape(n)
        num_classes = len(class_names) if class_names else int(y.max()) + 1 if n else 0
        names = class_names or [str(i) for i in range(num_classes)]
        labels = target.reshape(n)
        target_shape: tuple[int, ...] = ()
    else:
        y = torch.from_numpy(np.ascontiguousarray(target, dtype=np.float32)).reshape(n, -1)
        num_classes = None
        names = list(class_names or ([] if task == "regression" else ["0", "1"]))
        labels = target.reshape(n) if task == "binary" else None
        target_shape = tuple(y.shape[1:])
    given = splits or split_indices(n, labels, seed, val_fraction, test_fraction)
    idx = {s: torch.from_numpy(np.asarray(given.get(s, ()), np.int64)) for s in SPLITS}

    means: list[torch.Tensor | None] = []
    stds: list[torch.Tensor | None] = []
    for i, (x, d) in enumerate(zip(xs, dtypes)):
        if standardize and d == "float" and len(idx["train"]):
            train = x[idx["train"]]
            mean = train.mean(dim=0)
            std = train.std(dim=0, unbiased=False).clamp_min(1e-8)
            xs[i] = (x - mean) / std
            means.append(mean)
            stds.append(std)
        else:
            means.append(None)
            stds.append(None)

    parts = {s: TensorSplit(tuple(x[i] for x in xs), y[i]) for s, i in idx.items()}
    shapes = [tuple(x.shape[1:]) for x in inputs]
    extent = None
    if len(inputs) == 1 and shapes[0] == (2,) and dtypes[0] == "float" and n:
        raw = np.asarray(inputs[0], dtype=np.float64)
        lo, hi = raw.min(axis=0), raw.max(axis=0)
        pad = 0.1 * np.maximum(hi - lo, 1e-6)
        extent = (float(lo[0] - pad[0]), float(hi[0] + pad[0]),
                  float(lo[1] - pad[1]), float(hi[1] + pad[1]))
    return DatasetBundle(
        name=name, **parts, input_shapes=shapes, input_dtypes=dtypes, task=task,
        num_classes=num_classes, class_names=names, target_shape=target_shape,
        display_name=display_name or name, options=dict(options or {}),
        feature_names=list(feature_names or []), extent=extent, input_mean=means,
        input_std=stds, indices=idx, skipped=list(skipped or []),
        notes=list(notes or []))
