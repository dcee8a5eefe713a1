"""Import a PyTorch module into a Strata document, through torch.fx.

``import_file("net.py:LeNet", [(1, 1, 28, 28)])`` loads the file, builds the module,
traces it, maps every operation that reaches an output to a catalog layer, lays the
document out and returns it with the module's weights renamed to the compiled Strata
module's ``state_dict`` keys. Invariants:

- Nothing is dropped silently: every operation that feeds an output either becomes a
  layer, is pure plumbing (sizes, devices, zero initial states), or is listed in one
  ``UnmappedError`` with its fx node, operation, attribute path and source line.
- The result is checked, not trusted: the document validates, every inferred value and
  shape equals the traced one, the weights load strictly, and (``verify=True``) the
  compiled network's outputs equal the original module's in eval mode.
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..catalog import get_spec
from ..document import Document, Edge
from ..errors import ParamError, StrataError
from ..layout import layered_positions
from ..naming import snake_case
from . import function_rules, module_rules, sharing_rules
from .checks import (
    check_dtypes,
    check_result,
    check_shapes,
    check_tasks,
    compare_outputs,
    guess_dtypes,
    infer_dtypes,
)
from .init_rules import read_inits
from .loading import build_module, split_target
from .ops import Data, Op, Refused, meta
from .problems import ImportSourceError, Unmapped, UnmappedError
from .report import MappingReport
from .report import build as build_report
from .tracing import (
    assigned_name,
    make_inputs,
    probe,
    probe_batch,
    source_location,
    trace,
)


@dataclass
class ImportResult:
    document: Document
    # The original weights under the compiled Strata module's keys:
    # compile_network(document).module.load_state_dict(state_dict) reproduces the module.
    state_dict: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # settings not kept, in user terms
    max_abs_diff: float | None = None  # measured against the original (verify=True)
    source: str = ""
    # Per layer: what it was in the user's code and where (importers.report).
    report: MappingReport | None = None


def import_file(target: str | Path, input_shapes, input_dtypes=None, *,
                name: str | None = None, tasks="classification", weights=None,
                kwargs: dict[str, Any] | None = None, verify: bool = True,
                blocks: bool = True) -> ImportResult:
    """Import ``FILE.py:Name`` (a module class or a factory function).

    ``input_shapes``: one shape per forward argument, batch first (``(1, 3, 32, 32)``);
    ``input_dtypes``: "float", "long" (token ids) or "auto" (default: long for an input
    an Embedding reads, else float) per input; ``weights``: a
    state_dict or checkpoint file loaded into the module first; ``kwargs``: constructor
    or factory arguments.
    """
    path, attr = split_target(str(target)) if name is None else (Path(target), name)
    from .blocks import recording_arguments

    with recording_arguments():  # constructor arguments become block parameters
        module = build_module(path, attr, kwargs)
    what = f"{path.name}:{attr}"
    if weights is not None:
        load_weights(module, weights, what)
    # A Strata export names its network in the module docstring; else the class or
    # factory name.
    title = _strata_title(path) or attr
    return import_module(module, input_shapes, input_dtypes, tasks=tasks, what=what,
                         name=title, verify=verify, blocks=blocks)


def import_module(module, input_shapes, input_dtypes=None, *, tasks="classification",
                  name: str | None = None, description: str | None = None,
                  what: str | None = None, verify: bool = True,
                  blocks: bool = True) -> ImportResult:
    """Import an ``nn.Module`` instance (see ``import_file`` for the arguments;
    ``blocks=False`` imports flat, without the module's blocks)."""
    what = what or type(module).__name__
    shapes = check_shapes(input_shapes, what)
    dtypes = check_dtypes(input_dtypes, len(shapes), what)
    features = [tuple(s[1:]) for s in shapes]
    batch = shapes[0][0]
    notes: list[str] = []

    def examples():
        return make_inputs(module, features, guess_dtypes(module, dtypes), max(batch, 2))

    gm = trace(module, len(shapes), module_rules.KNOWN_MODULES, what, examples, notes)
    dtypes = infer_dtypes(gm, dtypes)
    seen = probe(gm, features, dtypes, batch, what)
    mapper = _Mapper(gm, seen, what)
    mapper.notes.extend(notes)
    mapper.inits = read_inits(module)
    mapper.walk(len(shapes), dtypes, check_tasks(tasks, what))
    doc, ids = mapper.document(name or type(module).__name__,
                               description if description is not None else _doc(module))
    state_dict = check_result(doc, ids, mapper.ops, seen, what)
    result = ImportResult(doc, state_dict, mapper.notes, None, what)
    if verify:
        result.max_abs_diff = compare_outputs(module, doc, state_dict, features, dtypes,
                                       probe_batch(batch), what)
    result.report = build_report(doc, mapper, ids)
    if blocks:  # the user's submodules as block definitions (importers.blocks)
        from .blocks import keep_blocks

        result = keep_blocks(result, module, mapper, ids, features, dtypes, batch,
                             what, verify)
    if result.report is not None:
        result.report.notes = result.notes
    return result


def load_weights(module, weights, what: str) -> None:
    """Load a state_dict (or a file holding one) into the user's module, strictly."""
    from ..state_dicts import read_state_dict

    state = read_state_dict(weights) if isinstance(weights, (str, Path)) else weights
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ImportSourceError(f"{what}: the weights do not fit the module: "
                                f"{_first_line(e)}") from None


# ---------------------------------------------------------------------- the walk
class _Mapper:
    def __init__(self, gm, seen, what: str) -> None:
        self.gm = gm
        self.probe = seen
        self.what = what
        self.ops: list[Op] = []
        self.values: dict = {}
        self.notes: list[str] = []
        self.outputs: list[int] = []
        self.inits: dict[str, dict] = {}  # attribute path -> init parameters read

    # -------------------------------------------------------- API used by rules
    def value(self, arg):
        from torch import fx

        if isinstance(arg, fx.Node):
            return self.values[arg]
        return meta("constant", f"the constant {arg!r}")

    def data(self, arg, role: str = "its input") -> int:
        value = self.value(arg)
        if isinstance(value, Data):
            return value.op
        raise Refused(f"{role} is {value.what}, not the output of a layer")

    def constant(self, value, name: str):
        """A call's plain argument: computed ones (``x.size()[2:]``) become the value
        they had while tracing, if it does not depend on the batch size."""
        from torch import fx

        if isinstance(value, (tuple, list)):
            return type(value)(self.constant(v, name) for v in value)
        if not isinstance(value, fx.Node):
            return value
        known = self.values.get(value)
        if isinstance(known, Data):
            raise Refused(f"takes its `{name}` from a layer's output")
        ok, plain = self.probe.constant(value)
        if not ok:
            raise Refused(f"computes its `{name}` from "
                          f"{known.what if known is not None else 'a value'}, which changes with "
                          "the batch")
        return plain

    def shape(self, arg):
        return self.probe.tensor(arg)

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def emit(self, type_name: str, params: dict, inputs: list[int], node, *,
             module=None, source: str | None = None, weights=None,
             expect: dict | None = None, anonymous: bool = False) -> Data:
        if source is None:
            source = node.target if module is not None and node.op == "call_module" else ""
        if weights is None and module is not None:
            def weights(m=module):
                return m.state_dict()
        self.ops.append(Op(type_name, params, list(inputs), node, module=module,
                           source=source, weights=weights, expect=dict(expect or {}),
                           anonymous=anonymous))
        return Data(len(self.ops) - 1)

    def shadow(self, node, refused: int) -> Data:
        """A value taken from a refused layer's result (``h`` of ``out, h = rnn(x)``):
        it carries the refusal along without reporting it again."""
        self.ops.append(Op(None, {}, [refused], node, tag={"shadow": True}))
        return Data(len(self.ops) - 1)

    def reshape_like(self, node, x_arg, module=None, flatten: bool = False) -> Data:
        """Flatten, Reshape or nothing, judged by the traced shapes; ``flatten``: the
        code flattens (x.flatten(2), nn.Flatten(2)), so merged dimensions in the middle
        stay a Flatten with start_dim/end_dim."""
        x = self.data(x_arg)
        src = self.ops[x]
        if (src.type in ("Flatten", "Reshape") and src.anonymous and src.node is x_arg
                and len(x_arg.users) == 1):
            x = src.inputs[0]  # a reshape of a reshape is one reshape
        before, after = self.shape(self.ops[x].node), self.shape(node)
        if before is None or after is None:
            raise Refused("does not produce a tensor Strata can follow")
        if "?" in after.shape or after.shape[:1] != ("N",) or before.shape[:1] != ("N",):
            raise Refused(f"turns {before} into {after}, moving or splitting the batch "
                          "dimension; Strata's tensors keep the batch first")
        if after.shape == before.shape and module is None:
            return Data(x)
        merged = _merged_dims(before.shape, after.shape) if flatten else None
        params: dict[str, Any]
        if after.rank == 2 and before.rank > 2:
            type_name, params = "Flatten", {}
        elif merged is not None:
            start, end = merged
            type_name = "Flatten"
            params = {"start_dim": start, "end_dim": -1 if end == before.rank - 1 else end}
        else:
            type_name, params = "Reshape", {"shape": list(after.shape[1:])}
        return self.emit(type_name, params, [x], node, module=module,
                         anonymous=module is None)

    # -------------------------------------------------------- walking fx nodes
    def walk(self, n_inputs: int, dtypes: list[str], tasks: list[str]) -> None:
        placeholders = 0
        for node in self.gm.graph.nodes:
            try:
                if node.op == "placeholder":
                    value = self._input(node, placeholders, n_inputs, dtypes)
                    placeholders += 1
                elif node.op == "output":
                    self._outputs(node, tasks)
                    continue
                else:
                    value = self._map(node)
            except Refused as e:
                value = self._refuse(node, e.reason)
            self.values[node] = value

    def _input(self, node, index: int, n_inputs: int, dtypes):
        if index >= n_inputs:
            return meta("value", f"the argument '{node.name}' (fixed at its default)")
        shape = self.shape(node)
        params = {"shape": list(shape.shape[1:]), "dtype": dtypes[index]}
        data = self.emit("Input", params, [], node)
        single = n_inputs == 1 and node.name in ("x", "input", "inputs")
        self.ops[data.op].source = "input" if single else node.name
        return data

    def _map(self, node):
        if node.op == "get_attr":
            tensor = _fetch(self.gm, node.target)
            return meta("attr", f"the tensor '{node.target}'", tensor=tensor,
                        path=node.target, index=())
        if not self.probe.is_tensor(node):
            return meta("value", f"a plain value ({function_rules.describe(node)})"
                        if node.op != "call_module" else "a plain value")
        if node.op == "call_module":
            m = self.gm.get_submodule(node.target)
            rule = module_rules.MODULE_RULES.get(type(m))
            if rule is None:
                raise Refused(f"{_module_name(m)} is not in Strata's catalog")
            return rule(self, node, m)
        return function_rules.map_call(self, node)

    def _outputs(self, node, tasks: list[str]) -> None:
        result = node.args[0]
        items = list(result) if isinstance(result, (tuple, list)) else [result]
        if isinstance(result, dict):
            items = []
            self._refuse(node, "forward returns a dict; Strata networks return tensors")
        if len(tasks) == 1 and len(items) > 1:
            tasks = tasks * len(items)
        if len(tasks) != len(items):
            raise ImportSourceError(f"{self.what}: forward returns {len(items)} tensors "
                                    f"but {len(tasks)} tasks were given")
        for item, task in zip(items, tasks):
            try:
                x = self.data(item, "the returned value")
            except Refused as e:
                self.outputs.append(self._refuse(node, e.reason).op)
                continue
            self.outputs.append(self.emit("Output", {"task": task}, [x], node).op)

    def _refuse(self, node, reason: str) -> Data:
        from torch import fx

        found: list = []
        fx.node.map_arg((node.args, node.kwargs), found.append)
        inputs = [self.values[a].op for a in found
                  if isinstance(self.values.get(a), Data)]
        item = Unmapped(node.name, self._operation(node), self._source(node), reason,
                        source_location(node))
        self.ops.append(Op(None, {}, inputs, node, error=item))
        return Data(len(self.ops) - 1)

    def _operation(self, node) -> str:
        if node.op == "call_module":
            return _module_name(self.gm.get_submodule(node.target))
        if node.op in ("call_function", "call_method"):
            return function_rules.describe(node)
        return {"output": "return", "get_attr": "tensor attribute"}.get(node.op, node.op)

    @staticmethod
    def _source(node) -> str:
        if node.op in ("call_module", "get_attr"):
            return node.target
        scope = _scope(node)
        return f"{scope}.forward" if scope else "forward"

    # -------------------------------------------------------- the document
    def live(self) -> list[int]:
        seen: set[int] = set()
        stack = list(self.outputs)
        while stack:
            i = stack.pop()
            if i not in seen:
                seen.add(i)
                stack.extend(self.ops[i].inputs)
        return sorted(seen)

    def document(self, name: str, description: str) -> tuple[Document, dict[int, str]]:
        live = self.live()
        problems = [e for e in (self.ops[i].error for i in live) if e is not None]
        reused, shared = sharing_rules.reused(self.ops, live)
        problems += reused
        for i in live:
            op = self.ops[i]
            if op.type is None:
                continue
            _apply_init(op, self.inits.get(op.source))
            try:
                checked = get_spec(op.type).check_params(op.params)
                # As a document stores them: JSON-like lists, not tuples.
                op.params = {k: list(v) if isinstance(v, tuple) else v
                             for k, v in checked.items()}
            except ParamError as e:
                problems.append(Unmapped(op.node.name, op.type, op.source, str(e),
                                         source_location(op.node)))
        if problems:
            raise UnmappedError(problems, self.what)
        doc = Document(name, description)
        labels = self._labels(live)
        for i, owner in shared.items():
            self.ops[i].params["shares"] = labels[owner]
            if self.ops[i].type == self.ops[owner].type:
                self.ops[i].weights = None  # it calls the owner's module
        ids: dict[int, str] = {}
        for i in live:
            op = self.ops[i]
            assert op.type is not None  # refused operations raised UnmappedError above
            ids[i] = doc.add_node(op.type, op.params, labels[i]).id
        for i in live:
            op = self.ops[i]
            assert op.type is not None
            ports = get_spec(op.type).input_names(op.params)
            for port, src in zip(ports, op.inputs):
                doc.connect(Edge(ids[src], "out", ids[i], port))
        for node_id, pos in layered_positions(doc).items():
            doc.nodes[node_id].position = pos
        return doc, ids

    def _labels(self, live: list[int]) -> dict[int, str]:
        labels: dict[int, str] = {}
        used: set[str] = set()

        def take(i: int, base: str) -> None:
            label, k = base, 2
            while label in used:
                label = f"{base}_{k}"
                k += 1
            used.add(label)
            labels[i] = label

        named = [i for i in live if self.ops[i].source and self.ops[i].type != "Output"]
        for i in named:  # names from the user's code first, then the rest
            take(i, snake_case(self.ops[i].source.replace(".", "_")))
        for i in live:
            if i not in labels:
                # Code inside a nested block is named after the block: layer1_0_add.
                op = self.ops[i]
                assert op.type is not None
                spec = get_spec(op.type)
                # An activation called as a function is named by the variable that
                # holds it, if the code names one (Strata's own export does).
                named_as = assigned_name(op.node) if op.anonymous and spec.function \
                    and op.node is not None and op.node.op == "call_function" else ""
                if named_as:
                    take(i, snake_case(named_as))
                    continue
                base = spec.default_label
                scope = _scope(op.node) if op.anonymous else ""
                take(i, snake_case(f"{scope.replace('.', '_')}_{base}") if scope else base)
        return labels


# ---------------------------------------------------------------------- helpers
def _apply_init(op: Op, found: dict | None) -> None:
    """The init choices read from ``__init__`` (init_rules), where the layer has them."""
    if not found or op.module is None or op.type is None:  # None: a refused operation
        return
    spec = get_spec(op.type)
    if not spec.init_weights:
        return
    for name, value in found.items():
        choices = spec.param(name).choices
        if value in choices:
            op.params[name] = value


def _merged_dims(before: tuple, after: tuple) -> tuple[int, int] | None:
    """(start, end) when ``after`` is ``before`` with dimensions start..end multiplied
    into one (a flatten), else None."""
    k = len(before) - len(after) + 1  # how many dimensions became one
    if k < 2:
        return None
    for start in range(1, len(before) - k + 1):
        end = start + k - 1
        span = before[start:end + 1]
        if not all(isinstance(d, int) for d in span):  # a symbolic dimension: no product
            continue
        if (*before[:start], math.prod(span), *before[end + 1:]) == tuple(after):
            return start, end
    return None


def _scope(node) -> str:
    """Attribute path of the user module whose forward made ``node`` ("" at the top)."""
    stack = node.meta.get("nn_module_stack") or {}
    return next(reversed(stack), "") if stack else ""


def _fetch(gm, target: str):
    obj = gm
    for part in target.split("."):
        obj = getattr(obj, part)
    return obj


def _has_state(module) -> bool:
    return any(True for _ in module.parameters()) or any(True for _ in module.buffers())


def _module_name(m) -> str:
    cls = type(m)
    if cls.__module__.startswith("torch.nn"):
        return f"nn.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0][:400] if lines else type(e).__name__


def _doc(module) -> str:
    cls = type(module)
    if cls.__module__.startswith("torch.") or not cls.__doc__:
        return ""
    paragraphs = inspect.cleandoc(cls.__doc__).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.strip())


_STRATA_TITLE = re.compile(r'^"""(?P<title>.*): a network designed in Strata\.$')


def _strata_title(path: Path) -> str | None:
    """The document name a Strata export wrote into its module docstring."""
    try:
        first = path.read_text(encoding="utf-8").splitlines()[0]
    except (OSError, IndexError, UnicodeDecodeError):
        return None
    m = _STRATA_TITLE.match(first)
    return m["title"].replace("\\\\", "\\") if m else None


__all__ = ["ImportResult", "StrataError", "import_file", "import_module", "load_weights"]
