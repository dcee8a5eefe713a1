"""Black's model of a logical line: leaves (tokens) with bracket depths and split
priorities ("delimiters"), and the checks the splitting algorithm asks of a line."""

from __future__ import annotations

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


class Leaf:
    """One token. ``value`` is empty for invisible parentheses until they are needed."""

    __slots__ = ("kind", "opening", "parent", "prefix", "value")

    def __init__(self, kind: str, value: str, parent: str = "") -> None:
        self.kind = kind  # "name", "num", "str", "(", ")", "[", "]", ",", ".", "=",
        # "kw=", ":", "op", "unary", "->", "keyword"
        self.value = value
        self.parent = parent  # for brackets: "trailer", "atom" or "parameters"
        self.opening: Leaf | None = None  # for closing brackets: the matching opening
        self.prefix = ""

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"<{self.kind} {self.value!r}>"


class Line:
    def __init__(self, depth: int, inside_brackets: bool = False, is_def: bool = False):
        self.depth = depth
        self.inside_brackets = inside_brackets
        self.is_def = is_def
        self.leaves: list[Leaf] = []
        self.should_split_rhs = False
        self.delimiters: dict[int, int] = {}  # id(leaf) -> priority, depth 0 only
        self.leaf_depth: dict[int, int] = {}
        self.invisible: list[Leaf] = []
        self._bracket_depth = 0
        self._previous: Leaf | None = None

    # ------------------------------------------------------------------ building
    def append(self, leaf: Leaf, track: bool = True) -> None:
        self.leaves.append(leaf)
        if track:
            self._mark(leaf)

    def _mark(self, leaf: Leaf) -> None:
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

    def lengths(self, reverse: bool = False) -> Iterator[tuple[int, Leaf, int]]:
        items = list(enumerate(self.leaves))
        if reverse:
            items.reverse()
        for i, leaf in items:
            yield i, leaf, len(leaf.prefix) + len(leaf.value)


def _split_before_priority(leaf: Leaf, previous: Leaf | None) -> int:
    if leaf.kind == "." and (previous is None or previous.kind in CLOSING):
        return DOT_PRIORITY
    if leaf.kind == "op":
        return MATH_PRIORITIES.get(leaf.value, 0)
    return 0
