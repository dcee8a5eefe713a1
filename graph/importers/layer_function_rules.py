"""Functional forms of catalog layers: ``F.relu6``, ``F.max_pool2d(..., ceil_mode=True)``,
``F.adaptive_avg_pool1d``, ``F.layer_norm`` (with the module's own weight and bias),
``F.interpolate``, ``F.pad``, ``F.pixel_shuffle``, channel dropout and stochastic depth
(torchvision's ``stochastic_depth``, identity in eval mode, a real layer in training)."""

from __future__ import annotations

from ..errors import GraphError
from . import module_rules
from .function_rules import _simple, op_name, rule
from .module_rules_more import upsample_params
from .ops import Meta, Refused, ints


def _op(node) -> str:
    """``op_name`` of a node these rules were dispatched for (so it has one)."""
    name = op_name(node)
    if name is None:
        raise GraphError(f"no rule applies to {node.target!r}: it has no operation name")
    return name

rule("relu6")(_simple("ReLU6"))
rule("abs")(_simple("Abs"))
rule("hardswish")(_simple("Hardswish"))
rule("hardsigmoid")(_simple("Hardsigmoid"))
rule("mish")(_simple("Mish"))
rule("selu")(_simple("SELU"))
rule("celu")(_simple("CELU", lambda b: {"alpha": float(b["alpha"])}))
rule("softplus")(_simple("Softplus", lambda b: {"beta": float(b["beta"]),
                                                "threshold": float(b["threshold"])}))
rule("hardtanh")(_simple("Hardtanh", lambda b: {"min_val": float(b["min_val"]),
                                                "max_val": float(b["max_val"])}))


@rule("dropout1d", "dropout2d", "dropout3d", "alpha_dropout")
def dropout(mp, node, bound):
    if not bound["training"]:
        return mp.value(bound["input"])  # does nothing outside training
    name = _op(node)
    type_name = "AlphaDropout" if name == "alpha_dropout" else f"Dropout{name[-2]}d"
    return mp.emit(type_name, {"p": float(bound["p"])}, [mp.data(bound["input"])], node,
                   anonymous=True)


@rule("stochastic_depth")
def stochastic_depth(mp, node, bound):
    if not bound["training"] or bound["p"] == 0:
        return mp.value(bound["input"])
    if bound["mode"] not in ("row", "batch"):
        raise Refused(f"uses mode={bound['mode']!r}; stochastic depth drops a 'row' or "
                      "the whole 'batch'")
    return mp.emit("StochasticDepth", {"p": float(bound["p"]), "mode": bound["mode"]},
                   [mp.data(bound["input"])], node, anonymous=True)


# ---------------------------------------------------------------------- pooling
def _dims(name: str) -> int:
    return int(name[-2])


@rule(*(f"max_pool{n}d" for n in (1, 2, 3)))
def max_pool(mp, node, bound):
    n = _dims(_op(node))
    if bound["return_indices"]:
        raise Refused("returns indices, which Strata's pooling does not")
    params = {**module_rules.pool_params(n, bound["kernel_size"], bound["stride"],
                                         bound["padding"]),
              "dilation": ints(bound["dilation"], n),
              "ceil_mode": bool(bound["ceil_mode"])}
    return mp.emit(f"MaxPool{n}d", params, [mp.data(bound["input"])], node, anonymous=True)


@rule(*(f"avg_pool{n}d" for n in (1, 2, 3)))
def avg_pool(mp, node, bound):
    n = _dims(_op(node))
    if bound["divisor_override"]:
        raise Refused("uses divisor_override, which Strata's pooling lacks")
    params = {**module_rules.pool_params(n, bound["kernel_size"], bound["stride"],
                                         bound["padding"]),
              "ceil_mode": bool(bound["ceil_mode"]),
              "count_include_pad": bool(bound["count_include_pad"])}
    return mp.emit(f"AvgPool{n}d", params, [mp.data(bound["input"])], node, anonymous=True)


@rule(*(f"adaptive_{k}_pool{n}d" for k in ("avg", "max") for n in (1, 2, 3)))
def adaptive_pool(mp, node, bound):
    name = _op(node)
    n, kind = _dims(name), "Max" if "max" in name else "Avg"
    if bound["return_indices"]:
        raise Refused("returns indices, which Strata's pooling does not")
    traced = mp.shape(node)
    size = module_rules.adaptive_size(bound["output_size"], n,
                                      traced.shape if traced else None)
    return mp.emit(f"Adaptive{kind}Pool{n}d", {"output_size": size},
                   [mp.data(bound["input"])], node, anonymous=True)


# ---------------------------------------------------------------------- normalisation
@rule("layer_norm")
def layer_norm(mp, node, bound):
    shape = bound["normalized_shape"]
    shape = [shape] if isinstance(shape, int) else list(shape)
    tensors = {}
    for key in ("weight", "bias"):
        value = bound[key]
        if value is None:
            continue
        known = mp.value(value)
        if not (isinstance(known, Meta) and known.kind == "attr" and not known.get("index")):
            raise Refused(f"takes its {key} from {known.what}; Strata maps a weight and "
                          "bias held by the module")
        tensors[key] = known.get("tensor")
    if "bias" in tensors and "weight" not in tensors:
        raise Refused("has a bias but no weight, which Strata's LayerNorm cannot express")
    params = {"eps": float(bound["eps"]), "dims": len(shape),
              "elementwise_affine": "weight" in tensors, "bias": "bias" in tensors}

    def weights():
        return {k: t.detach().reshape(shape).clone() for k, t in tensors.items()}

    return mp.emit("LayerNorm", params, [mp.data(bound["input"])], node, weights=weights,
                   expect={"normalized_shape": shape[0] if len(shape) == 1 else shape},
                   anonymous=True)


# ---------------------------------------------------------------------- resampling
@rule("interpolate")
def interpolate(mp, node, bound):
    if bound["antialias"]:
        raise Refused("uses antialias=True, which Strata's Upsample does not")
    size, scale = bound["size"], bound["scale_factor"]
    if size is not None and scale is not None:
        raise Refused("gives both size and scale_factor")
    if bound["recompute_scale_factor"] and scale is not None:
        # The output size is what counts then: take it from the traced shape.
        size, scale = list(mp.shape(node).shape[2:]), None
    params = upsample_params(size, scale, bound["mode"], bound["align_corners"])
    return mp.emit("Upsample", params, [mp.data(bound["input"])], node, anonymous=True)


@rule("pad")
def pad(mp, node, bound):
    padding = [int(v) for v in bound["pad"]]
    if min(padding, default=0) < 0:
        raise Refused("pads by a negative amount (cropping), which Strata's Pad does not")
    mode = bound["mode"]
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise Refused(f"pads in mode {mode!r}, which Strata's Pad does not")
    return mp.emit("Pad", {"padding": padding, "mode": mode,
                           "value": float(bound["value"] or 0.0)},
                   [mp.data(bound["input"])], node, anonymous=True)


@rule("pixel_shuffle")
def pixel_shuffle(mp, node, bound):
    return mp.emit("PixelShuffle", {"factor": bound["upscale_factor"]},
                   [mp.data(bound["input"])], node, anonymous=True)


@rule("pixel_unshuffle")
def pixel_unshuffle(mp, node, bound):
    return mp.emit("PixelUnshuffle", {"factor": bound["downscale_factor"]},
                   [mp.data(bound["input"])], node, anonymous=True)
