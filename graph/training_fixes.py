"""One-click fixes for training diagnoses (``runtime.diagnoses`` kinds), where one is
obvious: Sigmoid/Tanh to ReLU and BatchNorm after hidden Linears (vanishing gradients,
saturation), ReLU to LeakyReLU (dead ReLUs), Dropout before the head (overfitting; inside
the block holding the head when it is one), a tenth of the learning rate (too high,
exploding, dead ReLUs). Each is a ``Fix`` of data edits (``graph.edits``), one undo step
in the studio, applied to the next run.

A layer inside a block is fixed in the block's definition (an ``InBlock`` edit,
``graph.block_body``), so every instance follows; the fix's title says which block and
how many instances use it ("in block 'Res' (3 uses)"). Only definitions the network
uses are edited.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .analysis import Analyzer
from .block_body import block_uses, inner_shapes, resolve_path, used_definitions
from .document import Document, Edge
from .edits import Edit, InBlock, InsertLayer, ReplaceLayer, SetTraining
from .fixes import Fix
from .outputs import head_linear, head_of

SATURATING = ("Sigmoid", "Tanh")


@dataclass
class _Found:
    """Layers a diagnosis fix edits: in the network, and inside blocks (by definition:
    a fix edits the definition, so every instance of it follows)."""

    top: list[Any]  # node ids, or the edits themselves
    inner: dict[str, list[Any]]

    @property
    def count(self) -> int:
        return len(self.top) + sum(map(len, self.inner.values()))

    def edits(self, make: Callable[[Any], Edit]) -> tuple[Edit, ...]:
        return (*(make(i) for i in self.top),
                *(InBlock(name, make(i)) for name, ids in self.inner.items() for i in ids))

    def where(self, doc: Document) -> str:
        """" in block 'Res' (3 uses)", or ": 1 in the network, 2 in block 'Res' (3
        uses)"; "" when all are in the network."""
        blocks = [f"in block '{name}' ({_uses(block_uses(doc, name))})"
                  for name in self.inner]
        if not blocks:
            return ""
        if not self.top and len(blocks) == 1:
            return " " + blocks[0]
        parts = ([f"{len(self.top)} in the network"] if self.top else []) + [
            f"{len(ids)} {b}" for ids, b in zip(self.inner.values(), blocks)]
        return ": " + ", ".join(parts)


def _uses(n: int) -> str:
    return f"{n} use{'' if n == 1 else 's'}"


def _layers(n: int) -> str:
    return f"{n} layer{'' if n == 1 else 's'}"


def _of_type(doc: Document, types) -> _Found:
    inner = {}
    for name in used_definitions(doc):
        ids = [n.id for n in doc.blocks[name].body.nodes.values() if n.type in types]
        if ids:
            inner[name] = ids
    return _Found([n.id for n in doc.nodes.values() if n.type in types], inner)


def _named(doc: Document, node_ids, type_name: str) -> _Found:
    """The layers of ``type_name`` a diagnosis names (node ids, or a run's node paths
    ``n5:1/n3`` for layers inside blocks), each once."""
    found = _Found([], {})
    for path in node_ids:
        where = resolve_path(doc, path)
        if where is None:
            continue
        name, node_id = where
        body = doc if name is None else doc.blocks[name].body
        if body.nodes[node_id].type != type_name:
            continue
        ids = found.top if name is None else found.inner.setdefault(name, [])
        if node_id not in ids:
            ids.append(node_id)
    return found


def diagnosis_fixes(kind: str, node_ids, doc: Document) -> list[Fix]:
    """One-click fixes for a training diagnosis (``runtime.diagnoses`` kinds), where one
    is obvious; applied to the next run. Each is one undo step in the studio. A layer
    inside a block is fixed in the block's definition (``edits.InBlock``): the title
    says which block and how many instances follow."""
    fixes: list[Fix] = []
    if kind in ("vanishing_gradients", "saturated_activations"):
        saturating = _of_type(doc, SATURATING)
        if saturating.count:
            types = {doc.nodes[i].type for i in saturating.top} | {
                doc.blocks[name].body.nodes[i].type
                for name, ids in saturating.inner.items() for i in ids}
            what = f"{saturating.count} {'/'.join(sorted(types))} layers"
            if saturating.count == 1:
                what = f"{'/'.join(sorted(types))} layer"
            fixes.append(Fix(f"Replace the {what} with ReLU{saturating.where(doc)}",
                             saturating.edits(lambda i: ReplaceLayer(i, "ReLU"))))
        batchnorm = _batchnorm_after_linears(doc)
        if batchnorm.count:
            fixes.append(Fix(f"Insert BatchNorm after {batchnorm.count} Linear layers"
                             f"{batchnorm.where(doc)}",
                             batchnorm.edits(lambda i: i)))
    if kind == "dead_relus":
        dead = _named(doc, node_ids, "ReLU")
        if dead.count:
            fixes.append(Fix(f"Replace {dead.count} ReLU with LeakyReLU{dead.where(doc)}",
                             dead.edits(lambda i: ReplaceLayer(i, "LeakyReLU"))))
    if kind == "overfitting":
        head = head_wire(doc)
        if head is not None:
            block, edge = head
            dropout = InsertLayer(edge, "Dropout", {"p": 0.3})
            found = _Found([dropout], {}) if block is None else _Found([], {block: [dropout]})
            fixes.append(Fix(f"Add Dropout (p = 0.3) before the last Linear"
                             f"{found.where(doc)}", found.edits(lambda i: i)))
    if kind in ("learning_rate_too_high", "exploding_gradients", "dead_relus"):
        lr = (doc.training or {}).get("lr", 1e-3)
        if isinstance(lr, (int, float)) and lr > 0:
            lower = float(f"{lr / 10:.3g}")
            fixes.append(Fix(f"Lower the learning rate from {lr:g} to {lower:g}",
                             (SetTraining("lr", lower),)))
    return fixes


def _batchnorm_after_linears(doc: Document) -> _Found:
    """A BatchNorm1d on the wire after each hidden Linear (not the last one, and not
    where one follows already), in the network and inside the blocks it uses (there
    only where the Linear feeds a layer of the block, not its output port, and gives
    (N, features) in every use)."""
    analysis = Analyzer().analyze(doc)
    last = _into_last_linear(doc)
    last_linear = last.target if last is not None else None
    top = []
    for n in doc.nodes.values():
        if n.type != "Linear" or n.id == last_linear:
            continue
        shapes = analysis.shapes.get(n.id)
        tensor = next(iter(shapes.outputs.values()), None) if shapes else None
        edge = _batchnorm_wire(doc, n.id, [tensor])
        if edge is not None:
            top.append(InsertLayer(edge, "BatchNorm1d", {}))
    uses = inner_shapes(doc, analysis)
    inner: dict[str, list] = {}
    for name in used_definitions(doc):
        body = doc.blocks[name].body
        for n in body.nodes.values():
            seen = uses.get(name, {}).get(n.id, [])
            tensors = [next(iter(s.outputs.values()), None) for s in seen]
            edge = _batchnorm_wire(body, n.id, tensors) if n.type == "Linear" else None
            if edge is not None and body.nodes[edge.target].type != "BlockOutput":
                inner.setdefault(name, []).append(InsertLayer(edge, "BatchNorm1d", {}))
    return _Found(top, inner)


def _batchnorm_wire(doc: Document, node_id: str, tensors: list) -> Edge | None:
    """The one wire out of ``node_id`` if a BatchNorm1d fits on it: every tensor the
    layer gave is (N, features), and no BatchNorm follows already."""
    out = doc.edges_from(node_id)
    if len(out) != 1 or not tensors or any(t is None or t.rank != 2 for t in tensors):
        return None
    if doc.nodes[out[0].target].type.startswith("BatchNorm"):
        return None
    return out[0]


def head_wire(doc: Document) -> tuple[str | None, Edge] | None:
    """The wire into the classifier head of the one Output (``graph.outputs.head_of``),
    and the definition whose body holds it (None: the network itself)."""
    outputs = [n for n in doc.nodes.values() if n.type == "Output"]
    head = head_of(doc, outputs[0].id) if len(outputs) == 1 else None
    if head is None:
        return None
    name, body, linear = head
    into = body.edges_into(linear)
    return (name, into[0]) if len(into) == 1 else None


def _into_last_linear(doc: Document) -> Edge | None:
    """The wire into the Linear that feeds the Output (the classifier head)."""
    outputs = [n for n in doc.nodes.values() if n.type == "Output"]
    head = head_linear(doc, outputs[0].id) if len(outputs) == 1 else None
    into = doc.edges_into(head) if head is not None else []
    return into[0] if len(into) == 1 else None
