"""More ``torch.nn`` modules mapped 1:1: parametrised activations, channel dropout,
GroupNorm / InstanceNorm / LocalResponseNorm, padding, Upsample and PixelShuffle.

Registered in ``module_rules.MODULE_RULES`` (imported from there), with the same
conventions: read the module's attributes, refuse what the catalog cannot express with
the reason, emit the layer.
"""

from __future__ import annotations

from torch import nn

from .module_rules import _activation, _need, _x, dims_of, rule
from .ops import Refused

# ---------------------------------------------------------------------- activations
rule(nn.CELU)(_activation("CELU", lambda m: {"alpha": float(m.alpha)}))
rule(nn.Softplus)(_activation("Softplus", lambda m: {"beta": float(m.beta),
                                                     "threshold": float(m.threshold)}))
rule(nn.Hardtanh)(_activation("Hardtanh", lambda m: {"min_val": float(m.min_val),
                                                     "max_val": float(m.max_val)}))


@rule(nn.PReLU)
def prelu(mp, node, m):
    x = _x(mp, node, m)
    return mp.emit("PReLU", {"per_channel": m.num_parameters > 1, "slope": 0.25}, [x],
                   node, module=m, expect={"num_parameters": m.num_parameters})


# ---------------------------------------------------------------------- regularisation
@rule(nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
def channel_dropout(mp, node, m):
    return mp.emit(f"Dropout{dims_of(m)}d", {"p": float(m.p)}, [_x(mp, node, m)], node,
                   module=m)


@rule(nn.AlphaDropout)
def alpha_dropout(mp, node, m):
    return mp.emit("AlphaDropout", {"p": float(m.p)}, [_x(mp, node, m)], node, module=m)


# ---------------------------------------------------------------------- normalisation
@rule(nn.GroupNorm)
def group_norm(mp, node, m):
    return mp.emit("GroupNorm", {"num_groups": m.num_groups, "eps": float(m.eps),
                                 "affine": bool(m.affine)}, [_x(mp, node, m)], node,
                   module=m, expect={"num_channels": m.num_channels})


@rule(nn.InstanceNorm1d, nn.InstanceNorm2d, nn.InstanceNorm3d)
def instance_norm(mp, node, m):
    _need(m.momentum is not None, "uses momentum=None (a cumulative average), which "
          "Strata lacks")
    params = {"eps": float(m.eps), "momentum": float(m.momentum), "affine": bool(m.affine),
              "track_running_stats": bool(m.track_running_stats)}
    return mp.emit(f"InstanceNorm{dims_of(m)}d", params, [_x(mp, node, m)], node,
                   module=m, expect={"num_features": m.num_features})


@rule(nn.LocalResponseNorm)
def local_response_norm(mp, node, m):
    return mp.emit("LocalResponseNorm", {"size": m.size, "alpha": float(m.alpha),
                                         "beta": float(m.beta), "k": float(m.k)},
                   [_x(mp, node, m)], node, module=m)


# ---------------------------------------------------------------------- resampling
_PAD_MODES = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect",
              "Replication": "replicate", "Circular": "circular"}
_PADS = [getattr(nn, f"{kind}Pad{n}d") for kind in _PAD_MODES for n in (1, 2, 3)
         if hasattr(nn, f"{kind}Pad{n}d")]


@rule(*_PADS)
def pad(mp, node, m):
    kind = type(m).__name__.split("Pad")[0]
    padding = [int(v) for v in m.padding]
    if min(padding) < 0:
        raise Refused("pads by a negative amount (cropping), which Strata's Pad does not")
    return mp.emit("Pad", {"padding": padding, "mode": _PAD_MODES[kind],
                           "value": float(getattr(m, "value", 0.0))},
                   [_x(mp, node, m)], node, module=m)


def upsample_params(size, scale, mode: str, align_corners) -> dict:
    if isinstance(scale, (tuple, list)):
        _need(len(set(scale)) == 1, f"scales each dimension differently ({scale}); "
              "Strata's Upsample takes one scale factor (or give a size)")
        scale = scale[0]
    if size is not None:
        size = [size] if isinstance(size, int) else list(size)
    return {"size": size, "scale_factor": None if scale is None else float(scale),
            "mode": mode, "align_corners": bool(align_corners)}


@rule(nn.Upsample, nn.UpsamplingNearest2d, nn.UpsamplingBilinear2d)
def upsample(mp, node, m):
    params = upsample_params(m.size, m.scale_factor, m.mode, m.align_corners)
    _need(not getattr(m, "recompute_scale_factor", None), "uses recompute_scale_factor, "
          "which Strata's Upsample does not")
    return mp.emit("Upsample", params, [_x(mp, node, m)], node, module=m)


@rule(nn.PixelShuffle)
def pixel_shuffle(mp, node, m):
    return mp.emit("PixelShuffle", {"factor": m.upscale_factor}, [_x(mp, node, m)], node,
                   module=m)


@rule(nn.PixelUnshuffle)
def pixel_unshuffle(mp, node, m):
    return mp.emit("PixelUnshuffle", {"factor": m.downscale_factor}, [_x(mp, node, m)],
                   node, module=m)


# ---------------------------------------------------------------------- attention
@rule(nn.TransformerDecoderLayer)
def decoder_layer(mp, node, m):
    from . import patterns
    from .ops import bind

    bound = bind("nn.TransformerDecoderLayer", node.args, node.kwargs,
                 ("tgt", "memory", ("tgt_mask", None), ("memory_mask", None),
                  ("tgt_key_padding_mask", None), ("memory_key_padding_mask", None),
                  ("tgt_is_causal", False), ("memory_is_causal", False)))
    for name in ("memory_mask", "tgt_key_padding_mask", "memory_key_padding_mask"):
        if bound[name] is not None:
            raise Refused(f"is called with {name}; Strata's decoder layer takes a causal "
                          "target mask only")
    causal = bound["tgt_mask"] is not None
    if causal and not patterns.is_causal_mask(mp, bound["tgt_mask"], mp.shape(bound["tgt"])):
        raise Refused("is called with a tgt_mask that is not the causal mask")
    _need(m.self_attn.batch_first, "is built with batch_first=False; Strata keeps the "
          "batch first, so build it with batch_first=True")
    activation = _activation_name(m.activation)
    _need(activation is not None, f"uses the activation {m.activation!r}; Strata's layer "
          "offers relu and gelu")
    _need(m.norm1.eps == 1e-5, f"uses layer_norm_eps={m.norm1.eps}; Strata's layer uses 1e-5")
    _need(m.linear1.bias is not None, "uses bias=False, which Strata's layer lacks")
    params = {"nhead": m.self_attn.num_heads, "dim_feedforward": m.linear1.out_features,
              "dropout": float(m.dropout.p), "activation": activation,
              "norm_first": bool(m.norm_first), "causal": causal}
    return mp.emit("TransformerDecoderLayer", params,
                   [mp.data(bound["tgt"]), mp.data(bound["memory"], "the memory")], node,
                   module=m, expect={"d_model": m.self_attn.embed_dim})


def _activation_name(fn) -> str | None:
    import torch.nn.functional as F

    if fn is F.relu or isinstance(fn, nn.ReLU):
        return "relu"
    if fn is F.gelu or (isinstance(fn, nn.GELU) and fn.approximate == "none"):
        return "gelu"
    return None
