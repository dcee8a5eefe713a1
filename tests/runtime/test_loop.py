"""The training loop's parts (runtime.loop): batches, epoch order, loss reading, time."""

from __future__ import annotations

import pytest
import torch

from runtime.loop import LossReader, Stopwatch, TensorBatches, epoch_order


def test_tensor_batches_follow_the_order_and_start_mid_epoch():
    x = torch.arange(10.0).reshape(10, 1)
    y = torch.arange(10)
    source = TensorBatches((x, y), batch_size=4, batches=3)
    order = torch.tensor([9, 8, 7, 6, 5, 4, 3, 2, 1, 0])
    batches = list(source.epoch(order, 0))
    assert [b[1].tolist() for b in batches] == [[9, 8, 7, 6], [5, 4, 3, 2], [1, 0]]
    assert torch.equal(batches[0][0][0][:, 0], torch.tensor([9.0, 8.0, 7.0, 6.0]))
    assert [b[1].tolist() for b in source.epoch(order, 2)] == [[1, 0]]


def test_two_inputs_are_sliced_together():
    a, b, y = torch.arange(6.0), torch.arange(6.0) * 10, torch.arange(6)
    source = TensorBatches((a, b, y), batch_size=3, batches=2)
    (xa, xb), t = next(source.epoch(torch.tensor([5, 4, 3, 2, 1, 0]), 0))
    assert xa.tolist() == [5, 4, 3] and xb.tolist() == [50, 40, 30] and t.tolist() == [5, 4, 3]


def test_an_epoch_resumed_inside_replays_its_order():
    g = torch.Generator().manual_seed(3)
    first, state = epoch_order(g, 20, 0, None)
    second, _ = epoch_order(g, 20, 0, None)
    assert not torch.equal(first, second)
    again, same_state = epoch_order(g, 20, 5, state)  # resumed at batch 5 of epoch 1
    assert torch.equal(again, first) and torch.equal(same_state, state)
    assert torch.equal(epoch_order(g, 20, 0, None)[0], second)


def test_loss_reader_reads_at_once_or_one_step_late():
    def boom(xs, step):
        return ValueError(f"non-finite at step {step}")

    now = LossReader(True, boom)
    assert now.add(torch.tensor(2.5), (), 1) == 2.5
    with pytest.raises(ValueError, match="step 2"):
        now.add(torch.tensor(float("nan")), (), 2)
    late = LossReader(False, boom)
    assert late.add(torch.tensor(1.0), (), 1) is None
    assert late.add(torch.tensor(float("inf")), (), 2) == 1.0
    with pytest.raises(ValueError, match="step 2"):
        late.flush()
    assert late.flush() is None


def test_stopwatch_leaves_pauses_out():
    clock = Stopwatch()
    clock.exclude(100.0)
    assert clock.elapsed() < 0
