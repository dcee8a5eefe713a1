"""Does this dataset fit this network? Checked before any training starts.

The network's side comes from its analysis: the Input nodes in the order the generated
``forward`` takes them (shape and dtype of one example), the Output node (task and width)
and any Embedding fed straight from an Input (its vocabulary). The dataset's side is a
``DatasetBundle``. Every mismatch is one sentence that names both sides and says what to
change, e.g. "The dataset 'shapes' gives images shaped (1, 28, 28) but Input 'input'
expects (2,)".

Two-class labels and binary 0/1 targets are the same data in two encodings, so a bundle is
first adapted to the Output's task (``DatasetBundle.for_task``) and only then compared.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from graph import Analysis, Analyzer, Document
from graph.codegen import input_order
from graph.edits import SetParam
from graph.outputs import OutputCountError, head_linear, trained_output

from .datasets import DatasetBundle, DatasetError, load_dataset
from .setup import SetupError, TrainingSetup, resolve_device


class DatasetMismatch(DatasetError):
    """The dataset does not fit the network; ``reasons`` holds one sentence each."""

    def __init__(self, reasons: list[str]):
        self.reasons = list(reasons)
        super().__init__("\n".join(self.reasons))


@dataclass(frozen=True)
class Mismatch:
    """One way the dataset does not fit: the sentence, the node it is about (the Input,
    the Output, the Linear that sets the class count...), and the edits that fix it
    when the fix is obvious (``graph.edits``; empty otherwise)."""

    message: str
    node_ids: tuple[str, ...] = ()
    fix_title: str = ""
    edits: tuple[SetParam, ...] = ()


def check_dataset(analysis_or_doc: Analysis | Document, bundle: DatasetBundle) -> list[str]:
    """Every way ``bundle`` does not fit the network (an empty list when it fits)."""
    return [m.message for m in dataset_mismatches(analysis_or_doc, bundle)]


def dataset_mismatches(analysis_or_doc: Analysis | Document,
                       bundle: DatasetBundle) -> list[Mismatch]:
    """``check_dataset`` with each mismatch's node and obvious fix."""
    analysis = _analysis(analysis_or_doc)
    doc = analysis.doc
    inputs = _inputs(analysis)
    name = f"The dataset '{bundle.display_name or bundle.name}'"
    reasons: list[Mismatch] = []

    # ---- inputs: count, then shape and dtype of each, then token vocabulary
    if len(inputs) != bundle.input_count:
        given = ", ".join(_shape(s) for s in bundle.input_shapes)
        wanted = ", ".join(f"{doc.nodes[i].describe()} {_shape(_input_shape(analysis, i))}"
                           for i in inputs)
        reasons.append(Mismatch(
            f"{name} gives {_count(bundle.input_count, 'input')} per example, shaped {given}, "
            f"but the network has {_count(len(inputs), 'Input')}: {wanted or 'none'}",
            tuple(inputs[:1])))
    else:
        for k, (node_id, shape, dtype) in enumerate(
                zip(inputs, bundle.input_shapes, bundle.input_dtypes)):
            node = doc.nodes[node_id]
            which = name if bundle.input_count == 1 else (
                f"{name} (input {k + 1} of {bundle.input_count})")
            wanted_shape = _input_shape(analysis, node_id)
            wanted_dtype = analysis.shapes[node_id].params.get("dtype", "float")
            if tuple(shape) != tuple(wanted_shape):
                reasons.append(Mismatch(
                    f"{which} gives {_kind(shape, dtype)} shaped {_shape(shape)} but "
                    f"{node.describe()} expects {_shape(wanted_shape)}; set the Input's "
                    f"shape to {list(shape)} or choose a dataset that fits", (node_id,),
                    f"Set shape to {list(shape)} on {node.describe()}",
                    (SetParam(node_id, "shape", list(shape)),)))
            if dtype != wanted_dtype:
                if dtype == "long":
                    reasons.append(Mismatch(
                        f"{which} gives integer token ids but {node.describe()} expects "
                        "float values; set the Input's dtype to long and feed it to an "
                        "Embedding", (node_id,)))
                else:
                    reasons.append(Mismatch(
                        f"{which} gives float values but {node.describe()} expects "
                        "integer token ids (dtype long); set the Input's dtype to float",
                        (node_id,), f"Set dtype to float on {node.describe()}",
                        (SetParam(node_id, "dtype", "float"),)))
            elif dtype == "long":
                reasons += _vocabulary(analysis, node_id, which, bundle, k)

    # ---- outputs: exactly one, whose task and width fit the targets
    try:
        output = trained_output(analysis)
    except OutputCountError as e:
        reasons.append(Mismatch(
            f"{name} gives one target per example but the network has "
            f"{_count(e.count, 'Output')}; training needs exactly one"))
        return reasons
    out_id, task, features, width = (output.node_id, output.task, output.features,
                                     output.width)
    out = doc.nodes[out_id]
    bundle = bundle.for_task(task)
    feeder = _feeder(doc, out_id)
    last = head_linear(doc, out_id)
    if bundle.task != task:
        reasons.append(Mismatch(_task_mismatch(name, bundle, out.describe(), task),
                                (out_id,)))
    elif task == "classification" and width is not None and \
            bundle.num_classes is not None and width != bundle.num_classes:
        reasons.append(Mismatch(
            f"{name} has {bundle.num_classes} classes but {out.describe()} receives "
            f"{width} class scores{feeder}; give the last Linear "
            f"out_features={bundle.num_classes}", (last or out_id,),
            *_out_features_fix(doc, last, bundle.num_classes)))
    elif task == "multilabel" and width is not None and (
            (width,) != tuple(bundle.target_shape)):
        labels = _numel(bundle.target_shape)
        reasons.append(Mismatch(
            f"{name} has {labels} labels but {out.describe()} receives {width} "
            f"logit{'' if width == 1 else 's'}{feeder}; give the last Linear "
            f"out_features={labels} (one per label)", (last or out_id,),
            *_out_features_fix(doc, last, labels)))
    elif task == "regression" and features is not None and (
            features != tuple(bundle.target_shape)):
        fix = _out_features_fix(doc, last, _numel(bundle.target_shape)) \
            if len(bundle.target_shape) == 1 and len(features) == 1 else ()
        reasons.append(Mismatch(
            f"{name} gives targets shaped {_shape(bundle.target_shape)} but "
            f"{out.describe()} receives predictions shaped {_shape(features)}{feeder}; "
            f"they must match (e.g. end in a Linear with "
            f"out_features={_numel(bundle.target_shape)})", (last or out_id,), *fix))
    return reasons


def prepare_dataset(analysis_or_doc: Analysis | Document,
                    setup: TrainingSetup | None = None,
                    base_dir: str | Path | None = None) -> DatasetBundle:
    """Load the setup's dataset, shape its targets for the network's Output and check it.

    The one call the engine needs before training: raises ``DatasetError`` for a bad
    dataset or file, ``DatasetMismatch`` listing every way it does not fit the network,
    ``SetupError`` when the chosen loss does not fit the Output's task. ``base_dir``
    (the network file's folder) anchors a relative data file path.
    """
    analysis = _analysis(analysis_or_doc)
    setup = setup or TrainingSetup.from_document(analysis.doc)
    bundle = load_dataset(setup.dataset, seed=setup.seed, val_fraction=setup.val_fraction,
                          test_fraction=setup.test_fraction, base_dir=base_dir,
                          data_path=setup.data_path, strict_files=setup.strict_files,
                          device=_device_name(setup))
    try:
        task = trained_output(analysis).task
    except OutputCountError:
        pass  # check_dataset says so, in the dataset's words
    else:
        setup.resolved_loss(task)
        bundle = bundle.for_task(task)
    reasons = check_dataset(analysis, bundle)
    if reasons:
        raise DatasetMismatch(reasons)
    return bundle


# ---------------------------------------------------------------- helpers
def _device_name(setup: TrainingSetup) -> str:
    """The training device, for "auto" to weigh the data against its free memory (the
    engine reports a device that is not there)."""
    try:
        return str(resolve_device(setup.device))
    except SetupError:
        return "cpu"


def _analysis(analysis_or_doc: Any) -> Analysis:
    if isinstance(analysis_or_doc, Analysis):
        return analysis_or_doc
    return Analyzer().analyze(analysis_or_doc)


def _inputs(analysis: Analysis) -> list[str]:
    """Input node ids, in the order the generated module takes them (codegen's own
    rule when the network is valid; writing the code for it cost a run a millisecond)."""
    if analysis.ok:
        return input_order(analysis)
    doc = analysis.doc
    order = analysis.order or list(doc.nodes)
    return [i for i in order if doc.nodes[i].type == "Input"]


def _input_shape(analysis: Analysis, node_id: str) -> tuple[int, ...]:
    params = analysis.shapes.get(node_id)
    shape = params.params.get("shape") if params else None
    if shape is None:
        shape = analysis.doc.nodes[node_id].params.get("shape", ())
    return tuple(shape)


def _vocabulary(analysis: Analysis, input_id: str, which: str, bundle: DatasetBundle,
                k: int) -> list[Mismatch]:
    """Token ids must index every Embedding the Input feeds directly."""
    doc = analysis.doc
    ids = torch.cat([bundle.tensors(s)[k].reshape(-1) for s in ("train", "val", "test")])
    if not len(ids):
        return []
    low, high = int(ids.min()), int(ids.max())
    reasons = []
    if low < 0:
        reasons.append(Mismatch(f"{which} holds negative token ids (down to {low}) but an "
                                "Embedding only looks up ids from 0", (input_id,)))
    for e in doc.edges_from(input_id):
        node = doc.nodes[e.target]
        if node.type != "Embedding":
            continue
        size = analysis.shapes[node.id].params.get("num_embeddings")
        if size is not None and high >= size:
            reasons.append(Mismatch(
                f"{which} holds token ids up to {high} but {node.describe()} has only "
                f"{size} embeddings (ids 0 to {size - 1}); set num_embeddings to at "
                f"least {high + 1}", (node.id,),
                f"Set num_embeddings to {high + 1} on {node.describe()}",
                (SetParam(node.id, "num_embeddings", high + 1),)))
    return reasons


def _out_features_fix(doc: Document, linear: str | None, value: int) -> tuple:
    if linear is None:
        return ()
    node = doc.nodes[linear]
    return (f"Set out_features to {value} on {node.describe()}",
            (SetParam(linear, "out_features", value),))


def _task_mismatch(name: str, bundle: DatasetBundle, output: str, task: str) -> str:
    given = {"classification": f"has {bundle.num_classes} classes",
             "binary": "gives binary 0/1 labels",
             "multilabel": f"gives {_numel(bundle.target_shape)} labels per example "
                           "(multi-label)",
             "regression": "gives numbers to predict (regression)"}[bundle.task]
    wanted = {"classification": "classifies (one score per class)",
              "binary": "is binary (one logit for two classes)",
              "multilabel": "is multi-label (one logit per label)",
              "regression": "does regression"}[task]
    fix = {"classification": f"set the Output's task to classification and end in a "
                             f"Linear with out_features={bundle.num_classes}",
           "binary": "set the Output's task to binary and end in a Linear with "
                     "out_features=1",
           "multilabel": "set the Output's task to multilabel and end in a Linear with "
                         f"out_features={_numel(bundle.target_shape)}",
           "regression": f"set the Output's task to regression and end in a Linear with "
                         f"out_features={_numel(bundle.target_shape)}"}[bundle.task]
    return f"{name} {given} but {output} {wanted}; {fix}"


def _feeder(doc: Document, node_id: str) -> str:
    edges = doc.edges_into(node_id)
    return f" (from {doc.nodes[edges[0].source].describe()})" if edges else ""


def _kind(shape: tuple[int, ...], dtype: str) -> str:
    if dtype == "long":
        return "token ids"
    if len(shape) == 3:
        return "images"
    if len(shape) == 2:
        return "sequences"
    return "examples"


def _shape(shape) -> str:
    shape = tuple(shape)
    return f"({shape[0]},)" if len(shape) == 1 else str(shape)


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _numel(shape) -> int:
    n = 1
    for d in shape:
        n *= int(d)
    return n
