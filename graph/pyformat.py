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

import ast
import json
from collections.abc import Iterator

LINE_LENGTH = 88
INDENT = "    "

COMMA_PRIORITY = 18
MATH_PRIORITIES = {"+": 5, "-": 5, "*": 4, "/": 4, "//": 4, "%": 4, "@": 4}
DOT_PRIORITY = 1

OPENING = {"(", "["}
EQUALS = {"=", "kw="}  # black's token.EQUAL covers assignments and keywords
CLOSING = {")", "]"}


class CannotSplit(Exception):
    pass


class _Leaf:
    """One token. ``value`` is empty for invisible parentheses until they are needed."""

    __slots__ = ("kind", "opening", "parent", "prefix", "value")

    def __init__(self, kind: str, value: str, parent: str = "") -> None:
        self.kind = kind  # "name", "num", "str", "(", ")", "[", "]", ",", ".", "=",
        # "kw=", ":", "op", "unary", "->", "keyword"
        self.value = value
        self.parent = parent  # for brackets: "trailer", "atom" or "parameters"
        self.opening: _Leaf | None = None  # for closing brackets: the matching opening
        self.prefix = ""

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<{self.kind} {self.value!r}>"


class _Line:
    def __init__(self, depth: int, inside_brackets: bool = False, is_def: bool = False):
        self.depth = depth
        self.inside_brackets = inside_brackets
        self.is_def = is_def
        self.leaves: list[_Leaf] = []
        self.should_split_rhs = False
        self.delimiters: dict[int, int] = {}  # id(leaf) -> priority, depth 0 only
        self.leaf_depth: dict[int, int] = {}
        self.invisible: list[_Leaf] = []
        self._bracket_depth = 0
        self._previous: _Leaf | None = None

    # ------------------------------------------------------------------ building
    def append(self, leaf: _Leaf, track: bool = True) -> None:
        self.leaves.append(leaf)
        if track:
            self._mark(leaf)

    def _mark(self, leaf: _Leaf) -> None:
        if leaf.kind in CLOSING:
            if self._bracket_depth == 0:
                return  # its opening bracket is on an earlier line
            self._bracket_depth -= 1
            if not leaf.value:
                self.invisible.append(leaf)
        self.leaf_depth[id(leaf)] = self._bracket_depth
        if self._bracket_depth == 0:
            before = _split_before_priority(leaf, self._previous)
            if before and self._previous is not None:
                self.delimiters[id(self._previous)] = before
            elif leaf.kind == ",":
                self.delimiters[id(leaf)] = COMMA_PRIORITY
        if leaf.kind in OPENING:
            self._bracket_depth += 1
            if not leaf.value:
                self.invisible.append(leaf)
        self._previous = leaf

    # ------------------------------------------------------------------ reading
    def __str__(self) -> str:
        if not self.leaves:
            return ""
        first, *rest = self.leaves
        return INDENT * self.depth + first.value + "".join(
            leaf.prefix + leaf.value for leaf in rest
        )

    def __bool__(self) -> bool:
        return bool(self.leaves)

    def fits(self) -> bool:
        return len(str(self)) <= LINE_LENGTH

    def max_priority(self, exclude: frozenset[int] = frozenset()) -> int:
        values = [p for k, p in self.delimiters.items() if k not in exclude]
        if not values:
            raise CannotSplit("no delimiters")
        return max(values)

    def count_priority(self, priority: int) -> int:
        return sum(1 for p in self.delimiters.values() if p == priority)

    @property
    def magic_trailing_comma(self) -> bool:
        """A comma right before a closing bracket forces a split (one-tuples aside)."""
        for i, leaf in enumerate(self.leaves):
            if leaf.kind not in CLOSING or not i or self.leaves[i - 1].kind != ",":
                continue
            if leaf.kind == ")" and leaf.parent == "atom" and leaf.opening in self.leaves:
                start = self.leaves.index(leaf.opening)
                level, commas = 0, 0
                for x in self.leaves[start + 1 : i]:
                    level += (x.kind in OPENING) - (x.kind in CLOSING)
                    commas += x.kind == "," and level == 0
                if commas == 1:
                    continue
            return True
        return False

    def lengths(self, reverse: bool = False) -> Iterator[tuple[int, _Leaf, int]]:
        items = list(enumerate(self.leaves))
        if reverse:
            items.reverse()
        for i, leaf in items:
            yield i, leaf, len(leaf.prefix) + len(leaf.value)


def _split_before_priority(leaf: _Leaf, previous: _Leaf | None) -> int:
    if leaf.kind == "." and (previous is None or previous.kind in CLOSING):
        return DOT_PRIORITY
    if leaf.kind == "op":
        return MATH_PRIORITIES.get(leaf.value, 0)
    return 0


# ---------------------------------------------------------------------- tokens
class _Tokens:
    """Turns a parsed statement into leaves with black's spacing."""

    def __init__(self) -> None:
        self.leaves: list[_Leaf] = []
        self._stack: list[_Leaf] = []

    def add(self, kind: str, value: str, parent: str = "") -> _Leaf:
        leaf = _Leaf(kind, value, parent)
        prev = self.leaves[-1] if self.leaves else None
        leaf.prefix = _space(prev, leaf)
        if kind in OPENING:
            self._stack.append(leaf)
        elif kind in CLOSING:
            leaf.opening = self._stack.pop()
        self.leaves.append(leaf)
        return leaf

    def expr(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self.add("name", node.id)
        elif isinstance(node, ast.Constant):
            self.add(*_constant(node.value))
        elif isinstance(node, ast.Attribute):
            self.expr(node.value)
            self.add(".", ".")
            self.add("name", node.attr)
        elif isinstance(node, ast.Call):
            self.expr(node.func)
            self.add("(", "(", "trailer")
            self._items([*node.args, *node.keywords])
            self.add(")", ")", "trailer")
        elif isinstance(node, ast.keyword):
            self.add("name", node.arg or "")
            self.add("kw=", "=")
            self.expr(node.value)
        elif isinstance(node, ast.Subscript):
            self.expr(node.value)
            self.add("[", "[", "trailer")
            if isinstance(node.slice, ast.Tuple):
                self._items(node.slice.elts)
            else:
                self.expr(node.slice)
            self.add("]", "]", "trailer")
        elif isinstance(node, ast.Slice):
            # Simple bounds only (x[:, -1], h[-2:]): black writes them without spaces.
            if node.step is not None:
                raise TypeError("slices with a step are not generated")
            if node.lower is not None:
                self.expr(node.lower)
            self.add(":", ":", "slice")
            if node.upper is not None:
                self.expr(node.upper)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            self.add("unary", "-")
            self.expr(node.operand)
        elif isinstance(node, ast.BinOp):
            self.expr(node.left)
            self.add("op", _BINOPS[type(node.op)])
            if isinstance(node.right, ast.BinOp):
                raise TypeError("right-nested operators are not generated")
            self.expr(node.right)
        elif isinstance(node, ast.List):
            self.add("[", "[", "atom")
            self._items(node.elts)
            self.add("]", "]", "atom")
        elif isinstance(node, ast.Tuple):
            self.add("(", "(", "atom")
            self._items(node.elts)
            if len(node.elts) == 1:
                self.add(",", ",")
            self.add(")", ")", "atom")
        else:
            raise TypeError(f"cannot lay out {type(node).__name__}")

    def _items(self, items: list[ast.AST]) -> None:
        for i, item in enumerate(items):
            if i:
                self.add(",", ",")
            self.expr(item)

    def invisible_parens(self, node: ast.AST) -> None:
        self.add("(", "", "atom")
        if isinstance(node, ast.Tuple):  # return a, b: a tuple without brackets
            self._items(node.elts)
        else:
            self.expr(node)
        self.add(")", "", "atom")


_BINOPS = {ast.Add: "+", ast.Mult: "*", ast.Sub: "-", ast.Div: "/"}


def _constant(value) -> tuple[str, str]:
    if isinstance(value, str):
        return "str", json.dumps(value)
    if value is Ellipsis:
        return "name", "..."
    if isinstance(value, (bool, type(None))):
        return "name", repr(value)
    return "num", number_literal(value)


def number_literal(value: float) -> str:
    """``repr`` as the formatter writes it: ``1e20``, never ``1e+20``."""
    return repr(value).replace("e+", "e")


def _space(prev: _Leaf | None, leaf: _Leaf) -> str:
    if prev is None:
        return ""
    if leaf.kind in CLOSING or leaf.kind == ",":
        return ""
    if prev.kind in OPENING or prev.kind == "unary":
        return ""
    if leaf.kind in OPENING and leaf.parent in ("trailer", "parameters"):
        return ""
    if leaf.kind == "." or prev.kind == ".":
        return ""
    if leaf.kind == "kw=" or prev.kind == "kw=":
        return ""
    if leaf.kind == ":" and prev.kind in ("name", "num"):  # a: int, h[-2:]
        return ""
    if prev.kind == ":" and leaf.kind in ("num", "unary") and prev.parent == "slice":
        return ""
    return " "


# ---------------------------------------------------------------------- public API
def format_statement(code: str, level: int) -> list[str]:
    """``code`` (one statement) laid out at indentation ``level``, as lines.

    ``code`` must be written the way the formatter spaces it (the code generator's
    templates are): a statement that fits is returned as it is.
    """
    if len(INDENT) * level + len(code) <= LINE_LENGTH:
        return [INDENT * level + code]
    line = _statement_line(code, level)
    return [str(x) for x in _transform(line, False)]


def _statement_line(code: str, level: int) -> _Line:
    tree = ast.parse(code.strip() + ("\n    pass" if code.rstrip().endswith(":") else ""))
    stmt = tree.body[0]
    toks = _Tokens()
    is_def = isinstance(stmt, ast.FunctionDef)
    if isinstance(stmt, ast.Assign):
        toks.expr(stmt.targets[0])
        toks.add("=", "=")
        toks.invisible_parens(stmt.value)
    elif isinstance(stmt, ast.Return):
        toks.add("keyword", "return")
        if stmt.value is not None:
            toks.invisible_parens(stmt.value)
    elif isinstance(stmt, ast.Expr):
        toks.expr(stmt.value)
    elif is_def:
        toks.add("keyword", "def")
        toks.add("name", stmt.name)
        toks.add("(", "(", "parameters")
        for i, arg in enumerate(stmt.args.args):
            if i:
                toks.add(",", ",")
            toks.add("name", arg.arg)
            if arg.annotation is not None:
                toks.add(":", ":")
                toks.expr(arg.annotation)
        toks.add(")", ")", "parameters")
        if stmt.returns is not None:
            toks.add("->", "->")
            toks.expr(stmt.returns)
        toks.add(":", ":")
        toks.leaves[-1].prefix = ""
    else:
        raise ValueError(f"cannot lay out {type(stmt).__name__}")
    line = _Line(level, is_def=is_def)
    for leaf in toks.leaves:
        line.append(leaf)
    return line


# ---------------------------------------------------------------------- black's algorithm
def _transform(line: _Line, force_parens: bool) -> list[_Line]:
    if line.fits() and not line.should_split_rhs and not line.magic_trailing_comma:
        return [line]
    if line.is_def:
        transforms = [_left_hand_split]
    elif line.inside_brackets:
        transforms = [_delimiter_split, _rhs]
    else:
        transforms = [_rhs]
    for transform in transforms:
        try:
            return _run(line, transform, force_parens)
        except CannotSplit:
            continue
    return [line]


def _run(line: _Line, transform, force_parens: bool) -> list[_Line]:
    text = str(line)
    result: list[_Line] = []
    for piece in transform(line, force_parens):
        if str(piece) == text:
            raise CannotSplit("unchanged")
        result.extend(_transform(piece, force_parens))
    if (
        force_parens
        or transform is not _rhs
        or not line.invisible
        or any(b.value for b in line.invisible)
        or result[0].fits()
    ):
        return result
    # Second opinion: the same split with the optional parentheses kept.
    second = _run(_fresh_copy(line), transform, True)
    if all(x.fits() for x in second):
        return second
    return result


def _fresh_copy(line: _Line) -> _Line:
    mapping: dict[int, _Leaf] = {}
    copy = _Line(line.depth, line.inside_brackets, line.is_def)
    for leaf in line.leaves:
        new = _Leaf(leaf.kind, leaf.value, leaf.parent)
        new.prefix = leaf.prefix
        if leaf.opening is not None:
            new.opening = mapping.get(id(leaf.opening), leaf.opening)
        mapping[id(leaf)] = new
        copy.append(new)
    return copy


def _rhs(line: _Line, force_parens: bool) -> Iterator[_Line]:
    for omit in _trailers_to_omit(line):
        lines = list(_right_hand_split(line, force_parens, omit))
        if lines[0].fits():
            yield from lines
            return
    yield from _right_hand_split(line, force_parens, frozenset())


def _trailers_to_omit(line: _Line) -> Iterator[frozenset[int]]:
    omit: set[int] = set()
    if not line.magic_trailing_comma:
        yield frozenset(omit)
    length = len(INDENT) * line.depth
    opening: _Leaf | None = None
    closing: _Leaf | None = None
    inner: set[int] = set()
    for index, leaf, leaf_length in line.lengths(reverse=True):
        length += leaf_length
        if length > LINE_LENGTH:
            break
        if opening is not None:
            if leaf is opening:
                opening = None
            elif leaf.kind in CLOSING:
                prev = line.leaves[index - 1] if index > 0 else None
                if prev is not None and prev.kind == ",":
                    break
                inner.add(id(leaf))
        elif leaf.kind in CLOSING:
            prev = line.leaves[index - 1] if index > 0 else None
            if prev is not None and prev.kind in OPENING:
                inner.add(id(leaf))
                continue
            if closing is not None:
                omit.add(id(closing))
                omit.update(inner)
                inner.clear()
                yield frozenset(omit)
            if prev is not None and prev.kind == ",":
                break
            if leaf.value:
                opening = leaf.opening
                closing = leaf


class _RHS:
    def __init__(self, head: _Line, body: _Line, tail: _Line, opening: _Leaf,
                 closing: _Leaf) -> None:
        self.head, self.body, self.tail = head, body, tail
        self.opening, self.closing = opening, closing


def _first_right_hand_split(line: _Line, omit: frozenset[int]) -> _RHS:
    tail: list[_Leaf] = []
    body: list[_Leaf] = []
    head: list[_Leaf] = []
    current = tail
    opening: _Leaf | None = None
    closing: _Leaf | None = None
    for leaf in reversed(line.leaves):
        if current is body and leaf is opening:
            current = head if body else tail
        current.append(leaf)
        if current is tail and leaf.kind in CLOSING and id(leaf) not in omit:
            opening, closing = leaf.opening, leaf
            current = body
    if opening is None or closing is None or not head:
        raise CannotSplit("no brackets found")
    tail.reverse()
    body.reverse()
    head.reverse()
    result = _RHS(_build(head, line, opening, "head"), _build(body, line, opening, "body"),
                  _build(tail, line, opening, "tail"), opening, closing)
    _check_split(result.body, result.tail)
    return result


def _check_split(body: _Line, tail: _Line) -> None:
    tail_len = len(str(tail).strip())
    if not body:
        if tail_len == 0:
            raise CannotSplit("same line")
        if tail_len < 3:
            raise CannotSplit("not worth it")


def _build(leaves: list[_Leaf], original: _Line, opening: _Leaf, component: str) -> _Line:
    if component == "body":
        result = _Line(original.depth + 1, inside_brackets=True)
        if leaves and original.is_def and opening.value == "(" and not any(
            x.kind == "," for x in leaves
        ):
            comma = _Leaf(",", ",")
            leaves = [*leaves, comma]
        for leaf in leaves:
            result.append(leaf)
        if _should_split(result, opening):
            result.should_split_rhs = True
        return result
    result = _Line(original.depth)
    tracked = _inside_matching_brackets(leaves) if component == "head" else set()
    for leaf in leaves:
        result.append(leaf, track=id(leaf) in tracked)
    return result


def _inside_matching_brackets(leaves: list[_Leaf]) -> set[int]:
    ids: set[int] = set()
    stack: list[int] = []
    started = False
    for i, leaf in enumerate(leaves):
        if leaf.kind in OPENING:
            started = True
            stack.append(i)
        elif leaf.kind in CLOSING and started:
            if stack and leaves[stack[-1]] is leaf.opening:
                start = stack.pop()
                ids.update(id(x) for x in leaves[start : i + 1])
            else:
                break
    return ids


def _should_split(body: _Line, opening: _Leaf) -> bool:
    if not opening.value and opening.parent != "atom":
        return False
    exclude: set[int] = set()
    trailing_comma = False
    if body.leaves and body.leaves[-1].kind == ",":
        trailing_comma = True
        exclude.add(id(body.leaves[-1]))
    try:
        priority = body.max_priority(frozenset(exclude))
    except CannotSplit:
        return False
    return priority == COMMA_PRIORITY and (trailing_comma or opening.parent == "atom")


def _right_hand_split(line: _Line, force_parens: bool, omit: frozenset[int]) -> Iterator[_Line]:
    rhs = _first_right_hand_split(line, omit)
    yield from _maybe_omit_optional_parens(rhs, line, force_parens, omit)


def _maybe_omit_optional_parens(rhs: _RHS, line: _Line, force_parens: bool,
                                omit: frozenset[int]) -> Iterator[_Line]:
    if (
        not force_parens
        and rhs.opening.kind == "("
        and not rhs.opening.value
        and rhs.closing.kind == ")"
        and not rhs.closing.value
        and _can_omit_invisible_parens(rhs)
    ):
        omit = frozenset({id(rhs.closing), *omit})
        try:
            oop = _first_right_hand_split(line, omit)
            head = rhs.head.leaves
            after_equal = len(head) >= 2 and head[-2].kind in EQUALS
            head_brackets = any(x.kind in OPENING | CLOSING for x in head[:-1])
            head_short = len(str(rhs.head)) <= LINE_LENGTH - 1
            if not (after_equal and head_brackets and head_short) or _prefer_oop(oop):
                yield from _maybe_omit_optional_parens(oop, line, force_parens, omit)
                return
        except CannotSplit as e:
            if not _can_be_split(rhs.body) and not rhs.body.fits():
                raise CannotSplit("body still too long") from e
    if not rhs.opening.value:  # the optional parentheses are needed after all
        rhs.opening.value, rhs.closing.value = "(", ")"
    for part in (rhs.head, rhs.body, rhs.tail):
        if part:
            yield part


def _prefer_oop(oop: _RHS) -> bool:
    for leaf in reversed(oop.head.leaves):
        if leaf.kind in EQUALS:
            break
        if leaf.kind in CLOSING:
            return True
    return any(x.kind in EQUALS for x in oop.head.leaves) and oop.head.fits()


def _can_be_split(line: _Line) -> bool:
    return len(line.leaves) >= 2


def _can_omit_invisible_parens(rhs: _RHS) -> bool:
    line = rhs.body
    if not line.delimiters:
        return True
    priority = line.max_priority()
    if line.count_priority(priority) > 1:
        return False
    if priority == DOT_PRIORITY:
        return True
    first, second = line.leaves[0], line.leaves[1]
    if (first.kind in OPENING and second.kind not in CLOSING
            and _can_omit_opening_paren(line, first)):
        return True
    penultimate, last = line.leaves[-2], line.leaves[-1]
    if last.kind == ")" or (last.kind == "]" and last.parent != "trailer"):
        if penultimate.kind in OPENING:
            return False
        if _can_omit_closing_paren(line, last):
            return True
    return False


def _can_omit_opening_paren(line: _Line, first: _Leaf) -> bool:
    remainder = False
    length = len(INDENT) * line.depth
    index = -1
    for index, leaf, leaf_length in line.lengths():
        if leaf.kind in CLOSING and leaf.opening is first:
            remainder = True
        if remainder:
            length += leaf_length
            if length > LINE_LENGTH:
                return False
            if leaf.kind in OPENING:
                remainder = False
    return len(line.leaves) == index + 1


def _can_omit_closing_paren(line: _Line, last: _Leaf) -> bool:
    length = len(INDENT) * line.depth
    seen_other_brackets = False
    for _index, leaf, leaf_length in line.lengths():
        length += leaf_length
        if leaf is last.opening:
            if seen_other_brackets or length <= LINE_LENGTH:
                return True
        elif leaf.kind in OPENING:
            seen_other_brackets = True
    return False


def _delimiter_split(line: _Line, force_parens: bool) -> Iterator[_Line]:
    if not line.leaves:
        raise CannotSplit("empty line")
    last = line.leaves[-1]
    priority = line.max_priority(frozenset({id(last)}))
    if priority == DOT_PRIORITY and line.count_priority(priority) == 1:
        raise CannotSplit("a single attribute split looks wrong")
    current = _Line(line.depth, line.inside_brackets)
    for leaf in line.leaves:
        current.append(leaf)
        if line.delimiters.get(id(leaf)) == priority:
            yield current
            current = _Line(line.depth, line.inside_brackets)
    if current:
        if priority == COMMA_PRIORITY and current.leaves[-1].kind != ",":
            current.append(_Leaf(",", ","))
        yield current


def _left_hand_split(line: _Line, force_parens: bool) -> Iterator[_Line]:
    head: list[_Leaf] = []
    body: list[_Leaf] = []
    tail: list[_Leaf] = []
    current = head
    matching: _Leaf | None = None
    for leaf in line.leaves:
        if current is body and leaf.kind in CLOSING and leaf.opening is matching:
            current = tail if body else head
        current.append(leaf)
        if current is head and leaf.kind in OPENING:
            matching = leaf
            current = body
    if matching is None or not tail:
        raise CannotSplit("no brackets found")
    parts = (_build(head, line, matching, "head"), _build(body, line, matching, "body"),
             _build(tail, line, matching, "tail"))
    _check_split(parts[1], parts[2])
    for part in parts:
        if part:
            yield part
