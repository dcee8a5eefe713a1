"""Functions and tensor methods called in ``forward`` that map to catalog layers.

``F.relu(x)``, ``torch.relu(x)`` and ``x.relu()`` are one operation: every call is
normalised to a name (``relu``), its arguments bound to one signature, and one rule per
name emits the layer. Shape plumbing (``x.view(x.size(0), -1)``, ``torch.flatten(x, 1)``,
``x.unsqueeze(1)``) is judged by the traced shapes, not by reading the arguments.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from . import patterns
from .ops import Data, Meta, Refused, bind, meta
from .signatures import MORE_ALIASES, MORE_SIGNATURES

# name -> argument signature (names, or (name, default)); "input" is the tensor.
SIGNATURES: dict[str, tuple] = {
    "relu": ("input", ("inplace", False)),
    "relu_": ("input",),
    "gelu": ("input", ("approximate", "none")),
    "silu": ("input", ("inplace", False)),
    "sigmoid": ("input",),
    "tanh": ("input",),
    "leaky_relu": ("input", ("negative_slope", 0.01), ("inplace", False)),
    "elu": ("input", ("alpha", 1.0), ("inplace", False)),
    "softmax": ("input", ("dim", None), ("_stacklevel", 3), ("dtype", None)),
    "log_softmax": ("input", ("dim", None), ("_stacklevel", 3), ("dtype", None)),
    "dropout": ("input", ("p", 0.5), ("training", True), ("inplace", False)),
    **{f"adaptive_{kind}_pool{n}d": ("input", "output_size", ("return_indices", False))
       for kind in ("avg", "max") for n in (1, 2, 3)},
    **{f"max_pool{n}d": ("input", "kernel_size", ("stride", None), ("padding", 0),
                         ("dilation", 1), ("ceil_mode", False), ("return_indices", False))
       for n in (1, 2, 3)},
    **{f"avg_pool{n}d": ("input", "kernel_size", ("stride", None), ("padding", 0),
                         ("ceil_mode", False), ("count_include_pad", True),
                         ("divisor_override", None)) for n in (1, 2, 3)},
    "cat": ("tensors", ("dim", 0)),
    "mean": ("input", ("dim", None), ("keepdim", False), ("dtype", None)),
    "add": ("input", "other", ("alpha", 1)),
    "mul": ("input", "other"),
    "contiguous": ("input", ("memory_format", None)),
    **MORE_SIGNATURES,
}
RESHAPES = frozenset({"view", "reshape", "flatten", "unsqueeze", "squeeze"})
TENSOR_ARGUMENTS = frozenset({"input", "other", "tensors"})
# Meta values that are pieces of a layer's result, usable only in known patterns.
LAYER_PARTS = frozenset({"recurrent", "recurrent_state", "recurrent_h", "recurrent_final",
                         "recurrent_finals", "recurrent_finals_unbound", "attention",
                         "attention_weights", "positions"})

_OPERATORS = {operator.add: "add", operator.iadd: "add", operator.mul: "mul",
              operator.imul: "mul", operator.getitem: "getitem", builtins.getattr: "getattr",
              operator.sub: "sub", operator.isub: "sub", operator.truediv: "div",
              operator.itruediv: "div", operator.matmul: "matmul", operator.neg: "neg"}
_SYMBOLS = {operator.sub: "-", operator.isub: "-=", operator.truediv: "/",
            operator.itruediv: "/=", operator.matmul: "@", operator.neg: "unary -",
            operator.pow: "**", operator.floordiv: "//", operator.mod: "%"}
_ALIASES = {"concat": "cat", "concatenate": "cat", "add_": "add", "mul_": "mul",
            "multiply": "mul", "silu_": "silu", "sigmoid_": "sigmoid", "tanh_": "tanh",
            "leaky_relu_": "leaky_relu", "elu_": "elu", **MORE_ALIASES}


def _function_names() -> dict:
    names: dict[Any, str] = {}
    candidates = set(SIGNATURES) | RESHAPES | set(_ALIASES) | {"arange", "zeros",
                                                                "zeros_like", "ones"}
    for name in candidates:
        for namespace in (torch, F):
            fn = getattr(namespace, name, None)
            if fn is not None and not isinstance(fn, type):
                names.setdefault(fn, name)
    names.update(_OPERATORS)
    return names


_NAMES = _function_names()


def op_name(node) -> str | None:
    """The normalised name of a call_function/call_method node, None if unknown."""
    if node.op == "call_method":
        name = node.target
    else:
        name = _NAMES.get(node.target)
    if name is None:
        # A function made opaque with torch.fx.wrap, named like torchvision's
        # stochastic_depth (or timm's drop_path): map it by name.
        name = getattr(node.target, "__name__", None)
        if name not in ("stochastic_depth", "drop_path"):
            return None
        return "stochastic_depth"
    return _ALIASES.get(name, name)


def describe(node) -> str:
    """How the user wrote the operation: ``F.relu``, ``torch.sub``, ``x - y``."""
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    target = node.target
    if target in _SYMBOLS:
        return f"the operator {_SYMBOLS[target]}"
    if target in _OPERATORS:
        return {"add": "the operator +", "mul": "the operator *",
                "getitem": "indexing [...]", "getattr": "an attribute"}[_OPERATORS[target]]
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", repr(target))
    if module.startswith("torch.nn.functional"):
        return f"F.{name}"
    if module.startswith("torch") or module == "" or target is getattr(torch, name, None):
        return f"torch.{name}"
    return f"{module}.{name}" if module else name


def map_call(mp, node):
    """Value of a call_function / call_method node whose result holds a tensor."""
    from torch import fx
    name = op_name(node)
    if name == "getitem":
        return patterns.getitem(mp, node)
    sources = [mp.value(a) for a in _node_args(node)]
    layer_parts = [v for v in sources if isinstance(v, Meta) and v.kind in LAYER_PARTS]
    if layer_parts and not (name == "add" and layer_parts[0].kind == "positions"):
        return patterns.use_layer_part(mp, node, name, layer_parts[0])
    if name in ("new_ones", "new_zeros"):
        # x.new_ones(x.shape[0], 1, 1): per example ("row") when its size follows the
        # batch; stochastic depth's noise is dropout of it.
        row = len(node.args) > 1 and isinstance(node.args[1], fx.Node)
        return meta("created", f"a tensor made inside forward by {name}",
                    zeros=name == "new_zeros", origin=name, row=row)
    if name == "dropout" and sources and isinstance(sources[0], Meta) and (
            sources[0].get("origin") == "new_ones"):
        bound = bind(describe(node), node.args, node.kwargs, SIGNATURES["dropout"])
        return meta("drop_noise", "stochastic depth's noise",
                    p=mp.constant(bound["p"], "p"), training=bound["training"],
                    mode="row" if sources[0].get("row") else "batch")
    if name == "expand" and sources and isinstance(sources[0], Meta) and (
            sources[0].kind == "attr"):
        return plumbing_rules.learned_tensor(mp, node)
    if not any(isinstance(v, Data) for v in sources):
        # Made inside forward from no layer output: zeros, arange, shapes...
        metas = [v for v in sources if isinstance(v, Meta)]
        attrs = [v for v in metas if v.kind == "attr"]
        if attrs and name in patterns.PASS_THROUGH:
            return attrs[0]
        return patterns.created(name or describe(node), metas, node)
    if name in RESHAPES:
        return mp.reshape_like(node, node.args[0], flatten=name == "flatten")
    if name in plumbing_rules.VARARGS:
        return plumbing_rules.VARARGS[name](mp, node)
    if name is None or name not in SIGNATURES:
        raise Refused("Strata has no layer for this operation")
    bound = bind(describe(node), node.args, node.kwargs, SIGNATURES[name])
    for key, value in bound.items():
        if key not in TENSOR_ARGUMENTS:
            bound[key] = mp.constant(value, key)
    return FUNCTION_RULES[name](mp, node, bound)


def _node_args(node) -> list:
    from torch import fx

    found: list = []
    fx.node.map_arg((node.args, node.kwargs), found.append)
    return [n for n in found if isinstance(n, fx.Node)]


# ---------------------------------------------------------------------- rules
# A rule maps one call to Strata operations: (mapper, fx node, bound arguments) -> value.
FUNCTION_RULES: dict[str, Callable[..., Any]] = {}


def rule(*names):
    def register(fn):
        for n in names:
            FUNCTION_RULES[n] = fn
        return fn
    return register


def _simple(type_name: str, params=lambda b: {}, check=lambda b: None):
    def fn(mp, node, bound):
        check(bound)
        return mp.emit(type_name, params(bound), [mp.data(bound["input"])], node,
                       anonymous=True)
    return fn


def _exact_gelu(bound) -> None:
    if bound["approximate"] != "none":
        raise Refused(f"uses approximate='{bound['approximate']}'; Strata's GELU is exact")


def _explicit_dim(bound) -> None:
    if bound["dim"] is None:
        raise Refused("has no dim (an implicit, deprecated choice); give dim explicitly")
    if bound["dtype"] is not None:
        raise Refused("converts the dtype, which Strata's layer does not")


rule("relu", "relu_")(_simple("ReLU"))
rule("silu")(_simple("SiLU"))
rule("sigmoid")(_simple("Sigmoid"))
rule("tanh")(_simple("Tanh"))
rule("gelu")(_simple("GELU", check=_exact_gelu))
rule("leaky_relu")(_simple("LeakyReLU",
                           lambda b: {"negative_slope": float(b["negative_slope"])}))
rule("elu")(_simple("ELU", lambda b: {"alpha": float(b["alpha"])}))
rule("softmax")(_simple("Softmax", lambda b: {"dim": b["dim"]}, _explicit_dim))
rule("log_softmax")(_simple("LogSoftmax", lambda b: {"dim": b["dim"]}, _explicit_dim))


@rule("dropout")
def dropout(mp, node, bound):
    if not bound["training"]:
        return mp.value(bound["input"])  # dropout(training=False) does nothing
    return mp.emit("Dropout", {"p": float(bound["p"])}, [mp.data(bound["input"])], node,
                   anonymous=True)


@rule("contiguous")
def contiguous(mp, node, bound):
    return mp.value(bound["input"])


@rule("cat")
def cat(mp, node, bound):
    tensors = bound["tensors"]
    if not isinstance(tensors, (list, tuple)):
        raise Refused("joins a computed list of tensors; write torch.cat([a, b], dim=1)")
    if len(tensors) == 1:
        return mp.value(tensors[0])
    if len(tensors) > 128:
        raise Refused(f"joins {len(tensors)} tensors; Strata's Concat takes 2 to 128")
    inputs = [mp.data(t, f"tensor {i + 1} it joins") for i, t in enumerate(tensors)]
    return mp.emit("Concat", {"inputs": len(tensors), "dim": bound["dim"]}, inputs, node,
                   anonymous=True)


@rule("mean")
def mean(mp, node, bound):
    dim = bound["dim"]
    if dim is None:
        raise Refused("averages every value into one number; Strata's Mean averages "
                      "one dimension")
    if isinstance(dim, (list, tuple)) and len(dim) == 1:
        dim = dim[0]
    if not isinstance(dim, int):
        raise Refused(f"averages over {dim!r}; Strata's Mean averages one dimension "
                      "(for global pooling use nn.AdaptiveAvgPool2d(1) and Flatten)")
    if bound["keepdim"] or bound["dtype"] is not None:
        raise Refused("uses keepdim=True or dtype, which Strata's Mean lacks")
    return mp.emit("Mean", {"dim": dim}, [mp.data(bound["input"])], node, anonymous=True)


# The rest of the rules register themselves in FUNCTION_RULES.
from . import arith_rules, layer_function_rules, plumbing_rules  # noqa: F401
