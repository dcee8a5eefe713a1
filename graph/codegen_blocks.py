"""Code for blocks: one ``nn.Module`` class per definition, declared once, built per use.

Every use of a definition (each instance copy, at any depth) is a ``BlockRun``: the body
with that use's values, analysed. A class is written from all uses of its definition at
once, argument by argument ("slots": each inner layer's constructor arguments, each
nested block's call arguments):

- a slot bound to an exposed parameter is written as that parameter's name;
- a slot with the same value in every use is written as that literal;
- a slot that varies between uses (an inferred ``in_channels``...) becomes a constructor
  argument of its own, shared by slots that vary alike, and named after what it is
  (``in_channels``, or the exposed parameter whose values it follows).

Exposed parameters are always constructor arguments. Uses whose classes would still
differ (a varying value the class cannot take as an argument, such as a bound ``dim`` in
a forward expression) get a class each (``Block``, ``Block2``). A body that is a plain
chain of layers labelled ``0``, ``1``... is written as an ``nn.Sequential`` subclass, so
its state_dict keys are the indices, as in torchvision (``layer2.0.conv1.weight``). A
repeated instance is an ``nn.Sequential`` of its copies.
"""

from __future__ import annotations

import keyword
import textwrap
from dataclasses import dataclass, field
from typing import Any

from .block_derived import DerivedParam, code_text, input_values
from .blocks import BlockRun, ExposedParam
from .codegen import DOC_WIDTH, _literal, _Writer
from .naming import Namespace, class_name
from .pyformat import INDENT, format_statement

_MISSING = object()
POSITIONAL_ARGS = 2  # call sites name arguments after the first two: Block(64, 128, stride=2)


@dataclass
class _Class:
    """One written class and how a use calls it."""

    name: str
    text: str
    params: list[str]  # constructor argument names, in order
    attributes: dict[str, str]  # inner node id -> attribute ("conv1", or "0" in a Sequential)
    functions: frozenset[str] = frozenset()  # inner node ids written as function calls


@dataclass
class _Call:
    """How one use is built: its class and the value of each constructor argument."""

    cls: _Class
    args: list[Any]
    text: str = ""


@dataclass
class _Plan:
    """Slot classification of one definition across its uses."""

    params: list[tuple[str, str]] = field(default_factory=list)  # (name, annotation)
    slot_names: dict[tuple, str] = field(default_factory=dict)  # slot -> argument name
    values: dict[str, list[Any]] = field(default_factory=dict)  # argument -> per-use values


class BlockClasses:
    """The classes of every definition the network uses, and each use's call."""

    def __init__(self, analysis, layers, reserved: set[str], functions: bool = True) -> None:
        self.analysis = analysis
        self.functions = functions  # parameter-free activations as function calls
        self.uses: dict[str, list[BlockRun]] = {}
        self.calls: dict[int, _Call] = {}  # id(run) -> call
        self.names = set(reserved)
        self.texts: list[str] = []
        self.classes: dict[str, list[str]] = {}  # definition -> its class names
        self.attributes: dict[str, dict[str, str]] = {}  # class -> {inner id: attribute}
        self._order: list[str] = []
        seen: set[int] = set()
        for n in layers:
            if n.is_block:
                for run in analysis.shapes[n.id].values.get("runs", ()):
                    self._collect(run, seen)
        for definition in self._order:
            self._write(definition)

    # ------------------------------------------------------------------ uses
    def _collect(self, run: BlockRun, seen: set[int]) -> None:
        if id(run) in seen:
            return
        seen.add(id(run))
        for node_id in _live_layers(run):
            node = run.doc.nodes[node_id]
            if node.is_block:
                for inner in run.analysis.shapes[node_id].values.get("runs", ()):
                    self._collect(inner, seen)
        if run.definition not in self.uses:
            self.uses[run.definition] = []
            self._order.append(run.definition)
        self.uses[run.definition].append(run)

    # ------------------------------------------------------------------ calls
    def call(self, analysis, node) -> str:
        """The constructor expression of an instance node (its copies in a Sequential)."""
        runs = analysis.shapes[node.id].values.get("runs", ())
        texts = [self.calls[id(r)].text for r in runs]
        return _repeat(texts)

    def modules(self, layers, attributes: dict[str, str], called: set[str]):
        """Every submodule with its node path, label path and dotted name; ``called``:
        the top-level layers written as function calls (``_Writer.is_function``)."""
        from .codegen import CodeModule

        out: list[CodeModule] = []

        def visit(node, path: str, name: str, attribute: str, runs,
                  function: bool = False) -> None:
            out.append(CodeModule(path, node.type, name, attribute, function))
            if not node.is_block:
                return
            for k, run in enumerate(runs):
                prefix, at, title = path, attribute, name
                if len(runs) > 1:
                    prefix, at, title = f"{path}:{k}", f"{attribute}.{k}", f"{name}[{k}]"
                    out.append(CodeModule(prefix, node.type, title, at))
                cls = self.calls[id(run)].cls
                for inner_id in _live_layers(run):
                    inner = run.doc.nodes[inner_id]
                    if inner_id in cls.attributes:
                        visit(inner, f"{prefix}/{inner_id}", f"{title} > {inner.title}",
                              f"{at}.{cls.attributes[inner_id]}",
                              run.analysis.shapes[inner_id].values.get("runs", ()),
                              inner_id in cls.functions)

        for n in layers:
            if n.id in attributes:
                visit(n, n.id, n.title, attributes[n.id],
                      self.analysis.shapes[n.id].values.get("runs", ()),
                      n.id in called)
        return out

    # ------------------------------------------------------------------ classes
    def _write(self, definition: str) -> None:
        runs = self.uses[definition]
        slots = _same_order([_slots(run, self.calls) for run in runs])
        plan = _classify(runs, slots)
        variants: dict[str, _Class] = {}
        commented: dict[str, set[str]] = {}
        texts = []
        for run, run_slots in zip(runs, slots):
            # Uses differ in shapes, so a class is known by its text without the shape
            # comments, which it keeps only when every use agrees on them.
            bare, attributes, functions = _class_text(run, run_slots, plan, self.calls,
                                                      False, self.functions)
            full, _, _ = _class_text(run, run_slots, plan, self.calls, True,
                                     self.functions)
            commented.setdefault(bare, set()).add(full)
            texts.append((bare, attributes, functions))
        for index, (run, (bare, attributes, functions)) in enumerate(zip(runs, texts)):
            cls = variants.get(bare)
            if cls is None:
                name = self._class_name(definition)
                cls = _Class(name, "", [p for p, _ in plan.params], attributes, functions)
                (only,) = commented[bare] if len(commented[bare]) == 1 else (bare,)
                cls.text = only.replace("class \0", f"class {name}", 1)
                variants[bare] = cls
                self.texts.append(cls.text)
                self.classes.setdefault(definition, []).append(name)
                self.attributes[name] = dict(attributes)
            args = [plan.values[p][index] for p, _ in plan.params]
            call = _Call(cls, args)
            call.text = _call_text(cls.name, cls.params, args)
            self.calls[id(run)] = call

    def _class_name(self, definition: str) -> str:
        base = class_name(definition)
        name, i = base, 2
        while name in self.names or keyword.iskeyword(name):
            name = f"{base}{i}"
            i += 1
        self.names.add(name)
        return name


# ---------------------------------------------------------------------- slots
def _live_layers(run: BlockRun) -> list[str]:
    """Body nodes that are layers (not ports) and lead to an output, in order."""
    a = run.analysis
    live = [n for n in a.order if run.doc.nodes[n].type == "BlockOutput"]
    seen = set(live)
    while live:
        for e in a.edges_into(live.pop()):
            if e.source not in seen:
                seen.add(e.source)
                live.append(e.source)
    return [n for n in a.order if n in seen
            and run.doc.nodes[n].type not in ("BlockInput", "BlockOutput")]


def _slots(run: BlockRun, calls: dict[int, _Call]) -> dict[tuple, Any]:
    """Each constructor argument of each inner layer: (node, copy, key, positional) ->
    value, in writing order."""
    out: dict[tuple, Any] = {}
    bound = _bound(run)
    for node_id in _live_layers(run):
        node = run.doc.nodes[node_id]
        shapes = run.analysis.shapes[node_id]
        if node.is_block:
            for k, inner in enumerate(shapes.values.get("runs", ())):
                call = calls[id(inner)]
                for i, (name, value) in enumerate(zip(call.cls.params, call.args)):
                    out[(node_id, k, name, i < POSITIONAL_ARGS)] = value
            continue
        spec = node.spec
        if not spec.module:
            continue
        values = {**shapes.params, **shapes.values}
        kwargs = spec.module_args(values) if spec.module_args else {}
        for i, (key, value) in enumerate(kwargs.items()):
            out[(node_id, 0, key, i < spec.positional)] = value
        for target, param in bound:
            key = (target, 0, param, False)
            if target == node_id and not any(s[:3] == key[:3] for s in out):
                out[key] = _MISSING  # filled from the exposed value if another use has it
    return out


def _same_order(slots: list[dict[tuple, Any]]) -> list[dict[tuple, Any]]:
    """Each use's slots in one order: a keyword a use leaves at its default (stride 1,
    appended as a bound parameter) must not move, or two uses of one definition would
    be written as two classes differing only in the order of their keywords."""
    rank = {key: i for i, key in enumerate(dict.fromkeys(
        [k[:3] for s in slots for k, v in s.items() if v is not _MISSING]
        + [k[:3] for s in slots for k in s]))}
    return [dict(sorted(s.items(), key=lambda kv: rank[kv[0][:3]])) for s in slots]


def _bound(run: BlockRun) -> dict[tuple[str, str], str]:
    from .blocks import Library

    lib: Library = run.doc.blocks
    definition = lib.definitions.get(run.definition)
    if definition is None:
        return {}
    params: list[ExposedParam | DerivedParam] = [*definition.exposed, *definition.derived]
    return {(t[0], t[1]): e.name for e in params for t in e.targets}


def _classify(runs: list[BlockRun], slots: list[dict[tuple, Any]]) -> _Plan:
    plan = _Plan()
    definition = runs[0].doc.blocks.definitions[runs[0].definition]
    params: list[ExposedParam | DerivedParam] = [*definition.exposed, *definition.derived]
    bound = {tuple(t): e.name for e in params for t in e.targets}
    exposed_values = {e.name: [_arg_form(r.values.get(e.name, e.default)) for r in runs]
                      for e in definition.exposed}
    # Derived values (hidden_channels) and the input's size they read (in_channels):
    # an inferred width equal to one of them in every use is written as its name.
    inputs = list(dict.fromkeys(n for d in definition.derived for n in d.uses_input()))
    input_vals = {n: [input_values(r.inputs).get(n) for r in runs] for n in inputs}
    known = {**exposed_values,
             **{d.name: [r.derived.get(d.name) for r in runs] for d in definition.derived},
             **input_vals}
    keys = list(dict.fromkeys(k[:3] for s in slots for k in s))
    names = Namespace(set(known) | {"self"})
    varying: dict[tuple, str] = {}
    extra: list[tuple[str, str]] = []
    for key in keys:
        vector = [_value(s, key) for s in slots]
        name = bound.get((key[0], key[2]))
        if name is not None and (any(v is not _MISSING for v in vector)
                                 or _takes(runs[0].doc.nodes[key[0]], key[2])):
            # Also when every use leaves it at the module's default (stride 1): the
            # argument the block takes must reach its layer, or the class ignores it.
            plan.slot_names[key] = name
            continue
        if _MISSING in vector:
            continue  # a literal (variants split uses it cannot serve)
        frozen = tuple(map(repr, vector))
        # A value inferred from the input (in_channels, num_features) that equals an
        # exposed parameter in every use is written as it: BatchNorm2d(planes).
        inferred = (key[1] == 0 and not runs[0].doc.nodes[key[0]].is_block
                    and key[2] not in runs[0].doc.nodes[key[0]].params)
        same = [e for e, values in known.items() if tuple(map(repr, values)) == frozen]
        # Its own name first (a conv's in_channels is the block's in_channels).
        match = key[2] if key[2] in same else next(iter(same), None)
        if match is not None and (inferred or any(v != vector[0] for v in vector)):
            plan.slot_names[key] = match
            continue
        if all(v == vector[0] for v in vector):
            continue  # a literal
        if frozen not in varying:
            label = runs[0].doc.nodes[key[0]].label
            varying[frozen] = names.take(key[2] if key[2] not in names else
                                         f"{label}_{key[2]}", "arg")
            extra.append((varying[frozen], _annotation(vector[0])))
            plan.values[varying[frozen]] = vector
        plan.slot_names[key] = varying[frozen]
    plan.params = [(n, "int") for n in inputs] + extra + [
        (e.name, _annotation(exposed_values[e.name][0])) for e in definition.exposed]
    plan.values.update(exposed_values)
    plan.values.update(input_vals)
    return plan


def _takes(node, param: str) -> bool:
    """Whether the layer's torch module takes ``param`` as a keyword (nn.Conv2d takes
    ``stride``; Strata-only settings such as ``init`` are not constructor arguments)."""
    import inspect

    from torch import nn

    module = node.spec.module or ""
    cls = getattr(nn, module[3:], None) if module.startswith("nn.") else None
    if not isinstance(cls, type):
        return False
    try:
        return param in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def _value(slots: dict[tuple, Any], key: tuple) -> Any:
    for k, v in slots.items():
        if k[:3] == key:
            return v
    return _MISSING


# ---------------------------------------------------------------------- text
def _class_text(run: BlockRun, slots: dict[tuple, Any], plan: _Plan,
                calls: dict[int, _Call], comments: bool, functions: bool = True,
                ) -> tuple[str, dict[str, str], frozenset[str]]:
    """The class for ``run`` (its name left as ``\\0``), its attributes and the inner
    layers it calls as functions (``functions``: parameter-free activations are)."""
    def arg_text(node_id: str, k: int) -> list[str]:
        parts = []
        for (nid, kk, key, positional), value in slots.items():
            if nid != node_id or kk != k:
                continue
            name = plan.slot_names.get((nid, kk, key))
            if name is None and value is _MISSING:
                continue
            text = name if name is not None else _literal(value)
            parts.append(text if positional else f"{key}={text}")
        return parts

    def constructor(node) -> str:
        if node.is_block:
            inner = run.analysis.shapes[node.id].values.get("runs", ())
            texts = [f"{calls[id(r)].cls.name}({', '.join(arg_text(node.id, k))})"
                     for k, r in enumerate(inner)]
            return _repeat(texts)
        return f"{node.spec.module}({', '.join(arg_text(node.id, 0))})"

    layers = _live_layers(run)
    signature = ", ".join(["self", *(f"{p}: {a}" for p, a in plan.params)])
    lines = []
    definition = run.doc.blocks.definitions[run.definition]
    chain = _is_chain(run, layers)
    base = "nn.Sequential" if chain else "nn.Module"
    lines.append(f"class \0({base}):")
    if definition.description:
        words = textwrap.wrap(_doc_text(definition.description), DOC_WIDTH,
                              break_long_words=False, break_on_hyphens=False)
        if len(words) == 1:
            lines.append(f'{INDENT}"""{words[0]}"""')
        else:
            lines += [f'{INDENT}"""{words[0]}', *(INDENT + w for w in words[1:]),
                      f'{INDENT}"""']
        lines.append("")
    # Derived values, computed once in __init__ (only those a layer reads).
    used = set(plan.slot_names.values())
    derived = [f"{d.name} = {code_text(d.expression)}" for d in definition.derived
               if d.name in used]
    if chain:
        lines += format_statement(f"def __init__({signature}) -> None:", 1)
        for line in derived:
            lines += format_statement(line, 2)
        inner = ", ".join(constructor(run.doc.nodes[n]) for n in layers)
        lines += format_statement(f"super().__init__({inner})", 2)
        return "\n".join(lines), {n: run.doc.nodes[n].label for n in layers}, frozenset()

    writer = _BodyWriter(run.doc, run.analysis, constructor, comments)
    writer.functions = functions
    writer.plan()
    writer.lines = lines
    writer._statement(1, f"def __init__({signature}) -> None:")
    writer.emit(2, "super().__init__()")
    for line in derived:
        writer.emit(2, line)
    writer._init_body()
    writer.lines.append("")
    writer._forward()
    called = frozenset(n.id for n in writer.layers if writer.is_function(n))
    return "\n".join(writer.lines), dict(writer.attributes), called


def _is_chain(run: BlockRun, layers: list[str]) -> bool:
    """A plain chain of module layers labelled 0, 1, 2...: an nn.Sequential."""
    if not layers or [run.doc.nodes[n].label for n in layers] != [
            str(i) for i in range(len(layers))]:
        return False
    a = run.analysis
    previous = None
    for node_id in layers:
        node = run.doc.nodes[node_id]
        if not node.spec.module or len(a.edges_into(node_id)) != 1:
            return False
        source = a.edges_into(node_id)[0].source
        if previous is None:
            if run.doc.nodes[source].type != "BlockInput":
                return False
        elif source != previous:
            return False
        previous = node_id
    outs = [n for n in run.doc.nodes.values() if n.type == "BlockOutput"]
    ins = [n for n in run.doc.nodes.values() if n.type == "BlockInput"]
    return (len(outs) == 1 and len(ins) == 1
            and [e.source for e in a.edges_into(outs[0].id)] == [previous]
            and all(len(run.doc.edges_from(n)) == 1 for n in layers))


def _repeat(texts: list[str]) -> str:
    if len(texts) == 1:
        return texts[0]
    if len(set(texts)) == 1 and len(texts) > 3:
        return f"nn.Sequential(*[{texts[0]} for _ in range({len(texts)})])"
    return f"nn.Sequential({', '.join(texts)})"


def _doc_text(text: str) -> str:
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    text = text.replace("\\", "/").replace('"""', "'''")
    return (" " + text if text.startswith('"') else text) + (" " if text.endswith('"') else "")


def _call_text(name: str, params: list[str], args: list[Any]) -> str:
    parts = [(_literal(v) if i < POSITIONAL_ARGS else f"{p}={_literal(v)}")
             for i, (p, v) in enumerate(zip(params, args))]
    return f"{name}({', '.join(parts)})"


def _arg_form(value: Any) -> Any:
    """A parameter value as a constructor takes it: [2, 2] -> 2, [3, 5] -> (3, 5)."""
    if isinstance(value, (list, tuple)):
        if value and all(v == value[0] for v in value) and isinstance(value[0], int):
            return value[0]
        return tuple(value)
    return value


def _annotation(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "str"
    if isinstance(value, tuple):
        return "tuple[int, ...]"
    return "object"


class _BodyWriter(_Writer):
    """A body's ``__init__`` and ``forward``; constructors come from the slot plan."""

    io_types = ("BlockInput", "BlockOutput")

    def __init__(self, doc, analysis, constructor, comments: bool) -> None:
        super().__init__(doc, analysis)
        self._make = constructor
        self._comments = comments

    def _statement(self, level: int, code: str, comment: str = "",
                   node_id: str | None = None) -> None:
        super()._statement(level, code, comment if self._comments else "", node_id)

    def _constructor(self, n, attribute: str) -> None:
        self._statement(2, f"self.{attribute} = {self._make(n)}")

    def plan(self) -> None:
        super().plan()
        # forward takes and returns the ports in the block's port order (body order).
        index = {n: i for i, n in enumerate(self.doc.nodes)}
        self.inputs.sort(key=lambda n: index[n.id])
        self.outputs.sort(key=lambda n: index[n.id])
