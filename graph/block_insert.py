"""Bringing a block from a library (built-in or the user's) into a document.

``copy_block(doc, source, name)`` copies definition ``name`` of ``source`` (a document
holding it, such as ``block_library.builtin_document`` or a file of the user's library)
into ``doc``'s library together with the definitions its body uses, nested ones first,
as one compound edit (``graph.block_edits``: one undo step). A definition the document
already has with the same content is reused, so inserting a library block twice makes
two instances of one definition; a different block of the same name is not touched:
the copy is renamed (``BasicBlock2``) and the instances inside the copies follow.

``insert_block`` adds an instance too, for headless callers and tests; the studio wraps
``copy_block`` and its own placement (after the selection, as for layers) in one step.
``fit_values`` says which exposed parameters to set from the tensor the new instance
will receive (a residual block after 64 channels gets ``channels=64``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .block_edits import Edit, _attach, compound, copy_definition
from .blocks import BLOCK, Definition
from .document_data import definition_to_dict
from .errors import StrataError

if TYPE_CHECKING:
    from .catalog.tensors import TensorInfo
    from .document import Document


def dependencies(source: Document, name: str) -> list[str]:
    """``name`` and every definition its body uses at any depth, used ones first."""
    lib = source.blocks
    lib[name]  # refuses unknown names
    order: list[str] = []

    def visit(current: str, path: tuple[str, ...]) -> None:
        if current in order:
            return
        if current in path:
            raise StrataError(f"the block '{current}' contains itself")
        definition = lib.definitions.get(current)
        if definition is None:
            raise StrataError(f"the block '{path[-1]}' uses a block '{current}' that is "
                              "not defined")
        for used in sorted(definition.uses()):
            visit(used, (*path, current))
        order.append(current)

    visit(name, ())
    return order


def copy_block(doc: Document, source: Document, name: str) -> Edit:
    """Copy ``name`` (and what it uses) from ``source`` into ``doc``'s library.

    ``edit.result["definition"]`` is the name the block has in ``doc``;
    ``edit.result["renamed"]`` maps each copied definition whose name was taken.
    """
    lib = doc.blocks
    if source.blocks is lib:
        raise StrataError("the block is already in this network")
    names: dict[str, str] = {}
    plan: list[tuple[str, Definition | None]] = []  # (name in doc, copy to attach)
    taken = set(lib.definitions)
    for original in dependencies(source, name):
        fresh = _renamed_copy(source.blocks[original], original, names, lib)
        existing = lib.definitions.get(original)
        if existing is not None and _same(existing, fresh):
            names[original] = original
            continue
        new = original
        if new in taken:
            i = 2
            while f"{original}{i}" in taken:
                i += 1
            new = f"{original}{i}"
        taken.add(new)
        names[original] = new
        plan.append((new, _renamed_copy(source.blocks[original], new, names, lib)))
    with compound(doc, "Insert block") as edit:
        for _new, definition in plan:
            assert definition is not None
            _attach(lib, definition, None)
        edit.result = {"definition": names[name],
                       "renamed": {k: v for k, v in names.items() if k != v}}
    return edit


def insert_block(doc: Document, source: Document, name: str, params: dict[str, Any]
                 | None = None, label: str | None = None,
                 position: tuple[float, float] = (0.0, 0.0)) -> Edit:
    """Copy ``name`` into ``doc``'s library and add an instance of it (one edit).
    ``edit.result["instance"]`` is the new node's id."""
    with compound(doc, "Insert block") as edit:
        copied = copy_block(doc, source, name)
        block = copied.result["definition"]
        node = doc.add_node(BLOCK, {**(params or {}), "block": block}, label, position)
        edit.result = {**copied.result, "instance": node.id}
    return edit


# Parameters that say how wide a layer's output is: what a block's input must match
# when the block adds its input back (an identity shortcut) or scales it by channel.
WIDTH_PARAMS = frozenset({"out_channels", "out_features", "num_features", "embed_dim",
                          "hidden_size", "d_model", "normalized_shape"})


def fit_values(source: Document, name: str, tensor: TensorInfo | None,
               declared: tuple[tuple[str, int], ...] = ()) -> dict[str, Any]:
    """Exposed parameters of block ``name`` (of ``source``'s library) set from the
    tensor its first input will receive, so the new instance validates at once, as a
    layer from the palette infers its ``in_channels``.

    ``declared`` (a built-in's ``fit``: parameter, axis) is applied as it says. Other
    blocks are fitted by trying: nothing when the block already takes the tensor, else
    the first exposed width parameter (one that sets an ``out_channels``,
    ``out_features``... inside, at any depth) that makes it validate when set to the
    tensor's channels (or features), else all of them together; {} when nothing helps
    (validation then says what is wrong, on the instance).
    """
    if tensor is None:
        return {}
    if declared:
        out = {}
        for param, axis in declared:
            if len(tensor.shape) > max(axis, -axis - 1) and isinstance(tensor.shape[axis], int):
                out[param] = tensor.shape[axis]
        return out
    lib = source.blocks
    definition = lib[name]
    if len(definition.input_ports) < 1 or tensor.rank < 2:
        return {}
    tensors = (tensor,) * len(definition.input_ports)

    def fits(values: dict[str, Any]) -> bool:
        try:
            return lib.run(definition, values, tensors).error is None
        except StrataError:
            return False

    if fits({}):
        return {}
    widths = [e.name for e in definition.exposed
              if isinstance(e.default, int) and not isinstance(e.default, bool)
              and _sets_width(lib, definition, e.name)]
    sizes = list(dict.fromkeys(d for d in (tensor.shape[1], tensor.shape[-1])
                               if isinstance(d, int)))
    for param in widths:
        for size in sizes:
            if fits({param: size}):
                return {param: size}
    for size in sizes:
        if len(widths) > 1 and fits(dict.fromkeys(widths, size)):
            return dict.fromkeys(widths, size)
    return {}


def _sets_width(lib, definition: Definition, param: str, depth: int = 0) -> bool:
    """Does exposed ``param`` set a layer's output width (through nested blocks too)?"""
    for node_id, key in definition.exposed_param(param).targets:
        node = definition.body.nodes.get(node_id)
        if node is None:
            continue
        if node.type == BLOCK:
            inner = lib.definitions.get(node.params.get("block"))
            if inner is not None and depth < 20 and any(e.name == key for e in inner.exposed) \
                    and _sets_width(lib, inner, key, depth + 1):
                return True
        elif key in WIDTH_PARAMS:
            return True
    return False


def _renamed_copy(original: Definition, new: str, names: dict[str, str], lib) -> Definition:
    """A copy of ``original`` named ``new`` for ``lib``, its nested instances pointing
    at the names their definitions have (or get) in ``lib``."""
    twin = copy_definition(original, new, lib)
    for node in twin.body.nodes.values():
        if node.type == BLOCK and node.params.get("block") in names:
            node.params["block"] = names[node.params["block"]]
    return twin


def _same(a: Definition, b: Definition) -> bool:
    """Same body, parameters and description (names aside)."""
    da, db = definition_to_dict(a), definition_to_dict(b)
    da.pop("name")
    db.pop("name")
    return da == db


__all__ = ["WIDTH_PARAMS", "copy_block", "dependencies", "fit_values", "insert_block"]
