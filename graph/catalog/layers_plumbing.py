"""Tensor plumbing: layers that move, pick or rescale values without learning (except
the learned tensor). They are drawn small on the canvas (``compact``).

Identity, Permute, Transpose, Select (``x[:, 0]``), Slice (``x[:, 2:5]``, also what
``chunk`` and ``split`` become), Unflatten, ScaleShift (``x * 0.5 + 0.5``) and
LearnedTensor (a class token: one learned tensor repeated for every example).
"""

from __future__ import annotations

import math

from .rules import Code, axis
from .spec import BATCH, Inferred, LayerSpec, ParamSpec, PortSpec
from .tensors import TensorInfo

_CAT = "Reshape"


def _index(dim: int, item: str) -> str:
    """``[:, :, item]`` for axis ``dim``."""
    return "[" + ":, " * dim + item + "]"


IDENTITY = LayerSpec(
    type="Identity", display_name="Identity", category=_CAT,
    help="Passes its input through unchanged: a placeholder where a block may later "
    "hold a layer.",
    shape_rule=lambda ctx: Inferred([ctx.x]),
    module="nn.Identity", module_args=lambda p: {}, default_label="identity", compact=True,
)


def _permute_rule(ctx):
    dims = list(ctx.params["dims"])
    rank = ctx.x.rank
    if sorted(d % rank for d in dims if -rank <= d < rank) != list(range(rank)) or (
            len(dims) != rank):
        raise ctx.fail(f"reorders dimensions {tuple(dims)}, not an order of the "
                       f"{rank} dimensions of {ctx.x}")
    if dims[0] % rank != 0:
        raise ctx.fail("would move the batch dimension",
                       "Strata's tensors keep the batch first: start dims with 0")
    return Inferred([ctx.x.with_shape(*(ctx.x.shape[d] for d in dims))])


PERMUTE = LayerSpec(
    type="Permute", display_name="Permute", category=_CAT,
    help="Reorders the dimensions, e.g. dims (0, 2, 1) turns (N, channels, length) into "
    "(N, length, channels). The batch stays first.",
    params=(ParamSpec("dims", "ints", [0, 2, 1], "New order of the dimensions (the batch "
                      "is 0 and stays first).", key=True),),
    shape_rule=_permute_rule, expression="{x}.permute{dims}", default_label="permute",
    compact=True,
)


def _transpose_rule(ctx):
    a = axis(ctx, ctx.params["dim0"])
    b = axis(ctx, ctx.params["dim1"])
    shape = list(ctx.x.shape)
    shape[a], shape[b] = shape[b], shape[a]
    return Inferred([ctx.x.with_shape(*shape)])


TRANSPOSE = LayerSpec(
    type="Transpose", display_name="Transpose", category=_CAT,
    help="Swaps two dimensions, e.g. 1 and 2 of (N, length, features).",
    params=(ParamSpec("dim0", "int", 1, "First dimension.", key=True),
            ParamSpec("dim1", "int", 2, "Second dimension.", key=True)),
    shape_rule=_transpose_rule, expression="{x}.transpose({dim0}, {dim1})",
    default_label="transpose", compact=True,
)


def _select_rule(ctx):
    a = axis(ctx, ctx.params["dim"])
    size, index = ctx.x.shape[a], ctx.params["index"]
    if not -size <= index < size:
        raise ctx.fail(f"picks index {index} of dimension {a}, which has {size} entries")
    shape = list(ctx.x.shape)
    del shape[a]
    return Inferred([ctx.x.with_shape(*shape)], {"axis": a})


SELECT = LayerSpec(
    type="Select", display_name="Select (x[:, i])", category=_CAT,
    help="Picks one entry along a dimension and drops that dimension: x[:, 0] takes "
    "the class token of a ViT, x[:, -1] the last step of a sequence.",
    params=(ParamSpec("dim", "int", 1, "Dimension to pick from.", key=True),
            ParamSpec("index", "int", 0, "Entry to pick (negative counts from the end).",
                      key=True)),
    shape_rule=_select_rule,
    expression=lambda p: "{x}" + _index(p["axis"], str(p["index"])),
    default_label="select", compact=True,
)


def _slice_rule(ctx):
    p = ctx.params
    a = axis(ctx, p["dim"])
    size = ctx.x.shape[a]
    count = len(range(size)[slice(p["start"], p["end"], p["step"])])
    if count < 1:
        raise ctx.fail(f"takes [{_slice_text(p)}] of dimension {a}, which has {size} "
                       "entries: nothing is left")
    shape = list(ctx.x.shape)
    shape[a] = count
    return Inferred([ctx.x.with_shape(*shape)], {"axis": a})


def _slice_text(p) -> str:
    text = f"{'' if p['start'] in (0, None) else p['start']}:"
    text += "" if p["end"] is None else str(p["end"])
    return text + (f":{p['step']}" if p["step"] != 1 else "")


SLICE = LayerSpec(
    type="Slice", display_name="Slice (x[:, a:b])", category=_CAT,
    help="Keeps a range of entries along a dimension: x[:, 2:5]. chunk and split are "
    "one Slice per piece.",
    params=(ParamSpec("dim", "int", 1, "Dimension to slice.", key=True),
            ParamSpec("start", "int", 0, "First entry kept (negative counts from the end).",
                      key=True),
            ParamSpec("end", "int", None, "Entry after the last kept; empty: to the end.",
                      optional=True, key=True),
            ParamSpec("step", "int", 1, "Keep every step-th entry.", min=1)),
    shape_rule=_slice_rule,
    expression=lambda p: "{x}" + _index(p["axis"], _slice_text(p)),
    default_label="slice", compact=True,
)


def _unflatten_rule(ctx):
    a = axis(ctx, ctx.params["dim"])
    sizes = list(ctx.params["sizes"])
    if math.prod(sizes) != ctx.x.shape[a]:
        raise ctx.fail(f"splits dimension {a} of {ctx.x} into {tuple(sizes)}, which "
                       f"holds {math.prod(sizes)} values, not {ctx.x.shape[a]}")
    shape = [*ctx.x.shape[:a], *sizes, *ctx.x.shape[a + 1:]]
    return Inferred([ctx.x.with_shape(*shape)])


UNFLATTEN = LayerSpec(
    type="Unflatten", display_name="Unflatten", category=_CAT,
    help="Splits one dimension into several, e.g. dim 2 of (N, length, 64) into "
    "(4, 16): (N, length, 4, 16), as attention splits features into heads.",
    params=(ParamSpec("dim", "int", 1, "Dimension to split.", key=True),
            ParamSpec("sizes", "ints", [2, 2], "Sizes it splits into.", min=1, key=True)),
    shape_rule=_unflatten_rule, module="nn.Unflatten",
    module_args=lambda p: {"dim": p["dim"], "unflattened_size": tuple(p["sizes"])},
    positional=2, default_label="unflatten", compact=True,
)


def _scale_shift_rule(ctx):
    ctx.expect_float()
    return Inferred([ctx.x])


def _scale_shift_expr(p) -> str:
    text = "{x}"
    if p["scale"] != 1.0:
        text += " * {scale}"
    if p["shift"] > 0:
        text += " + {shift}"
    elif p["shift"] < 0:
        text += f" - {-p['shift']!r}"
    return text


SCALE_SHIFT = LayerSpec(
    type="ScaleShift", display_name="Scale and shift", category=_CAT,
    help="x * scale + shift with constants: a residual branch scaled by 0.1, an "
    "embedding scaled by sqrt(d_model), an output mapped from [-1, 1] to [0, 1].",
    params=(ParamSpec("scale", "float", 1.0, "Multiplies every value.", key=True),
            ParamSpec("shift", "float", 0.0, "Then added to every value.", key=True)),
    shape_rule=_scale_shift_rule, expression=_scale_shift_expr, default_label="scale",
    compact=True,
)


def _learned_rule(ctx):
    shape = tuple(ctx.params["shape"])
    return Inferred([TensorInfo((BATCH, *shape), "float")])


def _learned_init(p) -> str:
    zeros = "torch.zeros(1, " + ", ".join(map(str, p["shape"])) + ")"
    if p["init"] == "normal":
        return f"torch.randn(1, {', '.join(map(str, p['shape']))}) * {p['std']!r}"
    return zeros


LEARNED_TENSOR = LayerSpec(
    type="LearnedTensor", display_name="Learned tensor (class token)", category=_CAT,
    help="A learned tensor of the given shape, repeated for every example of the batch "
    "that arrives at 'like': a ViT's class token, then joined to the patches by Concat.",
    params=(ParamSpec("shape", "ints", [1, 64], "Shape of the tensor without the batch.",
                      min=1, key=True),
            ParamSpec("init", "choice", "zeros", "How it starts: zeros, or a normal "
                      "distribution with std.", choices=("zeros", "normal")),
            ParamSpec("std", "float", 0.02, "Spread of the normal start.", min=0.0)),
    inputs=(PortSpec("like"),),
    shape_rule=_learned_rule, module="nn.Parameter",
    module_args=lambda p: {"data": Code(_learned_init(p))}, positional=1,
    expression=lambda p: "{m}.expand({x}.shape[0]" + ", -1" * len(p["shape"]) + ")",
    param_count=lambda p: math.prod(p["shape"]),
    default_label="token",
)

SPECS = (IDENTITY, PERMUTE, TRANSPOSE, SELECT, SLICE, UNFLATTEN, SCALE_SHIFT,
         LEARNED_TENSOR)
