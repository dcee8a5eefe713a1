"""The dataset's splits as tensors on the training device, and an epoch cut into batches.

Strata's datasets are tensors (``DatasetBundle.tensors``), small enough to live on the
device for the whole run, so a batch is one index into each tensor: no DataLoader, no
worker processes, no copy per step. Targets are reshaped once here to the shape of the
model's output, so the loss needs no reshaping per step.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from .failures import TrainingError


def split_on_device(bundle, split: str, task: str, output_features: tuple[int, ...],
                    device: torch.device) -> tuple[torch.Tensor, ...]:
    """``(input_1, ..., input_k, target)`` of ``split`` on ``device``."""
    *inputs, target = bundle.tensors(split)
    if task != "classification":
        if math.prod(output_features) == math.prod(target.shape[1:]):
            target = target.reshape(len(target), *output_features)
        target = target.float()
    return tuple(t.to(device) for t in (*inputs, target))


def check_finite(bundle, splits: dict[str, tuple[torch.Tensor, ...]],
                 input_ids: list[str], input_names: list[str]) -> None:
    """Refuse NaN or infinity in the data now: later it would only be a NaN loss."""
    for split, tensors in splits.items():
        for k, t in enumerate(tensors):
            if not t.is_floating_point() or not len(t):
                continue
            # One reduction answers for clean data (any NaN or infinity makes the sum
            # non-finite); only a non-finite sum (or one that overflowed) is looked at
            # example by example.
            if bool(torch.isfinite(t.sum(dtype=torch.float64))):
                continue
            bad = ~torch.isfinite(t.reshape(len(t), -1)).all(dim=1)
            count = int(bad.sum())
            if not count:
                continue
            first = int(bad.nonzero()[0, 0])
            is_input = k < len(input_ids)
            what = f"Input '{input_names[k]}'" if is_input else "the targets"
            raise TrainingError(
                f"The dataset '{bundle.display_name or bundle.name}' holds NaN or "
                f"infinite values for {what} in {count} {split} "
                f"example{'s' if count > 1 else ''} (the first is number {first + 1} of "
                "that split); clean the data (empty cells and overflowing numbers become "
                "NaN or infinity).", input_ids[k] if is_input else None, "data")


def batch_count(examples: int, batch_size: int) -> int:
    """Batches per epoch; a last batch of a single example is dropped (BatchNorm cannot
    normalise one example in training mode)."""
    batches = max(1, math.ceil(examples / batch_size))
    if batches > 1 and examples - (batches - 1) * batch_size == 1:
        batches -= 1
    return batches


def dataset_summary(bundle, task: str, points: int = 500) -> dict:
    """What a StartedEvent says about the data; for 2-D points, some training points
    (in the data's own units) so a view can draw them under the decision boundary."""
    summary = {"name": bundle.name, "display_name": bundle.display_name, "task": task,
               "sizes": bundle.sizes,
               "input_shapes": [list(s) for s in bundle.input_shapes],
               "num_classes": bundle.num_classes, "class_names": list(bundle.class_names),
               "description": bundle.describe()}
    if getattr(bundle, "is_2d_points", False):
        x, y = bundle.tensors("train")[0][:points], bundle.tensors("train")[-1][:points]
        if bundle.input_mean and bundle.input_mean[0] is not None:
            x = x * bundle.input_std[0] + bundle.input_mean[0]
        summary["points"] = x.numpy().astype(np.float32)
        summary["labels"] = y.reshape(len(y), -1)[:, 0].numpy().astype(np.float32)
    return summary
