"""Group a selection into a block and ungroup an instance, each one undo step.

Both run inside ``graph.block_edits.compound`` and keep what the selection computes.
Inside a block's body they also keep its exposed parameters working: a parameter of the
outer block that sets a layer being grouped sets it through the new nested block (which
exposes a parameter of the same name, wired to the outer one), and ungrouping an
instance points the outer parameters that set it at the copies of its inner layers.
Without that, an instance's value (``channels=64``) would stop reaching the layer and
the block would silently compute something else.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .block_edits import Edit, _attach, _check_name, _set_exposed, compound
from .blocks import BLOCK, PORT_TYPES, Definition, ExposedParam
from .errors import StrataError

if TYPE_CHECKING:
    from .document import Document

Target = tuple[str, str]


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
    outer, links = _links_into(doc, inside)
    # The new block's parameters take the values the layers have now (the outer
    # instances' values still reach them, through the outer parameter).
    values = {e.name: _current(doc, moved[0]) for e, moved in links}
    definition = Definition(name, body, [
        ExposedParam(e.name, values[e.name], moved, e.help) for e, moved in links])

    outside_in = [e for e in doc.edges if e.target in inside and e.source not in inside]
    outside_out = [e for e in doc.edges if e.source in inside and e.target not in inside]
    position = (sum(xs) / len(xs), sum(ys) / len(ys))
    with compound(doc, "Group into block") as edit:
        _attach(lib, definition, None)
        for node_id in ids:
            doc.remove_node(node_id)
        instance = doc.add_node(BLOCK, {"block": name, **values}, label, position)
        for src, in_label in in_ports.items():
            doc.connect(Edge(src[0], src[1], instance.id, in_label))
        for e in outside_out:
            doc.connect(Edge(instance.id, out_ports[(e.source, e.source_port)], e.target,
                             e.target_port))
        del outside_in
        if outer is not None and links:
            # The outer parameters now set the new instance's parameter of their name.
            _relink(outer, {e.name: [(instance.id, e.name)] for e, _ in links}, inside)
        edit.result = {"instance": instance.id, "definition": name}
    return edit


def _analysed_bodies(doc: Document, instance_id: str, repeat: int) -> list[Document]:
    """Each copy's body with every value written in, derived ones included (those
    follow the tensor each copy receives), from the network's analysis; [] inside a
    block's body (no tensors there) or when the instance does not analyse."""
    definition = doc.blocks[doc.nodes[instance_id].params["block"]]
    if not definition.derived or doc.block_name is not None:
        return []
    from .analysis import analyze

    shapes = analyze(doc).shapes.get(instance_id)
    runs = shapes.values.get("runs", ()) if shapes is not None else ()
    return [r.doc for r in runs] if len(runs) == repeat else []


def _links_into(doc: Document, inside: set[str]
                ) -> tuple[Definition | None, list[tuple[ExposedParam, list[Target]]]]:
    """The definition whose body ``doc`` is, and each of its exposed parameters with
    its targets among the nodes ``inside`` (the ones that set nothing left out)."""
    name = doc.block_name
    outer = doc.blocks.definitions.get(name) if name is not None else None
    if outer is None or outer.body is not doc:
        return None, []
    links = []
    for e in outer.exposed:
        moved = [(n, p) for n, p in e.targets if n in inside and n in doc.nodes]
        if moved:
            links.append((e, moved))
    return outer, links


def _current(doc: Document, target: Target) -> Any:
    """The value a target has in ``doc`` (its spec's default when not set)."""
    node = doc.nodes[target[0]]
    if target[1] in node.params:
        return copy.deepcopy(node.params[target[1]])
    return copy.deepcopy(node.spec.param(target[1]).default)


def _relink(outer: Definition, new_targets: dict[str, list[Target]],
            gone: set[str]) -> None:
    """Retarget ``outer``'s exposed parameters (journaled): targets on nodes ``gone``
    are dropped, ``new_targets[name]`` added to the parameter ``name``."""
    old = copy.deepcopy(outer.exposed)
    new = copy.deepcopy(outer.exposed)
    for e in new:
        kept = [t for t in e.targets if t[0] not in gone]
        e.targets = kept + [t for t in new_targets.get(e.name, []) if t not in kept]
    _set_exposed(outer.body.blocks, outer.name, new, old)


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
    bodies = _analysed_bodies(doc, instance_id, repeat) or [body] * repeat
    x0, y0 = node.position
    bx = [n.position[0] for n in body.nodes.values()] or [0.0]
    by = [n.position[1] for n in body.nodes.values()] or [0.0]
    cx, cy = (min(bx) + max(bx)) / 2, (min(by) + max(by)) / 2
    width = max(bx) - min(bx) + 200.0
    inner = [n for n in body.nodes.values() if n.type not in PORT_TYPES]
    incoming = doc.edges_into(instance_id)
    outgoing = doc.edges_from(instance_id)
    mapping: dict[str, str] = {}
    outer, links = _links_into(doc, {instance_id})
    retarget: dict[str, list[Target]] = {}  # outer parameter -> the copies' targets
    with compound(doc, "Ungroup block") as edit:
        doc.remove_node(instance_id)
        # The outside producer of each input port, for the first copy.
        feeds: dict[str, tuple[str, str]] = {e.target_port: (e.source, e.source_port)
                                             for e in incoming}
        for k in range(repeat):
            ids: dict[str, str] = {}
            for n in inner:
                shift = (k - (repeat - 1) / 2) * width
                made = doc.add_node(n.type, copy.deepcopy(bodies[k].nodes[n.id].params),
                                    doc.unique_label(n.label or n.spec.default_label),
                                    (x0 + n.position[0] - cx + shift, y0 + n.position[1] - cy))
                ids[n.id] = made.id
                mapping[n.id if repeat == 1 else f"{n.id}:{k}"] = made.id
            for link, moved in links:  # the outer parameter sets what the instance's did
                for _, param in moved:
                    inner_param = next((x for x in definition.exposed if x.name == param),
                                       None)
                    for node_id, key in inner_param.targets if inner_param else ():
                        if node_id in ids:
                            retarget.setdefault(link.name, []).append((ids[node_id], key))

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
        if outer is not None and links:
            _relink(outer, retarget, {instance_id})
        edit.result = {"definition": definition.name, "nodes": mapping}
    return edit



__all__ = ["group", "ungroup"]
