"""Blocks: reusable, editable, nested subnetworks (design note).

The model
- A ``Document`` holds a ``Library`` (``doc.blocks``) of ``Definition``s next to its
  top-level network. A definition has a name, a *body* and exposed parameters. The body
  is a ``Document`` of its own that shares the library: the same node, wire and parameter
  methods (and so the same undo commands and events) edit a block's inside, and a body
  may hold instances of other definitions (nesting; a definition may not contain itself).
- Ports: the body's ``BlockInput`` nodes are the block's input ports, its ``BlockOutput``
  nodes the output ports, in body order, each named by its label (``in``, ``in2``, ``out``).
- Exposed parameters: ``ExposedParam(name, default, targets)``; an instance's value is
  written into every target ``(inner node id, parameter)`` before the body is analysed or
  written as code. A target may be an inner instance's own exposed parameter.
- An instance is a ``Node`` of type ``"Block"`` whose params are ``{"block": name,
  "repeat": n, <exposed name>: value, ...}``. Its ``spec`` is the definition's
  ``LayerSpec`` (ports, parameters, shape rule), built on demand and cached per library
  revision, so everything that reads specs (connect, validation, shapes, summary, code)
  handles instances unchanged. ``repeat`` stacks n copies with separate weights (one input
  port and one output port).

Analysis
- An instance's shape rule analyses the body with the instance's values and input
  tensors (``Library.run``), memoised per (definition, library revision, values,
  tensors): a hundred identical blocks cost one inner analysis. An inner error becomes the
  instance's problem, named by path (``"stage2 > block1 > conv2: ..."``), with
  ``Problem.path`` holding the inner node ids so an open block can mark its inner layer.

Edits (what the editor builds on; ``graph.block_edits`` implements the compound ones)
- Elementary edits are the Document methods, on the root document or on a body
  (``doc.blocks[name].body``). Each emits its event on the document it changes; any change
  inside a body, or to the library, also makes the root document emit
  ``definition_changed`` (or ``definition_added/removed/renamed``) and bumps its revision.
- Compound edits (``Document.group``, ``ungroup``, ``make_unique``, ``add_definition``,
  ``remove_definition``, ``rename_definition``, ``set_exposed``) each return an ``Edit``:
  the elementary edits it consists of, journaled, with ``undo()`` and ``redo()``. One
  compound edit is one undo step; the elementary events let views follow without special
  cases, and a final ``blocks_edited`` event says which compound edit finished.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .catalog.spec import Inferred, LayerSpec, ParamSpec, PortSpec
from .catalog.tensors import TensorInfo
from .errors import ShapeError, StrataError
from .events import DefinitionChanged, DocumentEvent, NodeMoved
from .naming import snake_case

if TYPE_CHECKING:
    from .analysis import Analysis
    from .block_derived import DerivedParam
    from .document import Document
    from .problems import Problem

BLOCK = "Block"  # the node type of an instance
PORT_TYPES = frozenset({"BlockInput", "BlockOutput"})
MAX_REPEAT = 1000
RESERVED_PARAMS = frozenset({"block", "repeat"})


@dataclass
class ExposedParam:
    """A parameter of the block: its value is written into each ``(node id, param)``
    target inside the body."""

    name: str
    default: Any
    targets: list[tuple[str, str]] = field(default_factory=list)
    help: str = ""


class Definition:
    """A named block: a body network with ports and exposed parameters."""

    def __init__(self, name: str, body: Document, exposed: list[ExposedParam] | None = None,
                 description: str = "", derived: list[DerivedParam] | None = None) -> None:
        self.name = name
        self.body = body
        self.exposed = list(exposed or [])
        self.description = description
        # Values computed from the exposed ones and the input (graph.block_derived).
        self.derived = list(derived or [])

    @property
    def input_ports(self) -> list[str]:
        return [n.label for n in self.body.nodes.values() if n.type == "BlockInput"]

    @property
    def output_ports(self) -> list[str]:
        return [n.label for n in self.body.nodes.values() if n.type == "BlockOutput"]

    def port_node(self, kind: str, port: str) -> str | None:
        """The body node id of input (``kind="BlockInput"``) or output port ``port``."""
        return next((n.id for n in self.body.nodes.values()
                     if n.type == kind and n.label == port), None)

    def exposed_param(self, name: str) -> ExposedParam:
        for e in self.exposed:
            if e.name == name:
                return e
        raise StrataError(f"the block '{self.name}' has no parameter `{name}`")

    def instances(self) -> list[str]:
        """Inner node ids of nested instances (of any definition) in the body."""
        return [n.id for n in self.body.nodes.values() if n.type == BLOCK]

    def uses(self) -> set[str]:
        """Names of the definitions this body instantiates directly."""
        return {n.params["block"] for n in self.body.nodes.values()
                if n.type == BLOCK and isinstance(n.params.get("block"), str)}

    def layer_count(self) -> int:
        """Inner layers, nested blocks counted by their own layers (ports left out)."""
        lib = self.body.blocks
        count = 0
        for n in self.body.nodes.values():
            if n.type == BLOCK and n.params.get("block") in lib.definitions:
                inner = lib.definitions[n.params["block"]]
                if inner is not self:
                    count += inner.layer_count() * int(n.params.get("repeat", 1) or 1)
            elif n.type not in PORT_TYPES:
                count += 1
        return count


@dataclass
class BlockRun:
    """One analysed use of a definition: the body with this use's values applied (``doc``)
    and its analysis, for inputs ``tensors``."""

    definition: str
    values: dict[str, Any]
    doc: Document
    analysis: Analysis
    inputs: tuple[TensorInfo, ...]
    outputs: tuple[TensorInfo, ...]
    error: Problem | None
    macs: int
    params: int = 0  # trainable parameters of the layers that reach an output
    derived: dict[str, Any] = field(default_factory=dict)  # this use's derived values


class BlockShapeError(ShapeError):
    """An error inside an instance; ``path`` is the inner node ids down to the layer."""

    def __init__(self, message: str, hint: str = "", path: tuple[str, ...] = ()) -> None:
        super().__init__(message, hint)
        self.path = path


class Library:
    """The definitions of one document (shared by its body documents).

    A deep copy is the library itself: nodes refer to it, and copying a node (undo
    commands do) must not copy every definition with it.
    """

    def __init__(self, owner: Document) -> None:
        self.owner = owner
        self.definitions: dict[str, Definition] = {}
        self.revision = 0
        # Compound edits journal (redo, undo) pairs here while one runs.
        self.journal: list[tuple[Callable[[], Any], Callable[[], Any]]] | None = None
        self._specs: dict[str, LayerSpec] = {}
        self._runs: dict[Any, BlockRun] = {}
        self._active: list[str] = []  # definitions being analysed (self-containment)
        self._unsubscribe: dict[str, Callable[[], None]] = {}

    def __deepcopy__(self, memo) -> Library:
        return self

    def __contains__(self, name: object) -> bool:
        return name in self.definitions

    def __getitem__(self, name: str) -> Definition:
        try:
            return self.definitions[name]
        except KeyError:
            raise StrataError(f"there is no block named '{name}'") from None

    def __iter__(self):
        return iter(self.definitions.values())

    def __len__(self) -> int:
        return len(self.definitions)

    # ------------------------------------------------------------------ changes
    def record(self, redo: Callable[[], Any], undo: Callable[[], Any]) -> None:
        if self.journal is not None:
            self.journal.append((redo, undo))

    def changed(self, event: DocumentEvent) -> None:
        """Something in the library changed: caches go, the root document follows."""
        self.revision += 1
        self._specs.clear()
        self._runs.clear()
        self.owner._changed(event)

    def attach(self, definition: Definition, index: int | None = None) -> None:
        """Put ``definition`` in the library (no event, no journal: the callers do)."""
        items = list(self.definitions.items())
        items.insert(len(items) if index is None else index, (definition.name, definition))
        self.definitions = dict(items)
        name = definition.name
        body = definition.body
        body.blocks = self
        body.block_name = name
        for node in body.nodes.values():
            node.library = self

        def follow(event: DocumentEvent, d=definition) -> None:
            if not isinstance(event, NodeMoved):
                self.changed(DefinitionChanged(d.name, event))

        self._unsubscribe[name] = body.subscribe(follow)

    def detach(self, name: str) -> tuple[Definition, int]:
        index = list(self.definitions).index(name)
        definition = self.definitions.pop(name)
        unsubscribe = self._unsubscribe.pop(name, None)
        if unsubscribe is not None:
            unsubscribe()
        return definition, index

    def rekey(self, old: str, new: str) -> None:
        items = [(new if k == old else k, v) for k, v in self.definitions.items()]
        self.definitions = dict(items)
        self._unsubscribe[new] = self._unsubscribe.pop(old)
        self.definitions[new].name = new
        self.definitions[new].body.block_name = new

    # ------------------------------------------------------------------ queries
    def unique_name(self, base: str) -> str:
        from .naming import class_name

        base = class_name(base) if base else "Block"
        if base not in self.definitions:
            return base
        i = 2
        while f"{base}{i}" in self.definitions:
            i += 1
        return f"{base}{i}"

    def depends_on(self, name: str, other: str) -> bool:
        """Does definition ``name`` contain ``other`` (itself, or nested at any depth)?"""
        seen, stack = set(), [name]
        while stack:
            current = stack.pop()
            if current == other:
                return True
            if current in seen or current not in self.definitions:
                continue
            seen.add(current)
            stack.extend(self.definitions[current].uses())
        return False

    def documents(self) -> list[Document]:
        """The root network and every body."""
        return [self.owner, *(d.body for d in self.definitions.values())]

    def instances_of(self, name: str) -> list[tuple[Document, str]]:
        """Every instance of ``name``: (document it is in, node id)."""
        return [(doc, n.id) for doc in self.documents() for n in doc.nodes.values()
                if n.type == BLOCK and n.params.get("block") == name]

    def spec(self, name: Any) -> LayerSpec:
        """The LayerSpec of instances of ``name`` (a spec without ports if missing)."""
        key = name if isinstance(name, str) else ""
        spec = self._specs.get(key)
        if spec is None:
            spec = self._specs[key] = _instance_spec(self, self.definitions.get(key), key)
        return spec

    # ------------------------------------------------------------------ analysis
    def run(self, definition: Definition, values: dict[str, Any],
            tensors: tuple[TensorInfo, ...]) -> BlockRun:
        """Analyse one use of ``definition`` (memoised until the library changes)."""
        from .analysis import Analyzer, _freeze

        key = (definition.name, self.revision, _freeze(values), tensors)
        run = self._runs.get(key)
        if run is not None:
            return run
        derived = self.derived_values(definition, values, tensors)
        doc = self.instantiate(definition, values, derived)
        ports = dict(zip(definition.input_ports, tensors))
        self._active.append(definition.name)
        try:
            analysis = Analyzer(ports=ports).analyze(doc)
        finally:
            self._active.pop()
        outputs = []
        for port in definition.output_ports:
            node_id = definition.port_node("BlockOutput", port)
            t = analysis.shapes.get(node_id) if node_id is not None else None
            outputs.append(next(iter(t.inputs.values()), None) if t else None)
        errors = analysis.errors
        error = errors[0] if errors else None
        # An erroring run's outputs are never read (its user raises first), so only the
        # tensors that arrived are kept.
        received = tuple(t for t in outputs if t is not None)
        if error is None and len(received) != len(outputs):  # pragma: no cover
            from .problems import Problem

            error = Problem("error", (), "an output port receives nothing", "", "shape")
        macs = params = 0
        for node_id in _live(doc, analysis):
            node, shapes = doc.nodes[node_id], analysis.shapes[node_id]
            spec = node.spec
            merged = {**shapes.params, **shapes.values}
            if spec.macs is not None and shapes.outputs:
                macs += int(spec.macs(merged, list(shapes.inputs.values()),
                                      list(shapes.outputs.values())))
            if spec.param_count is not None and shapes.ok and shapes.outputs:
                params += int(spec.param_count(merged))
        run = BlockRun(definition.name, dict(values), doc, analysis, tensors,
                       received, error, macs, params, derived)
        if len(self._runs) > 4096:  # a long session of edits: forget old uses
            self._runs.clear()
        self._runs[key] = run
        return run

    def derived_values(self, definition: Definition, values: dict[str, Any],
                       tensors: tuple) -> dict[str, Any]:
        """Each derived parameter's value for this use (ShapeError naming it when its
        expression cannot be evaluated)."""
        if not definition.derived:
            return {}
        from .block_derived import evaluate

        env = {e.name: values.get(e.name, e.default) for e in definition.exposed}
        out = {}
        for d in definition.derived:
            try:
                out[d.name] = evaluate(d, env, tensors)
            except StrataError as error:
                raise ShapeError(str(error), "fix the block's derived parameter") from None
            env[d.name] = out[d.name]  # a later one may read an earlier one
        return out

    def instantiate(self, definition: Definition, values: dict[str, Any],
                    derived: dict[str, Any] | None = None) -> Document:
        """The body with ``values`` (and ``derived`` values) written into the exposed
        (and derived) parameters' targets (the body itself when they change nothing:
        analysis never edits a document)."""
        body = definition.body
        bound = [(e.name, e.targets) for e in definition.exposed if e.name in values]
        values = dict(values)
        for d in definition.derived:
            if derived and d.name in derived:
                bound.append((d.name, d.targets))
                values[d.name] = derived[d.name]
        changes = [(node_id, param, values[name]) for name, targets in bound
                   for node_id, param in targets
                   if node_id in body.nodes
                   and body.nodes[node_id].params.get(param) != values[name]]
        if not changes:
            return body
        from .document import Document, Node

        doc = Document(body.name, library=self, block=definition.name)
        for node in body.nodes.values():
            doc.nodes[node.id] = Node(node.id, node.type, dict(node.params), node.label,
                                      node.position, self)
        doc.edges = list(body.edges)
        for node_id, param, value in changes:
            doc.nodes[node_id].params[param] = copy.deepcopy(value)
        return doc

    def infer(self, name: str, ctx) -> Inferred:
        """The shape rule of an instance of ``name``."""
        definition = self.definitions.get(name)
        if definition is None:
            raise ctx.fail(f"uses the block '{name}', which this network does not define",
                           "pick a block from the palette's Blocks section")
        if name in self._active:
            raise ctx.fail(f"is an instance of '{name}' inside '{name}' itself: a block "
                           "cannot contain itself", "remove this instance")
        repeat = ctx.params.get("repeat", 1)
        ins, outs = definition.input_ports, definition.output_ports
        if repeat > 1 and (len(ins) != 1 or len(outs) != 1):
            raise ctx.fail(f"repeats {repeat} times, but a repeated block needs exactly "
                           f"one input and one output (it has {len(ins)} and {len(outs)})",
                           "set repeat to 1")
        values = {e.name: ctx.params[e.name] for e in definition.exposed
                  if e.name in ctx.params}
        tensors = tuple(ctx.inputs)
        runs = []
        label = ctx.label or ctx.name
        for k in range(repeat):
            run = self.run(definition, values, tensors)
            if run.error is not None:
                where = label if repeat == 1 else f"{label}[{k}]"
                raise _inner_error(where, run)
            runs.append(run)
            tensors = run.outputs
        return Inferred(list(tensors), {"runs": tuple(runs),
                                        "macs": sum(r.macs for r in runs),
                                        "params": sum(r.params for r in runs)})


def _live(doc: Document, analysis: Analysis) -> list[str]:
    """Body nodes that lead to an output port (the code leaves the others out)."""
    stack = [n for n in analysis.order if doc.nodes[n].type == "BlockOutput"]
    seen = set(stack)
    while stack:
        for e in analysis.edges_into(stack.pop()):
            if e.source not in seen:
                seen.add(e.source)
                stack.append(e.source)
    return [n for n in analysis.order if n in seen]


def _inner_error(where: str, run: BlockRun) -> BlockShapeError:
    problem = run.error
    assert problem is not None
    inner = problem.node_ids[0] if problem.node_ids else None
    node = run.doc.nodes.get(inner) if inner else None
    if inner is None or node is None:
        return BlockShapeError(f"{where}: {problem.message}", problem.hint)
    if problem.path:  # already "block1 > conv2: ..." from a nested instance
        message = f"{where} > {problem.message}"
    else:
        message = f"{where} > {node.label or node.id}: {problem.message}"
    return BlockShapeError(message, problem.hint, (inner, *problem.path))


def _instance_spec(lib: Library, definition: Definition | None, name: str) -> LayerSpec:
    params = [
        ParamSpec("block", "str", name, "The block definition this instance uses."),
        ParamSpec("repeat", "int", 1, "How many copies are stacked one after another, "
                  "each with its own weights.", min=1, max=MAX_REPEAT),
    ]
    ins: tuple[PortSpec, ...] = ()
    outs: tuple[PortSpec, ...] = ()
    help_text = f"The block '{name}', which this network does not define."
    if definition is not None:
        for e in definition.exposed:
            params.append(_exposed_spec(definition, e))
        ins = tuple(PortSpec(p) for p in definition.input_ports)
        outs = tuple(PortSpec(p) for p in definition.output_ports)
        help_text = definition.description or (
            f"The block '{name}': {definition.layer_count()} layers.")
    return LayerSpec(
        type=BLOCK,
        display_name=name or "Block",
        category="Blocks",
        help=help_text,
        shape_rule=lambda ctx: lib.infer(name, ctx),
        params=tuple(params),
        inputs=ins,
        outputs=outs,
        module=name,
        expression="{m}({xs})",
        macs=lambda values, _ins, _outs: int(values.get("macs", 0)),
        param_count=lambda values: int(values.get("params", 0)),
        default_label=snake_case(name, "block"),
    )


def _exposed_spec(definition: Definition, e: ExposedParam) -> ParamSpec:
    base = None
    for node_id, param in e.targets:
        node = definition.body.nodes.get(node_id)
        if node is not None:
            try:
                base = node.spec.param(param)
                break
            except StrataError:
                continue
    if base is None:  # no targets (or gone): any plain value is accepted
        if isinstance(e.default, int) and not isinstance(e.default, bool):
            # A whole number read by a derived parameter (expand_ratio) stays one.
            return ParamSpec(e.name, "int", e.default, e.help, key=True)
        return ParamSpec(e.name, "str" if isinstance(e.default, str) else "float",
                         e.default, e.help, optional=True)
    return dataclasses.replace(base, name=e.name, default=copy.deepcopy(e.default),
                               help=e.help or base.help, key=True)


__all__ = [
    "BLOCK",
    "PORT_TYPES",
    "BlockRun",
    "BlockShapeError",
    "Definition",
    "ExposedParam",
    "Library",
]
