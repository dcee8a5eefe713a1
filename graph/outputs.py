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
    there is no such single chain, or when the head sits inside a block (``head_of``
    finds it there). The dataset check fixes its ``out_features``."""
    head = head_of(doc, output_id)
    return head[2] if head is not None and head[0] is None else None


def head_of(doc: Document, output_id: str) -> tuple[str | None, Document, str] | None:
    """The head Linear of Output ``output_id`` as ``(definition, body, node id)``:
    walked back through layers that keep the feature count, into a block instance
    (through the body's output port the wire leaves from) and out of a body again
    (through its input port to the instance's wire). ``definition`` is None (and
    ``body`` is ``doc``) when the head is a layer of the network itself. The overfitting
    fix puts Dropout before it, inside the block's definition when it is there."""
    from .blocks import BLOCK  # (blocks imports the catalog; outputs stays light)

    # The bodies walked into, innermost last: (body, definition name, instance id in
    # the level above); the network is (doc, None, "").
    levels: list[tuple[Document, str | None, str]] = [(doc, None, "")]
    current, port = output_id, None  # port: which input of ``current`` (None: its one)
    for _ in range(sum(len(d.body.nodes) for d in doc.blocks.definitions.values())
                   + len(doc.nodes) + 1):
        body, name, _instance = levels[-1]
        feeding = [e for e in body.edges_into(current)
                   if port is None or e.target_port == port]
        if len(feeding) != 1:
            return None
        edge, port = feeding[0], None
        node = body.nodes[edge.source]
        if node.type == "Linear":
            return name, body, node.id
        if node.type == BLOCK:  # into the body, at the port this wire leaves from
            block = node.params.get("block")
            definition = doc.blocks.definitions.get(block) if isinstance(block, str) \
                else None
            inner = definition.port_node("BlockOutput", edge.source_port) \
                if definition is not None else None
            if definition is None or inner is None or any(
                    b is definition.body for b, _n, _i in levels):  # a cycle: give up
                return None
            levels.append((definition.body, definition.name, node.id))
            current = inner
        elif node.type == "BlockInput" and len(levels) > 1:  # out, on the instance's wire
            current, port = levels.pop()[2], node.label
        elif node.type in FEATURE_KEEPING:
            current = node.id
        else:
            return None
    return None
