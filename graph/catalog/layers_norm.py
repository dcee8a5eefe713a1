"""Normalisation layers: BatchNorm1d/2d and LayerNorm."""

from __future__ import annotations

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
    if ctx.x.rank < 2:
        raise ctx.fail(f"needs a batched input but receives {ctx.x}")
    return Inferred([ctx.x], {"normalized_shape": ctx.x.shape[-1]})


LAYER_NORM = LayerSpec(
    type="LayerNorm",
    display_name="LayerNorm",
    category="Normalization",
    help="Normalises the features of each example (the last dimension) to zero mean "
    "and unit variance; the normalisation of transformers.",
    params=(ParamSpec("eps", "float", 1e-5, "Added to the variance for stability.",
                      min=0.0),),
    shape_rule=_layernorm_rule,
    module="nn.LayerNorm",
    module_args=lambda p: {"normalized_shape": p["normalized_shape"],
                           **({"eps": p["eps"]} if p["eps"] != 1e-5 else {})},
    positional=1,
    param_count=lambda p: 2 * p["normalized_shape"],
    default_label="norm",
)

SPECS = (
    _batchnorm(1, (2, 3), "(N, features) or (N, channels, length)"),
    _batchnorm(2, (4,), "(N, channels, height, width)"),
    LAYER_NORM,
)
