"""Which Output node a network trains, and what it predicts: answered here once.

The engine, the dataset check, checkpoint evaluation, the exported ``train.py`` and
sweeps all ask ``trained_output(analysis)``; nobody else looks for Output nodes. Outputs
are listed in the order the generated ``forward`` returns them (the analysis's
topological order; the document's order when there is a cycle).
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis import Analysis
from .document import Document
from .errors import StrataError

DEFAULT_TASK = "classification"


class OutputCountError(StrataError):
    """Training needs exactly one Output node; ``count`` says how many there are."""

    def __init__(self, count: int) -> None:
        self.count = count
        super().__init__(f"The network has {count} Output{'' if count == 1 else 's'}; "
                         "training needs exactly one")


@dataclass(frozen=True)
class TrainedOutput:
    node_id: str
    task: str  # "classification", "binary", "multilabel" or "regression"
    features: tuple[int, ...] | None  # one example's prediction shape, when known
    width: int | None  # class scores it receives (classification), when known


def output_ids(analysis: Analysis) -> list[str]:
    """Every Output node id, in the order the generated module returns them."""
    doc = analysis.doc
    order = analysis.order or list(doc.nodes)
    # A view may hold the analysis of an earlier revision for a moment (edits are
    # analysed on the next turn of the event loop): nodes deleted since are skipped.
    return [i for i in order if i in doc.nodes and doc.nodes[i].type == "Output"]


def output_task(analysis: Analysis, node_id: str) -> str:
    """What the Output ``node_id`` predicts (its checked ``task`` parameter)."""
    shapes = analysis.shapes.get(node_id)
    if shapes is not None and shapes.params:
        return str(shapes.params.get("task", DEFAULT_TASK))
    return str(analysis.doc.nodes[node_id].params.get("task", DEFAULT_TASK))


def trained_output(analysis: Analysis) -> TrainedOutput:
    """The one Output training fits; ``OutputCountError`` when there are none or several."""
    ids = output_ids(analysis)
    if len(ids) != 1:
        raise OutputCountError(len(ids))
    node_id = ids[0]
    shapes = analysis.shapes.get(node_id)
    tensor = shapes.inputs.get("in") if shapes is not None else None
    width = shapes.values.get("width") if shapes is not None else None
    return TrainedOutput(node_id, output_task(analysis, node_id),
                         tuple(tensor.features) if tensor is not None else None, width)


# Layers that keep the feature count: what an Output receives is set by the Linear before them.
FEATURE_KEEPING = frozenset({"Dropout", "ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid",
                             "Tanh", "Softmax", "LogSoftmax", "Identity", "BatchNorm1d",
                             "LayerNorm"})


def head_linear(doc: Document, output_id: str) -> str | None:
    """The Linear that sets what Output ``output_id`` receives (the classifier or
    regression head), reached through layers that keep the feature count; None when
    there is no such single chain. The dataset check fixes its ``out_features``; the
    overfitting fix puts Dropout before it."""
    current = output_id
    for _ in range(len(doc.nodes)):
        feeding = doc.edges_into(current)
        if len(feeding) != 1:
            return None
        node = doc.nodes[feeding[0].source]
        if node.type == "Linear":
            return node.id
        if node.type not in FEATURE_KEEPING:
            return None
        current = node.id
    return None
