"""Dense layers and tensor plumbing: Linear, Flatten, Reshape, Dropout, Embedding."""

from __future__ import annotations

import math

from .init import init_params
from .rules import mlp_macs, same_shape
from .spec import BATCH, Inferred, LayerSpec, ParamSpec
from .tensors import TensorInfo


def _linear_rule(ctx):
    ctx.expect_float()
    x = ctx.x
    if x.rank >= 4:
        raise ctx.fail(
            f"needs a flat input but receives {x}", "insert a Flatten before it"
        )
    if x.rank < 2:
        raise ctx.fail(f"needs an input shaped (N, features) but receives {x}")
    n_in = x.shape[-1]
    return Inferred(
        [x.with_shape(*x.shape[:-1], ctx.params["out_features"])], {"in_features": n_in}
    )


def _linear_args(p):
    args = {"in_features": p["in_features"], "out_features": p["out_features"]}
    if not p["bias"]:
        args["bias"] = False
    return args


LINEAR = LayerSpec(
    type="Linear",
    display_name="Linear",
    category="Dense",
    help="Fully connected layer: every output is a weighted sum of all inputs plus a "
    "bias. in_features is inferred from the incoming shape.",
    params=(
        ParamSpec("out_features", "int", 64, "Number of outputs.", min=1, key=True),
        ParamSpec("bias", "bool", True, "Learn an additive bias."),
        *init_params(),
    ),
    shape_rule=_linear_rule,
    init_weights=("weight",),
    module="nn.Linear",
    module_args=_linear_args,
    positional=2,
    macs=mlp_macs,
    param_count=lambda p: p["in_features"] * p["out_features"]
    + (p["out_features"] if p["bias"] else 0),
    default_label="fc",
)


def _flatten_rule(ctx):
    x = ctx.x
    if x.rank < 2 or x.shape[0] != BATCH:
        raise ctx.fail(f"needs a batched input but receives {x}")
    start, end = ctx.params["start_dim"], ctx.params["end_dim"]
    if not (-x.rank <= start < x.rank and -x.rank <= end < x.rank):
        raise ctx.fail(f"flattens dimensions {start} to {end}, which {x} does not have")
    start, end = start % x.rank, end % x.rank
    if start == 0 or end < start:
        raise ctx.fail(f"flattens dimensions {start} to {end} of {x}",
                       "flatten from dimension 1 on: the batch stays on its own")
    shape = (*x.shape[:start], math.prod(x.shape[start:end + 1]), *x.shape[end + 1:])
    return Inferred([x.with_shape(*shape)])


def _flatten_args(p):
    args = {}
    if p["start_dim"] != 1:
        args["start_dim"] = p["start_dim"]
    if p["end_dim"] != -1:
        args["end_dim"] = p["end_dim"]
    return args


FLATTEN = LayerSpec(
    type="Flatten",
    display_name="Flatten",
    category="Reshape",
    help="Flattens everything but the batch into one vector, e.g. (N, 16, 7, 7) to "
    "(N, 784), so a Linear layer can follow convolutions. start_dim 2 flattens only "
    "the spatial dimensions: (N, C, H, W) to (N, C, H*W).",
    params=(ParamSpec("start_dim", "int", 1, "First dimension flattened.", min=1),
            ParamSpec("end_dim", "int", -1, "Last dimension flattened (-1: the last).")),
    shape_rule=_flatten_rule,
    module="nn.Flatten",
    module_args=_flatten_args,
)


def _reshape_rule(ctx):
    x = ctx.x
    target = tuple(ctx.params["shape"])
    if x.rank < 2 or x.shape[0] != BATCH:
        raise ctx.fail(f"needs a batched input with features but receives {x}")
    have = math.prod(x.features)
    if x.shape[0] != BATCH or math.prod(target) != have:
        raise ctx.fail(
            f"cannot reshape {x} to (N, {', '.join(map(str, target))}): "
            f"{have} values per example do not fill {math.prod(target)}",
            "make the product of the target shape equal the incoming size",
        )
    return Inferred([x.with_shape(BATCH, *target)], {"in_size": have})


RESHAPE = LayerSpec(
    type="Reshape",
    display_name="Reshape (Unflatten)",
    category="Reshape",
    help="Reshapes each example to the given shape (batch excluded), e.g. (N, 784) "
    "to (N, 1, 28, 28). The number of values must stay the same.",
    params=(
        ParamSpec("shape", "ints", [1, 28, 28], "Target shape without the batch.",
                  min=1, key=True),
    ),
    shape_rule=_reshape_rule,
    module="nn.Unflatten",
    module_args=lambda p: {"dim": 1, "unflattened_size": tuple(p["shape"])},
    expression="{m}({x}.flatten(1))",
    default_label="reshape",
)

DROPOUT = LayerSpec(
    type="Dropout",
    display_name="Dropout",
    category="Regularization",
    help="During training, zeroes each value with probability p (and scales the rest), "
    "so the network cannot rely on any single unit. Fights overfitting; does nothing "
    "at evaluation time.",
    params=(
        ParamSpec("p", "float", 0.5, "Probability of zeroing a value.",
                  min=0.0, max=1.0, max_exclusive=True, key=True),
    ),
    shape_rule=same_shape,
    module="nn.Dropout",
    module_args=lambda p: {"p": p["p"]},
)


def _embedding_rule(ctx):
    x = ctx.x
    if x.dtype != "long":
        raise ctx.fail(
            f"needs integer token ids but receives float values {x}",
            "set the Input's dtype to long",
        )
    pad = ctx.params["padding_idx"]
    if pad is not None and not -ctx.params["num_embeddings"] <= pad < ctx.params[
            "num_embeddings"]:
        raise ctx.fail(f"pads with id {pad}, outside its vocabulary of "
                       f"{ctx.params['num_embeddings']}")
    return Inferred([TensorInfo((*x.shape, ctx.params["embedding_dim"]), "float")])


EMBEDDING = LayerSpec(
    type="Embedding",
    display_name="Embedding",
    category="Sequence",
    help="Looks up a learned vector for each integer token id: (N, L) ids become "
    "(N, L, embedding_dim) vectors.",
    params=(
        ParamSpec("num_embeddings", "int", 1000, "Vocabulary size (largest id + 1).",
                  min=1, key=True),
        ParamSpec("embedding_dim", "int", 64, "Length of each vector.", min=1, key=True),
        ParamSpec("padding_idx", "int", None, "Id of the padding token: its vector "
                  "starts at zero and is never trained; empty: none.", optional=True),
    ),
    shape_rule=_embedding_rule,
    module="nn.Embedding",
    module_args=lambda p: {
        "num_embeddings": p["num_embeddings"], "embedding_dim": p["embedding_dim"],
        **({"padding_idx": p["padding_idx"]} if p["padding_idx"] is not None else {}),
    },
    positional=2,
    param_count=lambda p: p["num_embeddings"] * p["embedding_dim"],
    default_label="embed",
)

SPECS = (LINEAR, FLATTEN, RESHAPE, DROPOUT, EMBEDDING)
