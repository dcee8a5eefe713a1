"""Modules used at several places and parameters shared between modules.

A module with weights called twice (a Siamese tower) becomes layers that share the first
one's weights; a weight tensor held by a Linear and an Embedding (``lm_head.weight =
wte.weight``) becomes a tie. Whatever sharing the document cannot express is refused
with the reason: weights are never silently untied.
"""

from __future__ import annotations

from .ops import Op
from .problems import Unmapped
from .tracing import source_location

_TIEABLE = frozenset({"Linear", "Embedding"})


def reused(ops: list[Op], live: list[int]) -> tuple[list[Unmapped], dict[int, int]]:
    """(problems, {op: the op whose weights it uses})."""
    problems: list[Unmapped] = []
    shares: dict[int, int] = {}
    by_module: dict[int, list[int]] = {}
    for i in live:
        op = ops[i]
        if op.module is not None and op.type not in (None, "Input", "Output") and (
                _has_state(op.module)):
            by_module.setdefault(id(op.module), []).append(i)
    for group in by_module.values():
        first = ops[group[0]]
        for i in group[1:]:
            op = ops[i]
            if op.type == first.type and op.params == first.params:
                shares[i] = group[0]
            else:
                problems.append(Unmapped(
                    first.node.name, _name(first.module), first.source,
                    f"is used as {first.type} and as {op.type} with other settings "
                    f"(fx nodes '{first.node.name}', '{op.node.name}'); layers sharing "
                    "weights in Strata must be the same layer", source_location(op.node)))
    problems += _tied(ops, live, shares)
    return problems, shares


def _tied(ops: list[Op], live: list[int], shares: dict[int, int]) -> list[Unmapped]:
    """Parameters held by two different modules: a Linear/Embedding weight tie is kept
    (recorded in ``shares``), anything else refused."""
    problems = []
    holders: dict[int, tuple[int, str]] = {}
    for i in live:
        op = ops[i]
        if op.module is None or i in shares or op.type is None:
            continue
        for name, tensor in op.module.named_parameters(recurse=True):
            key = id(tensor)
            if key not in holders:
                holders[key] = (i, name)
                continue
            j, other_name = holders[key]
            if ops[j].module is op.module or (i in shares and shares[i] == j):
                continue
            first = ops[j]
            if {first.type, op.type} == _TIEABLE and name == other_name == "weight":
                shares[i] = j
                continue
            problems.append(Unmapped(
                op.node.name, _name(op.module), op.source,
                f"holds the parameter '{name}' that is also '{first.source}.{other_name}' "
                f"(tied weights); Strata ties only a Linear's weight to an Embedding's, "
                "so this tie would be lost", source_location(op.node)))
    return problems


def _has_state(module) -> bool:
    return any(True for _ in module.parameters()) or any(True for _ in module.buffers())


def _name(m) -> str:
    cls = type(m)
    if cls.__module__.startswith("torch.nn"):
        return f"nn.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"
