"""User text inside generated Python, and the check every generated file passes.

Generated files (the model module, ``train.py``, ``sweep.py``) carry user strings: the
network's name and description, labels, file and folder names. Each one goes through
one of two functions, by where it lands:

- ``py_string(text)``: a string literal (a path, a column name). Always a valid literal,
  in double quotes as ``ruff format`` writes them; characters that are not printable
  are escaped, so a file name holding a newline or NUL stays one literal.
- ``prose(text)``: text inside a docstring or after ``#``. Control, zero-width and
  other unprintable characters become spaces and runs of spaces one space, so the text
  cannot end the line; a backslash becomes ``/`` (``\\N`` in a docstring is a syntax
  error) and ``\"\"\"`` becomes ``'''`` (it would close the docstring: a CSV named
  ``x\"\"\";import os;...`` ran code on ``python train.py --help``).

``write_source`` parses the text with ``ast.parse`` before writing it: a generated file
that is not valid Python is an error and never a file.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

from .atomic import write_atomic
from .errors import StrataError

_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def py_string(text: str) -> str:
    """``text`` as a Python string literal that evaluates back to ``text``.

    Quoted as ``ruff format`` quotes: double quotes, unless the text holds more double
    than single quotes. Unprintable characters (controls, NUL, zero-width, line
    separators, lone surrogates) are written as escapes.
    """
    quote = "'" if text.count('"') > text.count("'") else '"'
    out = []
    for ch in text:
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ch == quote:
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else
                       f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return quote + "".join(out) + quote


def prose(text: str) -> str:
    """``text`` made safe inside a triple-quoted docstring or a ``#`` comment: one line,
    no leading or trailing space, nothing that could end the string or the line."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    text = " ".join(text.split())
    return text.replace("\\", "/").replace('"""', "'''")


def docstring_start(text: str) -> str:
    """The first line of a docstring: as the formatter writes it, a quote right after
    the opening quotes is set apart by a space."""
    return " " + text if text.startswith('"') else text


class GeneratedCodeError(StrataError):
    """Generated text is not valid Python: a bug in Strata, reported, never written."""


def check_source(source: str, what: str) -> None:
    """Raise GeneratedCodeError unless ``source`` parses as Python."""
    try:
        ast.parse(source)
    except (SyntaxError, ValueError) as e:  # ValueError: a NUL byte in the source
        line = e.lineno if isinstance(e, SyntaxError) else None
        where = f" (line {line}: {e.msg})" if isinstance(e, SyntaxError) and line \
            else f" ({e})"
        raise GeneratedCodeError(
            f"the generated {what} is not valid Python{where}; nothing was written. "
            "This is a bug in Strata: please report it with the network file."
        ) from None


def write_source(path: str | os.PathLike[str], source: str, what: str | None = None) -> Path:
    """Check ``source`` with ``ast.parse``, then write it atomically."""
    path = Path(path)
    check_source(source, what or path.name)
    write_atomic(path, source.encode("utf-8"))
    return path
