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


def broadcast(ctx, first, other, verb: str = "received"):
    """The shape of ``first`` op ``other`` under PyTorch's broadcasting: sizes are
    compared from the last dimension; equal or 1 on one side is fine."""
    rank = max(first.rank, other.rank)
    a = (1,) * (rank - first.rank) + tuple(first.shape)
    b = (1,) * (rank - other.rank) + tuple(other.shape)
    out = []
    for i, (x, y) in enumerate(zip(a, b)):
        if x == y or y == 1:
            out.append(x)
        elif x == 1:
            out.append(y)
        else:
            long = first if first.rank >= other.rank else other
            what = _dim_words(long, i)
            hint = ("insert a 1x1 Conv2d on one branch to match channels"
                    if what == "channel counts" else
                    "insert a Linear on one branch to match sizes"
                    if what == "feature sizes" else
                    "make both branches downsample by the same amount")
            raise ctx.fail(f"{verb} {_shapes(ctx)}: {what} differ", hint)
    return first.with_shape(*out)


def _elementwise_rule(ctx):
    ctx.expect_float()
    result = ctx.inputs[0]
    for other in ctx.inputs[1:]:
        result = broadcast(ctx, result, other)
    if result.shape[:1] != ("N",):
        raise ctx.fail(f"received {_shapes(ctx)}, which do not combine into a batch")
    return Inferred([result])


def _inputs_param() -> ParamSpec:
    # DenseNet joins up to 49 tensors; a hostile file still cannot ask for millions.
    return ParamSpec("inputs", "int", 2, "Number of input ports.", min=2, max=128)


ADD = LayerSpec(
    type="Add",
    display_name="Add",
    category="Merge",
    help="Adds its inputs element by element. Adding a block's input to its output "
    "(a residual connection) gives gradients a short path through deep networks. Sizes "
    "of 1 broadcast, as in PyTorch.",
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
    help="Multiplies its inputs element by element (gating); sizes of 1 broadcast, so "
    "(N, C, H, W) times (N, C, 1, 1) is a squeeze-and-excitation gate.",
    params=(_inputs_param(),),
    inputs=(PortSpec("in", variadic=True),),
    shape_rule=_elementwise_rule,
    expression=lambda p: " * ".join(f"{{x{i}}}" for i in range(1, p["inputs"] + 1)),
    default_label="mul",
)


def _binary(type_, symbol: str, help_: str, label: str) -> LayerSpec:
    return LayerSpec(
        type=type_, display_name=type_, category="Merge", help=help_,
        inputs=(PortSpec("in1"), PortSpec("in2")), shape_rule=_elementwise_rule,
        expression="{x1} " + symbol + " {x2}", default_label=label,
    )


SUBTRACT = _binary("Subtract", "-", "Subtracts its second input from its first, element "
                   "by element (sizes of 1 broadcast).", "sub")
DIVIDE = _binary("Divide", "/", "Divides its first input by its second, element by "
                 "element (sizes of 1 broadcast).", "div")


def _matmul_rule(ctx):
    ctx.expect_float()
    a, b = ctx.inputs
    if a.rank < 2 or b.rank < 2:
        raise ctx.fail(f"multiplies matrices but received {_shapes(ctx)}",
                       "both inputs need at least two dimensions")
    if a.shape[-1] != b.shape[-2]:
        raise ctx.fail(f"multiplies {a} by {b}: {a.shape[-1]} columns against "
                       f"{b.shape[-2]} rows", "transpose the second input")
    lead = broadcast(ctx, a.with_shape(*a.shape[:-2]), b.with_shape(*b.shape[:-2]))
    out = a.with_shape(*lead.shape, a.shape[-2], b.shape[-1])
    if out.shape[:1] != ("N",):
        raise ctx.fail(f"received {_shapes(ctx)}, which do not keep the batch first")
    return Inferred([out])


MATMUL = LayerSpec(
    type="MatMul", display_name="MatMul (@)", category="Merge",
    help="Matrix product of its inputs over the last two dimensions (leading ones "
    "broadcast): q @ k.transpose(-2, -1) in hand-written attention.",
    inputs=(PortSpec("in1"), PortSpec("in2")), shape_rule=_matmul_rule,
    expression="{x1} @ {x2}", default_label="matmul",
    macs=lambda p, ins, outs: _count(outs[0]) * int(ins[0].shape[-1]),
)


def _count(t) -> int:
    n = 1
    for d in t.features:
        n *= d
    return n


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

SPECS = (ADD, CONCAT, MULTIPLY, SUBTRACT, DIVIDE, MATMUL, MEAN)
