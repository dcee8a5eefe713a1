"""Black's splitting algorithm, for the lines ``tokens`` builds: right-hand split at the
last bracket pair (omitting trailers whose head would not fit), optional parentheses
around right-hand sides, delimiter split at commas and operators, collections exploded
one item per line, and the left-hand split of a ``def``. Names follow black's
``linegen.py`` so the two can be read side by side."""

from __future__ import annotations

from collections.abc import Iterator

from .lines import (
    CLOSING,
    COMMA_PRIORITY,
    DOT_PRIORITY,
    EQUALS,
    INDENT,
    LINE_LENGTH,
    OPENING,
    CannotSplit,
    Leaf,
    Line,
)


def split_line(line: Line, force_parens: bool = False) -> list[Line]:
    """``line`` as the lines black would make of it."""
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


def _run(line: Line, transform, force_parens: bool) -> list[Line]:
    text = str(line)
    result: list[Line] = []
    for piece in transform(line, force_parens):
        if str(piece) == text:
            raise CannotSplit("unchanged")
        result.extend(split_line(piece, force_parens))
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


def _fresh_copy(line: Line) -> Line:
    mapping: dict[int, Leaf] = {}
    copy = Line(line.depth, line.inside_brackets, line.is_def)
    for leaf in line.leaves:
        new = Leaf(leaf.kind, leaf.value, leaf.parent)
        new.prefix = leaf.prefix
        if leaf.opening is not None:
            new.opening = mapping.get(id(leaf.opening), leaf.opening)
        mapping[id(leaf)] = new
        copy.append(new)
    return copy


def _rhs(line: Line, force_parens: bool) -> Iterator[Line]:
    for omit in _trailers_to_omit(line):
        lines = list(_right_hand_split(line, force_parens, omit))
        if lines[0].fits():
            yield from lines
            return
    yield from _right_hand_split(line, force_parens, frozenset())


def _trailers_to_omit(line: Line) -> Iterator[frozenset[int]]:
    omit: set[int] = set()
    if not line.magic_trailing_comma:
        yield frozenset(omit)
    length = len(INDENT) * line.depth
    opening: Leaf | None = None
    closing: Leaf | None = None
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
    def __init__(self, head: Line, body: Line, tail: Line, opening: Leaf,
                 closing: Leaf) -> None:
        self.head, self.body, self.tail = head, body, tail
        self.opening, self.closing = opening, closing


def _first_right_hand_split(line: Line, omit: frozenset[int]) -> _RHS:
    tail: list[Leaf] = []
    body: list[Leaf] = []
    head: list[Leaf] = []
    current = tail
    opening: Leaf | None = None
    closing: Leaf | None = None
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


def _check_split(body: Line, tail: Line) -> None:
    tail_len = len(str(tail).strip())
    if not body:
        if tail_len == 0:
            raise CannotSplit("same line")
        if tail_len < 3:
            raise CannotSplit("not worth it")


def _build(leaves: list[Leaf], original: Line, opening: Leaf, component: str) -> Line:
    if component == "body":
        result = Line(original.depth + 1, inside_brackets=True)
        if leaves and original.is_def and opening.value == "(" and not any(
            x.kind == "," for x in leaves
        ):
            comma = Leaf(",", ",")
            leaves = [*leaves, comma]
        for leaf in leaves:
            result.append(leaf)
        if _should_split(result, opening):
            result.should_split_rhs = True
        return result
    result = Line(original.depth)
    tracked = _inside_matching_brackets(leaves) if component == "head" else set()
    for leaf in leaves:
        result.append(leaf, track=id(leaf) in tracked)
    return result


def _inside_matching_brackets(leaves: list[Leaf]) -> set[int]:
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


def _should_split(body: Line, opening: Leaf) -> bool:
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


def _right_hand_split(line: Line, force_parens: bool, omit: frozenset[int]) -> Iterator[Line]:
    rhs = _first_right_hand_split(line, omit)
    yield from _maybe_omit_optional_parens(rhs, line, force_parens, omit)


def _maybe_omit_optional_parens(rhs: _RHS, line: Line, force_parens: bool,
                                omit: frozenset[int]) -> Iterator[Line]:
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


def _can_be_split(line: Line) -> bool:
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


def _can_omit_opening_paren(line: Line, first: Leaf) -> bool:
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


def _can_omit_closing_paren(line: Line, last: Leaf) -> bool:
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


def _delimiter_split(line: Line, force_parens: bool) -> Iterator[Line]:
    if not line.leaves:
        raise CannotSplit("empty line")
    last = line.leaves[-1]
    priority = line.max_priority(frozenset({id(last)}))
    if priority == DOT_PRIORITY and line.count_priority(priority) == 1:
        raise CannotSplit("a single attribute split looks wrong")
    current = Line(line.depth, line.inside_brackets)
    for leaf in line.leaves:
        current.append(leaf)
        if line.delimiters.get(id(leaf)) == priority:
            yield current
            current = Line(line.depth, line.inside_brackets)
    if current:
        if priority == COMMA_PRIORITY and current.leaves[-1].kind != ",":
            current.append(Leaf(",", ","))
        yield current


def _left_hand_split(line: Line, force_parens: bool) -> Iterator[Line]:
    head: list[Leaf] = []
    body: list[Leaf] = []
    tail: list[Leaf] = []
    current = head
    matching: Leaf | None = None
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
