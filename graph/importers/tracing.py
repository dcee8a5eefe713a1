"""Tracing a module with torch.fx and probing the shape of every value.

The tracer keeps the layers Strata knows (and every other ``torch.nn`` layer, so it can be
reported by name) as leaves, and flattens everything else: nested user blocks and
``nn.Sequential`` containers disappear, their layers keep their attribute paths
(``layer1.0.conv1``). The probe then runs the traced graph twice, at two batch sizes, and
records each value's shape; a dimension that follows the batch size is the batch ``N``.
That is how ``x.view(x.size(0), -1)`` is recognised as a Flatten without reading the
code, and how a shape that depends on the batch in any other way is caught.
"""

from __future__ import annotations

import inspect
import operator
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .problems import ImportSourceError

_FRAME = re.compile(r'File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<func>\S+)')


def trace(module, n_inputs: int, leaf_types: frozenset, what: str, examples=None,
          notes: list[str] | None = None):
    """``module`` as an ``fx.GraphModule`` with ``n_inputs`` tensor arguments.

    Where symbolic tracing fails (``assert t <= block_size``...) and ``examples`` (a
    callable returning example inputs) is given, the module is traced again with the
    example's concrete sizes (see ``concrete_tracing``), and ``notes`` says so.
    """
    from torch import fx

    class SizedProxy(fx.Proxy):
        """``tuple(h_n[-2:])``: a slice from the end has a known length, so it can be
        measured and iterated while tracing (fx refuses both for any other Proxy)."""

        def __len__(self) -> int:
            known = _known_length(self.node)
            return known if known is not None else super().__len__()

    class LayerTracer(fx.Tracer):
        def is_leaf_module(self, m, qualname: str) -> bool:
            return type(m) in leaf_types or super().is_leaf_module(m, qualname)

        def proxy(self, node):
            return SizedProxy(node, self)

        def iter(self, obj):
            known = _known_length(obj.node)
            if known is not None:
                return iter([obj[i] for i in range(known)])
            return super().iter(obj)

    tracer = LayerTracer()
    tracer.record_stack_traces = True
    concrete = _concrete_args(module, n_inputs, what)
    modes = {m: m.training for m in module.modules()}
    module.train()  # ``F.dropout(x, p, self.training)`` must trace as a dropout
    try:
        graph = tracer.trace(module, concrete_args=concrete or None)
    except Exception as e:  # noqa: BLE001 - fx raises many kinds for code it cannot follow
        found = _trace_concretely(module, LayerTracer, SizedProxy, examples, concrete)
        if found is not None:
            tracer, graph = found
            if notes is not None:
                notes.append(
                    f"forward cannot be traced symbolically ({_first_line(e)}{_user_frame_of(e)}"
                    "); it was traced with the example's sizes, which the network keeps "
                    "(any batch size still works)")
            return fx.GraphModule(tracer.root, graph, type(module).__name__)
        raise ImportSourceError(
            f"{what}: torch.fx cannot trace forward ({type(e).__name__}: "
            f"{_first_line(e)}){_user_frame_of(e)}",
            "symbolic tracing cannot follow Python control flow on tensor values "
            "(if x.sum() > 0, loops over x.shape...); write forward without it",
        ) from None
    finally:
        for m, mode in modes.items():
            m.training = mode
    return fx.GraphModule(tracer.root, graph, type(module).__name__)


def _trace_concretely(module, tracer_type, proxy_type, examples, concrete):
    """(tracer, graph) traced on the example inputs, or None when that fails too."""
    if examples is None:
        return None
    from .concrete_tracing import concrete_trace

    # Running the module in training mode would move BatchNorm's running statistics.
    saved = {k: v.detach().clone() for k, v in module.state_dict(keep_vars=True).items()}
    try:
        return concrete_trace(module, tracer_type, proxy_type, examples(), concrete)
    except Exception:  # noqa: BLE001 - the symbolic failure is the one to report
        return None
    finally:
        module.load_state_dict(saved)


def _known_length(node) -> int | None:
    """k for ``x[-k:]``, None when the length is only known at run time."""
    if node.op == "call_function" and node.target is operator.getitem:
        index = node.args[1]
        if (isinstance(index, slice) and isinstance(index.start, int)
                and index.start < 0 and index.stop is None and index.step in (None, 1)):
            return -index.start
    return None


def _concrete_args(module, n_inputs: int, what: str) -> dict[str, Any]:
    try:
        params = list(inspect.signature(module.forward).parameters.values())
    except (TypeError, ValueError):
        return {}
    if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in params):
        raise ImportSourceError(f"{what}: forward takes *args or **kwargs",
                                "name its tensor arguments explicitly")
    if len(params) < n_inputs:
        raise ImportSourceError(
            f"{what}: forward takes {len(params)} argument(s) but {n_inputs} input "
            "shapes were given")
    extra = params[n_inputs:]
    needed = [p.name for p in extra if p.default is p.empty]
    if needed:
        names = ", ".join(p.name for p in params)
        raise ImportSourceError(
            f"{what}: forward({names}) needs {len(params) - len(extra) + len(needed)} "
            f"inputs but {n_inputs} input shape(s) were given",
            "give one --input-shape per tensor argument",
        )
    # Arguments with defaults (mask=None...) are fixed at their defaults.
    return {p.name: p.default for p in extra}


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0][:300] if text else type(e).__name__


def _user_frame_of(e: BaseException) -> str:
    import traceback

    frames = [f for f in traceback.extract_tb(e.__traceback__) if not _is_torch(f.filename)]
    if not frames:
        return ""
    f = frames[-1]
    return f" at {Path(f.filename).name}:{f.lineno}: {(f.line or '').strip()}"


def _is_torch(filename: str) -> bool:
    """Frames of torch itself (fx, nn) and of the importer are not where the user's
    code is."""
    import torch

    return filename.startswith((str(Path(torch.__file__).parent),
                                str(Path(__file__).parent)))


def source_location(node) -> str:
    """``net.py:42: x = x - self.mean``, the user's line that made this fx node."""
    trace = node.meta.get("stack_trace") or ""
    lines = trace.splitlines()
    found = ""
    for i, line in enumerate(lines):
        m = _FRAME.search(line)
        if not m or _is_torch(m["file"]) or m["file"].startswith("<"):
            continue
        code = lines[i + 1].strip() if i + 1 < len(lines) else ""
        found = f"{Path(m['file']).name}:{m['line']}: {code}"
    return found


# A running variable says nothing about the value it holds at one line.
_RUNNING = re.compile(r"[a-z]|(x|h|y|z|out|output|outputs|hidden|tmp|res|result)\d*")
_ASSIGNED = re.compile(r"(?P<name>[A-Za-z_]\w*)\s*=\s*(?P<call>[\w.]+)\(")


def assigned_name(node) -> str:
    """The variable the user's line assigns this function call's result to
    (``stem_relu = torch.relu(x)``), when the call is the whole right-hand side and
    the variable is not a running one (``x = torch.relu(x)``); else ``""``."""
    found = source_location(node)
    code = found.split(": ", 1)[1].split("#")[0].strip() if ": " in found else ""
    m = _ASSIGNED.match(code)
    if m is None or _RUNNING.fullmatch(m["name"]):
        return ""
    target = getattr(node.target, "__name__", str(node.target))
    if m["call"].rsplit(".", 1)[-1] != target or _closing(code, m.end() - 1) != len(code) - 1:
        return ""  # the call is not the whole right-hand side
    return m["name"]


def _closing(code: str, start: int) -> int:
    """Where the parenthesis opened at ``start`` closes (-1: not on this line)."""
    depth = 0
    for i in range(start, len(code)):
        depth += {"(": 1, ")": -1}.get(code[i], 0)
        if depth == 0:
            return i
    return -1


# ---------------------------------------------------------------------- probing
@dataclass(frozen=True)
class TensorShape:
    """A probed tensor: shape with ``"N"`` at batch dimensions, ``"?"`` where the size
    varies with the batch in another way."""

    shape: tuple
    dtype: str  # "float", "long", "bool" or the torch name

    @property
    def rank(self) -> int:
        return len(self.shape)

    def __str__(self) -> str:
        return "(" + ", ".join(map(str, self.shape)) + ")"


class Probe:
    """Shapes and plain values of every fx node, from two runs at batch b and b + 1."""

    def __init__(self, first: dict, second: dict, batches: tuple[int, int],
                 small: dict | None = None) -> None:
        self._first = first
        self._second = second
        self._batches = batches
        self._small = small or {}

    def real(self, node):
        """The first run's value of a small tensor that is the same in both runs (a
        mask, a position table), else None."""
        return self._small.get(node)

    def seen(self, node) -> bool:
        return node in self._first

    def value(self, node) -> Any:
        """The summary of the first run (a TensorShape with plain sizes, or a value)."""
        return self._first.get(node)

    def constant(self, node) -> tuple[bool, Any]:
        """(True, value) when ``node`` computed the same plain value in both runs
        (``x.size(2)`` of a fixed-size image), else (False, None)."""
        a, b = self._first.get(node), self._second.get(node)
        if _has_tensor(a) or a != b:
            return False, None
        return True, a

    def is_tensor(self, node) -> bool:
        return _has_tensor(self._first.get(node))

    def tensor(self, node) -> TensorShape | None:
        a, b = self._first.get(node), self._second.get(node)
        if not isinstance(a, TensorShape) or not isinstance(b, TensorShape):
            return None
        return self._merge(a, b)

    def _merge(self, a: TensorShape, b: TensorShape) -> TensorShape:
        if a.rank != b.rank:
            return TensorShape(("?",) * a.rank, a.dtype)
        dims = []
        for x, y in zip(a.shape, b.shape):
            if x == y:
                dims.append(x)
            elif (x, y) == self._batches:
                dims.append("N")
            else:
                dims.append("?")
        return TensorShape(tuple(dims), a.dtype)


def _has_tensor(value: Any) -> bool:
    if isinstance(value, TensorShape):
        return True
    if isinstance(value, (tuple, list)):
        return any(_has_tensor(v) for v in value)
    return False


def _summary(value: Any) -> Any:
    import torch

    if isinstance(value, torch.Tensor):
        dtype = {torch.float32: "float", torch.int64: "long"}.get(value.dtype,
                                                                  str(value.dtype))
        return TensorShape(tuple(value.shape), dtype)
    if isinstance(value, torch.Size):
        return tuple(value)
    if isinstance(value, (tuple, list)):
        return tuple(_summary(v) for v in value)
    if isinstance(value, (int, float, bool, str, type(None), torch.device, torch.dtype)):
        return value
    return type(value).__name__


def make_inputs(root, features: list[tuple[int, ...]], dtypes: list[str], batch: int,
                generator=None):
    """Random example inputs: floats from a normal, ids valid for every Embedding."""
    import torch

    vocab = [m.num_embeddings for m in root.modules() if isinstance(m, torch.nn.Embedding)]
    high = max(2, min(vocab)) if vocab else 2
    out = []
    for shape, dtype in zip(features, dtypes):
        if dtype == "long":
            out.append(torch.randint(0, high, (batch, *shape), generator=generator))
        else:
            out.append(torch.randn((batch, *shape), generator=generator))
    return out


def probe(gm, features: list[tuple[int, ...]], dtypes: list[str], batch: int,
          what: str) -> Probe:
    """Run ``gm`` in eval mode at ``batch`` and ``batch + 1``, recording every node."""
    import torch
    from torch import fx

    small: dict = {}

    class Recorder(fx.Interpreter):
        def __init__(self, module, seen, keep):
            super().__init__(module)
            self.seen = seen
            self.keep = keep

        def run_node(self, n):
            result = super().run_node(n)
            self.seen[n] = _summary(result)
            if isinstance(result, torch.Tensor) and result.numel() <= 65536:
                if self.keep:
                    small[n] = result.detach().clone()
                elif n in small and (small[n].shape != result.shape
                                     or not torch.equal(small[n], result)):
                    del small[n]  # it depends on the inputs
            return result

    modes = {m: m.training for m in gm.modules()}
    gm.eval()
    runs: list[dict] = []
    generator = torch.Generator().manual_seed(0)
    # Batch sizes of at least 2: at 1, x.squeeze() would drop the batch dimension too.
    batch = max(batch, 2)
    try:
        for b in (batch, batch + 1):
            seen: dict = {}
            args = make_inputs(gm, features, dtypes, b, generator)
            try:
                with torch.no_grad():
                    Recorder(gm, seen, keep=not runs).run(*args)
            except Exception as e:  # noqa: BLE001 - the user's forward may raise anything
                shapes = ", ".join("(" + ", ".join(map(str, ("N", *f))) + ")"
                                   for f in features)
                raise ImportSourceError(
                    f"{what}: forward fails on inputs shaped {shapes} (tried N={b}): "
                    f"{type(e).__name__}: {_first_line(e)}{_user_frame_of(e)}",
                    "give the batch size first, then one example's shape (1,3,32,32); "
                    "a Strata network must also accept any batch size",
                ) from None
            runs.append(seen)
    finally:
        for m, mode in modes.items():
            m.training = mode
    return Probe(runs[0], runs[1], (batch, batch + 1), small)


def probe_batch(batch: int) -> int:
    """The batch size the second probe run used (the verification run uses it too)."""
    return max(batch, 2) + 1
