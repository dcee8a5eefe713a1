"""The layer catalog: every layer type Strata offers, declared once as a LayerSpec.

``get_spec("Linear")`` returns the declaration; ``all_specs()`` lists them in palette
order (grouped by category). Renamed types stay loadable through ``legacy_types``.
"""

from __future__ import annotations

from ..errors import StrataError
from . import (
    layers_activation,
    layers_block,
    layers_conv,
    layers_dense,
    layers_io,
    layers_merge,
    layers_norm,
    layers_plumbing,
    layers_pooling,
    layers_regularization,
    layers_resample,
    layers_sequence,
)
from .spec import BATCH, Inferred, LayerSpec, ParamSpec, PortSpec, ShapeContext
from .tensors import TensorInfo

CATEGORIES = (
    "Input / Output", "Dense", "Convolution", "Pooling", "Normalization", "Activation",
    "Regularization", "Reshape", "Merge", "Sequence", "Attention", "Blocks",
)

_SPECS: dict[str, LayerSpec] = {}
_LEGACY: dict[str, str] = {}


def register(spec: LayerSpec) -> LayerSpec:
    """Add a layer type (plugins may call this too)."""
    if spec.type in _SPECS:
        raise StrataError(f"layer type '{spec.type}' is declared twice")
    if spec.category not in CATEGORIES:
        raise StrataError(f"layer type '{spec.type}' has unknown category {spec.category!r}")
    _SPECS[spec.type] = spec
    for old in spec.legacy_types:
        _LEGACY[old] = spec.type
    return spec


for _module in (layers_io, layers_dense, layers_conv, layers_pooling, layers_resample,
                layers_norm, layers_activation, layers_regularization, layers_plumbing,
                layers_sequence, layers_merge, layers_block):
    for _spec in _module.SPECS:
        register(_spec)


def canonical_type(type_name: str) -> str:
    return _LEGACY.get(type_name, type_name)


def has_spec(type_name: str) -> bool:
    return canonical_type(type_name) in _SPECS


def get_spec(type_name: str) -> LayerSpec:
    try:
        return _SPECS[canonical_type(type_name)]
    except KeyError:
        raise StrataError(f"unknown layer type '{type_name}'") from None


def all_specs() -> list[LayerSpec]:
    """Every layer type, grouped by category in palette order."""
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(_SPECS.values(), key=lambda s: order[s.category])


__all__ = [
    "BATCH", "CATEGORIES", "Inferred", "LayerSpec", "ParamSpec", "PortSpec",
    "ShapeContext", "TensorInfo", "all_specs", "canonical_type", "get_spec", "has_spec",
    "register",
]
