"""Python source for a network: one readable ``nn.Module`` class, only torch imports.

The same text is what the user exports and what ``compile`` executes, so the model that
trains is the model that leaves Strata. Generation is deterministic: nodes are visited in
lexicographic topological order keyed by their position in the document, and names come
from labels through one ``Namespace``. Long lines are split by ``pyformat`` exactly as
``ruff format`` would, so the output passes ``ruff format --check`` untouched.

Layers that lead to no Output (validation warns about them) are left out: their result
would be unused. Every Input stays a ``forward`` argument, in document order.

Every layer with weights or state is a submodule, named as its card is, and so is a
parameter-free layer with settings (``self.leaky_relu``); a parameter-free activation
without settings is written as the function it is (``x = torch.relu(x)``), as people
write it: a module call costs about 28 k instructions more than the function, 4.7% of
a small MLP's step on the CPU (``benchmarks/bench_training.py``). The runtime observes
those nodes all the same: ``generate_code(..., observable=True)`` writes the class
with every layer a submodule (the same names, lines and numbers), and the compiler
runs that text's ``forward`` on the steps it measures (``graph.compiler.observe``).
"""

from __future__ import annotations

import itertools
import re
import textwrap
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import sharing
from .analysis import Analysis, Analyzer
from .catalog.init import init_lines
from .document import Document, Node
from .errors import GraphError
from .naming import Namespace, class_name
from .pyformat import INDENT, LINE_LENGTH, format_statement, number_literal
from .pysource import docstring_start, prose, py_string

if TYPE_CHECKING:
    from .codegen_blocks import BlockClasses

# Docstring text width: a one-line class docstring fits with its quotes.
DOC_WIDTH = LINE_LENGTH - len(INDENT) - 6


@dataclass
class GeneratedCode:
    source: str
    class_name: str
    attributes: dict[str, str]  # node id -> submodule attribute (self.<name>)
    inputs: list[str]  # Input node ids, in forward argument order
    input_names: list[str]
    outputs: list[str]  # Output node ids, in return order
    line_nodes: dict[int, str] = field(default_factory=dict)  # 1-based line -> node id
    # Every submodule a layer owns, inner layers of blocks included, in network order.
    modules: list[CodeModule] = field(default_factory=list)
    # Block definition -> the classes written for it (usually one: ``BasicBlock``).
    block_classes: dict[str, list[str]] = field(default_factory=dict)
    # Class name -> {inner node id: attribute} (``self.conv1`` of ``BasicBlock``).
    class_attributes: dict[str, dict[str, str]] = field(default_factory=dict)

    @property
    def module_paths(self) -> dict[str, str]:
        """Node path -> dotted submodule name (``n5/n3`` -> ``layer1.conv1``)."""
        return {m.path: m.attribute for m in self.modules}


@dataclass(frozen=True)
class CodeModule:
    """A submodule of the generated network and the node it comes from.

    ``path`` is the node id at the top level; inside a block it is the instance's id,
    ``/``, the inner node's id (``n5/n3``), with ``:k`` after a repeated instance's id
    for its k-th copy (``n5:1/n3``). ``name`` says the same with labels
    (``layer1 > conv1``), ``attribute`` is the dotted module name (``layer1.1.conv1``),
    as in the state_dict's keys.
    """

    path: str
    type: str
    name: str
    attribute: str
    # Written as a function call (``torch.relu(x)``): the exported class has no such
    # attribute; the compiled module gets a stand-in for observing it (graph.compiler).
    function: bool = False


@dataclass(frozen=True)
class ClassArguments:
    """Constructor arguments of the network class (a sweep's searched layer
    parameters): ``signature`` holds ``"fc1_out_features: int = 8"``-style entries, and
    ``symbols`` the expression written for a layer's constructor argument instead of
    its value, by ``(node id, argument key)``: ``fc1_out_features`` or
    ``16 * conv_channels``."""

    signature: tuple[str, ...]
    symbols: dict[tuple[str, str], str]


def generate_code(doc: Document, analysis: Analysis | None = None, *,
                  arguments: ClassArguments | None = None,
                  observable: bool = False) -> GeneratedCode:
    """Readable Python for ``doc``; raises GraphError if the network has errors.

    ``observable``: every layer a submodule, the parameter-free activations too (what
    the runtime hooks on a measured step); otherwise those are function calls.
    """
    analysis = analysis or Analyzer().analyze(doc)
    if not analysis.ok:
        raise GraphError(analysis.problems)
    writer = _Writer(doc, analysis)
    writer.arguments = arguments
    writer.functions = not observable
    return writer.write()


def input_order(analysis: Analysis) -> list[str]:
    """Input node ids in the order the generated ``forward`` takes them (what
    ``GeneratedCode.inputs`` holds), without writing the code."""
    nodes = analysis.doc.nodes
    return [i for i in analysis.order if nodes[i].type == "Input"]


def _init_signature(arguments) -> list[str]:
    """``def __init__(self, ...) -> None:`` laid out as ruff format does."""
    one = ", ".join(("self", *arguments))
    line = f"{INDENT}def __init__({one}) -> None:"
    if len(line) <= LINE_LENGTH:
        return [line]
    if len(INDENT * 2 + one) <= LINE_LENGTH:  # the arguments on a line of their own
        return [f"{INDENT}def __init__(", INDENT * 2 + one, f"{INDENT}) -> None:"]
    return [f"{INDENT}def __init__(", *(f"{INDENT * 2}{a}," for a in ("self", *arguments)),
            f"{INDENT}) -> None:"]


def _live_nodes(analysis: Analysis, nodes: list[Node]) -> set[str]:
    """Nodes an Output depends on."""
    live = [n.id for n in nodes if n.type in ("Output", "BlockOutput")]
    seen = set(live)
    while live:
        for e in analysis.edges_into(live.pop()):
            if e.source not in seen:
                seen.add(e.source)
                live.append(e.source)
    return seen


class _Writer:
    """Writes one class: the network (this class) or a block's body (a subclass in
    ``codegen_blocks``). Ports are Input/Output here, BlockInput/BlockOutput there."""

    io_types = ("Input", "Output")

    def __init__(self, doc: Document, analysis: Analysis) -> None:
        self.doc = doc
        self.a = analysis
        self.lines: list[str] = []
        self.line_nodes: dict[int, str] = {}
        self.blocks: BlockClasses | None = None  # when the network has instances
        self.arguments: ClassArguments | None = None
        self.functions = True  # parameter-free activations as function calls

    def plan(self) -> None:
        """Nodes, names and the running variable, shared by __init__ and forward."""
        doc, a = self.doc, self.a
        kind_in, kind_out = self.io_types
        nodes = [doc.nodes[i] for i in a.order]
        live = _live_nodes(a, nodes)
        self.inputs = [n for n in nodes if n.type == kind_in]  # see input_order
        self.outputs = [n for n in nodes if n.type == kind_out]
        self.layers = [n for n in nodes if n.type not in self.io_types and n.id in live]

        attrs = Namespace()
        # A layer sharing a same-type layer's weights calls that module (graph.sharing).
        layers = self.layers
        reused = {n.id: sharing.calls_owner(doc, n) for n in layers}
        attributes = {n.id: attrs.take(n.label, n.spec.default_label)
                      for n in layers if n.spec.module and reused[n.id] is None}
        aliases = {n.id: attributes[reused[n.id].id] for n in layers
                   if reused[n.id] is not None and reused[n.id].id in attributes}
        attributes.update(aliases)
        self.attributes, self.aliases = attributes, aliases

        local = self.local = Namespace()
        inputs = self.inputs
        if len(inputs) == 1 and re.fullmatch(r"(input\d*|in)?", inputs[0].label.lower()):
            self.arg_names = {inputs[0].id: local.take("x")}  # the default label says nothing
        else:
            self.arg_names = {n.id: local.take(n.label, "x") for n in inputs}

        consumers: dict[str, list[str]] = {n.id: [] for n in nodes}
        for n in nodes:
            if n.id in live:
                for e in a.edges_into(n.id):
                    consumers[e.source].append(n.id)
        self.consumers = consumers
        statements = [n.id for n in self.layers]
        self.next_of = dict(itertools.pairwise(statements))
        # One running variable carries values used only by the very next line
        # (x = self.fc(x)); values needed again later get names of their own.
        lone = inputs[0].id if len(inputs) == 1 else None
        if "x" not in local:
            self.chain = local.take("x")
        elif (lone and self.arg_names[lone] == "x" and statements
              and consumers[lone] == [statements[0]]):
            self.chain = "x"  # the input is used once, by the first line: carry it on
        else:
            self.chain = local.take("h")

    def write(self) -> GeneratedCode:
        doc = self.doc
        self.plan()
        name = class_name(doc.name)
        if any(n.is_block for n in self.layers):
            from .codegen_blocks import BlockClasses

            self.blocks = BlockClasses(self.a, self.layers, reserved={name},
                                       functions=self.functions)
        self._header(name, doc, self.inputs, self.outputs)
        for line in _init_signature(self.arguments.signature if self.arguments else ()):
            self.lines.append(line)
        self.emit(2, "super().__init__()")
        self._init_body()
        self.lines.append("")
        self._forward()
        source = "\n".join(self.lines) + "\n"
        called = {n.id for n in self.layers if self.is_function(n)}
        modules = self.blocks.modules(self.layers, self.attributes, called) if self.blocks else [
            CodeModule(n.id, n.type, n.title, self.attributes[n.id], n.id in called)
            for n in self.layers if n.id in self.attributes]
        return GeneratedCode(source, name, self.attributes, [n.id for n in self.inputs],
                             [self.arg_names[n.id] for n in self.inputs],
                             [n.id for n in self.outputs], self.line_nodes, modules,
                             dict(self.blocks.classes) if self.blocks else {},
                             dict(self.blocks.attributes) if self.blocks else {})

    def _init_body(self) -> None:
        doc, attributes, aliases = self.doc, self.attributes, self.aliases
        for n in self.layers:
            if n.id in attributes and n.id not in aliases and not self.is_function(n):
                self._constructor(n, attributes[n.id])
        for n in self.layers:  # tied weights, once both modules exist
            tied = sharing.ties_to(doc, n)
            if tied is not None and n.id in attributes and tied.id in attributes:
                self._statement(2, f"self.{attributes[n.id]}.weight = "
                                f"self.{attributes[tied.id]}.weight", "", n.id)

    def _forward(self) -> None:
        doc, a = self.doc, self.a
        inputs, outputs, layers = self.inputs, self.outputs, self.layers
        local, var = self.local, dict(self.arg_names)
        args = ", ".join(f"{self.arg_names[n.id]}: torch.Tensor" for n in inputs)
        ret = "torch.Tensor" if len(outputs) == 1 else "tuple[torch.Tensor, ...]"
        self._statement(1, f"def forward(self, {args}) -> {ret}:")
        for i, n in enumerate(layers):
            users = self.consumers[n.id]
            one_use = len(users) == 1
            feeds_next = one_use and self.next_of.get(n.id) == users[0]
            feeds_final = (one_use and i == len(layers) - 1
                           and doc.nodes[users[0]].type == self.io_types[1])
            expr = self._expression(n, self.attributes.get(n.id), var)
            shape = a.shapes[n.id].outputs
            ports = list(shape)
            if len(ports) > 1:  # a block with several outputs: a, b = self.block(x)
                targets = [local.take(f"{n.label}_{p}", n.spec.default_label)
                           for p in ports]
                var.update({(n.id, p): t for p, t in zip(ports, targets)})
                self._statement(2, f"{', '.join(targets)} = {expr}", "", n.id)
                continue
            target = self.chain if feeds_next or feeds_final else local.take(
                n.label, n.spec.default_label)
            var[n.id] = target
            comment = str(next(iter(shape.values()))) if shape else ""
            self._statement(2, f"{target} = {expr}", comment, n.id)
        results = []
        for out in outputs:
            (edge,) = a.edges_into(out.id)
            results.append(_source(var, edge))
        self._statement(2, "return " + ", ".join(results))

    # ------------------------------------------------------------------ pieces
    def is_function(self, n: Node) -> bool:
        """Whether ``n`` is written as a function call rather than a submodule."""
        return (self.functions and n.spec.function is not None
                and n.id not in self.aliases)

    def emit(self, level: int, text: str, node_id: str | None = None) -> None:
        self.lines.append(INDENT * level + text if text else "")
        if node_id:
            self.line_nodes[len(self.lines)] = node_id

    def _header(self, name: str, doc: Document, inputs, outputs) -> None:
        ins = ", ".join(f"{_text(n.label or n.id)} {self.a.shapes[n.id].outputs['out']}"
                        for n in inputs)
        outs = ", ".join(f"{_text(n.label or n.id)} ({n.params['task']})" for n in outputs)
        title = docstring_start(_text(doc.name) or "Untitled")
        self.lines.append(f'"""{title}: a network designed in Strata.')
        self.lines.append("")
        self.lines += textwrap.wrap(f"Inputs: {ins}. Outputs: {outs}.", LINE_LENGTH,
                                    break_long_words=False, break_on_hyphens=False)
        self.lines += ['"""', "", "import torch", "from torch import nn", "", ""]
        for text in self.blocks.texts if self.blocks else ():  # blocks before their users
            self.lines += [*text.split("\n"), "", ""]
        self.lines.append(f"class {name}(nn.Module):")
        # Sanitised before empty paragraphs are dropped: one of only a NUL or a
        # zero-width space is empty too.
        paragraphs = [_text(p) for p in doc.description.split("\n\n")]
        desc: list[str] = []
        for paragraph in filter(None, paragraphs):
            if desc:
                desc.append("")
            desc += textwrap.wrap(paragraph, DOC_WIDTH,
                                  break_long_words=False, break_on_hyphens=False)
        if desc:
            desc[0] = docstring_start(desc[0])
            if len(desc) == 1:
                self.emit(1, f'"""{_close(desc[0])}"""')
            else:
                self.emit(1, f'"""{desc[0]}')
                for d in desc[1:]:
                    self.emit(1, d)
                self.emit(1, '"""')
            self.lines.append("")

    def _constructor(self, n: Node, attribute: str) -> None:
        if n.is_block and self.blocks is not None:
            self._statement(2, f"self.{attribute} = {self.blocks.call(self.a, n)}", "",
                            n.id)
            return
        spec = n.spec
        values = {**self.a.shapes[n.id].params, **self.a.shapes[n.id].values}
        kwargs = spec.module_args(values) if spec.module_args else {}
        parts = []
        symbols = self.arguments.symbols if self.arguments else {}
        for i, (key, value) in enumerate(kwargs.items()):
            text = symbols.get((n.id, key)) or _literal(value)
            parts.append(text if i < spec.positional else f"{key}={text}")
        self._statement(2, f"self.{attribute} = {spec.module}({', '.join(parts)})",
                        "", n.id)
        for line in init_lines(spec.init_weights, attribute, values):
            self._statement(2, line, "", n.id)

    def _expression(self, n: Node, attribute: str | None, var: dict[str, str]) -> str:
        params = {**self.a.shapes[n.id].params, **self.a.shapes[n.id].values}
        ports = n.spec.input_names(params)
        sources = {e.target_port: _source(var, e) for e in self.a.edges_into(n.id)}
        xs = [sources[p] for p in ports]
        fields = {k: _literal(v) for k, v in params.items()}
        fields.update({f"x{i}": x for i, x in enumerate(xs, 1)})
        fields.update(m=f"self.{attribute}" if attribute else "", x=xs[0] if xs else "",
                      xs=", ".join(xs))
        if self.is_function(n):
            return (n.spec.function or "").format(**fields)
        return n.spec.expression_for(params).format(**fields)

    def _statement(self, level: int, code: str, comment: str = "",
                   node_id: str | None = None) -> None:
        lines = format_statement(code, level)
        if comment:
            if len(lines) == 1 and len(lines[0]) + 4 + len(comment) <= LINE_LENGTH:
                lines[0] += f"  # {comment}"
            else:
                self.emit(level, f"# {comment}")
        for line in lines:
            self.lines.append(line)
            if node_id:
                self.line_nodes[len(self.lines)] = node_id


def _source(var: dict, e) -> str:
    """The variable holding what wire ``e`` carries (per port for multi-output nodes)."""
    return var.get((e.source, e.source_port)) or var[e.source]


def _text(text: str) -> str:
    """User text made safe inside a triple-quoted docstring (graph.pysource)."""
    return prose(text)


def _close(text: str) -> str:
    # A docstring may not end in a quote right before the closing quotes.
    return text + " " if text.endswith('"') else text


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return py_string(value)
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple):
        inner = ", ".join(_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, float):
        return number_literal(value)
    return repr(value)
