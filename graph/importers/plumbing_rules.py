"""Shape plumbing in ``forward`` mapped to plumbing layers: ``permute``/``transpose``,
indexing (``x[:, 0]``, ``x[:, -1, :]``, ``x[:, :t]``), ``chunk``/``split`` (one Slice per
piece used), ``select``/``narrow``, ``unflatten``, ``expand``/``expand_as`` before a
broadcasting merge, a learned tensor expanded to the batch (a class token) and a mean
over the spatial dimensions (global average pooling)."""

from __future__ import annotations

import math

from . import function_rules
from .function_rules import rule
from .ops import Data, Meta, Refused, meta


def _constant(mp, value, name: str):
    return mp.constant(value, name)


def _rank(mp, arg) -> int:
    shape = mp.shape(arg)
    if shape is None:
        raise Refused("does not act on a tensor Strata can follow")
    return shape.rank


def _not_batch(rank: int, dims, what: str) -> None:
    if any(d % rank == 0 for d in dims):
        raise Refused(f"{what} the batch dimension; Strata's tensors keep the batch first")


# ---------------------------------------------------------------------- reordering
def permute(mp, node):
    dims = list(node.args[1:]) or list(node.kwargs.get("dims", ()))
    if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
        dims = list(dims[0])
    dims = [_constant(mp, d, "dims") for d in dims]
    rank = _rank(mp, node.args[0])
    if not dims or dims[0] % rank != 0:
        raise Refused("moves the batch dimension; Strata's tensors keep the batch first")
    x = mp.data(node.args[0])
    if [d % rank for d in dims] == list(range(rank)):
        return Data(x)
    return mp.emit("Permute", {"dims": [d % rank for d in dims]}, [x], node, anonymous=True)


def expand(mp, node):
    """``x.expand(...)`` of a layer output: the broadcasting merge after it does the
    same, so the value passes on (the traced shapes confirm it)."""
    return mp.value(node.args[0])


VARARGS = {"permute": permute, "expand": expand}


@rule("transpose")
def transpose(mp, node, bound):
    rank = _rank(mp, bound["input"])
    a, b = bound["dim0"], bound["dim1"]
    _not_batch(rank, (a, b), "swaps")
    x = mp.data(bound["input"])
    if a % rank == b % rank:
        return Data(x)
    return mp.emit("Transpose", {"dim0": a, "dim1": b}, [x], node, anonymous=True)


@rule("expand_as")
def expand_as(mp, node, bound):
    return mp.value(bound["input"])


@rule("unflatten")
def unflatten(mp, node, bound):
    rank = _rank(mp, bound["input"])
    dim = bound["dim"]
    _not_batch(rank, (dim,), "splits")
    sizes = list(bound["sizes"])
    if -1 in sizes:  # the traced shape says what -1 stood for
        traced = mp.shape(node).shape
        sizes = list(traced[dim % rank: dim % rank + len(sizes)])
    return mp.emit("Unflatten", {"dim": dim % rank, "sizes": sizes},
                   [mp.data(bound["input"])], node, anonymous=True)


# ---------------------------------------------------------------------- picking
@rule("select")
def select(mp, node, bound):
    rank = _rank(mp, bound["input"])
    _not_batch(rank, (bound["dim"],), "picks from")
    return mp.emit("Select", {"dim": bound["dim"] % rank, "index": bound["index"]},
                   [mp.data(bound["input"])], node, anonymous=True)


@rule("narrow")
def narrow(mp, node, bound):
    rank = _rank(mp, bound["input"])
    _not_batch(rank, (bound["dim"],), "slices")
    start = bound["start"]
    return mp.emit("Slice", {"dim": bound["dim"] % rank, "start": start,
                             "end": start + bound["length"], "step": 1},
                   [mp.data(bound["input"])], node, anonymous=True)


def index(mp, node, base, key):
    """``x[...]`` of a layer output: one Select per integer, one Slice per range."""
    items = list(key) if isinstance(key, tuple) else [key]
    shape = mp.shape(base)
    if shape is None:
        raise Refused("indexes a value Strata cannot follow")
    if sum(item is Ellipsis for item in items) > 1:
        raise Refused("indexes with more than one ...")
    if Ellipsis in items:
        at = items.index(Ellipsis)
        real = len(items) - 1 - sum(item is None for item in items)
        items[at:at + 1] = [slice(None)] * (shape.rank - real)
    steps = []
    axis = 0
    for item in items:
        if item is None:
            raise Refused("adds a dimension with None; write x.unsqueeze(dim)")
        if isinstance(item, slice):
            start, stop, step = (_constant(mp, v, "index") for v in
                                 (item.start, item.stop, item.step))
            size = shape.shape[axis] if axis < shape.rank else None
            if start in (None, 0) and step in (None, 1) and (
                    stop is None or (isinstance(size, int) and stop >= size)):
                axis += 1
                continue
            if axis == 0:
                raise Refused("slices the batch dimension; Strata's tensors keep the "
                              "whole batch")
            if isinstance(size, int) and isinstance(stop, int) and stop >= size:
                stop = None
            steps.append(("Slice", {"dim": axis, "start": start or 0, "end": stop,
                                    "step": step or 1}))
            axis += 1
            continue
        item = _constant(mp, item, "index")
        if not isinstance(item, int) or isinstance(item, bool):
            raise Refused(f"indexes with {type(item).__name__} values (a mask or an "
                          "index tensor); Strata picks single entries and ranges only")
        if axis == 0:
            raise Refused("picks one example of the batch; Strata's tensors keep the "
                          "whole batch")
        steps.append(("Select", {"dim": axis, "index": item}))
    x = mp.data(base)
    if not steps:
        return Data(x)
    for i, (type_name, params) in enumerate(steps):
        value = mp.emit(type_name, params, [x], node, anonymous=True)
        if i < len(steps) - 1:
            mp.ops[value.op].tag["intermediate"] = True  # not the traced node's shape
        x = value.op
    return value


@rule("chunk", "split")
def pieces(mp, node, bound):
    rank = _rank(mp, bound["input"])
    dim = bound["dim"]
    _not_batch(rank, (dim,), "splits")
    axis = dim % rank
    size = mp.shape(bound["input"]).shape[axis]
    if function_rules.op_name(node) == "chunk":
        step = math.ceil(size / bound["chunks"])
        sizes = [min(step, size - s) for s in range(0, size, step)]
    else:
        split = bound["split_size_or_sections"]
        if isinstance(split, int):
            sizes = [min(split, size - s) for s in range(0, size, split)]
        else:
            sizes = list(split)
    bounds, start = [], 0
    for s in sizes:
        bounds.append((start, start + s))
        start += s
    return meta("pieces", f"the pieces of '{node.name}'", x=mp.data(bound["input"]),
                dim=axis, bounds=tuple(bounds), size=size)


def piece(mp, node, value: Meta, item):
    if not isinstance(item, int):
        raise Refused("takes several pieces at once; take them one by one")
    start, end = value.get("bounds")[item]
    return mp.emit("Slice", {"dim": value.get("dim"), "start": start,
                             "end": None if end >= value.get("size") else end, "step": 1},
                   [value.get("x")], node, anonymous=True)


# ---------------------------------------------------------------------- pooling means
_plain_mean = function_rules.FUNCTION_RULES["mean"]


@rule("mean")
def mean(mp, node, bound):
    """``x.mean((2, 3))`` of (N, C, H, W) is global average pooling."""
    dim, rank = bound["dim"], _rank(mp, bound["input"])
    if isinstance(dim, (tuple, list)) and len(dim) > 1 and bound["dtype"] is None:
        axes = sorted(d % rank for d in dim)
        n = rank - 2
        if axes == list(range(2, rank)) and n in (1, 2, 3):
            x = mp.data(bound["input"])
            pooled = mp.emit(f"AdaptiveAvgPool{n}d", {"output_size": [1] * n}, [x], node,
                             anonymous=True)
            if bound["keepdim"]:
                return pooled
            mp.ops[pooled.op].tag["intermediate"] = True
            return mp.emit("Flatten", {}, [pooled.op], node, anonymous=True)
    return _plain_mean(mp, node, bound)


# ---------------------------------------------------------------------- learned tensors
def learned_tensor(mp, node):
    """``self.cls_token.expand(x.shape[0], -1, -1)``: the token repeated per example."""
    attr = mp.value(node.args[0])
    sizes = list(node.args[1:])
    if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)):
        sizes = list(sizes[0])
    tensor, path = attr.get("tensor"), attr.get("path")
    shape = tuple(tensor.shape)
    if attr.get("index") or not shape or shape[0] != 1 or len(sizes) != len(shape):
        raise Refused(f"expands the tensor '{path}' {shape}; Strata maps a learned "
                      "tensor shaped (1, ...) expanded to (batch, -1, ...)")
    like = _batch_source(mp, sizes[0])
    rest = [_constant(mp, s, "size") for s in sizes[1:]]
    if like is None or any(r not in (-1, d) for r, d in zip(rest, shape[1:])):
        raise Refused(f"expands '{path}' to sizes Strata cannot follow; write "
                      f"{path}.expand(x.shape[0], -1, ...)")
    if attr.get("tensor").requires_grad is False:
        mp.note(f"'{path}' is a fixed buffer; it becomes a LearnedTensor initialised "
                "with its values (outputs are unchanged)")

    def weights():
        return {"": tensor.detach().clone()}

    return mp.emit("LearnedTensor", {"shape": list(shape[1:]), "init": "zeros"}, [like],
                   node, source=path, weights=weights)


def _batch_source(mp, arg) -> int | None:
    """The layer output whose batch size ``arg`` (x.shape[0], x.size(0)) measures."""
    from torch import fx

    seen = 0
    while isinstance(arg, fx.Node) and seen < 4:
        value = mp.value(arg)
        if isinstance(value, Data):
            return value.op
        if not arg.args:
            return None
        arg = arg.args[0]
        seen += 1
    return None
