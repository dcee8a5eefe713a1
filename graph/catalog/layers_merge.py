"""Layers that combine several tensors (residual Add, Concat, Multiply) or reduce one."""

from __future__ import annotations

from .spec import BATCH, Inferred, LayerSpec, ParamSpec, PortSpec


def _dim_words(t, i: int) -> str:
    if t.rank == 4:
        return {1: "channel counts", 2: "heights", 3: "widths"}.get(i, f"dimension {i}")
    if t.rank == 3:
        return {1: "lengths", 2: "feature sizes"}.get(i, f"dimension {i}")
    return "feature sizes" if i == t.rank - 1 else f"dimension {i}"


def _shapes(ctx) -> str:
    return " and ".join(str(t) for t in ctx.inputs)


def _elementwise_rule(ctx):
    ctx.expect_float()
    first = ctx.inputs[0]
    for other in ctx.inputs[1:]:
        if other.rank != first.rank:
            raise ctx.fail(f"received {_shapes(ctx)}: ranks differ",
                           "reshape one side so both have the same dimensions")
        for i, (a, b) in enumerate(zip(first.shape, other.shape)):
            if a != b:
                what = _dim_words(first, i)
                hint = ("insert a 1x1 Conv2d on one branch to match channels"
                        if what == "channel counts" else
                        "insert a Linear on one branch to match sizes"
                        if what == "feature sizes" else
                        "make both branches downsample by the same amount")
                raise ctx.fail(f"received {_shapes(ctx)}: {what} differ", hint)
    return Inferred([first])


def _inputs_param() -> ParamSpec:
    return ParamSpec("inputs", "int", 2, "Number of input ports.", min=2, max=8)


ADD = LayerSpec(
    type="Add",
    display_name="Add",
    category="Merge",
    help="Adds its inputs element by element. Adding a block's input to its output "
    "(a residual connection) gives gradients a short path through deep networks.",
    params=(_inputs_param(),),
    inputs=(PortSpec("in", variadic=True),),
    shape_rule=_elementwise_rule,
    expression=lambda p: " + ".join(f"{{x{i}}}" for i in range(1, p["inputs"] + 1)),
    default_label="add",
)

MULTIPLY = LayerSpec(
    type="Multiply",
    display_name="Multiply",
    category="Merge",
    help="Multiplies its inputs element by element (gating).",
    params=(_inputs_param(),),
    inputs=(PortSpec("in", variadic=True),),
    shape_rule=_elementwise_rule,
    expression=lambda p: " * ".join(f"{{x{i}}}" for i in range(1, p["inputs"] + 1)),
    default_label="mul",
)


def _concat_rule(ctx):
    ctx.expect_float()
    first = ctx.inputs[0]
    dim = ctx.params["dim"]
    if not -first.rank <= dim < first.rank:
        raise ctx.fail(f"joins along dimension {dim}, which {first} does not have")
    d = dim % first.rank
    if first.shape[d] == BATCH:
        raise ctx.fail("cannot join along the batch dimension", "use dim=1")
    total = 0
    for other in ctx.inputs:
        if other.rank != first.rank:
            raise ctx.fail(f"received {_shapes(ctx)}: ranks differ")
        for i, (a, b) in enumerate(zip(first.shape, other.shape)):
            if i != d and a != b:
                raise ctx.fail(
                    f"joins along dimension {dim} but received {_shapes(ctx)}: "
                    f"{_dim_words(first, i)} differ",
                    "the inputs must agree on every dimension except the joined one",
                )
        total += other.shape[d]
    shape = list(first.shape)
    shape[d] = total
    return Inferred([first.with_shape(*shape)])


CONCAT = LayerSpec(
    type="Concat",
    display_name="Concat",
    category="Merge",
    help="Joins its inputs along one dimension (dim=1: features or channels).",
    params=(_inputs_param(),
            ParamSpec("dim", "int", 1, "Dimension to join along.", key=True)),
    inputs=(PortSpec("in", variadic=True),),
    shape_rule=_concat_rule,
    expression="torch.cat([{xs}], dim={dim})",
    default_label="concat",
)


def _mean_rule(ctx):
    ctx.expect_float()
    x, dim = ctx.x, ctx.params["dim"]
    if not -x.rank <= dim < x.rank or x.shape[dim % x.rank] == BATCH:
        raise ctx.fail(f"averages over dimension {dim}, which {x} does not have "
                       "(the batch cannot be averaged)")
    shape = list(x.shape)
    del shape[dim % x.rank]
    return Inferred([x.with_shape(*shape)])


MEAN = LayerSpec(
    type="Mean",
    display_name="Mean (pool over a dimension)",
    category="Reshape",
    help="Averages over one dimension, e.g. dim=1 of (N, length, features) pools a "
    "sequence into one vector per example.",
    params=(ParamSpec("dim", "int", 1, "Dimension to average over.", key=True),),
    shape_rule=_mean_rule,
    expression="{x}.mean(dim={dim})",
    default_label="mean",
)

SPECS = (ADD, CONCAT, MULTIPLY, MEAN)
