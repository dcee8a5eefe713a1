"""Shared pieces of shape rules: size arithmetic and common checks."""

from __future__ import annotations

from typing import Any

from .spec import ShapeContext


def pair(value: Any, n: int = 2) -> tuple[int, ...]:
    if isinstance(value, int):
        return (value,) * n
    return tuple(value)


def single(value: Any) -> Any:
    """Write ``(3, 3)`` as ``3`` in generated code when both sides agree."""
    if isinstance(value, (list, tuple)) and len(set(value)) == 1:
        return value[0]
    return tuple(value) if isinstance(value, list) else value


def conv_out(size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> int:
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def spatial_out(
    ctx: ShapeContext, sizes: tuple[int, ...], kernel, stride, padding, dilation=1,
    what: str = "kernel",
) -> tuple[int, ...]:
    n = len(sizes)
    k, s, p, d = pair(kernel, n), pair(stride, n), pair(padding, n), pair(dilation, n)
    out = tuple(conv_out(sizes[i], k[i], s[i], p[i], d[i]) for i in range(n))
    if any(o < 1 for o in out):
        shown = " x ".join(map(str, sizes))
        raise ctx.fail(
            f"receives a {shown} input, smaller than its {what} "
            f"{' x '.join(map(str, k))} (with padding {' x '.join(map(str, p))})",
            f"use a smaller {what}, add padding, or downsample less before this layer",
        )
    return out


def same_shape(ctx: ShapeContext):
    """Rule of shape-preserving layers (activations, dropout)."""
    from .spec import Inferred

    ctx.expect_float()
    if ctx.x.rank < 1:
        raise ctx.fail(f"receives a scalar {ctx.x}")
    return Inferred([ctx.x])


def mlp_macs(p: dict, ins: list, outs: list) -> int:
    """Multiply-accumulates of a Linear: every output element costs in_features."""
    return _numel(outs[0]) * p["in_features"]


def _numel(t) -> int:
    n = 1
    for d in t.features:
        n *= d
    return n


def conv_macs(p: dict, ins: list, outs: list) -> int:
    k = 1
    for v in pair(p["kernel_size"], outs[0].rank - 2):
        k *= v
    groups = p.get("groups", 1) or 1
    return _numel(outs[0]) * k * p["in_channels"] // groups


class Code:
    """A constructor argument written as code (``torch.zeros(1, 1, 64)``), not a value."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def axis(ctx: ShapeContext, dim: int, what: str = "dimension") -> int:
    """``dim`` as a positive axis of the input; the batch (axis 0) is refused."""
    rank = ctx.x.rank
    if not -rank <= dim < rank:
        raise ctx.fail(f"works on {what} {dim}, which {ctx.x} does not have")
    if dim % rank == 0:
        raise ctx.fail(f"would work on the batch dimension of {ctx.x}",
                       "Strata's tensors keep the batch first; use a later dimension")
    return dim % rank
