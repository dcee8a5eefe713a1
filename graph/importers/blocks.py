"""Imported networks keep their blocks: the user's submodules become block definitions.

The flat import (``torch_fx``) knows, for every layer, the chain of user modules whose
``forward`` made it (fx's ``nn_module_stack``: ``layer2`` > ``layer2.0`` > ``conv1``).
``nest`` groups the flat document bottom-up along that tree, one scope at a time: each
user module (a ``BasicBlock``, an ``nn.Sequential`` stage, a ``downsample``) becomes an
instance labelled with its attribute name, holding its layers labelled with theirs, so
the generated module's names, hence its state_dict keys, are the original's
(``layer2.0.conv1.weight``).

Definitions are then shared: a scope whose body has the same structure as an earlier
definition of the same class becomes another instance of it, and the parameters that
differ between the uses become exposed parameters (named after the class's constructor
argument when the module keeps it as an attribute, ``stride``; else after the layer
parameter, ``out_channels``). An ``nn.Sequential`` of identical blocks becomes one
instance with a repeat count. A ResNet-18 arrives as a stem, four stages and a head.

The result is checked like any import: the original state_dict must load strictly into
the compiled module and the outputs must match; if not, the flat import is kept (with a
note), so grouping can never make an import fail.
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import itertools
import re
from typing import Any

from ..analysis import Analyzer
from ..blocks import BLOCK, PORT_TYPES, ExposedParam
from ..document import Document
from ..errors import StrataError
from ..naming import class_name, snake_case


def scope_chain(node) -> list[tuple[str, type]]:
    """The user modules around an fx node, outermost first, without the layer itself."""
    stack = node.meta.get("nn_module_stack") or {}
    chain = [(path.split("@")[0], cls) for path, cls in
             ((v[0], v[1]) for v in stack.values())]
    if node.op == "call_module" and chain and chain[-1][0] == node.target:
        chain.pop()
    return [c for c in chain if c[0]]


def nest(doc: Document, chains: dict[str, list[tuple[str, type]]], root,
         paths: dict[str, str] | None = None) -> dict[str, str]:
    """Group ``doc`` (a flat import) along the module tree; returns, per flat node id
    grouped into a block, its dotted place (``layer1.0.conv1``: instance labels, then
    its own label).

    ``chains``: node id -> its scope chain; ``root``: the imported module (read for
    constructor-argument names); ``paths``: node id -> the dotted name of what made it
    (``layer1.0.conv1``, or ``layer1.0.add`` for code in a forward), from which inner
    labels are cut (the flat labels may be shortened).
    """
    chains = {n: _with_containers(c, root) for n, c in chains.items()}
    scopes: dict[str, type] = {}
    parent: dict[str, str] = {}
    for chain in chains.values():
        for k, (path, cls) in enumerate(chain):
            scopes.setdefault(path, cls)
            if k:
                parent.setdefault(path, chain[k - 1][0])
    height = dict.fromkeys(scopes, 0)
    for path in sorted(scopes, key=lambda p: -_depth(p, parent)):
        if path in parent:
            height[parent[path]] = max(height[parent[path]], height[path] + 1)
    where: dict[str, list[str]] = {n: [p for p, _ in c] for n, c in chains.items()}
    # Leaves of the module tree first, then what holds them (every use of a class is
    # grouped, shared and exposed before a block holding one is merged with its twin,
    # which drops the twin's body); among equals, in the network's order (stable
    # names: BasicBlock before BasicBlock2).
    order = {p: i for i, p in enumerate(scopes)}
    placed: dict[str, str] = {}
    for path in sorted(scopes, key=lambda p: (height[p], order[p])):
        members = [n for n, c in where.items() if path in c and n in doc.nodes]
        if not members:
            continue
        cls = scopes[path]
        label = path.rsplit(".", 1)[-1]
        name = class_name(cls.__name__)
        if cls.__module__.startswith("torch.nn"):  # a container: named by its attribute
            generic = label.isdigit() or re.fullmatch(r"(layer|stage|block)_?\d*", label)
            name = "Stage" if generic else class_name(label)
        scope_chain = where[members[0]]
        edit = doc.group(members, name, label)
        instance = edit.result["instance"]
        definition = doc.blocks[edit.result["definition"]]
        _relabel(definition.body, path, paths or {}, placed)
        for m in members:  # first: the instance may reuse a member's freed id
            where.pop(m, None)
        where[instance] = scope_chain[:scope_chain.index(path)]
        if paths is not None:
            paths[instance] = path
        if not _to_repeat(doc, instance):
            _share(doc, definition.name, cls, _module_at(root, path), instance)
    _drop_unused(doc)
    return placed


def _with_containers(chain: list[tuple[str, type]], root) -> list[tuple[str, type]]:
    """``chain`` with the containers forward loops over without calling them (the
    ``nn.ModuleList`` of ``for block in self.h``): fx's stack has ``h.0`` but not ``h``,
    and without it the names (``h.0.ln_1``) would lose a level."""
    out: list[tuple[str, type]] = []
    have = {p for p, _ in chain}
    for path, cls in chain:
        parts = path.split(".")
        for k in range(1, len(parts)):
            prefix = ".".join(parts[:k])
            if prefix in have:
                continue
            module = _module_at(root, prefix)
            if module is None:
                continue
            have.add(prefix)
            out.append((prefix, type(module)))
        out.append((path, cls))
    return out


def _depth(path: str, parent: dict[str, str]) -> int:
    k = 0
    while path in parent and k < 1000:
        path = parent[path]
        k += 1
    return k


def _module_at(root, path: str):
    try:
        return root.get_submodule(path)
    except AttributeError:
        return None


def _relabel(body: Document, scope: str, paths: dict[str, str],
             placed: dict[str, str]) -> None:
    """Inner labels: attribute names relative to the scope (``conv1``), or the layer
    type's default label for code in forward (``add``, ``add_2`` in the network's
    order: the same code gives the same labels on every import)."""
    prefix = scope.replace(".", "_") + "_"
    used: set[str] = set()
    for node in body.nodes.values():
        if node.type in PORT_TYPES:
            continue
        path = paths.get(node.id, "")
        if node.type == BLOCK:
            base = node.label
        elif path.startswith(scope + "."):
            base = path[len(scope) + 1:].replace(".", "_")
        elif node.label.startswith(prefix):
            base = node.label[len(prefix):]
        else:
            base = node.label
        label, k = base, 2
        while label in used:
            label = f"{base}_{k}"
            k += 1
        used.add(label)
        node.label = label
        if node.type != BLOCK:
            placed[node.id] = f"{scope}.{label}"


# ---------------------------------------------------------------------- sharing
def _signature(doc: Document, body: Document) -> tuple:
    nodes = tuple((n.label, n.type, n.params.get("block") if n.type == BLOCK else None,
                   n.params.get("repeat") if n.type == BLOCK else None,
                   tuple(sorted(n.params)), _written_in_forward(n))
                  for n in body.nodes.values())
    labels = {n.id: n.label for n in body.nodes.values()}
    edges = tuple(sorted((labels[e.source], e.source_port, labels[e.target], e.target_port)
                         for e in body.edges))
    return nodes, edges


def _target_order(body: Document, exposed: ExposedParam) -> tuple:
    """Exposed parameters in the order of the layers they set: the same block gives the
    same order whether its parameters came from a constructor or from differences."""
    order = {node_id: i for i, node_id in enumerate(body.nodes)}

    def place(target) -> tuple[int, int]:
        node = body.nodes.get(target[0])
        if node is None:
            return (len(order), 0)
        params = list(node.params)
        if node.type == BLOCK and node.params.get("block") in body.blocks:
            # A nested block's parameters, in its own definition's order.
            params = [e.name for e in body.blocks[node.params["block"]].exposed]
        return (order[node.id], params.index(target[1]) if target[1] in params else 0)

    return min((place(t) for t in exposed.targets), default=(len(order), 0))


def _written_in_forward(node) -> str | None:
    """The settings of a layer the code writes in ``forward`` (F.pad's padding): a class
    cannot take them as constructor arguments, so uses that differ in them are
    different blocks (as the code would write two classes)."""
    if node.type in PORT_TYPES or node.type == BLOCK or node.spec.module:
        return None
    return repr(sorted(node.params.items()))


def _share(doc: Document, name: str, cls: type, module, instance: str) -> None:
    """Make ``name`` an instance of an earlier definition of the same structure."""
    lib = doc.blocks
    new = lib[name]
    signature = _signature(doc, new.body)
    canonical = next((d for d in lib if d is not new and getattr(d, "_cls", None) is cls
                      and _signature(doc, d.body) == signature), None)
    if canonical is None:
        new._cls = cls  # type: ignore[attr-defined]
        new._members = [(module, new.body, instance)]  # type: ignore[attr-defined]
        arguments = _constructor_params(new, module)
        arguments.sort(key=lambda e: _target_order(new.body, e))
        new._arguments = copy.deepcopy(arguments)  # type: ignore[attr-defined]
        if arguments:
            doc.set_exposed(name, arguments)
        return
    canonical._members.append((module, new.body, instance))
    doc.set_param(instance, "block", canonical.name)
    doc.remove_definition(name)
    _expose(doc, canonical)


def _expose(doc: Document, definition) -> None:
    """Parameters that differ between the bodies merged into ``definition`` become its
    exposed parameters; each instance gets its own body's values.

    Computed afresh over all the bodies at each merge: two settings equal in the first
    uses (a DoubleConv's middle and output channels in the encoder) may differ in a
    later one (the decoder's), and then they must become two parameters, not stay one.
    """
    lib = doc.blocks
    bodies: list[Document] = [b for _m, b, _i in definition._members]
    by_label = [{n.label: n for n in b.nodes.values()} for b in bodies]
    first = definition.body

    def values_at(target) -> list:
        label = first.nodes[target[0]].label
        return [_plain(m[label].params.get(target[1])) for m in by_label]

    vectors: dict[tuple, list[tuple[str, str]]] = {}
    for node in first.nodes.values():
        if node.type in PORT_TYPES:
            continue
        for param in node.params:
            if param in ("block", "repeat"):
                continue
            values = values_at((node.id, param))
            if any(v != values[0] for v in values):
                vectors.setdefault(tuple(map(repr, values)), []).append((node.id, param))
    # A constructor argument stays a parameter while every use agrees with it: each of
    # its targets has the same value in each body.
    exposed: list[tuple[ExposedParam, list]] = []
    for e in getattr(definition, "_arguments", []):
        per_target = [values_at(tuple(t)) for t in e.targets]
        if all(v == per_target[0] for v in per_target):
            exposed.append((copy.deepcopy(e), per_target[0]))
    names: set[str] = {e.name for e, _v in exposed}
    covered = {tuple(t) for e, _v in exposed for t in e.targets}
    for key in list(vectors):  # targets a constructor argument sets already stay its
        vectors[key] = [t for t in vectors[key] if tuple(t) not in covered]
        if not vectors[key]:
            del vectors[key]
    for targets in vectors.values():
        values = values_at(targets[0])
        same = next((e for e, v in exposed if v == values), None)
        if same is not None:  # follows a constructor argument: bind it there too
            same.targets.extend(targets)
            continue
        name = _arg_name(definition, values, names) or _param_name(first, targets, names)
        names.add(name)
        exposed.append((ExposedParam(name, values[0], list(targets)), values))
    exposed.sort(key=lambda item: _target_order(first, item[0]))
    doc.set_exposed(definition.name, [e for e, _ in exposed])
    where = {node_id: d for d, node_id in lib.instances_of(definition.name)}
    for i, (_module, _body, node_id) in enumerate(definition._members):
        if node_id not in where:
            # It lived in the body of a block merged into its twin since: the twin's
            # instance carries these values as its own exposed parameters.
            continue
        for e, values in exposed:
            where[node_id].set_param(node_id, e.name, values[i])


# ---------------------------------------------------------------------- constructors
@contextlib.contextmanager
def recording_arguments():
    """While building the user's module, every nn.Module keeps the arguments its own
    ``__init__`` was called with (``_strata_args``), so blocks can expose them. A
    profile hook sees each call (only while building), so no class is patched."""
    import sys

    from torch import nn

    def profile(frame, event, _arg):
        if event != "call" or frame.f_code.co_name != "__init__":
            return
        this = frame.f_locals.get("self")
        if isinstance(this, nn.Module) and "_strata_args" not in this.__dict__:
            info = inspect.getargvalues(frame)
            args = {k: info.locals[k] for k in info.args[1:] if k in info.locals}
            if info.keywords and isinstance(info.locals.get(info.keywords), dict):
                args.update(info.locals[info.keywords])
            object.__setattr__(this, "_strata_args", args)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        yield
    finally:
        sys.setprofile(previous)


def _constructor_params(definition, module) -> list[ExposedParam]:
    """Constructor arguments of ``module`` that set inner layer parameters: changing one
    (a copy built on the meta device) changes exactly those layers' attributes."""
    import torch

    arguments = getattr(module, "__dict__", {}).get("_strata_args")
    if not arguments:
        return []
    cls = type(module)
    body = definition.body
    labels = {n.label: n for n in body.nodes.values() if n.type not in PORT_TYPES}
    out: list[ExposedParam] = []
    for name, value in arguments.items():
        if isinstance(value, bool) or not isinstance(value, int) or name in (
                "block", "repeat", "self"):
            continue
        try:
            with (torch.device("meta"), contextlib.redirect_stdout(None),
                  recording_arguments()):
                other = cls(**{**arguments, name: value + 1})
        except Exception:  # noqa: BLE001, S112 - the user's constructor may refuse it
            continue
        targets = []
        for path, leaf in module.named_modules():
            node = labels.get(path)
            if node is None:
                continue
            try:
                changed = other.get_submodule(path)
            except AttributeError:
                continue
            if node.type == BLOCK:  # a nested block: which of its arguments changed
                mine = leaf.__dict__.get("_strata_args") or {}
                theirs = changed.__dict__.get("_strata_args") or {}
                targets += [(node.id, k) for k in node.params
                            if k in mine and mine[k] != theirs.get(k)
                            and _same(value, node.params[k])]
                continue
            for param in node.params:
                a, b = getattr(leaf, param, None), getattr(changed, param, None)
                if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
                    continue  # a weight named like a setting (Conv2d.bias): no setting
                # Only where the setting is the argument itself: Bottleneck's planes
                # sets conv1's channels, but conv3 has planes * 4, which an exposed
                # parameter (one value for all its targets) cannot say.
                if (a is not None and a != b and _same(a, node.params[param])
                        and _same(value, node.params[param])):
                    targets.append((node.id, param))
        if targets and name not in {e.name for e in out}:
            first = body.nodes[targets[0][0]].params[targets[0][1]]
            out.append(ExposedParam(name, first, targets))
    return out


def _arg_name(definition, values: list, taken: set[str]) -> str | None:
    """A constructor argument the modules keep as an attribute with these values."""
    modules = [m for m, _b, _i in definition._members if m is not None]
    if len(modules) != len(values) or not modules:
        return None
    try:
        params = list(inspect.signature(type(modules[0]).__init__).parameters)[1:]
    except (TypeError, ValueError):
        return None
    for p in params:
        got = [getattr(m, p, None) for m in modules]
        if p not in taken and all(_same(g, v) for g, v in zip(got, values)):
            return p
    return None


def _same(attr: Any, value: Any) -> bool:
    if isinstance(value, list):
        return attr == value or (isinstance(attr, int) and value == [attr] * len(value)) \
            or (isinstance(attr, tuple) and list(attr) == value)
    return attr == value and type(attr) is type(value)


def _param_name(body: Document, targets, taken: set[str]) -> str:
    node_id, param = targets[0]
    if param not in taken and param.isidentifier() and param not in ("block", "repeat"):
        return param
    label = body.nodes[node_id].label
    if not label[:1].isalpha():  # "0" in an nn.Sequential: say what the layer is
        label = snake_case(f"{body.nodes[node_id].type}_{label}")
    name, k = f"{label}_{param}", 2
    while name in taken:
        name = f"{label}_{param}_{k}"
        k += 1
    return name


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# ---------------------------------------------------------------------- repeats
def _to_repeat(doc: Document, instance: str) -> bool:
    """An instance whose body is a chain of identical instances of one block becomes
    that block repeated: ``layer1 = nn.Sequential(BasicBlock(64), BasicBlock(64))``."""
    lib = doc.blocks
    node = doc.nodes[instance]
    definition = lib[node.params["block"]]
    inner = [n for n in definition.body.nodes.values() if n.type not in PORT_TYPES]
    if len(inner) < 2 or any(n.type != BLOCK for n in inner):
        return False
    if [n.label for n in inner] != [str(i) for i in range(len(inner))]:
        return False
    first = inner[0]
    if any(n.params != first.params for n in inner):
        return False
    child = lib[first.params["block"]]
    if child.input_ports != ["in"] or child.output_ports != ["out"]:
        return False
    if definition.input_ports != ["in"] or definition.output_ports != ["out"]:
        return False
    body = definition.body
    ids = [definition.port_node("BlockInput", "in"), *(n.id for n in inner),
           definition.port_node("BlockOutput", "out")]
    chain = {(e.source, e.target) for e in body.edges}
    if len(body.edges) != len(ids) - 1 or chain != set(itertools.pairwise(ids)):
        return False
    values = {k: v for k, v in first.params.items() if k not in ("block", "repeat")}
    doc.set_param(instance, "block", child.name)
    for key, value in values.items():
        doc.set_param(instance, key, value)
    doc.set_repeat(instance, len(inner) * int(first.params.get("repeat", 1)))
    if not lib.instances_of(definition.name):
        doc.remove_definition(definition.name)
    return True


def _drop_unused(doc: Document) -> None:
    lib = doc.blocks
    for definition in list(lib):
        for attr in ("_members", "_cls", "_arguments"):
            if hasattr(definition, attr):
                delattr(definition, attr)
        if not lib.instances_of(definition.name):
            doc.remove_definition(definition.name)


def keep_blocks(result, module, mapper, ids: dict[int, str], features, dtypes,
                batch: int, what: str, verify: bool):
    """``result`` (a flat import) with the module's blocks, or unchanged with a note
    when they cannot be kept exactly."""
    from ..compiler import compile_network
    from ..layout import layered_positions
    from .checks import compare_outputs
    from .report import build as build_report
    from .torch_fx import ImportResult
    from .tracing import probe_batch

    ops = mapper.ops

    chains = {node_id: scope_chain(ops[i].node) for i, node_id in ids.items()
              if ops[i].node is not None}
    if not any(chains.values()):
        return result
    shared = sorted({chain[0][0] for node_id, chain in chains.items()
                     if chain and result.document.nodes[node_id].params.get("shares")})
    if shared:
        # One module called at several places (a Siamese tower): its layers share
        # their weights, which a block instance cannot do with another yet.
        result.notes.append(f"{', '.join(repr(s) for s in shared)} "
                            f"{'is' if len(shared) == 1 else 'are'} called more than once; "
                            "a block cannot share its weights with another yet, so the "
                            "network is imported flat (the layers share their weights)")
        return result
    paths = {node_id: op_path(ops[i]) for i, node_id in ids.items()}
    doc = result.document.copy()
    try:
        placed = nest(doc, chains, module, paths)
        analysis = Analyzer().analyze(doc)
        if not analysis.ok:
            raise StrataError("; ".join(p.message for p in analysis.errors[:3]))
        net = compile_network(doc, analysis)
        state, folded = _original_state(module, net.module)
        net.module.load_state_dict(state, strict=True)
        diff = (compare_outputs(module, doc, state, features, dtypes, probe_batch(batch),
                                what) if verify else None)
    except Exception as e:  # noqa: BLE001 - the flat import is exact and already
        # checked; a structure the nesting does not handle yet (a UNet's skip wires
        # across stages) must cost the blocks, never the import.
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        if not isinstance(e, (StrataError, RuntimeError)):
            first = f"{type(e).__name__}: {first}"
        result.notes.append(f"the module's blocks were not kept ({first}); the network "
                            "is imported flat")
        return result
    for d in (doc, *(definition.body for definition in doc.blocks)):
        for node_id, pos in layered_positions(d).items():
            d.nodes[node_id].position = pos
    if folded:
        result.notes.append(f"the buffer{'s' if len(folded) > 1 else ''} "
                            f"{', '.join(repr(k) for k in folded[:4])}"
                            f"{' and more' if len(folded) > 4 else ''} of the original "
                            "state_dict are built into the layers' settings (a causal mask "
                            "is the attention's `causal`), so the network has no such key")
    dotted = {node_id: placed.get(node_id) or doc.nodes[node_id].label
              for node_id in ids.values() if node_id in placed or node_id in doc.nodes}
    report = build_report(doc, mapper, ids, dotted)
    return ImportResult(doc, state, result.notes, diff, result.source, report)


def op_path(op) -> str:
    """The dotted name of what made ``op``: the module or tensor path, or, for code in
    a forward, the module whose forward it is and the layer's default label."""
    from ..catalog import get_spec
    from .torch_fx import _scope

    if op.type is None:
        return ""
    if op.source and not op.anonymous:
        return op.source
    scope = _scope(op.node) if op.anonymous and op.node is not None else ""
    base = get_spec(op.type).default_label
    return f"{scope}.{base}" if scope else base


def _original_state(module, built) -> tuple[dict[str, Any], list[str]]:
    """The original state_dict for the nested network, less the buffers the import
    folded into layer settings (a causal mask); any other difference stays, so the
    strict load that follows refuses it."""
    state = {k: v.detach().clone() for k, v in module.state_dict().items()}
    wanted = set(built.state_dict())
    buffers = {name for name, _b in module.named_buffers()}
    folded = [k for k in state if k not in wanted and k in buffers]
    for k in folded:
        del state[k]
    return state, folded


__all__ = ["keep_blocks", "nest", "scope_chain"]
