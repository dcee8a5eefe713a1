"""Normalisation layers: BatchNorm, LayerNorm, GroupNorm, InstanceNorm, LocalResponseNorm."""

from __future__ import annotations

import math

from .spec import Inferred, LayerSpec, ParamSpec


def _batchnorm_rule(ranks, layout):
    def rule(ctx):
        ctx.expect_float()
        ctx.expect_rank(ranks, layout)
        return Inferred([ctx.x], {"num_features": ctx.x.shape[1]})
    return rule


def _batchnorm(n: int, ranks, layout) -> LayerSpec:
    return LayerSpec(
        type=f"BatchNorm{n}d",
        display_name=f"BatchNorm{n}d",
        category="Normalization",
        help="Normalises each channel to zero mean and unit variance over the batch, "
        "then learns a scale and shift. Keeps activations in a healthy range so deep "
        "networks train faster. num_features is inferred.",
        params=(
            ParamSpec("momentum", "float", 0.1, "Running-statistics update rate.",
                      min=0.0, max=1.0),
            ParamSpec("eps", "float", 1e-5, "Added to the variance for stability.",
                      min=0.0),
        ),
        shape_rule=_batchnorm_rule(ranks, layout),
        module=f"nn.BatchNorm{n}d",
        module_args=lambda p: {"num_features": p["num_features"], **_non_default(p)},
        positional=1,
        param_count=lambda p: 2 * p["num_features"],
        default_label="bn",
    )


def _non_default(p) -> dict:
    out = {}
    if p.get("eps", 1e-5) != 1e-5:
        out["eps"] = p["eps"]
    if p.get("momentum", 0.1) != 0.1:
        out["momentum"] = p["momentum"]
    return out


def _layernorm_rule(ctx):
    ctx.expect_float()
    dims = ctx.params["dims"]
    if ctx.x.rank < dims + 1:
        raise ctx.fail(f"normalises the last {dims} dimension(s) but receives {ctx.x}",
                       "lower dims")
    shape = ctx.x.shape[-dims:]
    if "N" in shape:
        raise ctx.fail(f"would normalise over the batch dimension of {ctx.x}",
                       "lower dims")
    return Inferred([ctx.x], {"normalized_shape": shape[0] if dims == 1 else list(shape)})


def _layernorm_params(p) -> int:
    shape = p["normalized_shape"]
    size = shape if isinstance(shape, int) else math.prod(shape)
    if not p["elementwise_affine"]:
        return 0
    return size * (2 if p["bias"] else 1)


def _layernorm_args(p):
    args = {"normalized_shape": p["normalized_shape"]}
    if p["eps"] != 1e-5:
        args["eps"] = p["eps"]
    if not p["elementwise_affine"]:
        args["elementwise_affine"] = False
    elif not p["bias"]:
        args["bias"] = False
    return args


LAYER_NORM = LayerSpec(
    type="LayerNorm",
    display_name="LayerNorm",
    category="Normalization",
    help="Normalises the features of each example (the last dimension) to zero mean "
    "and unit variance; the normalisation of transformers.",
    params=(ParamSpec("eps", "float", 1e-5, "Added to the variance for stability.",
                      min=0.0),
            ParamSpec("dims", "int", 1, "How many trailing dimensions are normalised "
                      "together (2 for (height, width)...).", min=1, max=4),
            ParamSpec("elementwise_affine", "bool", True, "Learn a scale (and shift)."),
            ParamSpec("bias", "bool", True, "Learn the shift too.")),
    shape_rule=_layernorm_rule,
    module="nn.LayerNorm",
    module_args=_layernorm_args,
    positional=1,
    param_count=lambda p: _layernorm_params(p),
    default_label="norm",
)

def _groupnorm_rule(ctx):
    ctx.expect_float()
    ctx.expect_rank((2, 3, 4, 5), "(N, channels, ...)")
    channels, groups = ctx.x.shape[1], ctx.params["num_groups"]
    if channels % groups:
        raise ctx.fail(f"splits {channels} channels into {groups} groups, which does not "
                       "divide evenly", f"choose a number of groups that divides {channels}")
    return Inferred([ctx.x], {"num_channels": channels})


GROUP_NORM = LayerSpec(
    type="GroupNorm",
    display_name="GroupNorm",
    category="Normalization",
    help="Normalises groups of channels within each example: like BatchNorm, but "
    "independent of the batch size (detection and segmentation networks, small batches).",
    params=(ParamSpec("num_groups", "int", 2, "Channel groups normalised together.",
                      min=1, key=True),
            ParamSpec("eps", "float", 1e-5, "Added to the variance for stability.", min=0.0),
            ParamSpec("affine", "bool", True, "Learn a scale and shift per channel.")),
    shape_rule=_groupnorm_rule,
    module="nn.GroupNorm",
    module_args=lambda p: {"num_groups": p["num_groups"], "num_channels": p["num_channels"],
                           **({"eps": p["eps"]} if p["eps"] != 1e-5 else {}),
                           **({} if p["affine"] else {"affine": False})},
    positional=2,
    param_count=lambda p: 2 * p["num_channels"] if p["affine"] else 0,
    default_label="norm",
)


def _instancenorm(n: int) -> LayerSpec:
    layout = {1: "(N, channels, length)", 2: "(N, channels, height, width)",
              3: "(N, channels, depth, height, width)"}[n]

    def rule(ctx):
        ctx.expect_float()
        ctx.expect_rank((n + 2,), layout)
        if all(d == 1 for d in ctx.x.shape[2:]):
            raise ctx.fail(f"normalises each channel over its values, but receives {ctx.x}"
                           " with one value per channel", "normalise a larger map")
        return Inferred([ctx.x], {"num_features": ctx.x.shape[1]})

    def args(p):
        out = {"num_features": p["num_features"], **_non_default(p)}
        if p["affine"]:
            out["affine"] = True
        if p["track_running_stats"]:
            out["track_running_stats"] = True
        return out

    return LayerSpec(
        type=f"InstanceNorm{n}d",
        display_name=f"InstanceNorm{n}d",
        category="Normalization",
        help="Normalises each channel of each example on its own (style transfer, "
        "image generation).",
        params=(
            ParamSpec("eps", "float", 1e-5, "Added to the variance for stability.", min=0.0),
            ParamSpec("momentum", "float", 0.1, "Running-statistics update rate.",
                      min=0.0, max=1.0),
            ParamSpec("affine", "bool", False, "Learn a scale and shift per channel."),
            ParamSpec("track_running_stats", "bool", False, "Keep running statistics "
                      "for evaluation instead of each example's own."),
        ),
        shape_rule=rule,
        module=f"nn.InstanceNorm{n}d",
        module_args=args,
        param_count=lambda p: 2 * p["num_features"] if p["affine"] else 0,
        positional=1,
        default_label="norm",
    )


def _lrn_rule(ctx):
    ctx.expect_float()
    ctx.expect_rank((3, 4, 5), "(N, channels, ...)")
    return Inferred([ctx.x])


LOCAL_RESPONSE_NORM = LayerSpec(
    type="LocalResponseNorm",
    display_name="LocalResponseNorm",
    category="Normalization",
    help="Divides each value by the activity of neighbouring channels (AlexNet, "
    "GoogLeNet).",
    params=(ParamSpec("size", "int", 5, "Neighbouring channels counted.", min=1, key=True),
            ParamSpec("alpha", "float", 1e-4, "Scale of the activity.", min=0.0),
            ParamSpec("beta", "float", 0.75, "Exponent.", min=0.0),
            ParamSpec("k", "float", 1.0, "Added constant.", min=0.0)),
    shape_rule=_lrn_rule,
    module="nn.LocalResponseNorm",
    module_args=lambda p: {"size": p["size"], **{
        k: p[k] for k, d in (("alpha", 1e-4), ("beta", 0.75), ("k", 1.0)) if p[k] != d}},
    positional=1,
    default_label="lrn",
)

SPECS = (
    _batchnorm(1, (2, 3), "(N, features) or (N, channels, length)"),
    _batchnorm(2, (4,), "(N, channels, height, width)"),
    _batchnorm(3, (5,), "(N, channels, depth, height, width)"),
    LAYER_NORM, GROUP_NORM, _instancenorm(1), _instancenorm(2), _instancenorm(3),
    LOCAL_RESPONSE_NORM,
)
