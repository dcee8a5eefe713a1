"""Argument signatures of the functions and tensor methods mapped beyond the first set
(``function_rules.SIGNATURES`` includes these): names, or (name, default) pairs, with
"input" the tensor. Aliases name the same operation under another spelling."""

from __future__ import annotations

_INPLACE = ("inplace", False)

MORE_SIGNATURES: dict[str, tuple] = {
    # activations
    "relu6": ("input", _INPLACE),
    "hardswish": ("input", _INPLACE),
    "hardsigmoid": ("input", _INPLACE),
    "mish": ("input", _INPLACE),
    "selu": ("input", _INPLACE),
    "celu": ("input", ("alpha", 1.0), _INPLACE),
    "softplus": ("input", ("beta", 1.0), ("threshold", 20.0)),
    "hardtanh": ("input", ("min_val", -1.0), ("max_val", 1.0), _INPLACE),
    "abs": ("input",),
    # regularisation
    "dropout1d": ("input", ("p", 0.5), ("training", True), _INPLACE),
    "dropout2d": ("input", ("p", 0.5), ("training", True), _INPLACE),
    "dropout3d": ("input", ("p", 0.5), ("training", True), _INPLACE),
    "alpha_dropout": ("input", ("p", 0.5), ("training", False), _INPLACE),
    "stochastic_depth": ("input", "p", ("mode", "row"), ("training", True)),
    # normalisation, resampling
    "layer_norm": ("input", "normalized_shape", ("weight", None), ("bias", None),
                   ("eps", 1e-5)),
    "interpolate": ("input", ("size", None), ("scale_factor", None), ("mode", "nearest"),
                    ("align_corners", None), ("recompute_scale_factor", None),
                    ("antialias", False)),
    "pad": ("input", "pad", ("mode", "constant"), ("value", None)),
    "pixel_shuffle": ("input", "upscale_factor"),
    "pixel_unshuffle": ("input", "downscale_factor"),
    # arithmetic
    "sub": ("input", "other", ("alpha", 1)),
    "rsub": ("input", "other", ("alpha", 1)),
    "div": ("input", "other", ("rounding_mode", None)),
    "neg": ("input",),
    "matmul": ("input", "other"),
    "bmm": ("input", "other"),
    # plumbing
    "transpose": ("input", "dim0", "dim1"),
    "chunk": ("input", "chunks", ("dim", 0)),
    "split": ("input", "split_size_or_sections", ("dim", 0)),
    "select": ("input", "dim", "index"),
    "narrow": ("input", "dim", "start", "length"),
    "unflatten": ("input", "dim", "sizes"),
    "expand_as": ("input", "other"),
}

MORE_ALIASES = {
    "relu6_": "relu6", "absolute": "abs", "abs_": "abs", "hardswish_": "hardswish", "hardsigmoid_": "hardsigmoid",
    "selu_": "selu", "celu_": "celu", "hardtanh_": "hardtanh", "subtract": "sub", "sub_": "sub", "true_divide": "div",
    "divide": "div", "div_": "div", "negative": "neg", "swapaxes": "transpose",
    "swapdims": "transpose", "upsample": "interpolate",
}
