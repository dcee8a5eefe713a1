"""Layers that share weights: one layer's weights used at several places.

A layer whose ``shares`` parameter names another layer (by label) has no weights of its
own. With a layer of the same type, the generated code builds one module and calls it
at every place (a Siamese network's tower); the two must agree on every setting. A
Linear and an Embedding tie their weight matrix instead (a language model's output layer
reading the token embeddings): the code writes ``self.lm_head.weight = self.wte.weight``.
Weights are never silently untied: a sharing the code cannot express is a problem.
"""

from __future__ import annotations

from typing import Any

from .problems import Problem

# Settings that may differ between layers sharing one module (they only say how the
# weights start, and the owner's choice is the one made).
_FREE = frozenset({"shares", "init", "nonlinearity", "bias_init"})
# Different layer types that can tie their ``weight`` tensor.
_TIEABLE = frozenset({"Linear", "Embedding"})


def owner(doc, node):
    """The node whose weights ``node`` uses, or None (also when the label is unknown)."""
    label = node.params.get("shares")
    if not label:
        return None
    for other in doc.nodes.values():
        if other.label == label and other.id != node.id:
            return other
    return None


def calls_owner(doc, node):
    """The node whose module ``node`` calls again (same type), or None."""
    found = owner(doc, node)
    return found if found is not None and found.type == node.type else None


def ties_to(doc, node):
    """The node whose weight tensor ``node``'s weight is (a Linear/Embedding tie)."""
    found = owner(doc, node)
    return found if found is not None and found.type != node.type else None


def weight_shape(type_name: str, values: dict[str, Any]) -> tuple | None:
    if type_name == "Linear":
        return values.get("out_features"), values.get("in_features")
    if type_name == "Embedding":
        return values.get("num_embeddings"), values.get("embedding_dim")
    return None


def own_params(doc, node, count: int, values: dict[str, Any]) -> int:
    """``count`` (the layer's parameters) less what it borrows from its owner."""
    if calls_owner(doc, node) is not None:
        return 0
    if ties_to(doc, node) is not None:
        shape = weight_shape(node.type, values)
        if shape and all(isinstance(d, int) for d in shape):
            return count - shape[0] * shape[1]
    return count


def problems(doc, shapes: dict) -> list[Problem]:
    """Each ``shares`` that names no layer, a layer of a type it cannot share with, a
    layer that shares in turn, or one whose settings or sizes differ."""
    found = []
    for node in doc.nodes.values():
        label = node.params.get("shares")
        if not label:
            continue
        other = owner(doc, node)

        def fail(message: str, hint: str = "", node=node) -> None:
            found.append(Problem("error", (node.id,), f"{node.describe()} {message}",
                                 hint, "param"))

        if other is None:
            fail(f"shares the weights of '{label}', but no other layer has that label",
                 "type the label of the layer whose weights it uses, or clear shares")
            continue
        if other.params.get("shares"):
            fail(f"shares the weights of {other.describe()}, which shares another "
                 "layer's weights itself", "name the layer that owns them instead")
            continue
        mine, theirs = shapes.get(node.id), shapes.get(other.id)
        if mine is None or theirs is None or not mine.ok or not theirs.ok:
            continue
        if other.type == node.type:
            a = {k: v for k, v in {**mine.params, **mine.values}.items() if k not in _FREE}
            b = {k: v for k, v in {**theirs.params, **theirs.values}.items()
                 if k not in _FREE}
            diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            if diff:
                fail(f"shares the weights of {other.describe()} but differs in "
                     f"{', '.join(diff)} ({', '.join(f'{k}={a.get(k)!r}' for k in diff)} "
                     f"here, {', '.join(f'{k}={b.get(k)!r}' for k in diff)} there)",
                     "layers sharing weights need the same settings and input sizes")
        elif {node.type, other.type} == _TIEABLE:
            wa = weight_shape(node.type, {**mine.params, **mine.values})
            wb = weight_shape(other.type, {**theirs.params, **theirs.values})
            if wa != wb:
                fail(f"ties its weight {wa} to {other.describe()}'s weight {wb}; the "
                     "shapes differ",
                     "a Linear tied to an Embedding maps embedding_dim to num_embeddings")
        else:
            fail(f"shares the weights of {other.describe()}, a different layer type",
                 "share with a layer of the same type (or tie a Linear to an Embedding)")
    return found
