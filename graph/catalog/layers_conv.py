"""Convolution and pooling layers."""

from __future__ import annotations

import math

from .init import init_params
from .rules import conv_macs, pair, single, spatial_out
from .spec import BATCH, Inferred, LayerSpec, ParamSpec

_LAYOUT = {1: "(N, channels, length)", 2: "(N, channels, height, width)",
           3: "(N, channels, depth, height, width)"}


def _kernel(n: int, default: int = 3) -> ParamSpec:
    return ParamSpec("kernel_size", "ints", [default] * n, "Size of the window.",
                     min=1, length=n, key=True)


def _stride(n: int, optional: bool = False) -> ParamSpec:
    if optional:
        return ParamSpec("stride", "ints", None, "Step between windows; empty means "
                         "the kernel size.", min=1, length=n, optional=True)
    return ParamSpec("stride", "ints", [1] * n, "Step between windows.", min=1, length=n)


def _padding(n: int, default: int = 0) -> ParamSpec:
    return ParamSpec("padding", "ints", [default] * n, "Zeros added on each side.",
                     min=0, length=n)


def _conv_rule(n: int):
    def rule(ctx):
        ctx.expect_float()
        ctx.expect_rank((n + 2,), _LAYOUT[n], _conv_hint(ctx, n))
        x, p = ctx.x, ctx.params
        if p["padding_mode"] != "zeros" and any(
                pad >= size for pad, size in zip(pair(p["padding"], n), x.shape[2:])):
            raise ctx.fail(f"pads {p['padding_mode']} by {p['padding']}, as much as its "
                           f"input {x} is wide", "reduce padding or pad with zeros")
        if p["groups"] > 1 and (x.shape[1] % p["groups"] or p["out_channels"] % p["groups"]):
            raise ctx.fail(
                f"splits channels into {p['groups']} groups, but receives {x.shape[1]} "
                f"channels and makes {p['out_channels']}: both must divide evenly"
            )
        size = spatial_out(ctx, x.shape[2:], p["kernel_size"], p["stride"],
                           p["padding"], p["dilation"])
        return Inferred([x.with_shape(BATCH, p["out_channels"], *size)],
                        {"in_channels": x.shape[1]})
    return rule


def _conv_hint(ctx, n: int) -> str:
    if ctx.x.rank == n + 1:
        return "insert a Reshape that adds a channel dimension"
    if ctx.x.rank == 2:
        return "insert a Reshape to an image shape first"
    return ""


def _conv_args(n: int):
    def args(p):
        out = {
            "in_channels": p["in_channels"],
            "out_channels": p["out_channels"],
            "kernel_size": single(p["kernel_size"]),
        }
        for name, default in (("stride", 1), ("padding", 0), ("dilation", 1)):
            if pair(p[name], n) != (default,) * n:
                out[name] = single(p[name])
        if p["groups"] != 1:
            out["groups"] = p["groups"]
        if not p["bias"]:
            out["bias"] = False
        if p["padding_mode"] != "zeros":
            out["padding_mode"] = p["padding_mode"]
        return out
    return args


def _conv(n: int) -> LayerSpec:
    return LayerSpec(
        type=f"Conv{n}d",
        display_name=f"Conv{n}d",
        category="Convolution",
        help=f"{n}-D convolution: slides out_channels learned filters over the input, "
        "each detecting one local pattern (edges first, then shapes). in_channels is "
        "inferred.",
        params=(
            ParamSpec("out_channels", "int", 16, "Number of filters.", min=1, key=True),
            _kernel(n), _stride(n), _padding(n, 1),
            ParamSpec("dilation", "ints", [1] * n, "Spacing between kernel taps.",
                      min=1, length=n),
            ParamSpec("groups", "int", 1, "Split channels into independent groups.", min=1),
            ParamSpec("bias", "bool", True, "Learn an additive bias."),
            ParamSpec("padding_mode", "choice", "zeros", "What the padding holds: "
                      "zeros, a mirror of the edge (reflect), the edge repeated "
                      "(replicate) or the other side (circular).",
                      choices=("zeros", "reflect", "replicate", "circular")),
            *init_params(),
        ),
        shape_rule=_conv_rule(n),
        init_weights=("weight",),
        module=f"nn.Conv{n}d",
        module_args=_conv_args(n),
        positional=3,
        macs=conv_macs,
        param_count=lambda p: p["out_channels"] * (p["in_channels"] // p["groups"])
        * math.prod(pair(p["kernel_size"], n)) + (p["out_channels"] if p["bias"] else 0),
        default_label="conv",
    )


def _tconv_rule(ctx):
    ctx.expect_float()
    ctx.expect_rank((4,), _LAYOUT[2], _conv_hint(ctx, 2))
    x, p = ctx.x, ctx.params
    k, s = pair(p["kernel_size"]), pair(p["stride"])
    pad, op = pair(p["padding"]), pair(p["output_padding"])
    if any(op[i] >= s[i] for i in range(2)):
        raise ctx.fail(
            f"has output_padding {op} which must be smaller than its stride {s}"
        )
    size = tuple((x.shape[2 + i] - 1) * s[i] - 2 * pad[i] + k[i] + op[i] for i in range(2))
    if any(v < 1 for v in size):
        raise ctx.fail(f"would produce an empty output from {x}", "reduce padding")
    return Inferred([x.with_shape(BATCH, p["out_channels"], *size)],
                    {"in_channels": x.shape[1]})


def _tconv_args(p):
    out = {
        "in_channels": p["in_channels"],
        "out_channels": p["out_channels"],
        "kernel_size": single(p["kernel_size"]),
    }
    for name, default in (("stride", 1), ("padding", 0), ("output_padding", 0)):
        if pair(p[name]) != (default, default):
            out[name] = single(p[name])
    return out


CONV_TRANSPOSE_2D = LayerSpec(
    type="ConvTranspose2d",
    display_name="ConvTranspose2d",
    category="Convolution",
    help="Transposed convolution: upsamples feature maps (e.g. 7x7 to 14x14 with "
    "stride 2), as in decoders and generators.",
    params=(
        ParamSpec("out_channels", "int", 16, "Number of filters.", min=1, key=True),
        _kernel(2, 2),
        ParamSpec("stride", "ints", [2, 2], "Upsampling factor.", min=1, length=2),
        _padding(2, 0),
        ParamSpec("output_padding", "ints", [0, 0], "Extra size added on one side.",
                  min=0, length=2),
        *init_params(),
    ),
    init_weights=("weight",),
    shape_rule=_tconv_rule,
    module="nn.ConvTranspose2d",
    module_args=_tconv_args,
    positional=3,
    macs=lambda p, ins, outs: _tconv_macs(p, ins),
    param_count=lambda p: p["in_channels"] * p["out_channels"]
    * math.prod(pair(p["kernel_size"])) + p["out_channels"],
    default_label="upconv",
)


def _tconv_macs(p, ins) -> int:
    k = pair(p["kernel_size"])
    n = 1
    for d in ins[0].features:
        n *= d
    return n * p["out_channels"] * k[0] * k[1]


SPECS = (_conv(1), _conv(2), _conv(3), CONV_TRANSPOSE_2D)
