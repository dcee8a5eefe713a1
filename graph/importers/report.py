"""What an import mapped: per layer of the document, what it was in the user's code.

``MappingReport.rows`` has one ``MappedRow`` per imported layer: the Strata layer type,
its place in the document (labels through the blocks, ``layer1 > 0 > conv1``, and the
node ids to open and select), the original module path or operation (``nn.Conv2d
'layer1.0.conv1'``, ``torch.cat in layer1.0.forward``) and the user's source line that
made it (from the fx node's stack trace). ``unmapped`` lists what could not be mapped,
with the reason (an import that fails carries them in its ``UnmappedError``); ``notes``
the settings not kept. The import dialog shows it as a table and ``strata import
--report`` prints ``lines()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..blocks import BLOCK, PORT_TYPES
from .problems import Unmapped

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+)')


@dataclass(frozen=True)
class SourceLine:
    """A line of the user's code: ``file`` the full path, ``code`` its text."""

    file: str = ""
    line: int = 0
    code: str = ""

    def __str__(self) -> str:
        if not self.file:
            return ""
        return f"{Path(self.file).name}:{self.line}"


@dataclass(frozen=True)
class MappedRow:
    layer: str  # the Strata layer type: "Conv2d"
    place: str  # labels from the network down: "layer1 > 0 > conv1"
    nodes: tuple[str, ...]  # node ids from the network down (blocks to open, then it)
    origin: str  # "nn.Conv2d 'layer1.0.conv1'", "torch.cat in layer1.0.forward"
    source: SourceLine = SourceLine()


@dataclass
class MappingReport:
    rows: list[MappedRow] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """A plain-text table for the terminal."""
        out: list[str] = []
        if self.rows:
            width = min(40, max(len(r.place) for r in self.rows))
            kind = max(len(r.layer) for r in self.rows)
            out.append(f"{'layer':<{width}}  {'type':<{kind}}  from  (source line)")
            for r in self.rows:
                where = f"  ({r.source})" if r.source.file else ""
                out.append(f"{r.place:<{width}}  {r.layer:<{kind}}  {r.origin}{where}")
        for item in self.unmapped:
            out.append(f"not mapped: {item.describe()}")
        out += [f"note: {note}" for note in self.notes]
        return out


def source_line(node) -> SourceLine:
    """The innermost frame of the user's code in the fx node's stack trace (torch's
    own frames skipped)."""
    from .tracing import _is_torch

    trace = (node.meta.get("stack_trace") or "") if node is not None else ""
    lines = trace.splitlines()
    found = SourceLine()
    for i, text in enumerate(lines):
        m = _FRAME.search(text)
        if not m or _is_torch(m["file"]) or m["file"].startswith("<"):
            continue
        code = lines[i + 1].strip() if i + 1 < len(lines) else ""
        found = SourceLine(m["file"], int(m["line"]), code)
    return found


def origin(mapper, op) -> str:
    """What ``op`` was in the user's code, in their terms."""
    node = op.node
    if op.type == "Input":
        return f"forward argument '{node.name}'" if node is not None else "input"
    if op.type == "Output":
        return "return value"
    if node is None:
        return ""
    operation = mapper._operation(node)
    if node.op == "call_module":
        return f"{operation} '{node.target}'"
    if node.op == "get_attr" or (op.source and not op.anonymous):
        return f"{operation} '{op.source}'" if op.source else operation
    return f"{operation} in {mapper._source(node)}"


def build(doc, mapper, ids: dict[int, str], dotted: dict[str, str] | None = None,
          notes: list[str] | None = None) -> MappingReport:
    """The report of an import: ``ids`` op index -> flat node id; ``dotted`` flat node
    id -> its dotted place in a nested ``doc`` (``layer1.0.conv1``), None when flat."""
    places = _places(doc) if dotted is not None else {}
    rows = []
    for i, node_id in ids.items():
        op = mapper.ops[i]
        if op.type is None:
            continue
        if dotted is not None and node_id in dotted:
            found = places.get(dotted[node_id])
            if found is None:
                continue
            labels, chain = found
        elif node_id in doc.nodes:
            labels, chain = [doc.nodes[node_id].label], (node_id,)
        else:
            continue
        rows.append(MappedRow(op.type, " > ".join(labels), tuple(chain), origin(mapper, op),
                              source_line(op.node)))
    return MappingReport(rows, [], list(notes or []))


def _places(doc) -> dict[str, tuple[list[str], tuple[str, ...]]]:
    """Every layer of a nested document by dotted place: labels and node ids."""
    out: dict[str, tuple[list[str], tuple[str, ...]]] = {}

    def visit(body, prefix: str, labels: list[str], chain: tuple[str, ...],
              depth: int) -> None:
        if depth > 64:
            return
        for node in body.nodes.values():
            if node.type in PORT_TYPES:
                continue
            here = f"{prefix}{node.label}"
            if node.type != BLOCK:
                out[here] = ([*labels, node.label], (*chain, node.id))
                continue
            definition = body.blocks.definitions.get(node.params.get("block"))
            if definition is None:
                continue
            repeat = int(node.params.get("repeat", 1) or 1)
            if repeat > 1:  # nn.Sequential of copies: layer1.0.conv1, layer1.1.conv1
                for k in range(repeat):
                    visit(definition.body, f"{here}.{k}.", [*labels, node.label, str(k)],
                          (*chain, node.id), depth + 1)
            else:
                visit(definition.body, f"{here}.", [*labels, node.label],
                      (*chain, node.id), depth + 1)

    visit(doc, "", [], (), 0)
    return out


__all__ = ["MappedRow", "MappingReport", "SourceLine", "build", "source_line"]
