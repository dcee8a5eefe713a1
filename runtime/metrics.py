"""How well the network does: loss, accuracy or R^2, confusion matrix, decision boundary.

Every quantity is accumulated on the device over the batches of a pass and copied to
the host once at the end, so validation costs one transfer however many batches it has
(``MetricSums``). The training metric is counted the same way from the batches the
engine trains on (``RunningMetric``), without a second pass over the training data.
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
    if n == len(target) and n <= batch_size:  # one batch: the split itself, no slicing
        return evaluate_batches(model, [(tuple(inputs), target)], loss_fn, task,
                                num_classes, target.device)
    batches = ((tuple(x[start:start + batch_size] for x in inputs),
                target[start:start + batch_size]) for start in range(0, n, batch_size))
    return evaluate_batches(model, batches, loss_fn, task, num_classes, target.device)


def evaluate_batches(model: torch.nn.Module, batches, loss_fn, task: str,
                     num_classes: int | None, device) -> PassResult:
    """``evaluate`` over any iterable of ``(inputs, target)`` batches on ``device``
    (the streaming path's validation)."""
    sums = MetricSums(task, num_classes, device)
    losses = []  # each batch's loss times its size, summed once at the end
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            for xs, target in batches:
                out = model(*xs)
                losses.append(loss_fn(out, fit_target(out, target, task)) * len(target))
                sums.add(out, target)
    finally:
        model.train(was_training)
    if sums.count == 0:
        return PassResult(float("nan"), None, None)
    loss_sum = losses[0] if len(losses) == 1 else torch.stack(losses).sum()
    if loss_sum.device.type == "cpu":  # nothing to transfer: read in place
        result = sums.finish(sums.host())
        result.loss = float(loss_sum) / sums.count
        return result
    host = torch.cat([loss_sum.double().reshape(1), sums.vector()]).cpu().numpy()
    result = sums.finish(host[1:])
    result.loss = float(host[0]) / sums.count
    return result


class MetricSums:
    """The sums a metric is computed from, accumulated on the device batch by batch.

    Per task: classification and binary count a confusion matrix (accuracy is its
    trace over its total), multilabel counts true positives, false positives and false
    negatives per label, regression sums the squared errors, the targets and their
    squares per output. ``add`` never reads a value back; ``vector`` is every sum as one
    float64 tensor, so a pass's numbers cross to the host in one transfer, and
    ``finish`` turns that vector (read on the host) into the metric. Validation and the
    training metric are both computed by it, so they mean the same thing.
    """

    def __init__(self, task: str, num_classes: int | None, device) -> None:
        self.task = task
        self.classes = (num_classes or 0) if task == "classification" \
            else 2 if task == "binary" else 0
        self.device = device
        self.count = 0  # examples added
        self.sums: torch.Tensor | None = None

    def add(self, output: torch.Tensor, target: torch.Tensor) -> None:
        """Count one batch (or several concatenated); soft targets count by argmax."""
        with torch.no_grad():
            y = fit_target(output, target, self.task)
            self.count += len(target)
            task, k = self.task, self.classes
            if task in ("classification", "binary"):
                if task == "classification":
                    pred = output.argmax(1)
                    truth = y.argmax(1) if y.dim() == output.dim() else y  # mixup, cutmix
                else:
                    pred = (output > 0).reshape(-1).long()
                    truth = (y.reshape(-1) > 0.5).long()
                cells = (truth.reshape(-1) * k + pred.reshape(-1))
                if cells.device.type == "cpu":  # one op (on an accelerator bincount
                    # sizes its result from the data, which waits for the device)
                    counts = torch.bincount(cells, minlength=k * k)
                    if len(counts) == k * k:  # else a label out of range: index_add_
                        self.sums = counts if self.sums is None \
                            else self.sums.add_(counts)  # says so below
                        return
                if self.sums is None:
                    self.sums = torch.zeros(k * k, dtype=torch.long, device=output.device)
                self.sums.index_add_(0, cells, torch.ones_like(cells))
                return
            if task == "multilabel":
                pred, truth = output > 0, y.reshape(output.shape) > 0.5
                sums = torch.stack([(pred & truth).sum(0), (pred & ~truth).sum(0),
                                    (~pred & truth).sum(0)])
            else:
                yf = y.reshape(output.shape).float()
                sums = torch.stack([(output.float() - yf).pow(2).sum(0), yf.sum(0),
                                    yf.pow(2).sum(0)])
            self.sums = sums if self.sums is None else self.sums.add_(sums)

    def vector(self) -> torch.Tensor:
        """Every sum, flat, as float64 on the device (empty before the first batch)."""
        if self.sums is None:
            return torch.zeros(0, dtype=torch.float64, device=self.device)
        return self.sums.reshape(-1).double()

    def host(self) -> np.ndarray:
        """``vector()`` read on the host; counts on the CPU are read in place."""
        sums = self.sums
        if sums is not None and sums.device.type == "cpu" and not sums.is_floating_point():
            return sums.numpy().reshape(-1)
        return self.vector().cpu().numpy()

    def finish(self, host: np.ndarray) -> PassResult:
        """The metric from ``vector()`` read on the host (``loss`` left NaN)."""
        if self.count == 0 or not len(host):
            return PassResult(float("nan"), None, None)
        if self.task in ("classification", "binary"):
            k = self.classes
            matrix = np.rint(host).astype(np.int64).reshape(k, k)
            total = matrix.sum()
            accuracy = float(np.trace(matrix) / total) if total else None
            return PassResult(float("nan"), accuracy, matrix)
        rows = host.reshape(3, -1)
        if self.task == "multilabel":
            tp, fp, fn = rows
            micro = float(f1_from_counts(tp.sum(), fp.sum(), fn.sum()))
            return PassResult(float("nan"), micro, None, f1_from_counts(tp, fp, fn))
        sse, s, ss = rows
        sst = ss - s * s / self.count
        return PassResult(float("nan"), float(np.mean(1.0 - sse / np.maximum(sst, 1e-12))),
                          None)

    def state(self) -> dict:
        """The sums on the host, for a checkpoint taken inside an epoch."""
        return {"count": self.count,
                "sums": None if self.sums is None else self.sums.cpu().tolist(),
                "dtype": None if self.sums is None else str(self.sums.dtype)}

    def restore(self, state: dict) -> None:
        self.count = int(state.get("count", 0))
        sums = state.get("sums")
        self.sums = None if sums is None else torch.tensor(
            sums, dtype=torch.long if state.get("dtype") == "torch.int64"
            else torch.float32, device=self.device)


class RunningMetric:
    """An epoch's training metric, from its batches as they were trained.

    The same quantity as the training loss the engine reports (a running figure over
    the epoch, in training mode, while the weights move), and computed like validation's
    (``MetricSums``), at no extra forward pass. A step only keeps a reference to its
    output and target; every ``chunk`` steps they are concatenated and counted in a
    handful of device operations, so the per-step cost is a list append. The chunk is
    smaller for large outputs, so what is kept stays within about ``KEEP`` values.
    """

    CHUNK = 64
    KEEP = 1 << 20  # output values kept before counting them

    def __init__(self, task: str, num_classes: int | None, device) -> None:
        self.task, self.num_classes, self.device = task, num_classes, device
        self._pending: list[tuple[torch.Tensor, torch.Tensor]] = []
        self._chunk = 0
        self.reset()

    def reset(self) -> None:
        self.sums = MetricSums(self.task, self.num_classes, self.device)
        self._pending.clear()

    def add(self, output: torch.Tensor, target: torch.Tensor) -> None:
        pending = self._pending
        pending.append((output, target))
        if len(pending) >= self._chunk:
            if not self._chunk:  # sized once, from the first batch
                self._chunk = max(1, min(self.CHUNK, self.KEEP // max(output.numel(), 1)))
                if len(pending) < self._chunk:
                    return
            self.fold()

    def fold(self) -> None:
        """Count the outputs kept so far."""
        pending = self._pending
        if not pending:
            return
        with torch.no_grad():
            if len(pending) == 1:
                out, y = pending[0]
            else:
                out = torch.cat([o for o, _ in pending])
                y = torch.cat([t for _, t in pending])
            self.sums.add(out, y)
        pending.clear()

    def result(self) -> float | None:
        """The epoch's metric (one host transfer); None before any batch."""
        self.fold()
        return self.sums.finish(self.sums.host()).metric

    def state(self) -> dict:
        self.fold()
        return self.sums.state()

    def restore(self, state: dict | None) -> None:
        self.reset()
        if state:
            self.sums.restore(state)


def decision_boundary(model: torch.nn.Module, bundle, task: str, device: torch.device,
                      resolution: int = 64, epoch: int = 0) -> BoundaryGrid | None:
    """Predictions over a grid covering 2-D point data, for drawing the boundary
    (``epoch``: the epoch after which it was drawn)."""
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
                            out[:, 0].cpu().numpy().astype(np.float16).reshape(shape), None,
                            epoch)
    return BoundaryGrid(xs.numpy().astype(np.float32), ys.numpy().astype(np.float32),
                        predicted.cpu().numpy().reshape(shape),
                        prob.cpu().numpy().astype(np.float16).reshape(shape), epoch)
