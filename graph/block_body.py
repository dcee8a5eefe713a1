"""Edits of a block definition's body: a layer replaced or inserted inside a block.

A fix about a layer inside a block (an inner Sigmoid behind a vanishing gradient) edits
the block's *definition*, so every instance follows. ``InBlock(block, edit)`` wraps one
of the network-level edits (``graph.edits``: ``ReplaceLayer``, ``InsertLayer``,
``SetParam``) with the name of the definition whose body it applies to.

``check_in_block`` refuses what the network level would refuse, and what only a block
has to protect: its ports stay (they are its instances' ports), the network's Input and
Output never go inside, and a replaced layer keeps every exposed or derived parameter
that targets it (else the block's parameter would point at nothing). A replaced layer
keeps its node id, so exposed targets, node paths of the training setup (``n5/n3``) and
a run's statistics still name it.

``perform_in_block`` makes the edit on a plain document (headless: scripts and
``graph.edits.apply_edits``, then ``graph.save``); ``apply_in_block`` makes it as one journaled compound edit
(``graph.block_edits.Edit``, with ``undo``/``redo``), which the studio pushes as one
undo step.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .block_edits import Edit as CompoundEdit
from .block_edits import compound
from .blocks import BLOCK, PORT_TYPES
from .catalog import get_spec
from .errors import StrataError

if TYPE_CHECKING:
    from .analysis import Analysis, NodeShapes
    from .document import Document
    from .edits import InBlock

# Types a block body cannot hold (the network's ends; ports are made by the block).
NOT_INSIDE = frozenset({"Input", "Output", BLOCK, *PORT_TYPES})


def check_in_block(doc: Document, edit: InBlock) -> None:
    """Raise ``StrataError`` naming what is wrong when ``edit`` cannot be made."""
    from .edits import InsertLayer, ReplaceLayer, SetParam

    definition = doc.blocks[edit.block]  # refuses an unknown block by name
    body = definition.body
    inner = edit.edit
    where = f"the block '{edit.block}'"
    if isinstance(inner, SetParam):
        _layer(body, inner.node_id, where).spec.param(inner.name)
        return
    if isinstance(inner, ReplaceLayer):
        node = _layer(body, inner.node_id, where)
        spec = _insertable(inner.type_name, where)
        wired_in = {e.target_port for e in body.edges_into(node.id)}
        wired_out = body.edges_from(node.id)
        if wired_in and not spec.inputs or wired_out and not spec.outputs:
            raise StrataError(f"{node.describe()} in {where} is wired; {_a(spec.display_name)} "
                              "has no port to keep its wires")
        if len(wired_in) > 1:  # the replacement is wired on its first input only
            raise StrataError(f"{node.describe()} in {where} has {len(wired_in)} inputs "
                              "wired: replace it by hand")
        names = {p.name for p in spec.params}
        for kind, params in (("parameter", definition.exposed),
                             ("derived parameter", definition.derived)):
            for p in params:
                for target, param in p.targets:
                    if target == node.id and param not in names:
                        raise StrataError(
                            f"{where}'s {kind} `{p.name}` sets `{param}` of "
                            f"{node.describe()}, which {_a(spec.display_name)} does not "
                            f"have: remove it from the block's parameters first")
        return
    if isinstance(inner, InsertLayer):
        spec = _insertable(inner.type_name, where)
        if not spec.inputs or not spec.outputs:
            raise StrataError(f"{_a(spec.display_name)} cannot go on a wire: it needs an "
                              "input and an output")
        if inner.edge not in body.edges:
            raise StrataError(f"{where} has no wire {inner.edge}")
        return
    raise StrataError(f"a {type(inner).__name__} edit cannot be made inside {where}")


def perform_in_block(doc: Document, edit: InBlock) -> None:
    """Make ``edit`` on the block's body (checked first; no undo: the headless path)."""
    from .edits import ReplaceLayer, apply_edits, replace_layer

    check_in_block(doc, edit)
    body = doc.blocks[edit.block].body
    if isinstance(edit.edit, ReplaceLayer):
        replace_layer(body, edit.edit, keep_id=True)
    else:
        apply_edits(body, (edit.edit,))


def apply_in_block(doc: Document, edit: InBlock, name: str = "Edit block") -> CompoundEdit:
    """``perform_in_block`` as one compound edit (undo/redo; rolled back on failure)."""
    check_in_block(doc, edit)
    with compound(doc, name) as done:
        perform_in_block(doc, edit)
        done.result = {"definition": edit.block}
    return done


def block_uses(doc: Document, name: str) -> int:
    """How many instances of block ``name`` the document has (at any level)."""
    return len(doc.blocks.instances_of(name))


def used_definitions(doc: Document) -> list[str]:
    """The definitions the network uses, directly or nested, in library order (a
    definition no instance reaches trains nothing: a fix leaves it alone)."""
    lib = doc.blocks
    seen: set[str] = set()
    stack = [n.params.get("block") for n in doc.nodes.values() if n.type == BLOCK]
    while stack:
        name = stack.pop()
        if isinstance(name, str) and name in lib and name not in seen:
            seen.add(name)
            stack.extend(lib[name].uses())
    return [name for name in lib.definitions if name in seen]


def resolve_path(doc: Document, path: str) -> tuple[str | None, str] | None:
    """The definition and body node a run's node path names: ``n5:1/n3`` (inner layer
    ``n3`` of copy 1 of instance ``n5``) -> ("BasicBlock", "n3"); a network node ``n4``
    -> (None, "n4"); None when the path names nothing in ``doc`` any more."""
    parts = [p.split(":", 1)[0] for p in path.split("/")]
    current, name = doc, None
    for part in parts[:-1]:
        node = current.nodes.get(part)
        block = node.params.get("block") if node is not None and node.type == BLOCK else None
        if not isinstance(block, str) or block not in doc.blocks:
            return None
        name, current = block, doc.blocks[block].body
    return (name, parts[-1]) if parts[-1] in current.nodes else None


def inner_shapes(doc: Document, analysis: Analysis) -> dict[str, dict[str, list[NodeShapes]]]:
    """For each definition used: its body's node ids -> what each use of it found (one
    entry per instance and copy, nested uses included), from ``analysis`` of ``doc``."""
    found: dict[str, dict[str, list[NodeShapes]]] = {}
    seen: set[int] = set()  # identical uses share one memoised run: visited once

    def visit(body: Document, shapes: dict[str, NodeShapes]) -> None:
        for node in body.nodes.values():
            if node.type != BLOCK or node.id not in shapes:
                continue
            for run in shapes[node.id].values.get("runs", ()):
                if id(run) in seen:
                    continue
                seen.add(id(run))
                into = found.setdefault(run.definition, {})
                for inner_id, inner in run.analysis.shapes.items():
                    into.setdefault(inner_id, []).append(inner)
                visit(run.doc, run.analysis.shapes)

    visit(doc, analysis.shapes)
    return found


def _a(name: str) -> str:
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _layer(body: Document, node_id: str, where: str):
    node = body.nodes.get(node_id)
    if node is None:
        raise StrataError(f"{where} has no layer '{node_id}' (it was removed or the block "
                          "changed since)")
    if node.type in PORT_TYPES:
        raise StrataError(f"{node.describe()} is a port of {where}: its instances' wires "
                          "depend on it")
    return node


def _insertable(type_name: str, where: str):
    spec = get_spec(type_name)  # refuses an unknown type by name
    if spec.type in NOT_INSIDE:
        raise StrataError(f"{_a(spec.display_name)} cannot go inside {where}")
    return spec


__all__ = ["apply_in_block", "block_uses", "check_in_block", "inner_shapes",
           "perform_in_block", "resolve_path", "used_definitions"]
