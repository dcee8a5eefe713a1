"""One-click fixes for problems whose fix is obvious, as data-driven rules.

``fix_for(problem, doc, analysis)`` returns a ``Fix(title, edits)`` or None. Each rule
proposes candidate edits from the analysis (the tensors a node receives, its declared
parameters); a candidate is only offered after re-running the affected shape rules on
the edited tensors shows that the node's error would go away. So a fix never makes a
suggestion the shape rules would reject, and no rule names a particular layer type
except the ones it inserts (Flatten, Embedding, Reshape, a 1x1 Conv2d, a Linear, an
Output). The edits are data (``graph.edits``): the studio's controller performs them as
exactly one undo step, and ``strata check --fix`` (``fix_all``) on the file itself.

Edits that change what the network means (before an Output, or when several different
parameter changes would each work) are left to the user: they are not obvious. So are
extra wires: which one to keep is the user's call.

The fixes of training diagnoses (Sigmoid to ReLU, BatchNorm, Dropout, a lower learning
rate) are in ``graph.training_fixes``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .analysis import Analysis, Analyzer
from .catalog import LayerSpec, ShapeContext, TensorInfo, get_spec
from .document import Document, Edge
from .edits import (
    AppendLayer,
    Connect,
    Edit,
    InsertLayer,
    SetParam,
    apply_edits,
)
from .errors import ParamError, ShapeError
from .problems import Problem


@dataclass(frozen=True)
class Fix:
    title: str  # "Insert a Flatten before 'fc1'"
    edits: tuple[Edit, ...]  # performed together: one undo step in the studio


def fix_for(problem: Problem, doc: Document, analysis: Analysis) -> Fix | None:
    """The obvious fix of ``problem``, or None when there is none."""
    for rule in RULES.get(problem.kind, ()):
        try:
            fix = rule(problem, doc, analysis)
        except (KeyError, ValueError, TypeError, ParamError):  # a half-built network
            fix = None
        if fix is not None:
            return fix
    return None


# ---------------------------------------------------------------------- simulation
def run_rule(spec: LayerSpec, params: dict[str, Any], inputs: list[TensorInfo],
             name: str = "") -> list[TensorInfo] | None:
    """Outputs of ``spec``'s shape rule, or None if it refuses these inputs."""
    try:
        checked = spec.check_params({**spec.default_params(), **params})
        return list(spec.shape_rule(ShapeContext(name or spec.display_name, checked,
                                                 inputs)).outputs)
    except (ShapeError, ParamError):
        return None


@dataclass(frozen=True)
class _Insert:
    port: str
    type_name: str
    params: dict


def _context(problem: Problem, doc: Document, analysis: Analysis):
    node = doc.nodes[problem.node_ids[0]]
    shapes = analysis.shapes[node.id]
    ports = node.spec.input_names(shapes.params)
    edges = {e.target_port: e for e in doc.edges_into(node.id)}
    if not shapes.params or any(p not in shapes.inputs or p not in edges for p in ports):
        return None
    return node, shapes, ports, edges


def _insertion_fix(problem, doc, analysis, inserts: list[_Insert], title: str):
    """Offer ``inserts`` (layers put on the node's incoming wires) if the node's shape
    rule accepts the tensors they would produce."""
    ctx = _context(problem, doc, analysis)
    if ctx is None or not inserts:
        return None
    node, shapes, ports, edges = ctx
    if node.spec.is_sink:
        return None
    tensors = dict(shapes.inputs)
    for ins in inserts:
        out = run_rule(get_spec(ins.type_name), ins.params, [tensors[ins.port]])
        if out is None:
            return None
        tensors[ins.port] = out[0]
    if run_rule(node.spec, shapes.params, [tensors[p] for p in ports]) is None:
        return None
    return Fix(title, tuple(InsertLayer(edges[ins.port], ins.type_name, dict(ins.params))
                            for ins in inserts))


def _title(node) -> str:
    return f"'{node.label or node.id}'"


# ---------------------------------------------------------------------- shape rules
def _flatten(problem, doc, analysis):
    ctx = _context(problem, doc, analysis)
    if ctx is None:
        return None
    node, shapes, ports, _ = ctx
    inserts = [_Insert(p, "Flatten", {}) for p in ports
               if shapes.inputs[p].dtype == "float" and shapes.inputs[p].rank >= 3]
    return _insertion_fix(problem, doc, analysis, inserts,
                          f"Insert a Flatten before {_title(node)}")


def _embedding(problem, doc, analysis):
    ctx = _context(problem, doc, analysis)
    if ctx is None:
        return None
    node, shapes, ports, _ = ctx
    if node.type == "Embedding":
        return None
    params = {}
    dataset = doc.training.get("dataset") if isinstance(doc.training, dict) else None
    vocab = dataset.get("vocab") if isinstance(dataset, dict) else None
    if isinstance(vocab, int) and vocab > 0:
        params["num_embeddings"] = vocab
    inserts = [_Insert(p, "Embedding", params) for p in ports
               if shapes.inputs[p].dtype == "long"]
    return _insertion_fix(problem, doc, analysis, inserts,
                          f"Insert an Embedding before {_title(node)}")


def _reshape(problem, doc, analysis):
    """Add the dimension a layer is missing: a channel for convolutions and pooling,
    a feature for sequence layers, or a square image from a flat vector."""
    ctx = _context(problem, doc, analysis)
    if ctx is None or len(ports := ctx[2]) != 1:
        return None
    node, shapes, _, _ = ctx
    t = shapes.inputs[ports[0]]
    features = [d for d in t.features if isinstance(d, int)]
    if t.dtype != "float" or not features or len(features) != t.rank - 1:
        return None
    candidates = [[1, *features], [*features, 1]]
    if node.spec.category in ("Sequence", "Attention"):
        candidates.reverse()
    if len(features) == 1 and math.isqrt(features[0]) ** 2 == features[0] > 1:
        side = math.isqrt(features[0])
        candidates.append([1, side, side])
    for shape in candidates:
        text = ", ".join(map(str, shape))
        fix = _insertion_fix(problem, doc, analysis,
                             [_Insert(ports[0], "Reshape", {"shape": shape})],
                             f"Insert a Reshape to (N, {text}) before {_title(node)}")
        if fix is not None:
            return fix
    return None


def _match_branches(problem, doc, analysis):
    """Element-wise merges (Add, Multiply): project the odd branches to the main
    branch's size with a 1x1 Conv2d (strided like a ResNet shortcut when the maps are
    larger) or a Linear."""
    ctx = _context(problem, doc, analysis)
    if ctx is None or len(ctx[2]) < 2 or ctx[0].spec.category != "Merge":
        return None
    _node, shapes, ports, edges = ctx
    tensors = [shapes.inputs[p] for p in ports]
    if len({t.rank for t in tensors}) != 1 or any(t.dtype != "float" for t in tensors):
        return None
    # The main branch is the deepest one; shortcuts come from earlier in the network.
    import networkx as nx  # imported on first use (start-up time)

    depth = {p: len(nx.ancestors(analysis.graph, edges[p].source)) for p in ports}
    main = max(ports, key=lambda p: (depth[p], -ports.index(p)))
    ref = shapes.inputs[main]
    inserts = []
    for p in ports:
        t = shapes.inputs[p]
        if t == ref:
            continue
        if t.rank == 4:
            strides = [t.shape[i] // ref.shape[i] if ref.shape[i] else 0 for i in (2, 3)]
            params = {"out_channels": ref.shape[1], "kernel_size": [1, 1],
                      "padding": [0, 0], "stride": [max(1, s) for s in strides]}
            inserts.append(_Insert(p, "Conv2d", params))
        elif t.rank in (2, 3) and t.shape[:-1] == ref.shape[:-1]:
            inserts.append(_Insert(p, "Linear", {"out_features": ref.shape[-1]}))
        else:
            return None
    kind = {"Conv2d": "a 1x1 Conv2d", "Linear": "a Linear"}[inserts[0].type_name] \
        if inserts else ""
    size = ref.shape[1] if ref.rank == 4 else ref.shape[-1]
    what = "channels" if ref.rank == 4 else "features"
    branches = " and ".join(_title(doc.nodes[edges[i.port].source]) for i in inserts)
    title = f"Insert {kind} after {branches} to match {size} {what}"
    return _insertion_fix(problem, doc, analysis, inserts, title)


def _single_param(problem, doc, analysis):
    """Flip a switch or pick another choice, when exactly one such change fixes it
    (e.g. batch_first on a recurrent layer)."""
    ctx = _context(problem, doc, analysis)
    if ctx is None or ctx[0].spec.is_sink:
        return None
    node, shapes, ports, _ = ctx
    inputs = [shapes.inputs[p] for p in ports]
    working = []
    for p in node.spec.params:
        options = ([not shapes.params[p.name]] if p.kind == "bool" else
                   [c for c in p.choices if c != shapes.params[p.name]]
                   if p.kind == "choice" else [])
        for value in options:
            if run_rule(node.spec, {**shapes.params, p.name: value}, inputs) is not None:
                working.append((p.name, value))
    if len(working) != 1:
        return None
    name, value = working[0]
    shown = str(value).lower() if isinstance(value, bool) else repr(value)
    return Fix(f"Set {name} = {shown} on {_title(node)}", (SetParam(node.id, name, value),))


# ---------------------------------------------------------------------- other kinds
def _reset_param(problem, doc, analysis):
    node = doc.nodes[problem.node_ids[0]]
    for p in node.spec.params:
        try:
            p.check(node.params.get(p.name, p.default))
        except ParamError:
            return Fix(f"Reset {p.name} of {_title(node)} to its default ({p.default})",
                       (SetParam(node.id, p.name, p.default),))
    return None


def _dangling(doc: Document, analysis: Analysis, exclude: str | None = None) -> list[str]:
    """Layers whose output goes nowhere, in document order."""
    used = {e.source for e in doc.edges}
    return [n.id for n in doc.nodes.values()
            if n.spec.outputs and n.id not in used and n.id != exclude]


def _add_output(problem, doc, analysis):
    ends = _dangling(doc, analysis)
    if len(ends) != 1:
        return None
    end = doc.nodes[ends[0]]
    shapes = analysis.shapes.get(end.id)
    tensor = next(iter(shapes.outputs.values()), None) if shapes else None
    output = get_spec("Output")
    task: str | None = "classification"
    if tensor is not None:  # the first task whose shape rule takes what the end gives
        task = next((c for c in output.param("task").choices
                     if run_rule(output, {"task": c}, [tensor]) is not None), None)
    if task is None:
        return None
    x, y = end.position
    return Fix(f"Add an Output after {_title(end)}",
               (AppendLayer(end.id, end.spec.output_names(end.params)[0], "Output",
                            {"task": task}, (x + 220.0, y)),))


def _connect_dangling(problem, doc, analysis):
    node = doc.nodes[problem.node_ids[0]]
    # Obvious only with one open input and one loose end (checked cheapest first).
    if not problem.port or sum(p.kind == "unconnected" for p in analysis.problems) != 1:
        return None
    import networkx as nx

    ends = [i for i in _dangling(doc, analysis, exclude=node.id)
            if not nx.has_path(analysis.graph, node.id, i)]
    if len(ends) != 1:
        return None
    source = doc.nodes[ends[0]]
    edge = Edge(source.id, source.spec.output_names(source.params)[0], node.id, problem.port)
    return Fix(f"Connect {_title(source)} to {_title(node)}", (Connect(edge),))


# Tried in order; the first rule that yields a fix wins.
RULES: dict[str, tuple[Callable[[Problem, Document, Analysis], Fix | None], ...]] = {
    "shape": (_embedding, _flatten, _match_branches, _reshape, _single_param),
    "param": (_reset_param,),
    "no_output": (_add_output,),
    "unconnected": (_connect_dangling,),
}


# ---------------------------------------------------------------------- headless
def fix_all(doc: Document, limit: int = 100) -> list[str]:
    """Apply every obvious fix to ``doc``, one at a time (each fix changes the problems
    the next is looked for in); the titles of what was done, in order. Stops when no
    problem has a fix, or after ``limit`` fixes (a guard: a fix always removes its
    problem, so a network has at most as many fixes as it has problems to begin with).
    """
    analyzer = Analyzer()
    done: list[str] = []
    while len(done) < limit:
        analysis = analyzer.analyze(doc)
        fix = next((f for f in (fix_for(p, doc, analysis) for p in analysis.problems)
                    if f is not None), None)
        if fix is None:
            break
        apply_edits(doc, fix.edits)
        done.append(fix.title)
    return done
