"""Searched layer parameters as constructor arguments of the exported network class.

The exported ``sweep.py`` trains a new model each trial, so a searched layer parameter
(a Linear's width, a Dropout's p) becomes an argument of the network class, with the
document's value as its default: ``Tiny(fc1_out_features=32)``. ``train.py`` builds
``Tiny(**config.model_args)`` and ``sweep.py`` fills ``model_args`` per trial.

Which constructor values follow a searched parameter is found by analysing the network
again with another value from its range: every layer argument that moved must be that
value times a whole number (the next Linear's ``in_features``, or ``C*H*W`` after a
Flatten), and is written as the argument (``fc1_out_features``, ``16 * conv_channels``).
A parameter whose change moves anything else (a line of ``forward``, a block's class,
a product of two searched values, a spatial size), and a block's repeat count or
exposed parameter, is part of the network's structure instead (``structures``).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from graph.analysis import Analyzer
from graph.codegen import ClassArguments, GeneratedCode, generate_code
from graph.fileformat import document_from_dict
from graph.naming import Namespace

from .space import SearchedParam


@dataclass(frozen=True)
class ModelArguments:
    code: GeneratedCode  # the network module, its class taking the arguments
    names: dict[str, str]  # searched target -> argument name
    params: tuple[SearchedParam, ...]  # the searched parameters made arguments
    fixed: tuple[str, ...]  # searched layer parameters that stay fixed


def model_arguments(doc, params) -> ModelArguments | None:
    """The class arguments for the layer parameters among ``params`` (None if none of
    them can be one)."""
    layer = [p for p in params if p.node_id is not None]
    if not layer:
        return None
    analysis = Analyzer().analyze(doc)
    base = generate_code(doc, analysis)
    base_args = _constructor_args(doc, analysis, base)
    namespace = Namespace({"self"})
    found: dict[str, tuple[SearchedParam, str, Any, dict]] = {}
    fixed = []
    for p in layer:
        node = doc.nodes[p.node_id]
        key = p.target.split(".", 1)[1]
        value = node.params.get(key, node.spec.param(key).default)
        moved = None if node.is_block or not _is_number(value) else \
            _moved(doc, base, base_args, p, key, value)
        if moved is None:
            fixed.append(p.target)
            continue
        name = namespace.take(f"{base.attributes.get(node.id, node.label)}_{key}")
        found[p.target] = (p, name, value, moved)
    # A value that follows two searched parameters is neither one's multiple.
    claims: dict[tuple[str, str], list[str]] = {}
    for target, (_p, _n, _v, moved) in found.items():
        for where in moved:
            claims.setdefault(where, []).append(target)
    shared = {t for targets in claims.values() if len(targets) > 1 for t in targets}
    fixed += [t for t in found if t in shared]
    kept = {t: f for t, f in found.items() if t not in shared}
    if not kept:
        return None
    symbols: dict[tuple[str, str], str] = {}
    signature = []
    for p, name, value, moved in kept.values():
        symbols.update({where: _expression(factor, name)
                        for where, factor in moved.items()})
        kind = "int" if isinstance(value, int) else "float"
        signature.append(f"{name}: {kind} = {value!r}")
    code = generate_code(doc, analysis, arguments=ClassArguments(tuple(signature),
                                                                 symbols))
    return ModelArguments(code, {t: f[1] for t, f in kept.items()},
                          tuple(f[0] for f in kept.values()), tuple(fixed))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _moved(doc, base: GeneratedCode, base_args, p: SearchedParam, key: str,
           value) -> dict[tuple[str, str], int | None] | None:
    """{(node id, argument key): factor} of the constructor arguments that follow
    ``p`` (factor None: the float value itself), or None when something else moves."""
    other = _other_value(p, value)
    if other is None:
        return None
    data = doc.to_dict()
    next(n for n in data["nodes"] if n["id"] == p.node_id)["params"][key] = other
    variant = document_from_dict(data)
    analysis = Analyzer().analyze(variant)
    if not analysis.ok:
        return None
    code = generate_code(variant, analysis)
    args = _constructor_args(variant, analysis, code)
    moved: dict[tuple[str, str], int | None] = {}
    for node_id, kwargs in base_args.items():
        for arg, before in kwargs.items():
            after = args.get(node_id, {}).get(arg)
            if after == before:
                continue
            factor = _factor(before, after, value, other)
            if factor is False:
                return None
            moved[(node_id, arg)] = factor
    changed = {base.attributes[node_id] for node_id, _arg in moved}
    if not moved or not _same_but(base, code, changed):
        return None
    return moved


def _other_value(p: SearchedParam, value):
    """A value of ``p``'s range other than the document's."""
    if p.kind == "choice":
        options = list(p.choices)
    else:
        low, high = p.bounds()
        options = [high, low] if p.kind == "int" else [high, low, (low + high) / 2]
    for option in options:
        if _is_number(option) and option != value and option != 0:
            return option
    return None


def _factor(before, after, value, other) -> int | None | bool:
    """k when ``before == k * value`` and ``after == k * other`` (a whole k), None
    for a float equal to the value itself, False for anything else."""
    if not (_is_number(before) and _is_number(after)):
        return False
    if isinstance(value, float) or isinstance(before, float):
        return None if (before, after) == (value, other) else False
    if value and before % value == 0 and before // value >= 1 and \
            after == before // value * other:
        return before // value
    return False


def _expression(factor: int | None, name: str) -> str:
    return name if factor in (None, 1) else f"{factor} * {name}"


def _constructor_args(doc, analysis, code: GeneratedCode) -> dict[str, dict[str, Any]]:
    """The constructor arguments of the network class's own layers, by node id."""
    out = {}
    for node_id in code.attributes:
        node = doc.nodes[node_id]
        spec = node.spec
        if node.is_block or not spec.module_args:
            continue
        shapes = analysis.shapes[node_id]
        out[node_id] = spec.module_args({**shapes.params, **shapes.values})
    return out


def _same_but(a: GeneratedCode, b: GeneratedCode, attributes: set[str]) -> bool:
    """The two modules are the same code (comments aside) except for the statements
    of ``__init__`` that assign ``self.<attribute>`` for ``attributes``."""
    tree_a, tree_b = ast.parse(a.source), ast.parse(b.source)
    if len(tree_a.body) != len(tree_b.body):
        return False
    for x, y in zip(tree_a.body, tree_b.body):
        if isinstance(x, ast.ClassDef) and x.name == a.class_name:
            if not isinstance(y, ast.ClassDef) or not _same_class(x, y, attributes):
                return False
        elif ast.dump(x) != ast.dump(y):
            return False
    return True


def _same_class(x: ast.ClassDef, y: ast.ClassDef, attributes: set[str]) -> bool:
    if len(x.body) != len(y.body):
        return False
    for f, g in zip(x.body, y.body):
        if isinstance(f, ast.FunctionDef) and f.name == "__init__":
            if not isinstance(g, ast.FunctionDef) or len(f.body) != len(g.body):
                return False
            for s, t in zip(f.body, g.body):
                if ast.dump(s) != ast.dump(t) and _assigned(s) not in attributes:
                    return False
        elif ast.dump(f) != ast.dump(g):
            return False
    return True


def _assigned(statement: ast.stmt) -> str | None:
    """``fc1`` for ``self.fc1 = ...``."""
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
        target = statement.targets[0]
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) \
                and target.value.id == "self":
            return target.attr
    return None
