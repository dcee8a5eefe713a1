"""The streaming data path: files read in batches by DataLoader workers.

For data that does not fit in memory (or when the setup asks for it), a dataset kind
that can list its files (``DatasetSpec.index``) gives a ``FileIndex``; ``streaming_bundle``
splits it exactly as the device-resident path splits the decoded arrays (same indices
for the same seed) into ``FileSplit`` datasets, and ``LoaderBatches`` feeds the engine:
a ``torch.utils.data.DataLoader`` with worker processes decoding and resizing, pinned
memory on CUDA and a few batches prefetched, so memory is bounded by batches, not by the
dataset. It is a ``runtime.loop.BatchSource`` like ``TensorBatches``: it takes the same
epoch permutation and can start in the middle of an epoch, so the same seed gives the
same batches on both paths and a resumed run continues the same order.

An unreadable file does not lose the run: its example is dropped from its batch, counted
and named (``skipped``), unless ``strict`` is set, which stops the run naming the file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from .datasets.bundle import SPLITS, DatasetBundle, split_indices
from .datasets.files_images import UnreadableFile
from .datasets.registry import DatasetError, FileIndex
from .loop import Batch

SKIPPED_NAMES = 5  # how many names of skipped files a message quotes


class FileSplit(Dataset):
    """One split of a ``FileIndex``; items are ``(input, target, problem)``.

    ``problem`` is "" for a good item, else "name (reason)" (the input is then zeros).
    """

    def __init__(self, index: FileIndex, positions: np.ndarray, target: str = "class"):
        self.index = index
        self.positions = np.asarray(positions, np.int64)
        # "class" (int64 id), "binary" (float 0/1 shaped (1,)) or "float" (the label
        # row as float32: regression and multi-label).
        self.target = target

    def __len__(self) -> int:
        return len(self.positions)

    def for_target(self, target: str) -> FileSplit:
        return FileSplit(self.index, self.positions, target)

    def _target(self, k: int):
        label = self.index.labels[k]
        if self.target == "float":
            return torch.from_numpy(np.asarray(label, np.float32).reshape(-1))
        return torch.tensor([float(label)]) if self.target == "binary" else int(label)

    def __getitems__(self, indices: list[int]) -> list:
        """A batch at once, when the reader can (rows of a CSV read in file order)."""
        read_many = getattr(self.index.reader, "read_many", None)
        if read_many is None:
            return [self[i] for i in indices]
        ks = self.positions[np.asarray(indices, np.int64)]
        x = torch.from_numpy(read_many(np.asarray(self.index.items)[ks]))
        return [(x[j], self._target(int(k)), "") for j, k in enumerate(ks)]

    def __getitem__(self, i: int):
        k = int(self.positions[i])
        y = self._target(k)
        try:
            x = torch.from_numpy(self.index.reader(self.index.items[k]))
            return x, y, ""
        except UnreadableFile as e:
            name = self.index.names[k] if self.index.names else e.name
            return torch.zeros(self.index.input_shape), y, f"{name} ({e.reason})"


def streaming_bundle(name: str, index: FileIndex, *, seed: int, val_fraction: float,
                     test_fraction: float, options: dict, display_name: str
                     ) -> DatasetBundle:
    """A bundle whose splits read files on demand (see the module docstring)."""
    n = len(index.items)
    if n < 3:
        raise DatasetError(f"The dataset '{display_name}' holds {n} example"
                           f"{'' if n == 1 else 's'}; training needs at least 3")
    task = index.task
    # Stratified by class as ``make_bundle`` does, so both paths split alike.
    labels = index.labels.reshape(n) if task in ("classification", "binary") else None
    given = index.splits or split_indices(n, labels, seed, val_fraction, test_fraction)
    idx = {s: np.asarray(given.get(s, ()), np.int64) for s in SPLITS}
    target, shape = {"classification": ("class", ()), "binary": ("binary", (1,))}.get(
        task, ("float", tuple(index.labels.shape[1:])))
    mean, std = index.standardization or (None, None)
    return DatasetBundle(
        name=name, **{s: FileSplit(index, idx[s], target) for s in SPLITS},
        input_shapes=[tuple(index.input_shape)], input_dtypes=["float"],
        task=task, num_classes=len(index.class_names) if task == "classification"
        else None, class_names=list(index.class_names), target_shape=shape,
        display_name=display_name, options=dict(options),
        feature_names=list(index.feature_names),
        input_mean=[None if mean is None else torch.from_numpy(mean)],
        input_std=[None if std is None else torch.from_numpy(std)],
        indices={s: torch.from_numpy(i) for s, i in idx.items()},
        notes=list(index.notes))


def streaming_for_task(bundle: DatasetBundle, task: str) -> DatasetBundle:
    """``DatasetBundle.for_task`` for streaming splits (classes <-> one 0/1 target)."""
    shape: tuple[int, ...]
    classes: int | None
    if task == "binary" and bundle.task == "classification" and bundle.num_classes == 2:
        target, shape, classes = "binary", (1,), None
    elif task == "classification" and bundle.task == "binary":
        target, shape, classes = "class", (), 2
    else:
        return bundle
    splits = {s: bundle.split(s).for_target(target) for s in SPLITS}
    return dataclasses.replace(bundle, **splits, task=task, num_classes=classes,
                               target_shape=shape)


class _BatchOrder:
    """The batches of the current epoch; a DataLoader's ``batch_sampler`` that the
    engine refills each epoch (so worker processes persist across epochs)."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []

    def __iter__(self):
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class LoaderBatches:
    """Batches of a ``FileSplit`` read by DataLoader workers (a ``BatchSource``)."""

    def __init__(self, split: FileSplit, batch_size: int, batches: int, *, workers: int,
                 device: torch.device, strict: bool = False) -> None:
        self.split = split
        self.examples = len(split)
        self.batch_size = batch_size
        self.batches = batches
        self.device = device
        self.strict = strict
        self.skipped: list[str] = []  # the first few, for messages
        self._bad: set[str] = set()
        self._order = _BatchOrder()
        cuda = device.type == "cuda"
        self.loader = DataLoader(
            split, batch_sampler=self._order, num_workers=workers, pin_memory=cuda,
            persistent_workers=workers > 0, prefetch_factor=4 if workers > 0 else None)

    def epoch(self, order: torch.Tensor, start: int) -> Iterator[Batch]:
        bs = self.batch_size
        order = order.tolist()
        self._order.batches = [order[b * bs:(b + 1) * bs]
                               for b in range(start, self.batches)]
        return self._batches()

    def sequential(self, limit: int | None = None) -> Iterator[Batch]:
        """The split in its stored order (validation), at most ``limit`` examples."""
        n = self.examples if limit is None else min(limit, self.examples)
        self._order.batches = [list(range(i, min(i + self.batch_size, n)))
                               for i in range(0, n, self.batch_size)]
        return self._batches()

    def _batches(self) -> Iterator[Batch]:
        device, blocking = self.device, self.device.type != "cuda"
        for x, y, problems in self.loader:
            if any(problems):
                keep = self._skip(problems)
                if not keep.any():
                    continue
                x, y = x[keep], y[keep]
            yield ((x.to(device, non_blocking=not blocking),),
                   y.to(device, non_blocking=not blocking))

    def _skip(self, problems) -> torch.Tensor:
        bad = [p for p in problems if p]
        if self.strict:
            raise DatasetError(f"The file {bad[0]} cannot be read; the run stops because "
                               "the setup says strict_files (turn it off to skip such "
                               "files and count them)")
        for p in bad:
            if p not in self._bad and len(self.skipped) < SKIPPED_NAMES:
                self.skipped.append(p)
            self._bad.add(p)
        return torch.tensor([not p for p in problems])

    @property
    def bad_files(self) -> set[str]:
        return self._bad

    @property
    def skipped_count(self) -> int:
        """Distinct unreadable files met so far."""
        return len(self._bad)

    def close(self) -> None:
        """Stop the worker processes."""
        self._order.batches = []
        self.loader = None
