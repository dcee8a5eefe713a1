"""Line splitting for generated code, the way ``ruff format`` (and black) lay it out.

The code generator writes each statement as one logical line; ``format_statement`` splits
a line longer than 88 columns exactly where the formatter would, so exported code passes
``ruff format --check`` untouched and no formatter is needed at run time.

It follows black's algorithm (right-hand split at the last bracket pair, optional
parentheses around right-hand sides, delimiter split at commas and operators, collections
exploded one item per line) for the small subset of Python that Strata generates: names,
attributes, calls, subscripts, ``+`` and ``*``, lists, tuples and literals, in assignments,
``return`` statements and the ``forward`` signature. A test sweeps identifier lengths
against the real ``ruff format``.
"""

from __future__ import annotations

from .lines import INDENT, LINE_LENGTH
from .split import split_line
from .tokens import number_literal, statement_line

__all__ = ["INDENT", "LINE_LENGTH", "format_statement", "number_literal"]


def format_statement(code: str, level: int) -> list[str]:
    """``code`` (one statement) laid out at indentation ``level``, as lines.

    ``code`` must be written the way the formatter spaces it (the code generator's
    templates are): a statement that fits is returned as it is.
    """
    if len(INDENT) * level + len(code) <= LINE_LENGTH:
        return [INDENT * level + code]
    try:
        line = statement_line(code, level)
    except TypeError:
        # Syntax outside the subset (a new layer's template): valid code on one long
        # line beats no code; the ruff sweep in the tests flags it for support.
        return [INDENT * level + code]
    return [str(x) for x in split_line(line)]
