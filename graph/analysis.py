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

import contextlib
import heapq
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import sharing
from .catalog import TensorInfo
from .catalog.spec import ShapeContext
from .document import Document, Edge
from .errors import ParamError, ShapeError
from .events import (
    DocumentEvent,
    MetadataChanged,
    NodeMoved,
    ParamsChanged,
    SweepChanged,
    TrainingChanged,
)
from .problems import Problem

if TYPE_CHECKING:
    import networkx as nx


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
        # Seconds spent per pass ("validate": structure and parameters, "infer":
        # shapes), for the benchmark and the studio's diagnostics.
        self.timings: dict[str, float] = {}
        self._by_node: dict[str, list[Problem]] | None = None
        self._by_node_count = 0

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The document as a MultiDiGraph; edges carry ``source_port``/``target_port``."""
        import networkx as nx  # imported on first use: a quarter of the studio's start

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
        # An index built once: a scan per node made summaries quadratic (20,000
        # unconnected nodes took minutes). Rebuilt if someone appended problems.
        index = self._by_node
        if index is None or self._by_node_count != len(self.problems):
            index = {}
            for problem in self.problems:
                for nid in dict.fromkeys(problem.node_ids):
                    index.setdefault(nid, []).append(problem)
            self._by_node, self._by_node_count = index, len(self.problems)
        return list(index.get(node_id, ()))


def _freeze(value: Any) -> Any:
    """A hashable key for a parameter value. Types are part of it: True == 1 == 1.0 in
    Python, but not for a parameter check."""
    if isinstance(value, (bool, float)):
        return type(value), value
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


_PARAM_HINT = "fix the value in the inspector"


@dataclass
class _State:
    """What a full analysis found, kept so that a parameter edit can be applied to it."""

    checked: dict[str, dict | None]  # node id -> checked parameters (None: invalid)
    ports: dict[str, list[str]]  # node id -> input port names
    param_problems: dict[str, Problem]
    structure_problems: list[Problem]  # ends, ports, cycles, reachability
    order: list[str]
    position: dict[str, int]  # node id -> index in ``order``
    incoming: dict[str, list[Edge]]
    outgoing: dict[str, list[Edge]]
    shapes: dict[str, NodeShapes]
    shape_problems: dict[str, Problem]


class Analyzer:
    """Analyses documents; kept alive per open document, it re-analyses incrementally.

    A first ``analyze(doc)`` is a full pass. From the second call on the same document
    the analyzer follows the document's events: after parameter edits only, it re-checks
    the edited nodes and re-infers shapes downstream of them, stopping wherever a node's
    outputs come out unchanged. Any other edit (wires, nodes, labels), an edit that
    changes a node's ports, or a revision the events do not account for, means a full
    pass. Shape-rule results are also memoised on (type, parameters, inputs, label).
    """

    def __init__(self, ports: dict[str, TensorInfo] | None = None) -> None:
        # For a block's body: the tensor entering each input port (BlockInput label).
        self._ports = dict(ports or {})
        self._memo: dict[Any, tuple] = {}
        self._checked: dict[Any, tuple[dict | None, str]] = {}
        self._state: _State | None = None
        self._doc: weakref.ref[Document] | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._dirty: set[str] | None = None  # edited node ids; None: needs a full pass
        self._revision = -1  # the document's revision the state describes

    def __del__(self) -> None:
        if self._unsubscribe is not None:
            with contextlib.suppress(ValueError):
                self._unsubscribe()

    def analyze(self, doc: Document) -> Analysis:
        start = time.perf_counter()
        state = self._state
        if (state is not None and self._unsubscribe is not None and self._dirty is not None
                and self._doc is not None and self._doc() is doc
                and doc.revision == self._revision):
            analysis = self._update(doc, state, self._dirty, start)
        else:
            analysis = None
        if analysis is None:
            analysis = self._full(doc, start)
            self._follow(doc)
        self._dirty = set()
        self._revision = doc.revision
        limit = 4 * len(doc.nodes) + 256
        if len(self._memo) > limit:  # forget results of long-gone edits
            self._memo.clear()
        if len(self._checked) > limit:
            self._checked.clear()
        return analysis

    # ------------------------------------------------------------------ events
    def _follow(self, doc: Document) -> None:
        """Subscribe to ``doc`` on the second analysis of it (one-off analyses, such as
        ``graph.validate``, leave no listener behind)."""
        if self._doc is not None and self._doc() is doc:
            if self._unsubscribe is None:
                me, followed = weakref.ref(self), weakref.ref(doc)

                def listener(event: DocumentEvent) -> None:
                    analyzer, document = me(), followed()
                    if analyzer is not None and document is not None:
                        analyzer._on_event(event, document.revision)

                self._unsubscribe = doc.subscribe(listener)
            return
        if self._unsubscribe is not None:
            with contextlib.suppress(ValueError):
                self._unsubscribe()
        self._unsubscribe = None
        self._doc = weakref.ref(doc)

    def _on_event(self, event: DocumentEvent, revision: int) -> None:
        # The revision the events account for: an edit made without an event shows as
        # a mismatch, hence a full pass.
        self._revision = revision
        if isinstance(event, (NodeMoved, TrainingChanged, SweepChanged, MetadataChanged)):
            return
        if isinstance(event, ParamsChanged) and self._dirty is not None:
            self._dirty.add(event.node_id)
        else:
            self._dirty = None

    # ------------------------------------------------------------------ passes
    def _full(self, doc: Document, start: float) -> Analysis:
        nodes = doc.nodes
        incoming: dict[str, list[Edge]] = {node_id: [] for node_id in nodes}
        outgoing: dict[str, list[Edge]] = {node_id: [] for node_id in nodes}
        for e in doc.edges:
            if e.source in outgoing and e.target in incoming:
                outgoing[e.source].append(e)
                incoming[e.target].append(e)
        checked, param_problems = {}, {}
        for node in nodes.values():
            checked[node.id], problem = self._check_params(node)
            if problem is not None:
                param_problems[node.id] = problem
        structure: list[Problem] = []
        self._check_ends(doc, structure)
        ports = self._check_ports(doc, checked, incoming, structure)
        order = self._order(doc, incoming, outgoing, structure)
        self._check_reach(doc, incoming, structure)
        validated = time.perf_counter()
        shapes: dict[str, NodeShapes] = {}
        shape_problems: dict[str, Problem] = {}
        for node_id in order:
            shapes[node_id], problem = self._infer_node(doc.nodes[node_id], checked[node_id],
                                                        incoming, shapes)
            if problem is not None:
                shape_problems[node_id] = problem
        state = _State(checked, ports, param_problems, structure, order,
                       {n: i for i, n in enumerate(order)}, incoming, outgoing, shapes,
                       shape_problems)
        self._state = state
        return self._result(doc, state, start, validated)

    def _update(self, doc: Document, state: _State, dirty: set[str],
                start: float) -> Analysis | None:
        """Apply parameter edits of ``dirty`` nodes to ``state``; None if a full pass is
        needed after all."""
        for node_id in dirty:
            node = doc.nodes.get(node_id)
            if node is None:
                return None
            checked, problem = self._check_params(node)
            if node.spec.input_names(checked or node.params) != state.ports[node_id]:
                return None  # the edit changed the node's ports: structure to redo
            state.checked[node_id] = checked
            if problem is None:
                state.param_problems.pop(node_id, None)
            else:
                state.param_problems[node_id] = problem
        validated = time.perf_counter()
        if state.order:
            shapes = dict(state.shapes)
            waiting = [state.position[n] for n in dirty]
            heapq.heapify(waiting)
            queued = set(waiting)
            while waiting:
                node_id = state.order[heapq.heappop(waiting)]
                old = shapes[node_id]
                new, problem = self._infer_node(doc.nodes[node_id], state.checked[node_id],
                                                state.incoming, shapes)
                shapes[node_id] = new
                if problem is None:
                    state.shape_problems.pop(node_id, None)
                else:
                    state.shape_problems[node_id] = problem
                if new.outputs != old.outputs:
                    for e in state.outgoing[node_id]:
                        position = state.position[e.target]
                        if position not in queued:
                            queued.add(position)
                            heapq.heappush(waiting, position)
            state.shapes = shapes
        return self._result(doc, state, start, validated)

    @staticmethod
    def _result(doc: Document, state: _State, start: float, validated: float) -> Analysis:
        problems = [state.param_problems[n] for n in doc.nodes if n in state.param_problems]
        problems += state.structure_problems
        problems += [state.shape_problems[n] for n in state.order
                     if n in state.shape_problems]
        problems += sharing.problems(doc, state.shapes)
        analysis = Analysis(doc, problems, state.shapes, state.order, state.incoming,
                            state.outgoing)
        analysis.timings = {"validate": validated - start,
                            "infer": time.perf_counter() - validated}
        return analysis

    # ------------------------------------------------------------------ checks
    def _check_params(self, node) -> tuple[dict | None, Problem | None]:
        try:
            key = (node.type, _freeze(node.params), _block_token(node))
            hash(key)
        except TypeError:  # an unhashable value can only be a wrong one
            key = None
        hit = self._checked.get(key) if key is not None else None
        if hit is None:
            try:
                hit = (node.spec.check_params(node.params), "")
            except ParamError as e:
                hit = (None, str(e))
            if key is not None:
                self._checked[key] = hit
        if hit[0] is not None:
            return hit[0], None
        return None, Problem("error", (node.id,), f"{node.describe()}: {hit[1]}",
                             _PARAM_HINT, "param")

    @staticmethod
    def _check_ends(doc: Document, problems: list[Problem]) -> None:
        types = {n.type for n in doc.nodes.values()}
        if doc.block_name is not None:
            _check_block_ends(doc, types, problems)
            return
        for node in doc.nodes.values():
            if node.type in ("BlockInput", "BlockOutput"):
                problems.append(Problem(
                    "error", (node.id,), f"{node.describe()} is a block's port, but this "
                    "is the network itself", "delete it, or group layers into a block",
                    "param"))
        if "Input" not in types:
            problems.append(Problem("error", (), "the network has no Input layer",
                                    "add an Input and set the shape of one example",
                                    "no_input"))
        if "Output" not in types:
            problems.append(Problem("error", (), "the network has no Output layer",
                                    "add an Output after the last layer", "no_output"))

    @staticmethod
    def _check_ports(doc: Document, checked, incoming,
                     problems: list[Problem]) -> dict[str, list[str]]:
        all_ports = {}
        for node in doc.nodes.values():
            ports = all_ports[node.id] = node.spec.input_names(checked[node.id] or node.params)
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
        return all_ports

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
        import networkx as nx

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
        useful = [n.id for n in doc.nodes.values() if n.type in ("Output", "BlockOutput")]
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
    def _infer_node(self, node, params, incoming,
                    shapes: dict[str, NodeShapes]) -> tuple[NodeShapes, Problem | None]:
        """Run ``node``'s shape rule on what its wires carry (memoised)."""
        result = NodeShapes(params=params or {})
        if params is None:
            return result, None
        spec = node.spec
        ports = spec.input_names(params)
        tensors: tuple = ()
        if node.type == "BlockInput":
            given = self._ports.get(node.label)
            tensors = (given,) if given is not None else ()
        if ports:
            by_port = {e.target_port: e for e in incoming[node.id]}
            found = []
            for port in ports:
                e = by_port.get(port)
                src = shapes.get(e.source) if e else None
                t = src.outputs.get(e.source_port) if src and e else None
                if t is None:
                    return result, None  # unconnected or upstream failed: reported
                result.inputs[port] = t
                found.append(t)
            tensors = tuple(found)
        key = (node.type, _freeze(params), tensors, node.label, _block_token(node))
        hit = self._memo.get(key)
        if hit is None:
            hit = self._run_rule(node, params, list(tensors))
            self._memo[key] = hit
        outputs, values, error = hit
        if error is not None:
            result.error = error
            return result, Problem("error", (node.id,), error.message, error.hint, "shape",
                                   path=getattr(error, "path", ()))
        result.outputs = dict(zip(spec.output_names(params), outputs))
        result.values = values
        return result, None

    @staticmethod
    def _run_rule(node, params, tensors):
        ctx = ShapeContext(node.describe(), params, tensors, node.label or node.id)
        try:
            inferred = node.spec.shape_rule(ctx)
        except ShapeError as e:
            return (), {}, e
        return tuple(inferred.outputs), inferred.values, None


def _block_token(node) -> Any:
    """What else an instance's rule depends on: its library's revision (the body)."""
    if node.type == "Block" and node.library is not None:
        return node.library.revision
    return None


def _check_block_ends(doc: Document, types: set[str], problems: list[Problem]) -> None:
    for node in doc.nodes.values():
        if node.type in ("Input", "Output"):
            problems.append(Problem(
                "error", (node.id,), f"{node.describe()} belongs in the network, not in "
                f"the block '{doc.block_name}'", "use a Block input or Block output port",
                "param"))
    if "BlockInput" not in types:
        problems.append(Problem("error", (), "the block has no input port",
                                "add a Block input", "no_input"))
    if "BlockOutput" not in types:
        problems.append(Problem("error", (), "the block has no output port",
                                "add a Block output", "no_output"))
    seen: dict[tuple[str, str], str] = {}
    for node in doc.nodes.values():
        if node.type in ("BlockInput", "BlockOutput"):
            key = (node.type, node.label)
            if key in seen or not node.label.isidentifier():
                problems.append(Problem(
                    "error", (node.id,), f"{node.describe()}: a port's name must be a "
                    "Python name used by no other port of the block",
                    "rename the port", "param"))
            seen[key] = node.id


def analyze(doc: Document) -> Analysis:
    """Validate ``doc`` and infer every shape (no caching between calls)."""
    return Analyzer().analyze(doc)


def validate(doc: Document) -> list[Problem]:
    """Every problem of the network, errors and warnings, all at once."""
    return analyze(doc).problems


def infer_shapes(doc: Document) -> dict[str, NodeShapes]:
    return analyze(doc).shapes
