"""Where a searched value goes: a training setting, a layer or block instance of the
network, or a block instance nested inside a block's definition.

A target is ``lr`` (a setting), ``<node id>.<parameter>`` (``n2.out_features``,
``n5.repeat``) or, for an instance inside a definition, the path of instances leading
to it: ``n5/n3.repeat`` is the ``repeat`` of node ``n3`` in the body of the block that
instance ``n5`` uses. People name the same path by labels (``layer1/inner.repeat``);
``resolve_target`` accepts both and ``target_label`` writes the labels.

A definition's body is shared by all its instances, so a nested target belongs to its
path: applying it to a trial's document (``apply_path``) first gives each instance on
the path a definition of its own when the definition is used elsewhere too (a copy,
``BasicBlock2``, as the editor's "make unique" does), so only that path changes.
``candidates`` lists every number a sweep can search, nested instances included (the
Sweep panel's "Search..." list and ``strata sweep --targets``).
"""

from __future__ import annotations

import copy
from typing import Any

from graph.blocks import BLOCK

SEARCHABLE_SETTINGS = ("lr", "batch_size", "weight_decay", "momentum", "gamma",
                       "grad_clip", "epochs")
NESTED_DEPTH = 8  # paths deeper than this are not offered (they are still accepted)


def split_target(target: str) -> tuple[tuple[str, ...], str]:
    """``("n5", "n3"), "repeat"`` for ``n5/n3.repeat``; ``(), "lr"`` for a setting."""
    if "." not in target:
        return (), target
    path, name = target.split(".", 1)
    return tuple(path.split("/")), name


def definition_of(doc, node):
    """The definition a block instance uses (None if it names no known block)."""
    return doc.blocks.definitions.get(node.params.get("block"))


def walk(doc, path: tuple[str, ...]) -> list[tuple[Any, Any]]:
    """[(document holding the node, node)] along ``path`` (ids or labels); raises
    KeyError naming the step that is not there."""
    out = []
    where = doc
    for i, step in enumerate(path):
        node = where.nodes.get(step)
        if node is None:  # a label
            matches = [n for n in where.nodes.values() if n.label == step]
            node = matches[0] if len(matches) == 1 else None
        if node is None:
            inside = "the network" if i == 0 else f"'{where.block_name}'"
            raise KeyError(f"{inside} has no node `{step}`")
        out.append((where, node))
        if i < len(path) - 1:
            definition = definition_of(doc, node) if node.type == BLOCK else None
            if definition is None:
                raise KeyError(f"{node.describe()} is not a block instance, so `"
                               f"{'/'.join(path[:i + 2])}` leads nowhere")
            where = definition.body
    return out


def resolve_target(doc, target: str) -> str:
    """``target`` with node ids (labels along a path are replaced by ids)."""
    path, name = split_target(target)
    if not path:
        return target
    steps = walk(doc, path)
    return "/".join(node.id for _d, node in steps) + "." + name


def target_label(doc, target: str) -> str:
    """A target as the user names it: ``layer1/inner.repeat`` for ``n5/n3.repeat``."""
    path, name = split_target(target)
    if not path:
        return target
    try:
        steps = walk(doc, path)
    except KeyError:
        return target
    return "/".join(node.label or node.id for _d, node in steps) + "." + name


def bound_by(doc, path: tuple[str, ...], name: str) -> str | None:
    """The exposed parameter of the enclosing definition that sets ``name`` of the
    nested instance at ``path`` (its instance's value would overwrite a search)."""
    steps = walk(doc, path)
    holder, node = steps[-1]
    if len(steps) < 2:
        return None
    definition = doc.blocks.definitions.get(holder.block_name)
    for e in definition.exposed if definition is not None else ():
        if (node.id, name) in {tuple(t) for t in e.targets}:
            return e.name
    return None


# ---------------------------------------------------------------- candidates
def candidates(doc) -> list[tuple[str, str, str, object]]:
    """(label, target, kind, today's value) of every number a sweep can search."""
    from runtime.setup import SETTINGS, TrainingSetup

    try:
        setup = TrainingSetup.from_document(doc).to_dict()
    except Exception:  # noqa: BLE001 - a broken setup still lists the layers
        setup = {}
    out = []
    for setting in SETTINGS:
        spec = setting.param
        if spec.name in SEARCHABLE_SETTINGS:
            value = setup.get(spec.name, spec.default)
            out.append((f"Training: {setting.label}", spec.name, spec.kind, value))
    for node in doc.nodes.values():
        for spec in node.spec.params:
            if spec.kind in ("int", "float"):
                value = node.params.get(spec.name, spec.default)
                out.append((f"{node.title}: {spec.name}", f"{node.id}.{spec.name}",
                            spec.kind, value))
        if node.type == BLOCK:
            out += _nested(doc, node, (node.id,), node.title, {node.params.get("block")})
    return out


def _nested(doc, instance, path, title: str, seen: set) -> list:
    """The nested instances inside ``instance``'s definition, at any depth."""
    definition = definition_of(doc, instance)
    if definition is None or len(path) >= NESTED_DEPTH:
        return []
    bound = {(t[0], t[1]) for e in definition.exposed for t in e.targets}
    out = []
    for inner in definition.body.nodes.values():
        if inner.type != BLOCK or inner.params.get("block") in seen:
            continue
        inner_path = (*path, inner.id)
        inner_title = f"{title} > {inner.title}"
        for spec in inner.spec.params:
            if spec.kind in ("int", "float") and (inner.id, spec.name) not in bound:
                value = inner.params.get(spec.name, spec.default)
                out.append((f"{inner_title}: {spec.name}",
                            f"{'/'.join(inner_path)}.{spec.name}", spec.kind, value))
        out += _nested(doc, inner, inner_path, inner_title,
                       seen | {inner.params.get("block")})
    return out


def first_range(target: str, kind: str, value) -> dict:
    """A starting entry around today's value."""
    if target == "batch_size" and isinstance(value, int):
        return {"target": target, "kind": "choice",
                "choices": sorted({max(1, value // 2), value, value * 2})}
    if target.endswith(".repeat"):  # a block's copies: from one to a few more
        copies = int(value or 1)
        return {"target": target, "kind": "int", "low": 1, "high": max(3, 2 * copies)}
    if kind == "int":
        n = int(value or 1)
        return {"target": target, "kind": "int", "low": max(1, n // 2), "high": max(2, n * 2)}
    v = float(value or 0.0)
    if target.endswith(".p") or 0.0 <= v < 1.0 and target not in ("lr", "weight_decay"):
        return {"target": target, "kind": "float", "low": 0.0, "high": 0.5}
    if v > 0:
        return {"target": target, "kind": "log", "low": v / 10, "high": v * 10}
    return {"target": target, "kind": "float", "low": 0.0, "high": 1.0}


# ---------------------------------------------------------------- applying
def apply_path(document: dict[str, Any], path: tuple[str, ...], name: str,
               value: Any) -> None:
    """Set ``name`` of the nested instance at ``path`` in ``document`` (a plain dict,
    changed in place), giving the instances on the path definitions of their own
    where a definition is shared (see the module docstring)."""
    blocks = document.setdefault("blocks", [])
    nodes = document["nodes"]
    for step in path[:-1]:
        node = next(n for n in nodes if n["id"] == step)
        used = node["params"]["block"]
        definition = next(d for d in blocks if d["name"] == used)
        if _uses(document, used) > 1:
            definition = copy.deepcopy(definition)
            definition["name"] = _unique(blocks, used)
            blocks.append(definition)
            node["params"]["block"] = definition["name"]
        nodes = definition["nodes"]
    node = next(n for n in nodes if n["id"] == path[-1])
    node["params"][name] = value


def _uses(document: dict[str, Any], name: str) -> int:
    bodies = [d.get("nodes", []) for d in document.get("blocks", [])]
    return sum(1 for nodes in [document["nodes"], *bodies] for n in nodes
               if n.get("type") == BLOCK and n.get("params", {}).get("block") == name)


def _unique(blocks: list[dict[str, Any]], base: str) -> str:
    taken = {d["name"] for d in blocks}
    i = 2
    while f"{base}{i}" in taken:
        i += 1
    return f"{base}{i}"
