"""What an import is checked against: the user's arguments, then the result.

Arguments: one batch-first shape per forward argument, a dtype per input, a task per
output. Result: the document validates, every value the catalog infers (in_features...)
and every shape equals what tracing measured, the weights load strictly into the compiled
module, and the compiled module's outputs equal the original's (eval mode, same inputs).
A failure of the latter kind means a mapping defect and raises ImportMismatchError.
"""

from __future__ import annotations

from typing import Any

from ..analysis import Analyzer
from ..compiler import compile_network
from ..document import Document
from .problems import ImportMismatchError, ImportSourceError
from .tracing import make_inputs

TASKS = ("classification", "binary", "regression")
# Outputs must agree this closely with the original module (float32, same operations).
RTOL, ATOL = 1e-4, 1e-5


def check_result(doc: Document, ids: dict[int, str], ops, probe, what: str) -> dict[str, Any]:
    """Confirm inferred values and shapes, then map the weights onto the compiled
    module's keys and load them strictly."""
    analysis = Analyzer().analyze(doc)
    if not analysis.ok:
        lines = "\n".join("  - " + p.describe(doc) for p in analysis.errors)
        raise ImportMismatchError(
            f"{what}: the imported network does not validate:\n{lines}")
    wrong = []
    for i, node_id in ids.items():
        op, shapes = ops[i], analysis.shapes[node_id]
        node = doc.nodes[node_id]
        for key, expected in op.expect.items():
            got = shapes.values.get(key)
            if got != expected:
                wrong.append(f"{node.describe()}: the module has {key}={expected} "
                             f"but Strata infers {got} from its input")
        # Steps of one traced operation (x[:, 0, :2] is a Select, then a Slice): only
        # the last one has the traced node's shape.
        traced = (probe.tensor(op.node) if op.type != "Output"
                  and not op.tag.get("intermediate") else None)
        mine = shapes.outputs.get("out")
        if traced is not None and mine is not None and tuple(mine.shape) != traced.shape:
            wrong.append(f"{node.describe()}: traced output {traced}, Strata infers "
                         f"{mine}")
    if wrong:
        raise ImportMismatchError(f"{what}: " + "; ".join(wrong))
    net = compile_network(doc, analysis)
    state: dict[str, Any] = {}
    for i, node_id in ids.items():
        op = ops[i]
        attr = net.code.attributes.get(node_id)
        if op.weights is None or attr is None:
            continue
        for key, tensor in op.weights().items():
            # A learned tensor is the attribute itself (self.cls_token), no ".weight".
            state[f"{attr}.{key}" if key else attr] = tensor.detach().clone()
    try:
        net.module.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ImportMismatchError(f"{what}: the weights do not fit the imported "
                                  f"network: {_first_line(e)}") from None
    return state


def compare_outputs(module, doc, state_dict, features, dtypes, batch: int, what: str) -> float:
    """Largest difference between the original and the imported network (eval mode)."""
    import torch

    net = compile_network(doc)
    net.module.load_state_dict(state_dict)
    generator = torch.Generator().manual_seed(1)
    inputs = make_inputs(module, features, dtypes, batch, generator)
    modes = {m: m.training for m in module.modules()}
    module.eval()
    net.module.eval()
    try:
        with torch.no_grad():
            expected = _tensors(module(*inputs))
            got = _tensors(net.module(*inputs))
    finally:
        for m, mode in modes.items():
            m.training = mode
    diff = 0.0
    for a, b in zip(expected, got):
        if a.shape != b.shape:
            raise ImportMismatchError(f"{what}: the original returns {tuple(a.shape)}, "
                                      f"the imported network {tuple(b.shape)}")
        diff = max(diff, (a.float() - b.float()).abs().max().item())
        if not torch.allclose(a.float(), b.float(), rtol=RTOL, atol=ATOL):
            raise ImportMismatchError(
                f"{what}: the imported network's outputs differ from the original's by "
                f"up to {diff:.3g} (eval mode, same weights)")
    return diff


def _tensors(value) -> list:
    return list(value) if isinstance(value, (tuple, list)) else [value]


def check_shapes(input_shapes, what: str) -> list[tuple[int, ...]]:
    if isinstance(input_shapes, (tuple, list)) and input_shapes and all(
            isinstance(v, int) for v in input_shapes):
        input_shapes = [input_shapes]
    shapes = [tuple(s) for s in input_shapes or ()]
    if not shapes:
        raise ImportSourceError(f"{what}: give the input shape, e.g. 1,3,32,32")
    for s in shapes:
        if len(s) < 2 or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 1
                                 for d in s):
            raise ImportSourceError(
                f"{what}: an input shape is the batch then one example's shape, all "
                f"positive integers (e.g. 1,3,32,32); got {','.join(map(str, s))}")
    if len({s[0] for s in shapes}) != 1:
        raise ImportSourceError(f"{what}: the input shapes disagree on the batch size")
    return shapes


def check_dtypes(input_dtypes, count: int, what: str) -> list[str]:
    """One of float, long or auto per input (None: all auto); auto is decided by
    ``infer_dtypes`` once the module is traced."""
    if input_dtypes is None:
        return ["auto"] * count
    dtypes = [input_dtypes] if isinstance(input_dtypes, str) else list(input_dtypes)
    if len(dtypes) == 1:
        dtypes *= count
    for d in dtypes:
        if d not in ("float", "long", "auto"):
            raise ImportSourceError(f"{what}: an input dtype is float, long (integer "
                                    f"token ids) or auto, got {d!r}")
    if len(dtypes) != count:
        raise ImportSourceError(f"{what}: {len(dtypes)} dtypes for {count} inputs")
    return dtypes


def infer_dtypes(gm, dtypes: list[str]) -> list[str]:
    """auto -> long for an input an Embedding reads (token ids), else float."""
    import torch.nn.functional as F
    from torch import nn

    placeholders = [n for n in gm.graph.nodes if n.op == "placeholder"]
    out = []
    for i, dtype in enumerate(dtypes):
        if dtype == "auto":
            users = placeholders[i].users if i < len(placeholders) else ()
            ids = any(
                (u.op == "call_module" and isinstance(
                    gm.get_submodule(u.target), (nn.Embedding, nn.EmbeddingBag)))
                or (u.op == "call_function" and u.target is F.embedding)
                for u in users)
            dtype = "long" if ids else "float"
        out.append(dtype)
    return out


def guess_dtypes(module, dtypes: list[str]) -> list[str]:
    """Before tracing: auto inputs of a module with an Embedding are taken as ids."""
    from torch import nn

    ids = any(isinstance(m, (nn.Embedding, nn.EmbeddingBag)) for m in module.modules())
    return [("long" if ids else "float") if d == "auto" else d for d in dtypes]


def check_tasks(tasks, what: str) -> list[str]:
    tasks = [tasks] if isinstance(tasks, str) else list(tasks)
    for t in tasks:
        if t not in TASKS:
            raise ImportSourceError(f"{what}: a task is one of {', '.join(TASKS)}, "
                                    f"got {t!r}")
    return tasks


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0][:400] if lines else type(e).__name__
