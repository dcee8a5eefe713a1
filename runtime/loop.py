"""The parts of a training loop, shared by every way of feeding and running it.

``Trainer`` (``runtime.engine``) assembles one loop from these pieces; the streaming data
path and distributed runs reuse the same pieces instead of copying the loop:

- a ``BatchSource`` cuts an epoch into batches from a permutation of the training
  examples: ``TensorBatches`` slices tensors already on the device (data that fits),
  ``runtime.streaming.LoaderBatches`` reads files through a DataLoader. Both take the
  same permutation, so the same seed gives the same batches on either path, and both can
  start in the middle of an epoch (resume).
- ``epoch_order`` draws an epoch's permutation from the run's shuffle generator and
  replays it when a run resumes inside that epoch.
- ``Stopwatch`` is training time that excludes pauses.
- ``LossReader`` reads each step's loss once: at once on the CPU (no transfer), one step
  late on an accelerator so the device never waits for the host.
- ``Window`` accumulates the loss and example count between two step events.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import torch

Batch = tuple[tuple[torch.Tensor, ...], torch.Tensor]  # (inputs, target)


class BatchSource(Protocol):
    """An epoch's batches, in the order a permutation of the examples gives."""

    examples: int  # training examples per epoch
    batches: int  # batches per epoch (see ``batch_count``)

    def epoch(self, order: torch.Tensor, start: int) -> Iterator[Batch]:
        """Batches ``start``, ``start + 1``, ... of the epoch whose order is ``order``."""
        ...


class TensorBatches:
    """Batches sliced from tensors that live on the training device (no copies)."""

    def __init__(self, tensors: Sequence[torch.Tensor], batch_size: int, batches: int):
        self.tensors = tuple(tensors)
        self.inputs, self.target = self.tensors[:-1], self.tensors[-1]
        self.examples = len(self.target)
        self.batch_size = batch_size
        self.batches = batches

    def epoch(self, order: torch.Tensor, start: int) -> Iterator[Batch]:
        bs, target = self.batch_size, self.target
        order = order.to(target.device)
        if len(self.inputs) == 1:  # the common case, without a generator per step
            x = self.inputs[0]
            for b in range(start, self.batches):
                idx = order[b * bs:(b + 1) * bs]
                yield (x[idx],), target[idx]
            return
        for b in range(start, self.batches):
            idx = order[b * bs:(b + 1) * bs]
            yield tuple(t[idx] for t in self.inputs), target[idx]


def epoch_order(shuffle: torch.Generator, examples: int, start: int,
                epoch_state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """``(order, state)``: the epoch's permutation and the generator state it came from.

    A fresh epoch (``start`` 0) draws from where the generator is; an epoch resumed at
    batch ``start`` replays ``epoch_state`` so it continues the very same order.
    """
    if start == 0 or epoch_state is None:
        epoch_state = shuffle.get_state()
    else:
        shuffle.set_state(epoch_state)
    return torch.randperm(examples, generator=shuffle), epoch_state


class Stopwatch:
    """Seconds since ``start``, not counting the time spent in ``pause`` blocks."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.started_cpu = time.thread_time()
        self.paused = 0.0

    def now(self) -> float:
        """``perf_counter`` shifted back by the pauses so far (for intervals)."""
        return time.perf_counter() - self.paused

    def elapsed(self) -> float:
        return time.perf_counter() - self.paused - self.started

    def cpu(self) -> float:
        return time.thread_time() - self.started_cpu

    def exclude(self, seconds: float) -> None:
        """``seconds`` were a pause: they count neither as training nor as wall time."""
        self.paused += seconds


class LossReader:
    """Reads each step's loss once, checking it is finite.

    ``sync`` (the CPU): the value is read at once and returned by ``add``. Otherwise the
    loss is kept and read at the next ``add`` (or ``flush``), when the device has long
    finished it. ``nonfinite(inputs, step)`` builds the error raised for a NaN/inf loss.
    """

    def __init__(self, sync: bool,
                 nonfinite: Callable[[tuple[torch.Tensor, ...], int], Exception]) -> None:
        self.sync = sync
        self.nonfinite = nonfinite
        self._pending: tuple[torch.Tensor, tuple[torch.Tensor, ...], int] | None = None

    def add(self, loss: torch.Tensor, inputs: tuple[torch.Tensor, ...], step: int
            ) -> float | None:
        """The loss to count now (this step's, or the previous step's, or None)."""
        if self.sync:
            value = loss.item()
            if not math.isfinite(value):
                raise self.nonfinite(inputs, step)
            return value
        previous, self._pending = self._pending, (loss.detach(), inputs, step)
        return self._read(previous) if previous is not None else None

    def flush(self) -> float | None:
        """The loss still waiting (end of an epoch), or None."""
        previous, self._pending = self._pending, None
        return self._read(previous) if previous is not None else None

    def _read(self, pending) -> float:
        loss, inputs, step = pending
        value = loss.item()
        if not math.isfinite(value):
            raise self.nonfinite(inputs, step)
        return value


class Window:
    """Loss and speed between two step events."""

    def __init__(self, now: float) -> None:
        self.loss, self.count, self.started = 0.0, 0, now

    def add(self, value: float) -> None:
        self.loss += value
        self.count += 1

    def mean(self) -> float:
        return self.loss / max(self.count, 1)

    def rate(self, now: float, batch_size: int) -> float:
        return self.count * batch_size / max(now - self.started, 1e-9)

    def restart(self, now: float) -> None:
        self.loss, self.count, self.started = 0.0, 0, now
