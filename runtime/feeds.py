"""How the engine gets its data: one interface over the two data paths.

A ``Feed`` gives the engine everything it needs from the dataset: the training batches
(a ``runtime.loop.BatchSource``), validation and the training-set estimate, one example
for feature maps, and notices for the run's log (unreadable files skipped).

- ``TensorFeed``: the device-resident path. Every split is on the training device as
  tensors (``runtime.batches``); a batch is one index into each tensor.
- ``StreamFeed``: the streaming path (``runtime.streaming``). Files are decoded by
  DataLoader workers; validation reads the split in order.

``make_feed`` picks the one the bundle calls for (``bundle.streaming``); the engine, its
checkpoints, instrumentation and events are the same on both.
"""

from __future__ import annotations

import torch

from .batches import batch_count, check_finite, split_on_device
from .events import NoticeEvent
from .loop import BatchSource, TensorBatches
from .metrics import PassResult, evaluate, evaluate_batches


class TensorFeed:
    """All splits on the device as tensors (data that fits)."""

    def __init__(self, bundle, task: str, features: tuple[int, ...], device, batch_size: int,
                 input_ids: list[str], input_names: list[str]) -> None:
        self.train, self.val = (split_on_device(bundle, split, task, features, device)
                                for split in ("train", "val"))
        check_finite(bundle, {"training": self.train, "validation": self.val},
                     input_ids, input_names)
        self.examples = len(self.train[-1])
        self.batches = batch_count(self.examples, batch_size)
        self.source: BatchSource = TensorBatches(self.train, batch_size, self.batches)
        self._skipped = list(bundle.skipped)

    def evaluate(self, split: str, model, loss_fn, task: str, classes: int | None,
                 batch_size: int, limit: int | None = None) -> PassResult:
        tensors = self.train if split == "train" else self.val
        return evaluate(model, tensors, loss_fn, task, classes, batch_size, limit=limit)

    def example(self) -> tuple[torch.Tensor, ...] | None:
        if not len(self.val[-1]):
            return None
        return tuple(t[:1] for t in self.val[:-1])

    def notices(self) -> list[NoticeEvent]:
        """Files left out while reading the data (said once, at the start)."""
        skipped, self._skipped = self._skipped, []
        return [skipped_notice(len(skipped), skipped[:5])] if skipped else []

    def close(self) -> None:
        pass


class StreamFeed:
    """Splits read from files in batches by DataLoader workers."""

    def __init__(self, bundle, device, batch_size: int, workers: int, strict: bool,
                 eval_batch_size: int) -> None:
        from .streaming import LoaderBatches

        self.bundle = bundle
        self.device = device
        self.examples = len(bundle.train)
        self.batches = batch_count(self.examples, batch_size)
        self.source = LoaderBatches(bundle.train, batch_size, self.batches,
                                    workers=workers, device=device, strict=strict)
        # Validation reads in order, in larger batches, with its own (fewer) workers.
        self._eval = {split: LoaderBatches(bundle.split(split), eval_batch_size, 0,
                                           workers=min(workers, 1), device=device,
                                           strict=strict) for split in ("train", "val")}
        self._told = 0

    def evaluate(self, split: str, model, loss_fn, task: str, classes: int | None,
                 batch_size: int, limit: int | None = None) -> PassResult:
        batches = self._eval[split].sequential(limit)
        return evaluate_batches(model, batches, loss_fn, task, classes, self.device)

    def example(self) -> tuple[torch.Tensor, ...] | None:
        val = self.bundle.val
        for i in range(min(len(val), 8)):
            x, _, problem = val[i]
            if not problem:
                return (x[None].to(self.device),)
        return None

    def notices(self) -> list[NoticeEvent]:
        """Unreadable files met since the last call (said at the end of each epoch)."""
        sources = (self.source, *self._eval.values())
        count = len(set().union(*(s.bad_files for s in sources)))
        if count <= self._told:
            return []
        self._told = count
        names = list(dict.fromkeys(n for s in sources for n in s.skipped))[:5]
        return [skipped_notice(count, names)]

    def close(self) -> None:
        for source in (self.source, *self._eval.values()):
            source.close()


def skipped_notice(count: int, names: list[str]) -> NoticeEvent:
    return NoticeEvent("files_skipped",
                       f"{count} unreadable file{'s' if count > 1 else ''} skipped "
                       f"(first: {', '.join(names)}); set strict_files to stop instead",
                       names=tuple(names))


def make_feed(bundle, *, task: str, features: tuple[int, ...], device, setup,
              input_ids: list[str], input_names: list[str], eval_batch_size: int):
    """The feed for ``bundle``: streaming when its splits read files, else tensors."""
    if bundle.streaming:
        return StreamFeed(bundle, device, setup.batch_size, setup.workers,
                          setup.strict_files, eval_batch_size)
    return TensorFeed(bundle, task, features, device, setup.batch_size, input_ids,
                      input_names)
