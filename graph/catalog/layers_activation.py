"""Activation functions: the non-linearities between layers."""

from __future__ import annotations

from .rules import same_shape
from .spec import LayerSpec, ParamSpec

_CAT = "Activation"


def _softmax_rule(ctx):
    out = same_shape(ctx)
    dim, rank = ctx.params["dim"], ctx.x.rank
    if not -rank <= dim < rank or dim % rank == 0:
        raise ctx.fail(f"normalises over dimension {dim}, which is not a feature "
                       f"dimension of {ctx.x}", "use dim=-1 (the last dimension)")
    return out


def _act(type_, help_, params=(), args=lambda p: {}, positional=0, label=None):
    rule = _softmax_rule if any(p.name == "dim" for p in params) else same_shape
    return LayerSpec(
        type=type_, display_name=type_, category=_CAT, help=help_, params=params,
        shape_rule=rule, module=f"nn.{type_}", module_args=args,
        positional=positional, default_label=label or type_.lower(),
    )


def _dim_param() -> ParamSpec:
    return ParamSpec("dim", "int", -1, "Dimension that sums to one.", key=True)


SPECS = (
    _act("ReLU", "max(0, x). Cheap, and its gradient is 1 for positive inputs, so "
         "gradients do not vanish through deep stacks; units stuck below zero 'die'."),
    _act("LeakyReLU", "Like ReLU but lets a small slope through for negative inputs, "
         "so units cannot die.",
         (ParamSpec("negative_slope", "float", 0.01, "Slope for x < 0.", min=0.0,
                    key=True),),
         lambda p: {"negative_slope": p["negative_slope"]}, label="leaky_relu"),
    _act("ELU", "Smooth ReLU variant with negative outputs down to -alpha.",
         (ParamSpec("alpha", "float", 1.0, "Negative saturation value.", min=0.0),),
         lambda p: {"alpha": p["alpha"]} if p["alpha"] != 1.0 else {}),
    _act("GELU", "Smooth ReLU-like activation used in transformers."),
    _act("SiLU", "x * sigmoid(x) (Swish): smooth and non-monotonic."),
    _act("Sigmoid", "Squashes to (0, 1). Its gradient is at most 0.25, so stacks of "
         "sigmoids make gradients vanish towards the input."),
    _act("Tanh", "Squashes to (-1, 1); saturates for large inputs, where its gradient "
         "is nearly zero."),
    _act("Softmax", "Turns scores into probabilities that sum to one. Not needed "
         "before a classification Output: the loss applies it.", (_dim_param(),),
         lambda p: {"dim": p["dim"]}),
    _act("LogSoftmax", "Log of softmax, numerically stable.", (_dim_param(),),
         lambda p: {"dim": p["dim"]}, label="log_softmax"),
)
