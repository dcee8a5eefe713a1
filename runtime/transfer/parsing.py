"""Reading what people type for an import: input shapes and constructor arguments.

One rule for the CLI and the Import dialog, the permissive one: a shape is the batch
size then one example's shape, as whole numbers separated by commas, ``x``/``\u00d7`` or
spaces, optionally in parentheses or brackets (``1,3,32,32``, ``1x3x32x32``,
``(1, 3, 32, 32)``). Arguments are Python literals; a bare word is a string.
"""

from __future__ import annotations

import ast
import re

from graph.errors import StrataError

_SEPARATORS = re.compile(r"[,x\u00d7\s]+")


def parse_shape(text: str) -> tuple[int, ...]:
    """``1,3,32,32`` (or ``1x3x32x32``, ``(1, 3, 32, 32)``) -> a shape, batch first."""
    cleaned = text.strip().strip("()[]").strip().lower()
    parts = [p for p in _SEPARATORS.split(cleaned) if p]
    bad = next((p for p in parts if not p.lstrip("-").isdigit()), None)
    if bad is not None:
        raise StrataError(f"An input shape is whole numbers, batch first, like 1,3,32,32; "
                          f"\u201c{bad}\u201d in \u201c{text}\u201d is not one")
    dims = tuple(int(p) for p in parts)
    if len(dims) < 2:
        raise StrataError(f"An input shape is the batch size then one example's shape, "
                          f"at least two numbers like 1,784; got \u201c{text}\u201d")
    if min(dims) < 1:
        raise StrataError(f"Every size in an input shape must be at least 1; got "
                          f"\u201c{text}\u201d")
    return dims


def parse_arguments(text: str) -> dict:
    """``hidden=32, classes=10`` -> keyword arguments (Python literals; bare words are
    strings)."""
    text = text.strip()
    if not text:
        return {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        call = None
    if not isinstance(call, ast.Call) or call.args or any(k.arg is None
                                                         for k in call.keywords):
        raise StrataError(f"Arguments are NAME=VALUE pairs separated by commas, like "
                          f"hidden=32, classes=10; got \u201c{text}\u201d")
    out = {}
    for keyword in call.keywords:
        try:
            out[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            if isinstance(keyword.value, ast.Name):
                out[keyword.arg] = keyword.value.id  # a bare word is a string
            else:
                raise StrataError(f"The argument {keyword.arg} must be a plain value "
                                  f"(number, string, list...), got "
                                  f"\u201c{ast.unparse(keyword.value)}\u201d") from None
    return out


def parse_argument(text: str) -> tuple[str, object]:
    """One ``NAME=VALUE`` (the CLI's ``--arg``): a Python literal, else the text itself,
    so paths and words need no quotes in a shell."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not name.isidentifier():
        raise StrataError(f"--arg expects NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value.strip())
    except (ValueError, SyntaxError):
        return name, value  # a bare word or path is a string
