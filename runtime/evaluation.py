"""Evaluate a checkpoint's weights on a network's validation (or test) split.

Built from the runtime's own pieces, so the result means what a run's validation numbers
mean: the checkpoint is read with ``load_checkpoint`` (weights only, never code),
checked against the network with ``check_matches`` (a network whose layers changed since
says what changed), the model is compiled from the generated code, the dataset prepared
and checked by ``prepare_dataset``, and ``metrics.evaluate`` computes loss, accuracy or
R² and the confusion matrix. ``strata evaluate`` and the studio's Evaluate button both
call ``evaluate_checkpoint``; errors are ``StrataError``s in the user's terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

SPLITS = ("val", "test")
SPLIT_WORDS = {"val": "validation", "test": "test"}


@dataclass(frozen=True)
class EvaluationResult:
    checkpoint: str
    split: str
    examples: int
    loss: float
    metric: float | None
    metric_name: str
    confusion: np.ndarray | None
    per_label: dict[str, float] | None = None  # multilabel: F1 of each label

    def describe(self) -> str:
        words = SPLIT_WORDS.get(self.split, self.split)
        text = f"On the {words} set ({self.examples} examples): loss {self.loss:.4g}"
        if self.metric is not None:
            text += (f", accuracy {self.metric:.1%}" if self.metric_name == "accuracy"
                     else f", F1 {self.metric:.3f}" if self.metric_name == "f1"
                     else f", R\u00b2 {self.metric:.3f}")
        if self.per_label:
            text += " (" + ", ".join(f"{k} {v:.3f}" for k, v in self.per_label.items()) + ")"
        return text


def evaluate_checkpoint(path: str | Path, document: dict[str, Any], split: str = "val",
                        base_dir: str | Path | None = None) -> EvaluationResult:
    """Loss and metric of the weights in ``path`` on ``document``'s dataset split.

    ``document`` is the network as plain data (``document_to_dict``); ``base_dir`` (the
    network file's folder) anchors a relative data file path. Raises a StrataError
    subclass (CheckpointError, DatasetError, SetupError, GraphError) with a message for
    the user.
    """
    import graph
    from graph.errors import StrataError
    from graph.fileformat import document_from_dict
    from graph.outputs import trained_output

    from .checkpoints import (
        CheckpointError,
        check_matches,
        code_fingerprint,
        load_checkpoint,
    )
    from .compatibility import prepare_dataset
    from .metrics import evaluate, evaluate_batches, metric_name
    from .setup import TrainingSetup

    if split not in SPLITS:
        raise StrataError(f"unknown split {split!r}; expected one of {', '.join(SPLITS)}")
    ckpt = load_checkpoint(path)
    doc = document_from_dict(document)
    analysis = graph.Analyzer().analyze(doc)
    if not analysis.ok:
        raise graph.GraphError(analysis.problems)
    compiled = graph.compile_network(doc, analysis)
    check_matches(ckpt, document, code_fingerprint(compiled.code.source))
    model = compiled.module
    try:
        model.load_state_dict(ckpt["model"])
    except RuntimeError as e:
        raise CheckpointError(f"{ckpt.path.name}: its weights do not fit this network "
                              f"({str(e).splitlines()[0][:200]})") from None
    setup = TrainingSetup.from_document(doc)
    bundle = prepare_dataset(analysis, setup, base_dir=base_dir)
    task = trained_output(analysis).task
    examples = len(bundle.split(split))
    if not examples:
        fraction = "val_fraction" if split == "val" else "test_fraction"
        raise StrataError(f"the {SPLIT_WORDS[split]} split is empty ({fraction} is "
                          f"{getattr(setup, fraction):g}); choose another split or "
                          f"raise {fraction}")
    if bundle.streaming:  # files or CSV rows read in batches, never all at once
        import torch

        from .streaming import LoaderBatches

        cpu = torch.device("cpu")
        source = LoaderBatches(bundle.split(split), 256, 0, workers=0, device=cpu)
        result = evaluate_batches(model, source.sequential(), setup.make_loss(task),
                                  task, bundle.num_classes, cpu)
    else:
        result = evaluate(model, bundle.tensors(split), setup.make_loss(task), task,
                          bundle.num_classes, 1024)
    per_label = None if result.per_label is None else dict(
        zip(bundle.class_names, (float(v) for v in result.per_label)))
    return EvaluationResult(str(path), split, examples, result.loss, result.metric,
                            metric_name(task), result.confusion, per_label)
