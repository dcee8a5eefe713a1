"""Compound edits on blocks, each one undo step: group, ungroup, make unique, renaming a
port (the instances' wires follow), and the library edits (add, remove, rename a
definition, set its exposed parameters).

Each runs inside ``compound(doc, name)``, which journals the elementary edits it makes
(every Document method records its own inverse while a journal is open) and returns them
as an ``Edit``. ``edit.undo()`` replays the inverses, ``edit.redo()`` the edits, so an
editor wraps one ``Edit`` in one undo command. A compound edit that fails half-way is
rolled back before the error propagates: nothing is lost.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .blocks import BLOCK, PORT_TYPES, Definition, ExposedParam, Library
from .errors import StrataError
from .events import (
    BlocksEdited,
    DefinitionAdded,
    DefinitionChanged,
    DefinitionRemoved,
    DefinitionRenamed,
    ParamsChanged,
)

if TYPE_CHECKING:
    from .document import Document


@dataclass
class Edit:
    """A finished compound edit: its journaled steps and what it produced."""

    name: str
    steps: list[tuple[Callable[[], Any], Callable[[], Any]]] = field(default_factory=list)
    # What the edit made: {"instance": id, "definition": name, "nodes": {...}}.
    result: dict[str, Any] = field(default_factory=dict)

    def undo(self) -> None:
        for _redo, undo in reversed(self.steps):
            undo()

    def redo(self) -> None:
        for redo, _undo in self.steps:
            redo()


@contextlib.contextmanager
def compound(doc: Document, name: str) -> Iterator[Edit]:
    lib = doc.blocks
    outer = lib.journal
    edit = Edit(name)
    lib.journal = edit.steps
    try:
        yield edit
    except BaseException:
        lib.journal = None
        edit.undo()
        raise
    finally:
        lib.journal = outer
    if outer is not None:
        outer.extend(edit.steps)
    lib.owner.emit(BlocksEdited(name, edit.result))


# ---------------------------------------------------------------------- library
def add_definition(doc: Document, definition: Definition, index: int | None = None) -> Edit:
    lib = doc.blocks
    if definition.name in lib:
        raise StrataError(f"a block named '{definition.name}' already exists")
    _check_name(definition.name)
    with compound(doc, "Add block") as edit:
        _attach(lib, definition, index)
        edit.result = {"definition": definition.name}
    return edit


def remove_definition(doc: Document, name: str) -> Edit:
    lib = doc.blocks
    lib[name]  # refuses unknown names
    users = [f"'{d.nodes[i].label or i}'" for d, i in lib.instances_of(name)]
    if users:
        raise StrataError(f"the block '{name}' is still used by {', '.join(users[:5])}"
                          f"{' and more' if len(users) > 5 else ''}",)
    with compound(doc, "Remove block") as edit:
        _detach(lib, name)
        edit.result = {"definition": name}
    return edit


def rename_definition(doc: Document, old: str, new: str) -> Edit:
    lib = doc.blocks
    lib[old]
    _check_name(new)
    if new in lib and new != old:
        raise StrataError(f"a block named '{new}' already exists")
    with compound(doc, "Rename block") as edit:
        _rekey(lib, old, new)
        for d, node_id in lib.instances_of(old):
            d.set_param(node_id, "block", new)
        edit.result = {"definition": new}
    return edit


def set_exposed(doc: Document, name: str, exposed: list[ExposedParam]) -> Edit:
    """Replace the exposed parameters of ``name``; instances keep values of parameters
    that stay and take the default of new ones."""
    lib = doc.blocks
    definition = lib[name]
    seen = set()
    for e in exposed:
        _check_param_name(e.name)
        if e.name in seen:
            raise StrataError(f"the block '{name}' has two parameters named `{e.name}`")
        seen.add(e.name)
        for node_id, param in e.targets:
            node = definition.body.nodes.get(node_id)
            if node is None:
                raise StrataError(f"`{e.name}` refers to a node '{node_id}' that the block "
                                  f"'{name}' does not have")
            node.spec.param(param)
    old = copy.deepcopy(definition.exposed)
    new = copy.deepcopy(exposed)
    with compound(doc, "Block parameters") as edit:
        _set_exposed(lib, name, new, old)
        keep = {e.name for e in new}
        for d, node_id in lib.instances_of(name):
            for key in [k for k in d.nodes[node_id].params if k not in keep
                        and k not in ("block", "repeat")]:
                _drop_param(d, node_id, key)
            for e in new:
                if e.name not in d.nodes[node_id].params:
                    d.set_param(node_id, e.name, e.default)
        edit.result = {"definition": name}
    return edit


# ---------------------------------------------------------------------- ports
def port_name_problem(body: Document, node_id: str, name: str) -> str | None:
    """Why ``name`` cannot name the port ``node_id`` of the block ``body`` (None: it can)."""
    node = body.node(node_id)
    if node.type not in PORT_TYPES:
        return f"{node.describe()} is not a port of the block"
    kind = "input" if node.type == "BlockInput" else "output"
    if not name.isidentifier():
        return (f"'{name}' cannot name the {kind} port: use a Python name (letters, "
                "digits and _, not starting with a digit), e.g. in2")
    if any(n.id != node_id and n.type == node.type and n.label == name
           for n in body.nodes.values()):
        return f"the block already has an {kind} port named '{name}'"
    return None


def rename_port(body: Document, node_id: str, name: str) -> Edit:
    """Rename a port of a block (its ``BlockInput``/``BlockOutput`` node's label) and
    move every instance's wire on the old port to the new one, as one edit."""
    from .document import Edge

    problem = port_name_problem(body, node_id, name)
    if problem is not None:
        raise StrataError(problem)
    node = body.node(node_id)
    old = node.label
    lib = body.blocks
    if body.block_name is None or body.block_name not in lib:
        raise StrataError("ports belong to a block's inside, not to the network")
    with compound(body, "Rename port") as edit:
        if old == name:
            return edit
        moved: list[tuple[Document, Edge, int]] = []
        for d, instance in lib.instances_of(body.block_name):
            for e in list(d.edges):
                if node.type == "BlockInput" and e.target == instance and e.target_port == old:
                    moved.append((d, Edge(e.source, e.source_port, e.target, name),
                                  d.disconnect(e)))
                elif (node.type == "BlockOutput" and e.source == instance
                      and e.source_port == old):
                    moved.append((d, Edge(e.source, name, e.target, e.target_port),
                                  d.disconnect(e)))
        body.set_label(node_id, name)  # the instances' ports follow (the spec is rebuilt)
        for d, edge, index in reversed(moved):  # each wire back at its place
            d.connect(edge, index)
        edit.result = {"definition": body.block_name, "port": name, "old": old}
    return edit


# ---------------------------------------------------------------------- group
def group(doc: Document, node_ids: Iterable[str], name: str | None = None,
          label: str | None = None) -> Edit:
    """Replace ``node_ids`` by an instance of a new definition holding them.

    Wires crossing the selection's boundary become ports: one input port per distinct
    outside output feeding the selection, one output port per inside output used
    outside, ordered as the document orders their sources. Inner nodes keep their ids.
    """
    from .document import Document, Edge

    ids = list(dict.fromkeys(node_ids))
    if not ids:
        raise StrataError("select the layers to group into a block")
    order = {n: i for i, n in enumerate(doc.nodes)}
    for node_id in ids:
        node = doc.node(node_id)
        if node.type in ("Input", "Output") or node.type in PORT_TYPES:
            raise StrataError(f"{node.describe()} cannot go into a block: the network's "
                              "inputs and outputs (and a block's ports) stay where they are")
    ids.sort(key=order.__getitem__)
    inside = set(ids)
    lib = doc.blocks
    name = lib.unique_name(name or "Block")
    _check_name(name)
    sources_in: list[tuple[str, str]] = []  # outside outputs feeding the selection
    sources_out: list[tuple[str, str]] = []  # inside outputs used outside
    for e in doc.edges:
        if e.target in inside and e.source not in inside:
            if (e.source, e.source_port) not in sources_in:
                sources_in.append((e.source, e.source_port))
        elif (e.source in inside and e.target not in inside
              and (e.source, e.source_port) not in sources_out):
            sources_out.append((e.source, e.source_port))
    sources_in.sort(key=lambda s: order[s[0]])
    sources_out.sort(key=lambda s: order[s[0]])

    body = Document(name, library=lib, block=name)
    xs = [doc.nodes[i].position[0] for i in ids]
    ys = [doc.nodes[i].position[1] for i in ids]
    for node_id in ids:
        node = doc.nodes[node_id]
        body.nodes[node_id] = type(node)(node_id, node.type, copy.deepcopy(node.params),
                                         node.label, node.position, lib)
    in_ports: dict[tuple[str, str], str] = {}
    for k, src in enumerate(sources_in):
        port = body.add_node("BlockInput", {}, "in" if k == 0 else f"in{k + 1}",
                             (min(xs) - 220.0, min(ys) + 120.0 * k))
        in_ports[src] = port.label
    out_ports: dict[tuple[str, str], str] = {}
    for k, src in enumerate(sources_out):
        port = body.add_node("BlockOutput", {}, "out" if k == 0 else f"out{k + 1}",
                             (max(xs) + 220.0, min(ys) + 120.0 * k))
        out_ports[src] = port.label
    for e in doc.edges:
        if e.source in inside and e.target in inside:
            body.edges.append(e)
        elif e.target in inside:
            port_id = _port_id(body, "BlockInput", in_ports[(e.source, e.source_port)])
            body.edges.append(Edge(port_id, "out", e.target, e.target_port))
    for src, out_label in out_ports.items():
        port_id = _port_id(body, "BlockOutput", out_label)
        body.edges.append(Edge(src[0], src[1], port_id, "in"))
    body.revision = 0
    definition = Definition(name, body)

    outside_in = [e for e in doc.edges if e.target in inside and e.source not in inside]
    outside_out = [e for e in doc.edges if e.source in inside and e.target not in inside]
    position = (sum(xs) / len(xs), sum(ys) / len(ys))
    with compound(doc, "Group into block") as edit:
        _attach(lib, definition, None)
        for node_id in ids:
            doc.remove_node(node_id)
        instance = doc.add_node(BLOCK, {"block": name}, label, position)
        for src, in_label in in_ports.items():
            doc.connect(Edge(src[0], src[1], instance.id, in_label))
        for e in outside_out:
            doc.connect(Edge(instance.id, out_ports[(e.source, e.source_port)], e.target,
                             e.target_port))
        del outside_in
        edit.result = {"instance": instance.id, "definition": name}
    return edit


def _port_id(body: Document, kind: str, label: str) -> str:
    return next(n.id for n in body.nodes.values() if n.type == kind and n.label == label)


# ---------------------------------------------------------------------- ungroup
def ungroup(doc: Document, instance_id: str) -> Edit:
    """Replace an instance by copies of its body's layers (with its parameter values),
    wired in its place; the definition stays in the library."""
    from .document import Edge

    node = doc.node(instance_id)
    if node.type != BLOCK:
        raise StrataError(f"{node.describe()} is not a block instance")
    lib = doc.blocks
    block_name = node.params.get("block")
    if not isinstance(block_name, str):
        raise StrataError(f"{node.describe()} does not name its block")
    definition = lib[block_name]
    values = {e.name: node.params.get(e.name, e.default) for e in definition.exposed}
    body = lib.instantiate(definition, values)
    repeat = int(node.params.get("repeat", 1) or 1)
    x0, y0 = node.position
    bx = [n.position[0] for n in body.nodes.values()] or [0.0]
    by = [n.position[1] for n in body.nodes.values()] or [0.0]
    cx, cy = (min(bx) + max(bx)) / 2, (min(by) + max(by)) / 2
    width = max(bx) - min(bx) + 200.0
    inner = [n for n in body.nodes.values() if n.type not in PORT_TYPES]
    incoming = doc.edges_into(instance_id)
    outgoing = doc.edges_from(instance_id)
    mapping: dict[str, str] = {}
    with compound(doc, "Ungroup block") as edit:
        doc.remove_node(instance_id)
        # The outside producer of each input port, for the first copy.
        feeds: dict[str, tuple[str, str]] = {e.target_port: (e.source, e.source_port)
                                             for e in incoming}
        for k in range(repeat):
            ids: dict[str, str] = {}
            for n in inner:
                shift = (k - (repeat - 1) / 2) * width
                made = doc.add_node(n.type, copy.deepcopy(n.params),
                                    doc.unique_label(n.label or n.spec.default_label),
                                    (x0 + n.position[0] - cx + shift, y0 + n.position[1] - cy))
                ids[n.id] = made.id
                mapping[n.id if repeat == 1 else f"{n.id}:{k}"] = made.id

            def resolve(source: str, port: str, ids=ids,
                        feeds=feeds) -> tuple[str, str] | None:
                src = body.nodes[source]
                if src.type == "BlockInput":
                    return feeds.get(src.label)
                return ids[source], port

            for e in body.edges:
                if e.target in ids:
                    src = resolve(e.source, e.source_port)
                    if src is not None:
                        doc.connect(Edge(src[0], src[1], ids[e.target], e.target_port))
            produced: dict[str, tuple[str, str]] = {}
            for e in body.edges:
                target = body.nodes[e.target]
                if target.type == "BlockOutput":
                    src = resolve(e.source, e.source_port)
                    if src is not None:
                        produced[target.label] = src
            if repeat > 1:  # the next copy reads what this one produced
                (in_port,) = definition.input_ports
                (out_port,) = definition.output_ports
                if out_port in produced:
                    feeds = {in_port: produced[out_port]}
        for e in outgoing:
            src = produced.get(e.source_port)
            if src is not None:
                doc.connect(Edge(src[0], src[1], e.target, e.target_port))
        edit.result = {"definition": definition.name, "nodes": mapping}
    return edit


# ---------------------------------------------------------------------- fork
def make_unique(doc: Document, instance_id: str, name: str | None = None) -> Edit:
    """Give one instance a copy of its definition, so editing it leaves the others."""
    node = doc.node(instance_id)
    if node.type != BLOCK:
        raise StrataError(f"{node.describe()} is not a block instance")
    lib = doc.blocks
    original = lib[node.params["block"]]
    new_name = lib.unique_name(name or original.name)
    _check_name(new_name)
    fork = copy_definition(original, new_name, lib)
    with compound(doc, "Make block unique") as edit:
        _attach(lib, fork, list(lib.definitions).index(original.name) + 1)
        doc.set_param(instance_id, "block", new_name)
        edit.result = {"instance": instance_id, "definition": new_name}
    return edit


def copy_definition(original: Definition, name: str, lib: Library) -> Definition:
    from .document import Document

    body = Document(name, original.body.description, library=lib, block=name)
    for n in original.body.nodes.values():
        body.nodes[n.id] = type(n)(n.id, n.type, copy.deepcopy(n.params), n.label,
                                   n.position, lib)
    body.edges = list(original.body.edges)
    body._next_id = original.body._next_id
    return Definition(name, body, copy.deepcopy(original.exposed), original.description)


# ---------------------------------------------------------------------- journaled steps
def _attach(lib: Library, definition: Definition, index: int | None) -> None:
    lib.attach(definition, index)
    lib.changed(DefinitionAdded(definition.name))
    where = list(lib.definitions).index(definition.name)
    lib.record(lambda: _attach(lib, definition, where), lambda: _detach(lib, definition.name))


def _detach(lib: Library, name: str) -> None:
    definition, index = lib.detach(name)
    lib.changed(DefinitionRemoved(name))
    lib.record(lambda: _detach(lib, name), lambda: _attach(lib, definition, index))


def _rekey(lib: Library, old: str, new: str) -> None:
    lib.rekey(old, new)
    lib.changed(DefinitionRenamed(old, new))
    lib.record(lambda: _rekey(lib, old, new), lambda: _rekey(lib, new, old))


def _set_exposed(lib: Library, name: str, new: list[ExposedParam],
                 old: list[ExposedParam]) -> None:
    lib[name].exposed = copy.deepcopy(new)
    lib.changed(DefinitionChanged(name))
    lib.record(lambda: _set_exposed(lib, name, new, old),
               lambda: _set_exposed(lib, name, old, new))


def _drop_param(doc: Document, node_id: str, key: str) -> None:
    value = doc.nodes[node_id].params.pop(key)
    doc._changed(ParamsChanged(node_id, key))

    def undo() -> None:
        doc.nodes[node_id].params[key] = value
        doc._changed(ParamsChanged(node_id, key))

    doc._record(lambda: _drop_param(doc, node_id, key), undo)


def _check_name(name: str) -> None:
    if not name or not name.isidentifier() or len(name) > 60:
        raise StrataError(f"'{name}' cannot name a block: use letters, digits and _ "
                          "(a Python class name, e.g. BasicBlock)")


def _check_param_name(name: str) -> None:
    if not name.isidentifier() or name in ("block", "repeat", "self"):
        raise StrataError(f"`{name}` cannot name a block parameter: use a Python name "
                          "other than block, repeat and self")


__all__ = ["Edit", "add_definition", "compound", "copy_definition", "group",
           "make_unique", "port_name_problem", "remove_definition", "rename_definition",
           "rename_port", "set_exposed", "ungroup"]
