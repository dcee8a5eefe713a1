"""Input and Output: where data enters the network and where predictions leave it."""

from __future__ import annotations

from .spec import BATCH, Inferred, LayerSpec, ParamSpec, PortSpec
from .tensors import TensorInfo


def _input_rule(ctx):
    shape = tuple(ctx.params["shape"])
    return Inferred([TensorInfo((BATCH, *shape), ctx.params["dtype"])])


def _output_rule(ctx):
    x = ctx.x
    task = ctx.params["task"]
    if x.dtype != "float":
        raise ctx.fail(f"receives integer token ids {x}", "end the network in a Linear layer")
    width = x.shape[-1] if x.rank >= 2 else 1
    if task == "classification":
        if x.rank != 2:
            raise ctx.fail(
                f"(classification) needs one score per class, shaped (N, classes), "
                f"but receives {x}",
                "insert a Flatten and a Linear with one output per class",
            )
        if width < 2:
            raise ctx.fail(
                f"(classification) needs at least 2 class scores but receives {x}",
                "set the last Linear's out_features to the number of classes, "
                "or switch the task to binary",
            )
    elif task == "binary" and (x.rank != 2 or width != 1):
        raise ctx.fail(
            f"(binary) needs one logit per example, shaped (N, 1), but receives {x}",
            "end the network in a Linear with out_features = 1",
        )
    elif task == "multilabel" and x.rank != 2:
        raise ctx.fail(
            f"(multilabel) needs one logit per label, shaped (N, labels), but receives {x}",
            "insert a Flatten and a Linear with one output per label",
        )
    return Inferred([], {"width": width})


INPUT = LayerSpec(
    type="Input",
    display_name="Input",
    category="Input / Output",
    help="Where examples enter the network. Shape excludes the batch dimension: "
    "[2] for 2-D points, [1, 28, 28] for a grayscale image, [20] token ids for text.",
    params=(
        ParamSpec("shape", "ints", [2], "Shape of one example, without the batch.",
                  min=1, key=True),
        ParamSpec("dtype", "choice", "float", "float for measurements and pixels, "
                  "long for integer token ids (feed an Embedding).",
                  choices=("float", "long"), key=True),
    ),
    inputs=(),
    shape_rule=_input_rule,
    default_label="input",
)

OUTPUT = LayerSpec(
    type="Output",
    display_name="Output",
    category="Input / Output",
    help="Marks a model output and the task it solves, which picks the default loss: "
    "classification (cross-entropy over class scores), binary (one logit, BCE), "
    "multilabel (one logit per label, each 0 or 1, BCE) or regression (MSE).",
    params=(
        ParamSpec("task", "choice", "classification", "What the output predicts.",
                  choices=("classification", "binary", "multilabel", "regression"),
                  key=True),
    ),
    outputs=(),
    shape_rule=_output_rule,
    default_label="output",
)

SPECS = (INPUT, OUTPUT)
__all__ = ["SPECS", "PortSpec"]
