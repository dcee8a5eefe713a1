"""Derived block parameters: a value computed from the block's exposed parameters and
its input, written into inner layers like an exposed parameter's value.

MobileNetV2's inverted residual widens its input by an expansion factor: the hidden
width is ``in_channels * expand_ratio``, not a number of its own. A ``DerivedParam``
says so: ``DerivedParam("hidden_channels", "in_channels * expand_ratio", targets)``.
Each use of the block evaluates the expression with the instance's exposed values and
the tensor its first input receives (``in_channels``: its dimension 1, ``in_features``:
its last one), and writes the result into every target before the body is analysed.
The generated class computes it once, as a careful person writes it::

    def __init__(self, in_channels: int, channels: int, expand_ratio: int = 6) -> None:
        super().__init__()
        hidden_channels = in_channels * expand_ratio
        self.expand = nn.Conv2d(in_channels, hidden_channels, 1, bias=False)

An expression is integer arithmetic only (``+ - * //``, parentheses, whole numbers and
the names above), checked when it is set and evaluated without ``eval``.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import StrataError

INPUT_NAMES = ("in_channels", "in_features")  # what the expression may read of the input
_OPS = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b,
        ast.Mult: lambda a, b: a * b, ast.FloorDiv: lambda a, b: a // b}


@dataclass
class DerivedParam:
    """A value of the block computed by ``expression``, written into each target."""

    name: str
    expression: str
    targets: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""

    def names(self) -> set[str]:
        """The names the expression reads."""
        return {n.id for n in ast.walk(_parse(self.expression)) if isinstance(n, ast.Name)}

    def uses_input(self) -> list[str]:
        return [n for n in INPUT_NAMES if n in self.names()]


def check_expression(expression: str, known: Iterable[str]) -> None:
    """Refuses an expression that is not integer arithmetic over ``known`` names and
    the input's ``in_channels``/``in_features``, saying what is wrong."""
    tree = _parse(expression)
    allowed = set(known) | set(INPUT_NAMES)
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in allowed:
            raise StrataError(f"`{expression}` reads `{node.id}`, which is neither a "
                              f"parameter of the block nor the input's in_channels or "
                              "in_features")


def evaluate(derived: DerivedParam, values: Mapping[str, Any], inputs: tuple) -> int:
    """The value of ``derived`` for exposed ``values`` and input tensors ``inputs``."""
    env = dict(values)
    env.update(input_values(inputs))
    return int(_eval(_parse(derived.expression).body, env, derived))


def input_values(inputs: tuple) -> dict[str, int]:
    """``in_channels`` and ``in_features`` of the first input tensor (where known)."""
    if not inputs or inputs[0] is None:
        return {}
    shape = inputs[0].shape
    out = {}
    if len(shape) >= 2 and isinstance(shape[1], int):
        out["in_channels"] = shape[1]
    if len(shape) >= 2 and isinstance(shape[-1], int):
        out["in_features"] = shape[-1]
    return out


def code_text(expression: str) -> str:
    """The expression as the generated code writes it (normalised spacing)."""
    return ast.unparse(_parse(expression))


def _parse(expression: str) -> ast.Expression:
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        raise StrataError(f"`{expression}` is not an expression: write e.g. "
                          "in_channels * expand_ratio") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Name, ast.Load, ast.BinOp,
                             *_OPS)):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, int) \
                and not isinstance(node.value, bool):
            continue
        raise StrataError(f"`{expression}` may only use whole numbers, parameter names, "
                          "+, -, * and // (and parentheses)")
    return tree


def _eval(node: ast.AST, env: Mapping[str, Any], derived: DerivedParam) -> int:
    if isinstance(node, ast.Constant):
        assert isinstance(node.value, int)  # _parse allows whole numbers only
        return node.value
    if isinstance(node, ast.Name):
        if node.id not in env:
            raise StrataError(f"`{derived.name} = {derived.expression}` needs `{node.id}`, "
                              "which is not known here")
        value = env[node.id]
        if isinstance(value, bool) or not isinstance(value, int):
            raise StrataError(f"`{derived.name} = {derived.expression}`: `{node.id}` is "
                              f"{value!r}, expected a whole number")
        return value
    assert isinstance(node, ast.BinOp)
    left, right = _eval(node.left, env, derived), _eval(node.right, env, derived)
    if isinstance(node.op, ast.FloorDiv) and right == 0:
        raise StrataError(f"`{derived.name} = {derived.expression}` divides by zero")
    return _OPS[type(node.op)](left, right)


__all__ = ["INPUT_NAMES", "DerivedParam", "check_expression", "code_text", "evaluate",
           "input_values"]
