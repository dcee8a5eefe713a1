"""The importer's working vocabulary: layers found so far and values flowing between them.

Walking the traced fx graph, every node gets a value: ``Data`` (a tensor some layer
produced, the only thing that may flow along a Strata wire) or ``Meta`` (everything
else forward computes on the side: sizes, devices, zero initial states, position
indices, the tuple an LSTM returns before it is indexed). Layers are ``Op`` records;
rules refuse what they cannot map by raising ``Refused`` with the reason in the user's
terms, and the walk records it against the fx node instead of stopping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .problems import Unmapped


class Refused(Exception):
    """A rule cannot map this node; ``reason`` says why, for the user."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass
class Op:
    """One future node of the document."""

    type: str | None  # catalog layer type; None marks an operation that was refused
    params: dict[str, Any]
    inputs: list[int]  # ops feeding the input ports, in port order
    node: Any  # the fx node whose value this op produces
    label: str = ""  # "" -> the layer type's default label
    module: Any = None  # the user's module (weights, reuse check)
    source: str = ""  # attribute path of that module or tensor ("layer1.0.conv1")
    weights: Callable[[], dict[str, Any]] | None = None  # the Strata module's state_dict
    expect: dict[str, Any] = field(default_factory=dict)  # inferred values to confirm
    error: Unmapped | None = None
    tag: dict[str, Any] = field(default_factory=dict)  # pattern bookkeeping
    anonymous: bool = False  # made by code in forward, not by a module


@dataclass(frozen=True)
class Data:
    """A tensor produced by op number ``op``."""

    op: int


@dataclass(frozen=True)
class Meta:
    """A non-layer value; ``what`` names it in messages ("the sizes of x")."""

    kind: str
    what: str
    info: tuple = ()

    def get(self, key: str, default: Any = None) -> Any:
        return dict(self.info).get(key, default)


def meta(kind: str, what: str, **info: Any) -> Meta:
    return Meta(kind, what, tuple(info.items()))


def bind(name: str, args: tuple, kwargs: dict, spec: tuple) -> dict[str, Any]:
    """Match a call's arguments to ``spec`` (names, or (name, default) pairs)."""
    bound: dict[str, Any] = {}
    names = []
    for item in spec:
        key, default = (item, _REQUIRED) if isinstance(item, str) else item
        names.append(key)
        bound[key] = default
    if len(args) > len(names):
        raise Refused(f"{name} is called with {len(args)} arguments; "
                      f"Strata knows the form {name}({', '.join(names)})")
    for key, value in zip(names, args):
        bound[key] = value
    for key, value in kwargs.items():
        if key not in bound:
            raise Refused(f"{name} is called with the argument `{key}`, which Strata "
                          "does not map")
        bound[key] = value
    missing = [k for k, v in bound.items() if v is _REQUIRED]
    if missing:
        raise Refused(f"{name} is called without `{missing[0]}`")
    return bound


class _Required:
    def __repr__(self) -> str:
        return "<required>"


_REQUIRED = _Required()


def ints(value: Any, n: int) -> list[int]:
    """``3`` or ``(3, 3)`` -> ``[3, 3]`` (module attributes come either way)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return [value] * n
    if not isinstance(value, (tuple, list)) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise Refused(f"has the size {value!r} where Strata expects {n} integer(s)")
    out = list(value)
    if len(out) == 1 and n > 1:
        out = out * n
    return out
