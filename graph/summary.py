"""A Keras-like model summary: each layer's name (type), output shape, parameters,
multiply-accumulates and what feeds it, with totals.

Parameter counts come from each layer declaration's ``param_count`` rule (a test holds
every rule to the module torch builds), and MACs from its ``macs`` rule, counted per
example (the batch dimension ``N`` is left out). Both are arithmetic: a summary of
100,000 layers builds no module and needs no torch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .analysis import Analysis, Analyzer
from .document import Document
from .memory import param_counts, size_text

BYTES_PER_PARAM = 4  # float32


@dataclass
class LayerRow:
    node_id: str
    name: str  # the label
    type: str  # display name of the layer type
    output_shape: str  # "(N, 16, 28, 28)"; for an Output, the tensor it receives
    params: int | None  # None when unknown (the network has errors)
    macs: int | None  # None when the layer type does no multiply-accumulates
    connected_to: list[str] = field(default_factory=list)  # labels of the nodes feeding it
    unused: bool = False  # leads to no Output, so the generated code leaves it out


@dataclass
class Summary:
    name: str
    rows: list[LayerRow]
    errors: int  # error count: parameters cannot be counted while there are errors
    warnings: int
    # Why parameters could not be counted although the network is valid (sizes beyond
    # what torch can represent), else "".
    uncountable: str = ""

    @property
    def total_params(self) -> int | None:
        if self.errors or self.uncountable:
            return None
        return sum(r.params or 0 for r in self.rows)

    @property
    def total_macs(self) -> int:
        return sum(r.macs or 0 for r in self.rows if not r.unused)

    def table(self) -> str:
        """The summary as text, as ``strata summary`` prints it."""
        header = ("Layer (type)", "Output shape", "Params", "MACs", "Connected to")
        body = [
            (f"{r.name} ({r.type})" + (" [unused]" if r.unused else ""), r.output_shape,
             "-" if r.unused else _count(r.params),
             "-" if r.macs is None or r.unused else f"{r.macs:,}",
             ", ".join(r.connected_to))
            for r in self.rows
        ]
        widths = [max(len(row[i]) for row in (header, *body)) for i in range(len(header))]
        right = {2, 3}  # numbers align right

        def line(cells) -> str:
            parts = [c.rjust(w) if i in right else c.ljust(w)
                     for i, (c, w) in enumerate(zip(cells, widths))]
            return "  ".join(parts).rstrip()

        rule = len(line(header))
        out = [f'Model: "{self.name}"', "=" * rule, line(header), "=" * rule]
        out += [line(cells) for cells in body]
        out.append("=" * rule)
        total = self.total_params
        if self.uncountable:
            out.append(f"Total params: unknown ({self.uncountable})")
        elif total is None:
            out.append("Total params: unknown until the network's errors are fixed "
                       f"({self.errors} error{'s' * (self.errors != 1)}; run strata check)")
        else:
            out.append(f"Total params: {total:,} ({_size(total * BYTES_PER_PARAM)} "
                       "as float32)")
        out.append(f"Total MACs per example: {self.total_macs:,} "
                   f"({_short(self.total_macs)})")
        if self.warnings:
            out.append(f"{self.warnings} warning{'s' * (self.warnings != 1)}; "
                       "run strata check for details")
        return "\n".join(out)


def summarize(doc: Document, analysis: Analysis | None = None) -> Summary:
    """Rows for every node in data-flow order (document order when there is a cycle)."""
    analysis = analysis or Analyzer().analyze(doc)
    counts, uncountable = None, ""
    if analysis.ok:
        counts = param_counts(analysis)
    rows = []
    for node_id in analysis.order or list(doc.nodes):
        node = doc.nodes[node_id]
        shapes = analysis.shapes.get(node_id)
        tensors = []
        if shapes is not None:
            # An Output has no tensor of its own: show what leaves the network there.
            tensors = list((shapes.inputs if node.type == "Output" else shapes.outputs)
                           .values())
        macs = None
        if node.spec.macs is not None and shapes is not None and shapes.outputs:
            macs = int(node.spec.macs({**shapes.params, **shapes.values},
                                      list(shapes.inputs.values()),
                                      list(shapes.outputs.values())))
        unused = any(p.kind == "unreachable" for p in analysis.problems_of(node_id))
        params = None if counts is None or unused else counts.get(node_id, 0)
        rows.append(LayerRow(
            node_id, node.label or node.id, node.spec.display_name,
            ", ".join(str(t) for t in tensors) or "?", params, macs,
            [_label(doc, e.source) for e in analysis.edges_into(node_id)], unused,
        ))
    return Summary(doc.name, rows, len(analysis.errors), len(analysis.warnings),
                   uncountable)


def _label(doc: Document, node_id: str) -> str:
    node = doc.nodes.get(node_id)
    return (node.label or node.id) if node else node_id


def _count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _short(n: float) -> str:
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:g}"


def _size(nbytes: int) -> str:
    return size_text(nbytes).replace(" bytes", " B")
