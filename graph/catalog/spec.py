"""The declaration of a layer type: parameters, ports, shape rule, module and code.

One frozen ``LayerSpec`` per layer type is everything Strata knows about it. The palette,
the inspector, validation, shape inference and code generation all read it; adding a layer
type means writing one declaration in one of the ``layers_*`` modules.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import ParamError, ShapeError
from .tensors import TensorInfo

BATCH = "N"
# No size, count or index in a network comes near this; anything larger is a typo or a
# hostile file (and would make torch allocate without end).
MAX_INT = 2**31 - 1


@dataclass(frozen=True)
class ParamSpec:
    """One user-editable parameter.

    kind: ``int``, ``float``, ``bool``, ``choice``, ``ints`` (a tuple of ints; with
    ``length`` set a single int is accepted and repeated) or ``str``.
    """

    name: str
    kind: str
    default: Any
    help: str = ""
    min: float | None = None
    max: float | None = None
    max_exclusive: bool = False
    choices: tuple[str, ...] = ()
    length: int | None = None
    optional: bool = False  # None is a valid value ("same as kernel size", ...)
    key: bool = False  # shown on the node card

    def check(self, value: Any) -> Any:
        """Return ``value`` normalised, or raise ParamError saying what was expected."""
        if value is None:
            if self.optional:
                return None
            raise ParamError(self._refuse("a value", value))
        kind = self.kind
        if kind == "bool":
            if isinstance(value, bool):
                return value
            raise ParamError(self._refuse("true or false", value))
        if kind == "choice":
            if value in self.choices:
                return value
            raise ParamError(self._refuse("one of " + ", ".join(self.choices), value))
        if kind == "str":
            if isinstance(value, str):
                return value
            raise ParamError(self._refuse("text", value))
        if kind == "int":
            if isinstance(value, bool) or not isinstance(value, int):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise ParamError(self._refuse(self._range_words("an integer"), value))
            self._check_range(value, "an integer")
            return value
        if kind == "float":
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ParamError(self._refuse(self._range_words("a number"), value))
            value = float(value)
            if not math.isfinite(value):
                raise ParamError(self._refuse(self._range_words("a finite number"), value))
            self._check_range(value, "a number")
            return value
        if kind == "ints":
            return self._check_ints(value)
        raise ParamError(f"`{self.name}` has an unknown kind {kind!r}")  # pragma: no cover

    def _check_ints(self, value: Any) -> tuple[int, ...] | int:
        what = (
            f"an integer or {self.length} integers" if self.length else "a list of integers"
        )
        if isinstance(value, int) and not isinstance(value, bool):
            if self.length is None:
                raise ParamError(self._refuse(self._range_words(what), value))
            self._check_range(value, what)
            return value
        if (not isinstance(value, (list, tuple)) or not value
                or (self.length is not None and len(value) != self.length)
                or any(isinstance(v, bool) or not isinstance(v, int) for v in value)):
            raise ParamError(self._refuse(self._range_words(what), value))
        for item in value:
            self._check_range(item, what, shown=value)
        return tuple(value)

    def _range_words(self, what: str) -> str:
        if self.min is not None and self.max is not None:
            if self.max_exclusive:
                return f"{what} from {_num(self.min)} up to (not including) {_num(self.max)}"
            return f"{what} from {_num(self.min)} to {_num(self.max)}"
        if self.min is not None:
            return f"{what} >= {_num(self.min)}"
        if self.max is not None:
            return f"{what} <= {_num(self.max)}"
        return what

    def _check_range(self, value: float, what: str, shown: Any = None) -> None:
        """Refuse ``value`` outside the range; the message shows ``shown`` (the whole
        list when ``value`` is one of its items)."""
        shown = value if shown is None else shown
        if self.max is None and self.kind in ("int", "ints") and value > MAX_INT:
            raise ParamError(self._refuse(
                f"{self._range_words(what)} and at most {MAX_INT}", shown))
        low = self.min is not None and value < self.min
        high = self.max is not None and (
            value >= self.max if self.max_exclusive else value > self.max
        )
        if low or high:
            raise ParamError(self._refuse(self._range_words(what), shown))

    def _refuse(self, expected: str, value: Any) -> str:
        shown = repr(value)
        if len(shown) > 60:  # a hostile file may hold a megabyte here
            shown = shown[:57] + "..."
        return (
            f"Received an invalid value for `{self.name}`, expected {expected}. "
            f"Received: {self.name}={shown}"
        )


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


SHARES = ParamSpec(
    "shares", "str", None, "Label of another layer whose weights this one uses (a "
    "Siamese tower used twice; a Linear tied to an Embedding); empty: its own weights.",
    optional=True)


@dataclass(frozen=True)
class PortSpec:
    """An input or output port. A variadic input expands into ``in1``..``inK`` where K is
    the node's ``inputs`` parameter, so every port still takes exactly one wire."""

    name: str
    variadic: bool = False
    optional: bool = False


@dataclass
class Inferred:
    """What a shape rule returns: output tensors and values inferred from the inputs
    (``in_features``, ``num_features``...), which the module is built with."""

    outputs: list[TensorInfo]
    values: dict[str, Any] = field(default_factory=dict)


ShapeRule = Callable[["ShapeContext"], Inferred]


@dataclass
class ShapeContext:
    """Handed to a shape rule: the node's parameters, its incoming tensors, and ``fail``
    to explain a mismatch in the layer's own terms."""

    name: str  # "Linear 'fc'"
    params: dict[str, Any]
    inputs: list[TensorInfo]
    label: str = ""  # the node's label (or id): how a block names its path, "stage2 > ..."

    @property
    def x(self) -> TensorInfo:
        return self.inputs[0]

    def fail(self, message: str, hint: str = "") -> ShapeError:
        return ShapeError(f"{self.name} {message}", hint)

    def expect_float(self) -> None:
        for t in self.inputs:
            if t.dtype != "float":
                raise self.fail(
                    f"receives integer token ids {t}",
                    "insert an Embedding to turn token ids into vectors",
                )

    def expect_rank(self, ranks: tuple[int, ...], layout: str, hint: str = "") -> None:
        x = self.x
        if x.rank not in ranks or x.shape[0] != BATCH:
            raise self.fail(f"needs input shaped {layout} but receives {x}", hint)


@dataclass(frozen=True)
class LayerSpec:
    """Everything Strata knows about one layer type."""

    type: str
    display_name: str
    category: str
    help: str
    shape_rule: ShapeRule
    params: tuple[ParamSpec, ...] = ()
    inputs: tuple[PortSpec, ...] = (PortSpec("in"),)
    outputs: tuple[PortSpec, ...] = (PortSpec("out"),)
    # Code: ``module`` is the constructor (``nn.Linear``) or None for a pure expression;
    # ``module_args`` returns its arguments (the first ``positional`` are written
    # positionally); ``expression`` is the forward expression, formatted with ``m``
    # (the submodule, ``self.fc``), ``x`` (first input), ``x1``.., ``xs`` (all inputs,
    # comma separated) and the parameter and inferred values by name.
    module: str | None = None
    module_args: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    positional: int = 0
    expression: str | Callable[[dict[str, Any]], str] = "{m}({x})"
    # A parameter-free layer the exported code calls as a function instead
    # (``torch.relu({x})``), formatted like ``expression``: a module call costs more
    # than the operation on a small network. ``module`` stays its observable form.
    function: str | None = None
    macs: Callable[[dict[str, Any], list[TensorInfo], list[TensorInfo]], int] | None = None
    # Trainable parameters of the module, from the checked parameters and inferred
    # values (``in_features``...): plain arithmetic, so a summary, the inspector and the
    # memory estimate need no torch and no allocation. None: the layer has none. A test
    # holds each rule to the module torch builds.
    param_count: Callable[[dict[str, Any]], int] | None = None
    default_label: str = ""
    version: int = 1
    legacy_types: tuple[str, ...] = ()
    # Pure plumbing (Identity, Permute, Slice, ScaleShift...): drawn as a small card.
    compact: bool = False
    # Learned tensors that the ``init`` parameter initialises (see ``catalog.init``);
    # empty for layers without weights.
    init_weights: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.default_label:
            object.__setattr__(self, "default_label", _snake(self.type))
        if self.param_count is not None and not any(p.name == "shares" for p in self.params):
            # Every layer with weights can use another layer's instead (graph.sharing).
            object.__setattr__(self, "params", (*self.params, SHARES))

    # ----------------------------------------------------------------- params
    def param(self, name: str) -> ParamSpec:
        for p in self.params:
            if p.name == name:
                return p
        raise ParamError(f"{self.display_name} has no parameter `{name}`")

    def default_params(self) -> dict[str, Any]:
        return {p.name: _plain(p.default) for p in self.params}

    def check_params(self, params: dict[str, Any]) -> dict[str, Any]:
        """All parameters normalised, or ParamError for the first bad one."""
        return {p.name: p.check(params.get(p.name, p.default)) for p in self.params}

    def expression_for(self, params: dict[str, Any]) -> str:
        e = self.expression
        return e(params) if callable(e) else e

    @property
    def key_params(self) -> tuple[ParamSpec, ...]:
        return tuple(p for p in self.params if p.key)

    # ----------------------------------------------------------------- ports
    def input_names(self, params: dict[str, Any]) -> list[str]:
        names: list[str] = []
        for port in self.inputs:
            if port.variadic:
                names.extend(f"{port.name}{i}" for i in range(1, self.port_count(params) + 1))
            else:
                names.append(port.name)
        return names

    def port_count(self, params: dict[str, Any]) -> int:
        """How many ports a variadic input expands to: the ``inputs`` parameter when it
        is valid, else its default (a file saying 10**9 must not make 10**9 ports)."""
        spec = next((p for p in self.params if p.name == "inputs"), None)
        default = spec.default if spec else 2
        count = params.get("inputs", default)
        try:
            return spec.check(count) if spec else default
        except ParamError:
            return default

    def output_names(self, params: dict[str, Any]) -> list[str]:
        return [p.name for p in self.outputs]

    @property
    def is_source(self) -> bool:
        return not self.inputs

    @property
    def is_sink(self) -> bool:
        return not self.outputs


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (
            i + 1 < len(name) and name[i + 1].islower()
        )):
            out.append("_")
        out.append(ch.lower())
    return "".join(out)
