"""Validation and shape inference of a document, as one pass.

``analyze(doc)`` finds every problem at once (cycles, missing Input/Output, unconnected
or doubly wired ports, bad parameters, nodes that lead nowhere, shape mismatches) and
infers the tensor on every wire with a symbolic batch dimension ``N``. ``Analysis.graph``
is the document as a networkx MultiDiGraph (built on first use).

Shape rules are pure functions of (parameters, incoming tensors), so an ``Analyzer``
memoises each node's result on exactly that key: after one edit, only the nodes whose
inputs or parameters changed run their rule again. The structural passes (order,
ports, reachability) are linear in nodes + wires and use no networkx, so re-validating
a 1,000-node network after a keystroke stays well inside one frame
(``benchmarks/bench_graph.py`` measures it).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import networkx as nx

from .catalog import TensorInfo
from .catalog.spec import ShapeContext
from .document import Document, Edge
from .errors import ParamError, ShapeError
from .problems import Problem


@dataclass
class NodeShapes:
    """What inference found for one node."""

    inputs: dict[str, TensorInfo] = field(default_factory=dict)  # by input port
    outputs: dict[str, TensorInfo] = field(default_factory=dict)  # by output port
    values: dict[str, Any] = field(default_factory=dict)  # in_features, ...
    params: dict[str, Any] = field(default_factory=dict)  # checked parameters
    error: ShapeError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Analysis:
    """The result of analysing one revision of a document."""

    def __init__(self, doc: Document, problems: list[Problem], shapes: dict[str, NodeShapes],
                 order: list[str], incoming: dict[str, list[Edge]],
                 outgoing: dict[str, list[Edge]]) -> None:
        self.doc = doc
        self.problems = problems
        self.shapes = shapes
        self.order = order  # topological order (empty when there is a cycle)
        self._incoming = incoming
        self._outgoing = outgoing

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The document as a MultiDiGraph; edges carry ``source_port``/``target_port``."""
        g = nx.MultiDiGraph()
        g.add_nodes_from(self.doc.nodes)
        for e in self.doc.edges:
            g.add_edge(e.source, e.target, source_port=e.source_port,
                       target_port=e.target_port)
        return g

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.is_error]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if not p.is_error]

    @property
    def ok(self) -> bool:
        return not self.errors

    def edges_into(self, node_id: str) -> list[Edge]:
        return self._incoming.get(node_id, [])

    def edges_from(self, node_id: str) -> list[Edge]:
        return self._outgoing.get(node_id, [])

    def edge_tensor(self, edge: Edge) -> TensorInfo | None:
        s = self.shapes.get(edge.source)
        return s.outputs.get(edge.source_port) if s else None

    def problems_of(self, node_id: str) -> list[Problem]:
        return [p for p in self.problems if node_id in p.node_ids]


def _freeze(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


_PARAM_HINT = "fix the value in the inspector"


class Analyzer:
    """Analyses documents, reusing every node result whose inputs did not change.

    Keep one per open document (the editor does): memo entries of long-gone edits are
    dropped when the memo outgrows the network.
    """

    def __init__(self) -> None:
        self._memo: dict[Any, tuple] = {}
        self._checked: dict[Any, tuple[dict | None, str]] = {}

    def analyze(self, doc: Document) -> Analysis:
        problems: list[Problem] = []
        nodes = doc.nodes
        incoming: dict[str, list[Edge]] = {node_id: [] for node_id in nodes}
        outgoing: dict[str, list[Edge]] = {node_id: [] for node_id in nodes}
        for e in doc.edges:
            if e.source in outgoing and e.target in incoming:
                outgoing[e.source].append(e)
                incoming[e.target].append(e)

        checked = self._check_params(doc, problems)
        self._check_ends(doc, problems)
        self._check_ports(doc, checked, incoming, problems)
        order = self._order(doc, incoming, outgoing, problems)
        self._check_reach(doc, incoming, problems)
        shapes = self._infer(doc, order, checked, incoming, problems)
        limit = 4 * len(nodes) + 256
        if len(self._memo) > limit:  # forget results of long-gone edits
            self._memo.clear()
        if len(self._checked) > limit:
            self._checked.clear()
        return Analysis(doc, problems, shapes, order, incoming, outgoing)

    # ------------------------------------------------------------------ checks
    def _check_params(self, doc: Document, problems: list[Problem]) -> dict[str, dict | None]:
        checked: dict[str, dict | None] = {}
        memo = self._checked
        for node in doc.nodes.values():
            try:
                key = (node.type, _freeze(node.params))
                hash(key)
            except TypeError:  # an unhashable value can only be a wrong one
                key = None
            hit = memo.get(key) if key is not None else None
            if hit is None:
                try:
                    hit = (node.spec.check_params(node.params), "")
                except ParamError as e:
                    hit = (None, str(e))
                if key is not None:
                    memo[key] = hit
            checked[node.id] = hit[0]
            if hit[0] is None:
                problems.append(Problem("error", (node.id,), f"{node.describe()}: {hit[1]}",
                                        _PARAM_HINT, "param"))
        return checked

    @staticmethod
    def _check_ends(doc: Document, problems: list[Problem]) -> None:
        types = {n.type for n in doc.nodes.values()}
        if "Input" not in types:
            problems.append(Problem("error", (), "the network has no Input layer",
                                    "add an Input and set the shape of one example",
                                    "no_input"))
        if "Output" not in types:
            problems.append(Problem("error", (), "the network has no Output layer",
                                    "add an Output after the last layer", "no_output"))

    @staticmethod
    def _check_ports(doc: Document, checked, incoming, problems: list[Problem]) -> None:
        for node in doc.nodes.values():
            spec = node.spec
            ports = spec.input_names(checked[node.id] or node.params)
            wires_in = incoming[node.id]
            if not ports and not wires_in:
                continue
            by_port: dict[str, list[Edge]] = {}
            for e in wires_in:
                by_port.setdefault(e.target_port, []).append(e)
            for port in ports:
                wires = by_port.pop(port, ())
                name = "its input" if len(ports) == 1 else f"input '{port}'"
                if not wires:
                    problems.append(Problem(
                        "error", (node.id,), f"{node.describe()}: {name} is not connected",
                        "drag a wire from an earlier layer's output to it",
                        "unconnected", port))
                elif len(wires) > 1:
                    problems.append(Problem(
                        "error", (node.id, *[w.source for w in wires]),
                        f"{node.describe()}: {name} receives {len(wires)} wires but "
                        "takes one", "remove all but one wire, or merge them with Add "
                        "or Concat first", "extra_wire", port))
            for port in by_port:  # wires into ports the node no longer has
                problems.append(Problem(
                    "error", (node.id,),
                    f"{node.describe()}: a wire goes into input '{port}', which it no "
                    "longer has", "remove the wire or raise the number of inputs",
                    "extra_wire", port))

    @staticmethod
    def _order(doc, incoming, outgoing, problems) -> list[str]:
        """Kahn's algorithm, always taking the ready node that comes first in the
        document: the same order as networkx's lexicographical_topological_sort."""
        index = {node_id: i for i, node_id in enumerate(doc.nodes)}
        waiting = {node_id: len(edges) for node_id, edges in incoming.items()}
        ready = [index[n] for n, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        ids = list(doc.nodes)
        order: list[str] = []
        while ready:
            node_id = ids[heapq.heappop(ready)]
            order.append(node_id)
            for e in outgoing[node_id]:
                waiting[e.target] -= 1
                if waiting[e.target] == 0:
                    heapq.heappush(ready, index[e.target])
        if len(order) == len(ids):
            return order
        Analyzer._report_cycles(doc, set(ids) - set(order), problems)
        return []

    @staticmethod
    def _report_cycles(doc, stuck: set[str], problems) -> None:
        graph = nx.MultiDiGraph()
        graph.add_nodes_from(stuck)
        graph.add_edges_from((e.source, e.target) for e in doc.edges
                             if e.source in stuck and e.target in stuck)
        index = {node_id: i for i, node_id in enumerate(doc.nodes)}
        components = sorted(nx.strongly_connected_components(graph),
                            key=lambda c: min(index[n] for n in c))
        for component in components:
            if len(component) == 1:
                (only,) = component
                if not graph.has_edge(only, only):
                    continue
            start = min(component, key=index.__getitem__)
            cycle = [u for u, _v, *_ in nx.find_cycle(graph.subgraph(component), start)]
            names = " -> ".join(f"'{doc.nodes[n].label or n}'" for n in cycle + cycle[:1])
            problems.append(Problem(
                "error", tuple(cycle), f"the network has a cycle: {names}",
                "remove one of these wires: data must flow one way, from Input to Output",
                "cycle"))

    @staticmethod
    def _check_reach(doc, incoming, problems) -> None:
        useful = [n.id for n in doc.nodes.values() if n.type == "Output"]
        if not useful:
            return
        seen = set(useful)
        while useful:
            for e in incoming[useful.pop()]:
                if e.source not in seen:
                    seen.add(e.source)
                    useful.append(e.source)
        for node in doc.nodes.values():
            if node.id not in seen:
                problems.append(Problem(
                    "warning", (node.id,),
                    f"{node.describe()} does not lead to any Output, so its result is unused",
                    "wire it towards an Output or delete it", "unreachable"))

    # ------------------------------------------------------------------ shapes
    def _infer(self, doc, order, checked, incoming, problems) -> dict[str, NodeShapes]:
        shapes: dict[str, NodeShapes] = {}
        memo = self._memo
        for node_id in order:
            node = doc.nodes[node_id]
            params = checked[node_id]
            result = NodeShapes(params=params or {})
            shapes[node_id] = result
            if params is None:
                continue
            spec = node.spec
            ports = spec.input_names(params)
            if ports:
                by_port = {e.target_port: e for e in incoming[node_id]}
                tensors = []
                for port in ports:
                    e = by_port.get(port)
                    src = shapes.get(e.source) if e else None
                    t = src.outputs.get(e.source_port) if src else None
                    if t is None:
                        break  # unconnected or upstream failed: already reported
                    result.inputs[port] = t
                    tensors.append(t)
                if len(tensors) != len(ports):
                    continue
                tensors = tuple(tensors)
            else:
                tensors = ()
            key = (node.type, _freeze(params), tensors, node.label)
            hit = memo.get(key)
            if hit is None:
                hit = self._run_rule(node, params, list(tensors))
                memo[key] = hit
            outputs, values, error = hit
            if error is not None:
                result.error = error
                problems.append(Problem("error", (node_id,), error.message, error.hint,
                                        "shape"))
                continue
            result.outputs = dict(zip(spec.output_names(params), outputs))
            result.values = values
        return shapes

    @staticmethod
    def _run_rule(node, params, tensors):
        ctx = ShapeContext(node.describe(), params, tensors)
        try:
            inferred = node.spec.shape_rule(ctx)
        except ShapeError as e:
            return (), {}, e
        return tuple(inferred.outputs), inferred.values, None


def analyze(doc: Document) -> Analysis:
    """Validate ``doc`` and infer every shape (no caching between calls)."""
    return Analyzer().analyze(doc)


def validate(doc: Document) -> list[Problem]:
    """Every problem of the network, errors and warnings, all at once."""
    return analyze(doc).problems


def infer_shapes(doc: Document) -> dict[str, NodeShapes]:
    return analyze(doc).shapes
