"""Python source for a network: one readable ``nn.Module`` class, only torch imports.

The same text is what the user exports and what ``compile`` executes, so the model that
trains is the model that leaves Strata. Generation is deterministic: nodes are visited in
lexicographic topological order keyed by their position in the document, and names come
from labels through one ``Namespace``. Lines are laid out the way ``ruff format`` would,
so the output passes ``ruff format --check`` untouched.
"""

from __future__ import annotations

import json
import textwrap
from dataclasses import dataclass, field
from typing import Any

from .analysis import Analysis, Analyzer
from .document import Document
from .errors import GraphError
from .naming import Namespace, class_name

LINE = 88
INDENT = "    "


@dataclass
class GeneratedCode:
    source: str
    class_name: str
    attributes: dict[str, str]  # node id -> submodule attribute (self.<name>)
    inputs: list[str]  # Input node ids, in forward argument order
    input_names: list[str]
    outputs: list[str]  # Output node ids, in return order
    line_nodes: dict[int, str] = field(default_factory=dict)  # 1-based line -> node id


def generate_code(doc: Document, analysis: Analysis | None = None) -> GeneratedCode:
    """Readable Python for ``doc``; raises GraphError if the network has errors."""
    analysis = analysis or Analyzer().analyze(doc)
    if not analysis.ok:
        raise GraphError(analysis.problems)
    return _Writer(doc, analysis).write()


class _Writer:
    def __init__(self, doc: Document, analysis: Analysis) -> None:
        self.doc = doc
        self.a = analysis
        self.lines: list[str] = []
        self.line_nodes: dict[int, str] = {}

    def write(self) -> GeneratedCode:
        doc, order = self.doc, self.a.order
        nodes = [doc.nodes[i] for i in order]
        inputs = [n for n in nodes if n.type == "Input"]
        outputs = [n for n in nodes if n.type == "Output"]
        layers = [n for n in nodes if n.type not in ("Input", "Output")]

        attrs = Namespace()
        attributes = {n.id: attrs.take(n.label or n.spec.default_label)
                      for n in layers if n.spec.module}

        local = Namespace()
        if len(inputs) == 1 and inputs[0].label.startswith("input"):
            arg_names = {inputs[0].id: local.take("x")}
        else:
            arg_names = {n.id: local.take(n.label or "x") for n in inputs}
        var = dict(arg_names)

        consumers: dict[str, list[str]] = {n.id: [] for n in nodes}
        for e in doc.edges:
            consumers[e.source].append(e.target)
        statements = [n.id for n in layers]
        next_of = {a: b for a, b in zip(statements, statements[1:])}
        # One running variable carries values used only by the very next line
        # (x = self.fc(x)); values needed again later get names of their own. A lone
        # input used once, by the first line, can start the chain under its own name.
        if (len(inputs) == 1 and statements
                and consumers[inputs[0].id] == [statements[0]]):
            chain = arg_names[inputs[0].id]
        else:
            chain = "x" if "x" not in local else local.take("h")
        local.reserve(chain)

        name = class_name(doc.name)
        self._header(name, doc, inputs, outputs)
        self.emit(1, "def __init__(self) -> None:")
        self.emit(2, "super().__init__()")
        for n in layers:
            if n.id in attributes:
                self._constructor(n, attributes[n.id])

        args = ", ".join(f"{arg_names[n.id]}: torch.Tensor" for n in inputs)
        ret = "torch.Tensor" if len(outputs) == 1 else (
            "tuple[" + ", ".join("torch.Tensor" for _ in outputs) + "]")
        self.lines.append("")
        self._wrapped(1, f"def forward(self, {args}) -> {ret}:", None)
        for i, n in enumerate(layers):
            users = consumers[n.id]
            is_last = i == len(layers) - 1
            one_use = len(users) == 1
            feeds_next = one_use and next_of.get(n.id) == users[0]
            feeds_final = one_use and is_last and doc.nodes[users[0]].type == "Output"
            target = chain if feeds_next or feeds_final else local.take(
                n.label or n.spec.default_label)
            expr = self._expression(n, attributes.get(n.id), var)
            var[n.id] = target
            shape = self.a.shapes[n.id].outputs
            comment = str(next(iter(shape.values()))) if shape else ""
            self._statement(2, f"{target} = {expr}", comment, n.id)
        results = []
        for out in outputs:
            (edge,) = self.doc.edges_into(out.id)
            results.append(var[edge.source])
        self.emit(2, "return " + ", ".join(results))

        source = "\n".join(self.lines) + "\n"
        return GeneratedCode(source, name, attributes, [n.id for n in inputs],
                             [arg_names[n.id] for n in inputs], [n.id for n in outputs],
                             self.line_nodes)

    # ------------------------------------------------------------------ pieces
    def emit(self, level: int, text: str, node_id: str | None = None) -> None:
        self.lines.append(INDENT * level + text if text else "")
        if node_id:
            self.line_nodes[len(self.lines)] = node_id

    def _header(self, name, doc, inputs, outputs) -> None:
        title = json.dumps(doc.name)[1:-1].replace('"""', "'''")
        ins = ", ".join(f"{n.label or n.id} {self.a.shapes[n.id].outputs['out']}"
                        for n in inputs)
        outs = ", ".join(f"{n.label or n.id} ({n.params['task']})" for n in outputs)
        self.lines += [
            f'"""{title}: a network designed in Strata.',
            "",
            f"Inputs: {ins}. Outputs: {outs}.",
            '"""',
            "",
            "import torch",
            "from torch import nn",
            "",
            "",
            f"class {name}(nn.Module):",
        ]
        text = doc.description.strip().replace("\\", "/").replace('"""', "'''")
        desc: list[str] = []
        for paragraph in text.split("\n\n"):
            desc += textwrap.wrap(" ".join(paragraph.split()), LINE - 2 * len(INDENT))
            desc.append("")
        desc = desc[:-1]
        if desc and desc[0]:
            if len(desc) == 1:
                self.emit(1, f'"""{desc[0]}"""')
            else:
                self.emit(1, f'"""{desc[0]}')
                for d in desc[1:]:
                    self.emit(1, d) if d else self.lines.append("")
                self.emit(1, '"""')
            self.lines.append("")

    def _constructor(self, n, attribute: str) -> None:
        spec = n.spec
        values = {**self.a.shapes[n.id].params, **self.a.shapes[n.id].values}
        kwargs = spec.module_args(values) if spec.module_args else {}
        parts = []
        for i, (key, value) in enumerate(kwargs.items()):
            text = _literal(value)
            parts.append(text if i < spec.positional else f"{key}={text}")
        self._call(2, f"self.{attribute} = {spec.module}(", parts, ")", n.id)

    def _expression(self, n, attribute: str | None, var: dict[str, str]) -> str:
        params = {**self.a.shapes[n.id].params, **self.a.shapes[n.id].values}
        ports = n.spec.input_names(params)
        sources = {e.target_port: var[e.source] for e in self.doc.edges_into(n.id)}
        xs = [sources[p] for p in ports]
        fields = {k: _literal(v) for k, v in params.items()}
        fields.update({f"x{i}": x for i, x in enumerate(xs, 1)})
        fields.update(m=f"self.{attribute}" if attribute else "", x=xs[0] if xs else "",
                      xs=", ".join(xs))
        return n.spec.expression_for(params).format(**fields)

    def _statement(self, level: int, code: str, comment: str, node_id: str) -> None:
        line = INDENT * level + code
        if comment and len(line) + 4 + len(comment) <= LINE:
            self.emit(level, f"{code}  # {comment}", node_id)
            return
        if comment:
            self.emit(level, f"# {comment}")
        self._wrapped(level, code, node_id)

    def _wrapped(self, level: int, code: str, node_id: str | None) -> None:
        self.emit(level, code, node_id)
        if len(INDENT * level + code) > LINE:
            # Rare (very long labels); a bracketed split is what ruff would choose.
            head, _, rest = code.partition("(")
            inner, closing = rest.rsplit(")", 1)
            self.lines.pop()
            self._call(level, head + "(", _split_args(inner), ")" + closing, node_id)

    def _call(self, level: int, head: str, parts: list[str], tail: str, node_id) -> None:
        one_line = INDENT * level + head + ", ".join(parts) + tail
        if len(one_line) <= LINE:
            self.emit(level, head + ", ".join(parts) + tail, node_id)
            return
        hugged = INDENT * (level + 1) + ", ".join(parts)
        self.emit(level, head, node_id)
        if len(hugged) <= LINE:
            self.emit(level + 1, ", ".join(parts))
        else:
            for part in parts:
                self.emit(level + 1, part + ",")
        self.emit(level, tail)


def _split_args(text: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def _literal(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        value = tuple(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_literal(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, float):
        return repr(value)
    return repr(value)
