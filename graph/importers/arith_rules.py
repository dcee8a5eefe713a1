"""Arithmetic in ``forward``: between layer outputs (Add, Multiply, Subtract, Divide,
MatMul, with broadcasting) and with constants (``x * 0.1``, ``x / 0.5``, ``1 - x``,
``out * 0.5 + 0.5``, ``x * math.sqrt(d_model)``), which become one ScaleShift: a chain
of constant steps on one value folds into a single layer."""

from __future__ import annotations

import numbers

from . import patterns
from .function_rules import op_name, rule
from .ops import Data, Meta, Refused


def _is_node(value) -> bool:
    from torch import fx

    return isinstance(value, fx.Node)


def _number(mp, arg):
    """The plain number ``arg`` stands for, or None when it is a tensor."""
    if isinstance(arg, bool):
        return None
    if isinstance(arg, numbers.Real):
        return float(arg)
    if _is_node(arg) and not isinstance(mp.value(arg), Data):
        ok, plain = mp.probe.constant(arg)
        if ok and isinstance(plain, numbers.Real) and not isinstance(plain, bool):
            return float(plain)
    return None


def scale_shift(mp, node, x_arg, scale: float, shift: float) -> Data:
    """``x * scale + shift``, folded into the ScaleShift that made x when nothing else
    uses it."""
    x = mp.data(x_arg)
    src = mp.ops[x]
    if (src.type == "ScaleShift" and src.anonymous and src.node is x_arg
            and len(x_arg.users) == 1):
        scale, shift = src.params["scale"] * scale, src.params["shift"] * scale + shift
        x = src.inputs[0]
    if scale == 1.0 and shift == 0.0:
        return Data(x)
    return mp.emit("ScaleShift", {"scale": scale, "shift": shift}, [x], node,
                   anonymous=True)


def _layer_output(mp, arg, kind: str, verb: str) -> int:
    value = mp.value(arg)
    if isinstance(value, Data):
        return value.op
    raise Refused(f"{verb} {value.what}; Strata's {kind} combines layer outputs or "
                  "constants only")


@rule("add", "mul")
def merge(mp, node, bound):
    kind = "Add" if op_name(node) == "add" else "Multiply"
    if bound.get("alpha", 1) != 1:
        raise Refused("scales the added tensor (alpha), which Strata's Add does not")
    a, b = bound["input"], bound["other"]
    if kind == "Add":
        for x, pos in ((a, b), (b, a)):
            value = mp.value(pos) if _is_node(pos) else None
            if _is_node(x) and isinstance(value, Meta) and (
                    value.kind == "attr" or patterns.is_positions_embedding(value)):
                return patterns.add_positions(mp, node, x, pos)
    if kind == "Multiply":
        for x, other in ((a, b), (b, a)):
            noise = mp.value(other) if _is_node(other) else None
            if isinstance(noise, Meta) and noise.kind == "drop_noise":
                if noise.get("training") is False or noise.get("p") == 0:
                    return mp.value(x)
                return mp.emit("StochasticDepth", {"p": float(noise.get("p")),
                                                   "mode": noise.get("mode")},
                               [mp.data(x)], node, anonymous=True)
    for x, other in ((a, b), (b, a)):
        c = _number(mp, other)
        if c is not None and _is_node(x) and isinstance(mp.value(x), Data):
            return scale_shift(mp, node, x, 1.0, c) if kind == "Add" else scale_shift(
                mp, node, x, c, 0.0)
    verb = "adds" if kind == "Add" else "multiplies by"
    inputs = [_layer_output(mp, a, kind, verb), _layer_output(mp, b, kind, verb)]
    first = mp.ops[inputs[0]]
    # a + b + c traces as (a + b) + c: fold into one Add with three inputs, as Strata
    # writes it, when the inner sum is used nowhere else.
    if (first.type == kind and first.anonymous and first.node is a and len(a.users) == 1
            and first.params["inputs"] < 128):
        inputs = first.inputs + [inputs[1]]
    return mp.emit(kind, {"inputs": len(inputs)}, inputs, node, anonymous=True)


@rule("sub", "rsub")
def subtract(mp, node, bound):
    if bound["alpha"] != 1:
        raise Refused("scales the subtracted tensor (alpha), which Strata does not")
    a, b = bound["input"], bound["other"]
    if op_name(node) == "rsub":
        a, b = b, a
    if (c := _number(mp, b)) is not None:
        return scale_shift(mp, node, a, 1.0, -c)
    if (c := _number(mp, a)) is not None:
        return scale_shift(mp, node, b, -1.0, c)
    inputs = [_layer_output(mp, a, "Subtract", "subtracts from"),
              _layer_output(mp, b, "Subtract", "subtracts")]
    return mp.emit("Subtract", {}, inputs, node, anonymous=True)


@rule("div")
def divide(mp, node, bound):
    if bound["rounding_mode"] is not None:
        raise Refused(f"rounds the quotient ({bound['rounding_mode']}), which Strata's "
                      "Divide does not")
    a, b = bound["input"], bound["other"]
    if (c := _number(mp, b)) is not None:
        if c == 0:
            raise Refused("divides by zero")
        return scale_shift(mp, node, a, 1.0 / c, 0.0)
    if _number(mp, a) is not None:
        raise Refused("divides a constant by a tensor (a reciprocal), which Strata has "
                      "no layer for")
    inputs = [_layer_output(mp, a, "Divide", "divides"),
              _layer_output(mp, b, "Divide", "divides by")]
    return mp.emit("Divide", {}, inputs, node, anonymous=True)


@rule("neg")
def negate(mp, node, bound):
    return scale_shift(mp, node, bound["input"], -1.0, 0.0)


@rule("matmul", "bmm")
def matmul(mp, node, bound):
    inputs = [_layer_output(mp, bound["input"], "MatMul", "multiplies"),
              _layer_output(mp, bound["other"], "MatMul", "multiplies by")]
    return mp.emit("MatMul", {}, inputs, node, anonymous=True)
