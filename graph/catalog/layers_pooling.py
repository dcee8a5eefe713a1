"""Pooling in 1-D, 2-D and 3-D: max and average windows (with every PyTorch option:
ceil_mode, count_include_pad, dilation) and adaptive pooling to a fixed size."""

from __future__ import annotations

import math

from .rules import pair, single
from .spec import Inferred, LayerSpec, ParamSpec

_LAYOUT = {1: "(N, channels, length)", 2: "(N, channels, height, width)",
           3: "(N, channels, depth, height, width)"}
_WORDS = {1: "length", 2: "height x width", 3: "depth x height x width"}


def _hint(ctx, n: int) -> str:
    if ctx.x.rank == n + 1:
        return "insert a Reshape that adds a channel dimension"
    return ""


def pool_out(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    """PyTorch's output size of one pooled dimension (``pooling_output_shape``)."""
    span = size + 2 * p - d * (k - 1) - 1
    out = (math.ceil(span / s) if ceil else span // s) + 1
    if ceil and (out - 1) * s >= size + p:
        out -= 1  # the last window would start inside the right padding only
    return out


def _pool_rule(n: int, kind: str):
    def rule(ctx):
        ctx.expect_float()
        ctx.expect_rank((n + 2,), _LAYOUT[n], _hint(ctx, n))
        x, p = ctx.x, ctx.params
        k = pair(p["kernel_size"], n)
        s = pair(p["stride"] if p["stride"] is not None else p["kernel_size"], n)
        pad = pair(p["padding"], n)
        d = pair(p.get("dilation", 1), n)
        if any(2 * a > b for a, b in zip(pad, k)):
            raise ctx.fail("has padding larger than half its kernel size", "reduce padding")
        size = tuple(pool_out(x.shape[2 + i], k[i], s[i], pad[i], d[i], p["ceil_mode"])
                     for i in range(n))
        # 3-D average pooling also wants the window inside the unpadded input.
        room = [0 if kind == "Avg" and n == 3 else pad[i] for i in range(n)]
        if any(v < 1 for v in size) or any(
                x.shape[2 + i] + 2 * room[i] < d[i] * (k[i] - 1) + 1 for i in range(n)):
            raise ctx.fail(
                f"receives a {' x '.join(map(str, x.shape[2:]))} input, smaller than its "
                f"pooling window {' x '.join(map(str, k))}",
                "use a smaller window, add padding, or downsample less before this layer")
        return Inferred([x.with_shape(*x.shape[:2], *size)])
    return rule


def _pool_args(n: int, kind: str):
    def args(p):
        out = {"kernel_size": single(p["kernel_size"])}
        if p["stride"] is not None and pair(p["stride"], n) != pair(p["kernel_size"], n):
            out["stride"] = single(p["stride"])
        if pair(p["padding"], n) != (0,) * n:
            out["padding"] = single(p["padding"])
        if kind == "Max" and pair(p["dilation"], n) != (1,) * n:
            out["dilation"] = single(p["dilation"])
        if p["ceil_mode"]:
            out["ceil_mode"] = True
        if kind == "Avg" and not p["count_include_pad"]:
            out["count_include_pad"] = False
        return out
    return args


def _pool(n: int, kind: str) -> LayerSpec:
    word = "largest" if kind == "Max" else "average"
    params = [
        ParamSpec("kernel_size", "ints", [2] * n, "Size of the window.", min=1, length=n,
                  key=True),
        ParamSpec("stride", "ints", None, "Step between windows; empty means the kernel "
                  "size.", min=1, length=n, optional=True),
        ParamSpec("padding", "ints", [0] * n, "Padding added on each side.", min=0,
                  length=n),
        ParamSpec("ceil_mode", "bool", False, "Round the output size up: a last, partial "
                  "window is kept."),
    ]
    if kind == "Max":
        params.append(ParamSpec("dilation", "ints", [1] * n, "Spacing between window "
                                "taps.", min=1, length=n))
    else:
        params.append(ParamSpec("count_include_pad", "bool", True, "Count padded zeros "
                                "in the average."))
    return LayerSpec(
        type=f"{kind}Pool{n}d",
        display_name=f"{kind}Pool{n}d",
        category="Pooling",
        help=f"Keeps the {word} value of each window, shrinking the feature maps "
        "(by 2 with the default window) so later layers see a wider area.",
        params=tuple(params),
        shape_rule=_pool_rule(n, kind),
        module=f"nn.{kind}Pool{n}d",
        module_args=_pool_args(n, kind),
        positional=1,
        default_label="pool",
    )


def _adaptive_rule(n: int):
    def rule(ctx):
        ctx.expect_float()
        ctx.expect_rank((n + 2,), _LAYOUT[n], _hint(ctx, n))
        size = pair(ctx.params["output_size"], n)
        return Inferred([ctx.x.with_shape(*ctx.x.shape[:2], *size)])
    return rule


def _adaptive(n: int, kind: str) -> LayerSpec:
    what = "Averages" if kind == "Avg" else "Takes the maximum of"
    return LayerSpec(
        type=f"Adaptive{kind}Pool{n}d",
        display_name=f"Adaptive{kind}Pool{n}d",
        category="Pooling",
        help=f"{what} each feature map down to a fixed {_WORDS[n]} whatever the input "
        "size; size 1 gives global pooling before a classifier.",
        params=(ParamSpec("output_size", "ints", [1] * n, "Size of each output map.",
                          min=1, length=n, key=True),),
        shape_rule=_adaptive_rule(n),
        module=f"nn.Adaptive{kind}Pool{n}d",
        module_args=lambda p: {"output_size": single(p["output_size"])},
        positional=1,
        default_label="gap" if kind == "Avg" else "global_max",
    )


SPECS = (
    *(_pool(n, kind) for kind in ("Max", "Avg") for n in (1, 2, 3)),
    *(_adaptive(n, kind) for kind in ("Avg", "Max") for n in (1, 2, 3)),
)
