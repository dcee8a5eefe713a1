"""Activation functions: the non-linearities between layers."""

from __future__ import annotations

from .rules import same_shape
from .spec import Inferred, LayerSpec, ParamSpec

_CAT = "Activation"


def _softmax_rule(ctx):
    out = same_shape(ctx)
    dim, rank = ctx.params["dim"], ctx.x.rank
    if not -rank <= dim < rank or dim % rank == 0:
        raise ctx.fail(f"normalises over dimension {dim}, which is not a feature "
                       f"dimension of {ctx.x}", "use dim=-1 (the last dimension)")
    return out


def _hardtanh_rule(ctx):
    if ctx.params["min_val"] >= ctx.params["max_val"]:
        raise ctx.fail(f"clips to [{ctx.params['min_val']}, {ctx.params['max_val']}], "
                       "an empty range", "make max_val larger than min_val")
    return same_shape(ctx)


def _act(type_, help_, params=(), args=lambda p: {}, positional=0, label=None,
         function=None):
    rule = _softmax_rule if any(p.name == "dim" for p in params) else same_shape
    if type_ == "Hardtanh":
        rule = _hardtanh_rule
    return LayerSpec(
        type=type_, display_name=type_, category=_CAT, help=help_, params=params,
        shape_rule=rule, module=f"nn.{type_}", module_args=args,
        positional=positional, default_label=label or type_.lower(), function=function,
    )


def _dim_param() -> ParamSpec:
    return ParamSpec("dim", "int", -1, "Dimension that sums to one.", key=True)


SPECS: tuple[LayerSpec, ...] = (
    _act("ReLU", "max(0, x). Cheap, and its gradient is 1 for positive inputs, so "
         "gradients do not vanish through deep stacks; units stuck below zero 'die'.",
         function="torch.relu({x})"),
    _act("LeakyReLU", "Like ReLU but lets a small slope through for negative inputs, "
         "so units cannot die.",
         (ParamSpec("negative_slope", "float", 0.01, "Slope for x < 0.", min=0.0,
                    key=True),),
         lambda p: {"negative_slope": p["negative_slope"]}, label="leaky_relu"),
    _act("ELU", "Smooth ReLU variant with negative outputs down to -alpha.",
         (ParamSpec("alpha", "float", 1.0, "Negative saturation value.", min=0.0),),
         lambda p: {"alpha": p["alpha"]} if p["alpha"] != 1.0 else {}),
    _act("GELU", "Smooth ReLU-like activation used in transformers.",
         function="nn.functional.gelu({x})"),
    _act("SiLU", "x * sigmoid(x) (Swish): smooth and non-monotonic.",
         function="nn.functional.silu({x})"),
    _act("Sigmoid", "Squashes to (0, 1). Its gradient is at most 0.25, so stacks of "
         "sigmoids make gradients vanish towards the input.", function="torch.sigmoid({x})"),
    _act("Tanh", "Squashes to (-1, 1); saturates for large inputs, where its gradient "
         "is nearly zero.", function="torch.tanh({x})"),
    _act("Softmax", "Turns scores into probabilities that sum to one. Not needed "
         "before a classification Output: the loss applies it.", (_dim_param(),),
         lambda p: {"dim": p["dim"]}),
    _act("LogSoftmax", "Log of softmax, numerically stable.", (_dim_param(),),
         lambda p: {"dim": p["dim"]}, label="log_softmax"),
    _act("ReLU6", "min(max(0, x), 6): a ReLU capped at 6, robust in low precision "
         "(MobileNet).", label="relu6", function="nn.functional.relu6({x})"),
    _act("Hardswish", "x * ReLU6(x + 3) / 6: a cheap Swish (MobileNetV3).",
         label="hardswish", function="nn.functional.hardswish({x})"),
    _act("Hardsigmoid", "ReLU6(x + 3) / 6: a cheap sigmoid, used for gates "
         "(MobileNetV3's squeeze-and-excitation).", label="hardsigmoid",
         function="nn.functional.hardsigmoid({x})"),
    _act("Mish", "x * tanh(softplus(x)): smooth and non-monotonic, like Swish.",
         function="nn.functional.mish({x})"),
    _act("Softplus", "log(1 + exp(beta * x)) / beta: a smooth ReLU that is always "
         "positive.",
         (ParamSpec("beta", "float", 1.0, "Sharpness of the bend.", min=1e-6),
          ParamSpec("threshold", "float", 20.0, "Above beta * x > threshold it is x.",
                    min=0.0)),
         lambda p: {k: p[k] for k, d in (("beta", 1.0), ("threshold", 20.0)) if p[k] != d}),
    _act("SELU", "Scaled ELU: with its own (LeCun) initialisation keeps activations "
         "normalised through deep stacks without BatchNorm.", label="selu",
         function="torch.selu({x})"),
    _act("CELU", "Continuously differentiable ELU with negative outputs down to -alpha.",
         (ParamSpec("alpha", "float", 1.0, "Negative saturation value.", min=1e-6),),
         lambda p: {"alpha": p["alpha"]} if p["alpha"] != 1.0 else {}, label="celu"),
    _act("Hardtanh", "Clips values to [min_val, max_val].",
         (ParamSpec("min_val", "float", -1.0, "Lower bound."),
          ParamSpec("max_val", "float", 1.0, "Upper bound.")),
         lambda p: {k: p[k] for k, d in (("min_val", -1.0), ("max_val", 1.0)) if p[k] != d},
         label="hardtanh"),
)


def _prelu_rule(ctx):
    out = same_shape(ctx)
    channels = ctx.x.shape[1] if ctx.x.rank >= 2 else 1
    if ctx.params["per_channel"] and (ctx.x.rank < 2 or channels == "N"):
        raise ctx.fail(f"learns one slope per channel but receives {ctx.x}",
                       "turn per_channel off")
    return Inferred(out.outputs,
                    {"num_parameters": channels if ctx.params["per_channel"] else 1})


PRELU = LayerSpec(
    type="PReLU", display_name="PReLU", category=_CAT,
    help="Like LeakyReLU, but the slope for negative inputs is learned (one for all, or "
    "one per channel).",
    params=(ParamSpec("per_channel", "bool", False, "Learn one slope per channel "
                      "(dimension 1) instead of one for the whole layer."),
            ParamSpec("slope", "float", 0.25, "Initial slope for x < 0.")),
    shape_rule=_prelu_rule, module="nn.PReLU",
    module_args=lambda p: {
        **({"num_parameters": p["num_parameters"]} if p["num_parameters"] != 1 else {}),
        **({"init": p["slope"]} if p["slope"] != 0.25 else {})},
    param_count=lambda p: p["num_parameters"],
    default_label="prelu",
)

ABS = LayerSpec(
    type="Abs", display_name="Abs", category=_CAT,
    help="|x|: the distance between two embeddings in a Siamese network is "
    "Abs(Subtract(a, b)).",
    shape_rule=same_shape, expression="{x}.abs()", default_label="abs", compact=True,
)

SPECS = (*SPECS, PRELU, ABS)
