"""A block's body analysed as one instance uses it (what an open block shows).

A definition's body holds its own parameter values (the defaults); each instance
writes its exposed values (``channels=8``) and derived ones (``hidden_channels =
channels * expand_ratio``) into it before its inside is analysed (``Library.run``).
An open block shows one instance's inside, so its cards must show that instance's
shapes and problems, not those of the body's defaults: a residual block fitted to 8
channels is fine, though its body says 16. ``UseAnalyzer`` analyses the body through
``Library.run`` with the instance's current values and input tensors, and hands back
that analysis as the body's (same node ids), memoised with the library's runs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .analysis import Analysis, Analyzer
from .blocks import BLOCK
from .errors import StrataError

if TYPE_CHECKING:
    from .catalog.tensors import TensorInfo
    from .document import Document

# The instance's exposed values and the tensors its input ports receive (None when
# the instance is gone or does not analyse: the body is then analysed on its own).
Use = tuple[dict[str, Any], tuple["TensorInfo", ...]] | None


class UseAnalyzer(Analyzer):
    """Analyses a body with the values and inputs ``use()`` returns."""

    def __init__(self, use: Callable[[], Use],
                 ports: dict[str, TensorInfo] | None = None) -> None:
        super().__init__(ports=ports)
        self._use = use

    def analyze(self, doc: Document) -> Analysis:
        name = doc.block_name
        definition = doc.blocks.definitions.get(name) if name is not None else None
        use = self._use()
        if definition is None or definition.body is not doc or use is None \
                or len(use[1]) != len(definition.input_ports):
            return super().analyze(doc)
        values, tensors = use
        lib = doc.blocks
        try:
            same = lib.instantiate(definition, values,
                                   lib.derived_values(definition, values, tensors)) is doc
        except StrataError:
            same = False  # the run says what is wrong
        if same:  # the body's own values: the incremental analysis (one edit, one node)
            return super().analyze(doc)
        run = lib.run(definition, values, tensors)
        if run.analysis.doc is doc:
            return run.analysis
        analysis = copy.copy(run.analysis)  # the run's is shared: only ``doc`` differs
        analysis.doc = doc
        return analysis


def instance_use(parent: Document, analysis: Analysis | None, node_id: str) -> Use:
    """What instance ``node_id`` of ``parent`` gives its body (see ``UseAnalyzer``)."""
    node = parent.nodes.get(node_id)
    if node is None or node.type != BLOCK or analysis is None or analysis.doc is not parent:
        return None
    name = node.params.get("block")
    definition = parent.blocks.definitions.get(name) if isinstance(name, str) else None
    shapes = analysis.shapes.get(node_id)
    if definition is None or shapes is None:
        return None
    tensors = []
    for port in definition.input_ports:
        tensor = shapes.inputs.get(port)
        if tensor is None:
            return None
        tensors.append(tensor)
    values = {e.name: node.params[e.name] for e in definition.exposed if e.name in node.params}
    return values, tuple(tensors)


__all__ = ["UseAnalyzer", "instance_use"]
