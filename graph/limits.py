"""The limits of a network, declared once.

The file reader (``graph.fileformat``) enforces them on every file, ``save`` checks that
what it writes would load, and every edit enters the document through a ``Document``
method that asks the same checks first, so the studio's inspector refuses an over-long
label with the reason instead of saving a file that File > Open then refuses. Each check
returns the reason in the user's words, or raises ``DocumentError`` with the JSON path.
"""

from __future__ import annotations

import math
from typing import Any

from .errors import DocumentError

MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_NODES = 100_000
MAX_NAME = 1_000  # the network's name
MAX_DESCRIPTION = 100_000
MAX_ID = 200  # node ids, layer types, port names
MAX_LABEL = 200
MAX_KEY = 200  # parameter names and keys of settings
MAX_TEXT = 10_000  # a text value in parameters or settings
MAX_DEPTH = 8  # nesting of lists and objects in parameters or settings
MAX_ITEMS = 10_000  # entries of one list or object
MAX_COORDINATE = 1e12  # canvas positions, exclusive
MAX_INT = 2**63  # larger numbers are no network's sizes: a corrupt or hostile file


def text_problem(value: Any, limit: int) -> str | None:
    """Why ``value`` cannot be stored as a text of at most ``limit`` characters."""
    if not isinstance(value, str):
        return f"expected text, found {type(value).__name__}"
    if len(value) > limit:
        return f"text is longer than {limit:,} characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # "\ud800": half a character, which JSON cannot hold
        return "text is not valid Unicode"
    return None


def check_text(value: Any, where: str, limit: int) -> str:
    problem = text_problem(value, limit)
    if problem is not None:
        raise DocumentError(problem, where)
    return value


def check_value(value: Any, where: str, depth: int = 0, limit: int = MAX_TEXT) -> None:
    """Parameters and settings hold only small, finite JSON values."""
    if depth > MAX_DEPTH:
        raise DocumentError("value is nested too deeply", where)
    if isinstance(value, float) and not math.isfinite(value):
        raise DocumentError("numbers must be finite", where)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise DocumentError("number is too large", where)
    if isinstance(value, str):
        check_text(value, where, limit)
    elif isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            raise DocumentError("list is too long", where)
        for i, item in enumerate(value):
            check_value(item, f"{where}[{i}]", depth + 1)
    elif isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise DocumentError("object has too many entries", where)
        for key, item in value.items():
            check_value(key, where, depth + 1, limit=MAX_KEY)
            check_value(item, f"{where}.{shown(str(key), quote=False)}", depth + 1)
    elif value is not None and not isinstance(value, (bool, int, float)):
        raise DocumentError(f"unexpected value of type {type(value).__name__}", where)


def position_problem(position: Any) -> str | None:
    if (not isinstance(position, (list, tuple)) or len(position) != 2 or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(v) and abs(v) < MAX_COORDINATE for v in position)):
        return "a position must be two finite numbers [x, y] (canvas coordinates)"
    return None


def clamp_position(position: tuple[float, float]) -> tuple[float, float]:
    """A canvas position the file can hold: a drag never fails, it stops at the edge."""
    edge = MAX_COORDINATE / 2

    def one(v: float) -> float:
        v = float(v)
        return 0.0 if not math.isfinite(v) else max(-edge, min(edge, v))

    return one(position[0]), one(position[1])


# ---------------------------------------------------------------- edits, in words
def _text_field_problem(text: Any, limit: int, field: str) -> str | None:
    """Why ``text`` cannot be this field of the file (None: it can): too long, said
    with both lengths, or what ``text_problem`` finds."""
    problem = text_problem(text, limit)
    if problem is None:
        return None
    if isinstance(text, str) and len(text) > limit:
        return (f"{field.capitalize()} may be at most {limit:,} characters; this one "
                f"has {len(text):,}.")
    return f"This {field.split()[-1]} cannot be saved: {problem}."


def label_problem(label: Any) -> str | None:
    """Why a layer cannot take this label (None: it can)."""
    return _text_field_problem(label, MAX_LABEL, "a label")


def name_problem(name: Any) -> str | None:
    return _text_field_problem(name, MAX_NAME, "a network name")


def description_problem(text: Any) -> str | None:
    return _text_field_problem(text, MAX_DESCRIPTION, "a description")


def value_problem(value: Any) -> str | None:
    """Why a parameter or setting value cannot be stored (None: it can)."""
    try:
        check_value(value, "$")
    except DocumentError as e:
        return f"This value cannot be saved: {e.message}."
    return None


def shown(text: str, quote: bool = True) -> str:
    """File text as a message may show it: one line, at most 80 characters."""
    text = text[:80]
    if text.isprintable() and "'" not in text:
        return f"'{text}'" if quote else text
    return repr(text)
