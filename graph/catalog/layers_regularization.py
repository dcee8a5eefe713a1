"""Regularisers beyond Dropout: channel dropout in 1-D, 2-D and 3-D, AlphaDropout (for
SELU networks) and stochastic depth (a residual branch dropped per example), all
identity at evaluation time."""

from __future__ import annotations

from .rules import same_shape
from .spec import Inferred, LayerSpec, ParamSpec

_CAT = "Regularization"


def _p() -> ParamSpec:
    return ParamSpec("p", "float", 0.5, "Probability of zeroing.", min=0.0, max=1.0,
                     max_exclusive=True, key=True)


def _channel_dropout(n: int) -> LayerSpec:
    layout = {1: "(N, channels, length)", 2: "(N, channels, height, width)",
              3: "(N, channels, depth, height, width)"}[n]

    def rule(ctx):
        ctx.expect_float()
        ctx.expect_rank((n + 2,), layout)
        return same_shape(ctx)

    return LayerSpec(
        type=f"Dropout{n}d", display_name=f"Dropout{n}d", category=_CAT,
        help="During training, zeroes whole channels with probability p (neighbouring "
        "values of a feature map are correlated, so single values would leak through).",
        params=(_p(),), shape_rule=rule, module=f"nn.Dropout{n}d",
        module_args=lambda p: {"p": p["p"]}, default_label="dropout",
    )


ALPHA_DROPOUT = LayerSpec(
    type="AlphaDropout", display_name="AlphaDropout", category=_CAT,
    help="Dropout for SELU networks: keeps the mean and variance of its input, so the "
    "self-normalising property survives.",
    params=(_p(),), shape_rule=same_shape, module="nn.AlphaDropout",
    module_args=lambda p: {"p": p["p"]}, default_label="dropout",
)


def _stochastic_depth_rule(ctx):
    out = same_shape(ctx)
    if ctx.x.shape[0] != "N":
        raise ctx.fail(f"drops whole examples but receives {ctx.x} without a batch")
    return Inferred(out.outputs, {"rank": ctx.x.rank})


def _stochastic_depth_expr(p) -> str:
    # Dropout of a ones tensor is exactly torchvision's noise: 0 or 1 / (1 - p) per
    # example ("row") or for the whole batch ("batch"), and ones at evaluation time.
    first = "{x}.shape[0]" if p["mode"] == "row" else "1"
    ones = ", ".join([first] + ["1"] * (p["rank"] - 1))
    return "{x} * nn.functional.dropout({x}.new_ones(" + ones + "), {p}, self.training)"


STOCHASTIC_DEPTH = LayerSpec(
    type="StochasticDepth", display_name="Stochastic depth", category=_CAT,
    help="During training, drops a residual branch for a random share p of the examples "
    "(mode row) or of the batches (mode batch) and scales the rest; identity at "
    "evaluation time (EfficientNet, ConvNeXt, Swin).",
    params=(ParamSpec("p", "float", 0.1, "Probability of dropping the branch.", min=0.0,
                      max=1.0, max_exclusive=True, key=True),
            ParamSpec("mode", "choice", "row", "row: per example; batch: the whole batch.",
                      choices=("row", "batch"))),
    shape_rule=_stochastic_depth_rule, expression=_stochastic_depth_expr,
    default_label="drop_path", compact=True,
)

SPECS = (_channel_dropout(1), _channel_dropout(2), _channel_dropout(3), ALPHA_DROPOUT,
         STOCHASTIC_DEPTH)
