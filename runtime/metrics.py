"""How well the network does: loss, accuracy or R^2, confusion matrix, decision boundary.

Every quantity is accumulated on the device over the batches of a pass and copied to
the host once at the end, so validation costs one transfer however many batches it has.
The task comes from the Output node: "classification" (class scores, int targets),
"binary" (one logit, 0/1 float targets), "multilabel" (one logit per label, 0/1 float
targets; micro-averaged F1 over every label is reported, and each label's F1 with it)
or "regression" (numbers; R^2 is reported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .events import BoundaryGrid


def metric_name(task: str) -> str:
    return {"regression": "r2", "multilabel": "f1"}.get(task, "accuracy")


def f1_from_counts(tp, fp, fn):
    """F1 = 2tp / (2tp + fp + fn); 1 when there is nothing to find and nothing found."""
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 1.0)


@dataclass
class PassResult:
    loss: float
    metric: float | None
    confusion: np.ndarray | None
    per_label: np.ndarray | None = None  # multilabel: F1 of each label


def batch_metric(output: torch.Tensor, target: torch.Tensor, task: str) -> torch.Tensor:
    """Accuracy (or R^2) of one batch, as a 0-d tensor left on the device."""
    with torch.no_grad():
        if task == "classification":
            if target.dim() == output.dim():  # class probabilities (mixup, cutmix)
                target = target.argmax(1)
            return (output.argmax(1) == target).float().mean()
        if task == "binary":
            return ((output > 0) == (target.reshape(output.shape) > 0.5)).float().mean()
        if task == "multilabel":  # micro F1 of the batch
            pred, truth = output > 0, target.reshape(output.shape) > 0.5
            tp = (pred & truth).sum()
            wrong = (pred ^ truth).sum()
            return torch.where(tp + wrong > 0, 2 * tp / (2 * tp + wrong).clamp_min(1),
                               torch.ones((), device=output.device))
        target = target.reshape(output.shape).float()
        sse = (output - target).pow(2).sum()
        sst = (target - target.mean(0)).pow(2).sum()
        return 1.0 - sse / sst.clamp_min(1e-12)


def fit_target(output: torch.Tensor, target: torch.Tensor, task: str) -> torch.Tensor:
    """The target shaped for the loss (BCE and MSE want the output's shape)."""
    if task == "classification" or target.shape == output.shape:
        return target
    if target.numel() == output.numel():
        return target.reshape(output.shape)
    return target


def evaluate(model: torch.nn.Module, tensors: tuple[torch.Tensor, ...], loss_fn,
             task: str, num_classes: int | None, batch_size: int,
             limit: int | None = None) -> PassResult:
    """Loss, metric and (classification) confusion matrix over a whole split, eval mode.

    ``tensors`` is ``(input_1, ..., input_k, target)`` already on the model's device;
    ``limit`` evaluates only the first examples (the training-set estimate).
    """
    *inputs, target = tensors
    n = len(target) if limit is None else min(limit, len(target))
    batches = ((tuple(x[start:start + batch_size] for x in inputs),
                target[start:start + batch_size]) for start in range(0, n, batch_size))
    return evaluate_batches(model, batches, loss_fn, task, num_classes, target.device)


def evaluate_batches(model: torch.nn.Module, batches, loss_fn, task: str,
                     num_classes: int | None, device) -> PassResult:
    """``evaluate`` over any iterable of ``(inputs, target)`` batches on ``device``
    (the streaming path's validation)."""
    if task == "classification" and num_classes is None:
        raise ValueError("evaluating a classification needs its number of classes")
    classes = (num_classes or 0) if task == "classification" else 2 if task == "binary" \
        else 0
    loss_sum = torch.zeros((), device=device)
    correct = torch.zeros((), device=device)
    confusion = torch.zeros(classes * classes, dtype=torch.long, device=device)
    sse = sy = syy = None
    counts = None  # multilabel: true positives, false positives, false negatives
    n = 0
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for xs, target in batches:
                out = model(*xs)
                y = fit_target(out, target, task)
                size = len(target)
                n += size
                loss_sum += loss_fn(out, y) * size
                if task == "regression":
                    yf = y.reshape(out.shape).float()
                    e = (out - yf).pow(2).sum(0)
                    sse = e if sse is None else sse + e
                    sy = yf.sum(0) if sy is None else sy + yf.sum(0)
                    yy = yf.pow(2).sum(0)
                    syy = yy if syy is None else syy + yy
                    continue
                if task == "multilabel":
                    pred, truth = out > 0, y.reshape(out.shape) > 0.5
                    c = torch.stack([(pred & truth).sum(0), (pred & ~truth).sum(0),
                                     (~pred & truth).sum(0)])
                    counts = c if counts is None else counts + c
                    continue
                if task == "classification":
                    pred, truth = out.argmax(1), y
                else:
                    pred = (out > 0).reshape(-1).long()
                    truth = (y.reshape(-1) > 0.5).long()
                correct += (pred == truth).sum()
                confusion.index_add_(0, truth * classes + pred,
                                     torch.ones_like(pred, dtype=torch.long))
    finally:
        model.train(was_training)
    if n == 0:
        return PassResult(float("nan"), None, None)
    if task == "regression":
        host = torch.cat([loss_sum.reshape(1), sse, sy, syy]).double().cpu().numpy()
        k = (len(host) - 1) // 3  # outputs: the errors, sums and squares follow the loss
        e, s, ss = host[1:1 + k], host[1 + k:1 + 2 * k], host[1 + 2 * k:]
        sst = ss - s * s / n
        r2 = float(np.mean(1.0 - e / np.maximum(sst, 1e-12)))
        return PassResult(float(host[0]) / n, r2, None)
    if task == "multilabel" and counts is not None:
        host = torch.cat([loss_sum.reshape(1).double(),
                          counts.double().reshape(-1)]).cpu().numpy()
        tp, fp, fn = host[1:].reshape(3, -1)
        micro = float(f1_from_counts(tp.sum(), fp.sum(), fn.sum()))
        return PassResult(float(host[0]) / n, micro, None, f1_from_counts(tp, fp, fn))
    host = torch.cat([loss_sum.reshape(1), correct.reshape(1),
                      confusion.double()]).cpu().numpy()
    matrix = host[2:].astype(np.int64).reshape(classes, classes)
    return PassResult(float(host[0]) / n, float(host[1]) / n, matrix)


def decision_boundary(model: torch.nn.Module, bundle, task: str, device: torch.device,
                      resolution: int = 64) -> BoundaryGrid | None:
    """Predictions over a grid covering 2-D point data, for drawing the boundary."""
    if not getattr(bundle, "is_2d_points", False):
        return None
    xs, ys, points = bundle.boundary_grid(resolution)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            out = model(points.to(device)).float()
    finally:
        model.train(was_training)
    shape = (len(ys), len(xs))
    if task == "classification":
        prob, pred = torch.softmax(out, dim=1).max(dim=1)
        predicted = pred.to(torch.uint8)
    elif task == "binary":
        p = torch.sigmoid(out.reshape(-1))
        predicted = (p > 0.5).to(torch.uint8)
        prob = torch.where(p > 0.5, p, 1 - p)
    else:
        return BoundaryGrid(xs.numpy().astype(np.float32), ys.numpy().astype(np.float32),
                            out[:, 0].cpu().numpy().astype(np.float16).reshape(shape), None)
    return BoundaryGrid(xs.numpy().astype(np.float32), ys.numpy().astype(np.float32),
                        predicted.cpu().numpy().reshape(shape),
                        prob.cpu().numpy().astype(np.float16).reshape(shape))
