"""``torch.nn`` modules Strata maps 1:1 to catalog layers, one rule per module type.

A rule reads the module's attributes (``out_features``, ``kernel_size``...), refuses
settings the catalog cannot express (``padding_mode="reflect"``, ``ceil_mode=True``...)
with the reason, and emits the layer. Values the catalog infers from shapes
(``in_features``) go to ``expect`` and are checked against the traced shapes. Modules that
return tuples (LSTM, GRU, MultiheadAttention) produce a Meta value; indexing it, handled in
``patterns``, decides which layer it becomes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torch import nn

from . import patterns
from .ops import Refused, bind, ints, meta

# A rule maps one submodule call: (mapper, fx node, module) -> value.
MODULE_RULES: dict[type, Callable[..., Any]] = {}


def rule(*types):
    def register(fn):
        for t in types:
            MODULE_RULES[t] = fn
        return fn
    return register


def _x(mp, node, m) -> int:
    """The single tensor argument of a one-input module."""
    bound = bind(f"nn.{type(m).__name__}", node.args, node.kwargs, ("input",))
    return mp.data(bound["input"])


def _need(condition: bool, reason: str) -> None:
    if not condition:
        raise Refused(reason)


# ---------------------------------------------------------------------- dense
@rule(nn.Linear)
def linear(mp, node, m):
    return mp.emit("Linear", {"out_features": m.out_features, "bias": m.bias is not None},
                   [_x(mp, node, m)], node, module=m,
                   expect={"in_features": m.in_features})


@rule(nn.Dropout)
def dropout(mp, node, m):
    return mp.emit("Dropout", {"p": float(m.p)}, [_x(mp, node, m)], node, module=m)


@rule(nn.Embedding)
def embedding(mp, node, m):
    _need(m.max_norm is None, "uses max_norm, which Strata's Embedding does not have")
    bound = bind("nn.Embedding", node.args, node.kwargs, ("input",))
    value = mp.value(bound["input"])
    if patterns.is_positions(value):
        # self.pos(torch.arange(L)): a positional embedding, completed by the addition.
        return meta("positions", f"the position embedding '{node.target}'",
                    module=m, node=node)
    x = mp.data(bound["input"])
    for attr, words in (("scale_grad_by_freq", "gradients are not scaled by frequency"),
                        ("sparse", "gradients are dense")):
        if getattr(m, attr) is not None and getattr(m, attr) is not False:
            mp.note(f"Embedding '{node.target}': {attr}={getattr(m, attr)!r} is not "
                    f"kept ({words}); outputs are unchanged")
    return mp.emit("Embedding", {"num_embeddings": m.num_embeddings,
                                 "embedding_dim": m.embedding_dim,
                                 "padding_idx": m.padding_idx}, [x], node, module=m)


@rule(nn.Identity)
def identity(mp, node, m):
    return mp.emit("Identity", {}, [_x(mp, node, m)], node, module=m)


@rule(nn.Flatten)
def flatten(mp, node, m):
    return mp.reshape_like(node, node.args[0], module=m, flatten=True)


@rule(nn.Unflatten)
def unflatten(mp, node, m):
    from .function_rules import op_name

    x = _x(mp, node, m)
    arg = node.args[0]
    if getattr(arg, "op", "") in ("call_method", "call_function") and (
            op_name(arg) == "flatten"):
        return mp.reshape_like(node, arg, module=m)  # self.m(x.flatten(1)): a Reshape
    rank = mp.shape(node.args[0]).rank
    return mp.emit("Unflatten", {"dim": m.dim % rank, "sizes": list(m.unflattened_size)},
                   [x], node, module=m)


# ---------------------------------------------------------------------- convolution
def _padding(m, n: int) -> list[int]:
    if m.padding == "valid":
        return [0] * n
    if m.padding == "same":
        total = [d * (k - 1) for d, k in zip(ints(m.dilation, n), ints(m.kernel_size, n))]
        _need(all(t % 2 == 0 for t in total),
              "uses padding='same' with an even kernel, which pads one side more than "
              "the other; Strata pads both sides equally")
        return [t // 2 for t in total]
    return ints(m.padding, n)


@rule(nn.Conv1d, nn.Conv2d, nn.Conv3d)
def conv(mp, node, m):
    n = dims_of(m)
    params = {"padding_mode": m.padding_mode,
        "out_channels": m.out_channels, "kernel_size": ints(m.kernel_size, n),
        "stride": ints(m.stride, n), "padding": _padding(m, n),
        "dilation": ints(m.dilation, n), "groups": m.groups, "bias": m.bias is not None,
    }
    return mp.emit(f"Conv{n}d", params, [_x(mp, node, m)], node, module=m,
                   expect={"in_channels": m.in_channels})


@rule(nn.ConvTranspose2d)
def conv_transpose(mp, node, m):
    _need(m.groups == 1, "uses groups, which Strata's ConvTranspose2d does not have")
    _need(ints(m.dilation, 2) == [1, 1], "uses dilation, which Strata's ConvTranspose2d "
          "does not have")
    _need(m.bias is not None, "has no bias; Strata's ConvTranspose2d always learns one")
    _need(m.padding_mode == "zeros", f"uses padding_mode='{m.padding_mode}'")
    params = {"out_channels": m.out_channels, "kernel_size": ints(m.kernel_size, 2),
              "stride": ints(m.stride, 2), "padding": ints(m.padding, 2),
              "output_padding": ints(m.output_padding, 2)}
    if len(node.args) > 1 or node.kwargs:
        raise Refused("is called with output_size, which Strata does not map")
    return mp.emit("ConvTranspose2d", params, [_x(mp, node, m)], node, module=m,
                   expect={"in_channels": m.in_channels})


# ---------------------------------------------------------------------- pooling
def pool_params(n: int, kernel, stride, padding) -> dict:
    k = ints(kernel, n)
    s = None if stride is None or stride == [] or stride == () else ints(stride, n)
    return {"kernel_size": k, "stride": None if s == k else s, "padding": ints(padding, n)}


def dims_of(m) -> int:
    """1, 2 or 3 from the class name (MaxPool2d, AdaptiveAvgPool3d...)."""
    return int(type(m).__name__[-2])


@rule(nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
def max_pool(mp, node, m):
    n = dims_of(m)
    _need(not m.return_indices, "returns indices, which Strata's pooling does not")
    params = {**pool_params(n, m.kernel_size, m.stride, m.padding),
              "dilation": ints(m.dilation, n), "ceil_mode": bool(m.ceil_mode)}
    return mp.emit(f"MaxPool{n}d", params, [_x(mp, node, m)], node, module=m)


@rule(nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
def avg_pool(mp, node, m):
    n = dims_of(m)
    _need(getattr(m, "divisor_override", None) is None,
          "uses divisor_override, which Strata lacks")
    params = {**pool_params(n, m.kernel_size, m.stride, m.padding),
              "ceil_mode": bool(m.ceil_mode),
              "count_include_pad": bool(m.count_include_pad)}
    return mp.emit(f"AvgPool{n}d", params, [_x(mp, node, m)], node, module=m)


def adaptive_size(size, n: int = 2, traced=None) -> list[int]:
    """``output_size`` as n ints; None entries keep the input's size, read from the
    traced output shape."""
    sizes = [size] * n if isinstance(size, int) or size is None else list(size)
    if None in sizes:
        _need(traced is not None, "keeps one size of the input (None in output_size), "
              "which Strata cannot follow here")
        sizes = [traced[-n + i] if s is None else s for i, s in enumerate(sizes)]
    return ints(sizes, n)


@rule(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d,
      nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
def adaptive_pool(mp, node, m):
    n = dims_of(m)
    kind = "Max" if "Max" in type(m).__name__ else "Avg"
    _need(not getattr(m, "return_indices", False), "returns indices, which Strata's "
          "pooling does not")
    traced = mp.shape(node)
    size = adaptive_size(m.output_size, n, traced.shape if traced else None)
    return mp.emit(f"Adaptive{kind}Pool{n}d", {"output_size": size}, [_x(mp, node, m)],
                   node, module=m)


# ---------------------------------------------------------------------- normalisation
@rule(nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
def batch_norm(mp, node, m):
    n = dims_of(m)
    _need(m.affine, "has affine=False; Strata's BatchNorm always learns scale and shift")
    _need(m.track_running_stats, "has track_running_stats=False, which Strata lacks")
    _need(m.momentum is not None, "uses momentum=None (a cumulative average), which "
          "Strata lacks")
    return mp.emit(f"BatchNorm{n}d", {"momentum": float(m.momentum), "eps": float(m.eps)},
                   [_x(mp, node, m)], node, module=m,
                   expect={"num_features": m.num_features})


@rule(nn.LayerNorm)
def layer_norm(mp, node, m):
    shape = list(m.normalized_shape)
    return mp.emit("LayerNorm", layer_norm_params(m), [_x(mp, node, m)], node, module=m,
                   expect={"normalized_shape": shape[0] if len(shape) == 1 else shape})


def layer_norm_params(m) -> dict:
    return {"eps": float(m.eps), "dims": len(m.normalized_shape),
            "elementwise_affine": bool(m.elementwise_affine),
            "bias": getattr(m, "bias", None) is not None}


# ---------------------------------------------------------------------- activations
def _activation(type_name: str, params=lambda m: {}):
    def fn(mp, node, m):
        return mp.emit(type_name, params(m), [_x(mp, node, m)], node, module=m)
    return fn


for _cls in (nn.ReLU, nn.SiLU, nn.Sigmoid, nn.Tanh, nn.ReLU6, nn.Hardswish,
             nn.Hardsigmoid, nn.Mish, nn.SELU):
    rule(_cls)(_activation(_cls.__name__))
rule(nn.LeakyReLU)(_activation("LeakyReLU",
                               lambda m: {"negative_slope": float(m.negative_slope)}))
rule(nn.ELU)(_activation("ELU", lambda m: {"alpha": float(m.alpha)}))


@rule(nn.GELU)
def gelu(mp, node, m):
    _need(m.approximate == "none", f"uses approximate='{m.approximate}'; Strata's GELU "
          "is the exact one")
    return mp.emit("GELU", {}, [_x(mp, node, m)], node, module=m)


@rule(nn.Softmax, nn.LogSoftmax)
def softmax(mp, node, m):
    _need(m.dim is not None, "has no dim (an implicit, deprecated choice); "
          "give dim explicitly")
    return mp.emit(type(m).__name__, {"dim": m.dim}, [_x(mp, node, m)], node, module=m)


# ---------------------------------------------------------------------- sequence
@rule(nn.LSTM, nn.GRU)
def recurrent(mp, node, m):
    return patterns.recurrent_call(mp, node, m)


@rule(nn.MultiheadAttention)
def attention(mp, node, m):
    return patterns.attention_call(mp, node, m)


@rule(nn.TransformerEncoderLayer)
def encoder_layer(mp, node, m):
    bound = bind("nn.TransformerEncoderLayer", node.args, node.kwargs,
                 ("src", ("src_mask", None), ("src_key_padding_mask", None),
                  ("is_causal", False)))
    _no_masks(bound, ("src_mask", "src_key_padding_mask"))
    return patterns.encoder_layer(mp, node, m, mp.data(bound["src"]), node.target, m)


@rule(nn.TransformerEncoder)
def encoder(mp, node, m):
    bound = bind("nn.TransformerEncoder", node.args, node.kwargs,
                 ("src", ("mask", None), ("src_key_padding_mask", None),
                  ("is_causal", None)))
    _no_masks(bound, ("mask", "src_key_padding_mask"))
    x = mp.data(bound["src"])
    value = None
    for i, layer in enumerate(m.layers):
        # Unrolled: one TransformerEncoderLayer node per layer, weights from layers.i.
        value = patterns.encoder_layer(mp, node, layer, x, f"{node.target}.layers.{i}", m)
        x = value.op
    if m.norm is not None:
        _need(type(m.norm) is nn.LayerNorm, f"ends in a {type(m.norm).__name__}, "
              "which Strata cannot map")
        norm = m.norm
        _need(len(norm.normalized_shape) == 1 and norm.elementwise_affine,
              "ends in a LayerNorm Strata cannot express")
        value = mp.emit("LayerNorm", {"eps": float(norm.eps)}, [x], node, module=norm,
                        source=f"{node.target}.norm",
                        expect={"normalized_shape": norm.normalized_shape[0]})
    return value


def _no_masks(bound: dict, names) -> None:
    for name in names:
        if bound[name] is not None:
            raise Refused(f"is called with {name}; Strata's layer attends to every "
                          "position (no masks)")
    if bound.get("is_causal"):
        raise Refused("is called with is_causal=True; Strata's layer is not causal")


# The rest of the catalog's 1:1 modules register themselves in the same table.
from . import module_rules_more  # noqa: F401

KNOWN_MODULES = frozenset(MODULE_RULES)
