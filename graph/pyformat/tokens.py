"""From one statement of generated code to a line of leaves, spaced as black spaces
them: ``ast`` parses the statement, ``Tokens`` walks the small expression subset Strata
generates and refuses anything else."""

from __future__ import annotations

import ast
import json
from collections.abc import Sequence

from .lines import CLOSING, OPENING, Leaf, Line


class _Tokens:
    """Turns a parsed statement into leaves with black's spacing."""

    def __init__(self) -> None:
        self.leaves: list[Leaf] = []
        self._stack: list[Leaf] = []

    def add(self, kind: str, value: str, parent: str = "") -> Leaf:
        leaf = Leaf(kind, value, parent)
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

    def _items(self, items: Sequence[ast.AST]) -> None:
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


_BINOPS = {ast.Add: "+", ast.Mult: "*", ast.Sub: "-", ast.Div: "/", ast.MatMult: "@"}


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


def _space(prev: Leaf | None, leaf: Leaf) -> str:
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


def statement_line(code: str, level: int) -> Line:
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
        assert isinstance(stmt, ast.FunctionDef)  # for the type checker
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
    line = Line(level, is_def=is_def)
    for leaf in toks.leaves:
        line.append(leaf)
    return line
