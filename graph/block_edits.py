"""Compound edits on blocks, each one undo step: make unique, renaming a port (the
instances' wires follow), and the library edits (add, remove, rename a definition, set
its exposed parameters). Group and ungroup are in ``graph.block_grouping``.

Each runs inside ``compound(doc, name)``, which journals the elementary edits it makes
(every Document method records its own inverse while a journal is open) and returns them
as an ``Edit``. ``edit.undo()`` replays the inverses, ``edit.redo()`` the edits, so an
editor wraps one ``Edit`` in one undo command. A compound edit that fails half-way is
rolled back before the error propagates: nothing is lost.
"""

from __future__ import annotations

import contextlib
import copy
from collections.abc import Callable, Iterator
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
        # Only the parameters that stop being exposed go (not ``shares``, which every
        # instance has).
        gone = {e.name for e in old} - {e.name for e in new}
        for d, node_id in lib.instances_of(name):
            for key in [k for k in d.nodes[node_id].params if k in gone]:
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
    return Definition(name, body, copy.deepcopy(original.exposed), original.description,
                      copy.deepcopy(original.derived))


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


__all__ = ["Edit", "add_definition", "compound", "copy_definition",
           "make_unique", "port_name_problem", "remove_definition", "rename_definition",
           "rename_port", "set_exposed"]
