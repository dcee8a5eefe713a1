"""A probe session: a network, its weights and its dataset, ready to probe examples.

``open_session`` compiles the document from its generated code, loads the weights (a
checkpoint, checked against the network like every checkpoint Strata reads, or a
state_dict the caller already has), and prepares the document's dataset so examples can
be picked by split and index. ``gallery`` lists a split's examples the network gets most
wrong, ordered by their own loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import graph
from graph.document import Document
from graph.errors import StrataError
from graph.outputs import trained_output

from .core import Prober, ProbeResult


class ProbeError(StrataError):
    """A probe that cannot run (no such example, a network that does not compile...)."""


@dataclass(frozen=True)
class GalleryItem:
    index: int
    target: Any
    predicted: int | None
    confidence: float | None
    loss: float

    @property
    def correct(self) -> bool | None:
        if self.predicted is None:
            return None
        return int(self.predicted) == int(self.target)


class ProbeSession:
    """``prober`` plus the dataset; examples are ``(inputs, target)`` of one split."""

    def __init__(self, doc: Document, prober: Prober, bundle) -> None:
        self.doc = doc
        self.prober = prober
        self.bundle = bundle

    # ----------------------------------------------------------------- examples
    def split_size(self, split: str) -> int:
        return len(self._split(split))

    def example(self, split: str, index: int) -> tuple[Any, Any]:
        data = self._split(split)
        if not 0 <= index < len(data):
            raise ProbeError(f"the {split} split has {len(data)} examples; there is no "
                             f"example {index}")
        return data[index]

    def probe(self, split: str, index: int) -> ProbeResult:
        inputs, target = self.example(split, index)
        return self.prober.probe(inputs, target)

    def targets(self, split: str) -> np.ndarray:
        return self._split(split).target.numpy()

    def find(self, split: str, start: int, *, target_class: int | None = None,
             misclassified: bool = False, step: int = 1) -> int | None:
        """The next index after ``start`` (wrapping) of ``target_class`` (multi-label:
        with that label on) and/or one the network gets wrong; None when there is
        none."""
        n = self.split_size(split)
        if n == 0:
            return None
        wrong = self._wrong(split) if misclassified else None
        targets = self.targets(split) if target_class is not None else None
        for k in range(1, n + 1):
            i = (start + step * k) % n
            if targets is not None and target_class is not None and not _of_class(
                    targets[i], target_class, self.prober.task):
                continue
            if wrong is not None and not wrong[i]:
                continue
            return i
        return None

    def gallery(self, split: str = "val", limit: int | None = 64,
                cell: tuple[int, int] | None = None) -> list[GalleryItem]:
        """The split's examples by descending loss; ``cell=(true, predicted)`` keeps
        one confusion-matrix cell."""
        losses, predicted, confidence = self._scores(split)
        targets = self.targets(split)
        order = np.argsort(-losses, kind="stable")
        items = []
        for i in order:
            t = _plain(targets[i])
            p = None if predicted is None else int(predicted[i])
            if cell is not None and (p is None or (int(t), p) != tuple(cell)):
                continue
            items.append(GalleryItem(int(i), t, p, None if confidence is None
                                     else float(confidence[i]), float(losses[i])))
            if limit is not None and len(items) >= limit:
                break
        return items

    # ----------------------------------------------------------------- internals
    def _split(self, split: str):
        if split not in ("train", "val", "test"):
            raise ProbeError(f"unknown split {split!r}; expected train, val or test")
        return self.bundle.split(split)

    def _wrong(self, split: str) -> np.ndarray:
        if self.prober.task == "multilabel":  # any label predicted wrongly
            out = torch.cat([self.prober.predict(b) for b in self._batches(split)])
            truth = self.targets(split).reshape(len(out), -1) > 0.5
            return ((out >= 0).numpy().reshape(truth.shape) != truth).any(axis=1)
        _, predicted, _ = self._scores(split)
        if predicted is None:
            raise ProbeError("'misclassified' needs a classification network")
        targets = self.targets(split).reshape(len(predicted), -1)[:, 0]
        return predicted != targets.astype(np.int64)

    def _batches(self, split: str, size: int = 512):
        """The split's inputs in batches, as ``Prober.predict`` takes them."""
        *xs, target = self._split(split).tensors
        for start in range(0, len(target), size):
            batch = tuple(x[start:start + size] for x in xs)
            yield batch if len(batch) > 1 else batch[0]

    def _scores(self, split: str):
        data = self._split(split)
        tensors = data.tensors
        xs, target = tensors[:-1], tensors[-1]
        loss_fn = self.prober.loss
        per_example = type(loss_fn)(reduction="none")
        losses, preds, confs = [], [], []
        for start in range(0, len(target), 512):
            batch = tuple(x[start:start + 512] for x in xs)
            t = target[start:start + 512]
            out = self.prober.predict(batch if len(batch) > 1 else batch[0])
            task = self.prober.task
            if task == "classification":
                loss = per_example(out, t.long())
                probs = torch.softmax(out, dim=1)
                conf, pred = probs.max(dim=1)
            else:
                t = t.to(out.dtype).reshape(out.shape)
                loss = per_example(out, t).reshape(len(t), -1).mean(dim=1)
                if task == "binary":
                    p = torch.sigmoid(out.reshape(-1))
                    pred = (p >= 0.5).long()
                    conf = torch.where(pred == 1, p, 1 - p)
                else:
                    pred = conf = None
            losses.append(loss.detach())
            if pred is not None:
                preds.append(pred)
                confs.append(conf)
        losses_np = torch.cat(losses).numpy() if losses else np.zeros(0)
        if not preds:
            return losses_np, None, None
        return losses_np, torch.cat(preds).numpy(), torch.cat(confs).numpy()


def _of_class(target, k: int, task: str) -> bool:
    row = np.asarray(target).ravel()
    if task == "multilabel":  # a row of 0/1 labels: is label k on?
        return 0 <= k < len(row) and bool(row[k] > 0.5)
    return int(row[0]) == k


def open_session(doc: Document, checkpoint: str | Path | None = None,
                 state_dict: dict[str, torch.Tensor] | None = None,
                 base_dir: str | Path | None = None) -> ProbeSession:
    """Compile ``doc``, load weights (a checkpoint or a state_dict; neither means the
    freshly initialised network, seeded by the document's setup) and its dataset."""
    from runtime.compatibility import prepare_dataset
    from runtime.setup import TrainingSetup

    analysis = graph.Analyzer().analyze(doc)
    if not analysis.ok:
        raise graph.GraphError(analysis.problems)
    setup = TrainingSetup.from_document(doc)
    torch.manual_seed(setup.seed if setup.seed is not None else 0)
    compiled = graph.compile_network(doc, analysis)
    if checkpoint is not None:
        state_dict = _checkpoint_weights(checkpoint, doc, compiled)
    if state_dict is not None:
        try:
            compiled.module.load_state_dict(state_dict)
        except RuntimeError as e:
            raise ProbeError("the weights do not fit this network "
                             f"({str(e).splitlines()[0][:200]})") from None
    output = trained_output(analysis)
    bundle = prepare_dataset(analysis, setup, base_dir=base_dir)
    prober = Prober(compiled, output.task, setup.make_loss(output.task),
                    list(bundle.class_names))
    return ProbeSession(doc, prober, bundle)


def _checkpoint_weights(path, doc: Document, compiled) -> dict[str, torch.Tensor]:
    from runtime.checkpoints import check_matches, code_fingerprint, load_checkpoint

    ckpt = load_checkpoint(path)
    check_matches(ckpt, doc.to_dict(), code_fingerprint(compiled.code.source))
    return ckpt["model"]


def _plain(value: Any) -> Any:
    a = np.asarray(value)
    return a.item() if a.size == 1 else a.tolist()
