"""Resizing feature maps: padding (zeros, constant, reflection, replication, circular),
Upsample / interpolate (nearest, linear, bilinear, bicubic, trilinear; by scale or to a
size) and PixelShuffle / PixelUnshuffle (channels to space and back)."""

from __future__ import annotations

import math

from .spec import Inferred, LayerSpec, ParamSpec

_MODES = ("constant", "reflect", "replicate", "circular")


def _pad_rule(ctx):
    p, x = ctx.params, ctx.x
    pads = list(p["padding"])
    if len(pads) % 2 or not 2 <= len(pads) <= 6:
        raise ctx.fail(f"has padding {tuple(pads)}: give (left, right), then (top, "
                       "bottom), then (front, back): 2, 4 or 6 numbers")
    k = len(pads) // 2
    if x.rank < k + 1:
        raise ctx.fail(f"pads the last {k} dimension(s) of {x}, which has fewer")
    if p["mode"] != "constant" and x.rank not in (k + 1, k + 2):
        raise ctx.fail(f"pads {k} dimension(s) in {p['mode']} mode, which needs an "
                       f"input with {k + 1} or {k + 2} dimensions, not {x}")
    shape = list(x.shape)
    for i in range(k):
        axis = x.rank - 1 - i
        before, after = pads[2 * i], pads[2 * i + 1]
        if p["mode"] in ("reflect", "circular") and max(before, after) >= shape[axis] + (
                p["mode"] == "circular"):
            raise ctx.fail(f"pads {max(before, after)} values in {p['mode']} mode but "
                           f"dimension {axis} of {x} has only {shape[axis]}")
        shape[axis] = shape[axis] + before + after
    return Inferred([x.with_shape(*shape)])


def _pad_expr(p) -> str:
    extra = "" if p["mode"] == "constant" else ', mode="{}"'.format(p["mode"])
    if p["mode"] == "constant" and p["value"] != 0.0:
        extra = ", value={value}"
    return "nn.functional.pad({x}, {padding}" + extra + ")"


PAD = LayerSpec(
    type="Pad", display_name="Pad", category="Convolution",
    help="Adds values around the edges: zeros or a constant, a mirror of the edge "
    "(reflect, used before convolutions in image generators), the edge repeated "
    "(replicate) or the other side (circular). padding is (left, right[, top, bottom[, "
    "front, back]]), last dimension first, as F.pad takes it.",
    params=(ParamSpec("padding", "ints", [1, 1, 1, 1], "(left, right, top, bottom...), "
                      "last dimension first.", min=0, key=True),
            ParamSpec("mode", "choice", "constant", "What the padding holds.",
                      choices=_MODES, key=True),
            ParamSpec("value", "float", 0.0, "The constant (mode constant).")),
    shape_rule=_pad_rule, expression=_pad_expr, default_label="pad", compact=True,
)

_INTERPOLATIONS = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic",
                   "trilinear")
_NEEDS = {"linear": 3, "bilinear": 4, "bicubic": 4, "trilinear": 5}


def _upsample_rule(ctx):
    ctx.expect_float()
    p, x = ctx.params, ctx.x
    if x.rank not in (3, 4, 5) or x.shape[0] != "N":
        raise ctx.fail(f"needs (N, channels, ...) with 1 to 3 spatial dimensions but "
                       f"receives {x}")
    mode = p["mode"]
    if mode in _NEEDS and x.rank != _NEEDS[mode]:
        raise ctx.fail(f"interpolates in {mode} mode, which needs an input with "
                       f"{_NEEDS[mode]} dimensions, not {x}")
    n = x.rank - 2
    if (p["size"] is None) == (p["scale_factor"] is None):
        raise ctx.fail("needs either size or scale_factor (exactly one)")
    if p["size"] is not None:
        size = list(p["size"])
        if len(size) == 1:
            size *= n
        if len(size) != n:
            raise ctx.fail(f"resizes to {tuple(size)} but {x} has {n} spatial "
                           "dimension(s)")
    else:
        size = [math.floor(d * p["scale_factor"]) for d in x.shape[2:]]
        if min(size) < 1:
            raise ctx.fail(f"scales {x} by {p['scale_factor']} to nothing")
    return Inferred([x.with_shape(*x.shape[:2], *size)])


def _upsample_args(p):
    args = {}
    if p["size"] is not None:
        args["size"] = p["size"][0] if len(set(p["size"])) == 1 else tuple(p["size"])
    else:
        scale = p["scale_factor"]
        args["scale_factor"] = int(scale) if float(scale).is_integer() else scale
    if p["mode"] != "nearest":
        args["mode"] = p["mode"]
    if p["align_corners"] and p["mode"] in _NEEDS:
        args["align_corners"] = True
    return args


UPSAMPLE = LayerSpec(
    type="Upsample", display_name="Upsample", category="Convolution",
    help="Enlarges feature maps by a scale factor or to a size, by repeating (nearest) "
    "or interpolating (bilinear...) values: the decoder half of a UNet, without weights.",
    params=(ParamSpec("scale_factor", "float", 2.0, "Multiplies each spatial size "
                      "(empty when a size is given).", min=1e-6, optional=True, key=True),
            ParamSpec("size", "ints", None, "Output spatial size (instead of a scale).",
                      min=1, optional=True),
            ParamSpec("mode", "choice", "nearest", "How new values are made.",
                      choices=_INTERPOLATIONS, key=True),
            ParamSpec("align_corners", "bool", False, "Align the corner pixels "
                      "(linear modes).")),
    shape_rule=_upsample_rule, module="nn.Upsample", module_args=_upsample_args,
    default_label="upsample",
)


def _shuffle_rule(unshuffle: bool):
    def rule(ctx):
        ctx.expect_float()
        ctx.expect_rank((4,), "(N, channels, height, width)")
        x, r = ctx.x, ctx.params["factor"]
        c, h, w = x.shape[1:]
        if unshuffle:
            if h % r or w % r:
                raise ctx.fail(f"folds {r} x {r} blocks of {x}, whose height and width "
                               f"are not multiples of {r}")
            return Inferred([x.with_shape("N", c * r * r, h // r, w // r)])
        if c % (r * r):
            raise ctx.fail(f"spreads channels into {r} x {r} blocks, but {c} channels "
                           f"are not a multiple of {r * r}")
        return Inferred([x.with_shape("N", c // (r * r), h * r, w * r)])
    return rule


PIXEL_SHUFFLE = LayerSpec(
    type="PixelShuffle", display_name="PixelShuffle", category="Convolution",
    help="Turns channels into space: (N, C*r*r, H, W) becomes (N, C, H*r, W*r) "
    "(sub-pixel convolution for super-resolution).",
    params=(ParamSpec("factor", "int", 2, "Upscale factor r.", min=1, key=True),),
    shape_rule=_shuffle_rule(False), module="nn.PixelShuffle",
    module_args=lambda p: {"upscale_factor": p["factor"]}, positional=1,
    default_label="shuffle",
)

PIXEL_UNSHUFFLE = LayerSpec(
    type="PixelUnshuffle", display_name="PixelUnshuffle", category="Convolution",
    help="Turns space into channels: (N, C, H*r, W*r) becomes (N, C*r*r, H, W).",
    params=(ParamSpec("factor", "int", 2, "Downscale factor r.", min=1, key=True),),
    shape_rule=_shuffle_rule(True), module="nn.PixelUnshuffle",
    module_args=lambda p: {"downscale_factor": p["factor"]}, positional=1,
    default_label="unshuffle",
)

SPECS = (PAD, UPSAMPLE, PIXEL_SHUFFLE, PIXEL_UNSHUFFLE)
