"""What a sweep searches: the searched settings and layer parameters, and the objective.

A document's sweep (``doc.sweep``, plain JSON) reads:

```
{"objective": "val_loss",            # or "val_metric" (accuracy, R^2)
 "trials": 20, "sampler": "tpe",     # "tpe", "random" or "grid"
 "pruner": "median",                 # "median", "hyperband" or "none"
 "params": [
   {"target": "lr", "kind": "log", "low": 1e-4, "high": 0.1},
   {"target": "batch_size", "kind": "choice", "choices": [32, 64, 128]},
   {"target": "n4.p", "kind": "float", "low": 0.0, "high": 0.5},
   {"target": "n2.out_features", "kind": "int", "low": 16, "high": 128, "step": 16}]}
```

A target is a training setting (``lr``) or ``<node id>.<parameter>``; on a block
instance that is its ``repeat`` count or one of the parameters the block exposes
(``n7.repeat``, ``n7.width``), set on the instance per trial like any layer's; an
instance nested in a block's definition is named by its path (``n7/n3.repeat``,
``targets``). Kinds: ``float``
(uniform), ``log`` (log-uniform), ``int`` (with an optional step) and ``choice`` (a
list). ``SweepSpec.from_document`` checks all of it against the document and the layer
catalog, and names the entry and the value for anything wrong; without a sweep set up,
``default_space`` searches the learning rate (log-uniform over a decade each side), the
batch size and every Dropout's p.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import Any

from graph.blocks import BLOCK
from graph.errors import StrataError

from .targets import (
    apply_path,
    bound_by,
    resolve_target,
    split_target,
    target_label,
    walk,
)

OBJECTIVES = ("val_loss", "val_metric")
SAMPLERS = ("tpe", "random", "grid")
PRUNERS = ("median", "hyperband", "none")
KINDS = ("float", "log", "int", "choice")
GRID_POINTS = 5  # values per float range in a grid search


class SweepError(StrataError):
    """The sweep setup was refused; the message names the entry and the value."""


@dataclass(frozen=True)
class SearchedParam:
    target: str  # "lr", "batch_size", or "<node id>.<parameter>"
    kind: str
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple = ()

    @property
    def node_id(self) -> str | None:
        """The top-level node the target is in (None for a training setting)."""
        return self.target.split(".", 1)[0].split("/")[0] if "." in self.target else None

    @property
    def nested(self) -> bool:
        """An instance inside a block's definition (``n7/n3.repeat``)."""
        return "/" in self.target.split(".", 1)[0]

    @property
    def name(self) -> str:
        """The parameter name Optuna stores (the target itself)."""
        return self.target

    def bounds(self) -> tuple[float, float]:
        """``(low, high)`` of a range kind (a ``choice`` has none)."""
        if self.low is None or self.high is None:
            raise SweepError(f"{self.target}: a `{self.kind}` entry has no range")
        return self.low, self.high

    def suggest(self, trial) -> Any:
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.choices))
        low, high = self.bounds()
        if self.kind == "int":
            return trial.suggest_int(self.name, int(low), int(high),
                                     step=int(self.step or 1))
        return trial.suggest_float(self.name, low, high,
                                   log=self.kind == "log", step=self.step)

    def grid(self) -> list:
        """The values a grid search tries."""
        if self.kind == "choice":
            return list(self.choices)
        low, high = self.bounds()
        if self.kind == "int":
            step = int(self.step or 1)
            values = list(range(int(low), int(high) + 1, step))
            if len(values) > 2 * GRID_POINTS:  # a wide range: spread the points
                picks = [round(i * (len(values) - 1) / (GRID_POINTS - 1))
                         for i in range(GRID_POINTS)]
                values = [values[i] for i in picks]
            return values
        if self.step:
            n = round((high - low) / self.step) + 1
            return [low + i * self.step for i in range(n)]
        if self.kind == "log":
            a, b = math.log10(low), math.log10(high)
            return [10 ** (a + (b - a) * i / (GRID_POINTS - 1)) for i in range(GRID_POINTS)]
        return [low + (high - low) * i / (GRID_POINTS - 1)
                for i in range(GRID_POINTS)]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"target": self.target, "kind": self.kind}
        if self.kind == "choice":
            out["choices"] = list(self.choices)
        else:
            out.update(low=self.low, high=self.high)
            if self.step is not None:
                out["step"] = self.step
        return out


@dataclass(frozen=True)
class SweepSpec:
    params: tuple[SearchedParam, ...]
    objective: str = "val_loss"
    trials: int = 20
    sampler: str = "tpe"
    pruner: str = "median"
    metric_name: str = field(default="metric", compare=False)  # "accuracy" or "r2"

    @property
    def direction(self) -> str:
        return "minimize" if self.objective == "val_loss" else "maximize"

    @property
    def objective_label(self) -> str:
        return "val loss" if self.objective == "val_loss" else f"val {self.metric_name}"

    def objective_of(self, epoch_event) -> float:
        value = epoch_event.val_loss if self.objective == "val_loss" else \
            epoch_event.val_metric
        return math.nan if value is None else float(value)

    def to_dict(self) -> dict[str, Any]:
        return {"objective": self.objective, "trials": self.trials,
                "sampler": self.sampler, "pruner": self.pruner,
                "params": [p.to_dict() for p in self.params]}

    # ------------------------------------------------------------- reading
    @classmethod
    def from_document(cls, doc) -> SweepSpec:
        """The document's sweep, checked; ``default_space`` when it has none."""
        raw = doc.sweep or {}
        if not raw.get("params"):
            raw = {**raw, "params": default_space(doc)}
        return cls.from_dict(raw, doc)

    @classmethod
    def from_dict(cls, raw: dict[str, Any], doc) -> SweepSpec:
        if not isinstance(raw, dict):
            raise SweepError(f"The sweep must be a mapping, found {type(raw).__name__}")
        known = {"objective", "trials", "sampler", "pruner", "params"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise SweepError(f"Unknown sweep setting `{unknown[0]}` (known: "
                             f"{', '.join(sorted(known))})")
        objective = _one_of(raw.get("objective", "val_loss"), OBJECTIVES, "objective")
        sampler = _one_of(raw.get("sampler", "tpe"), SAMPLERS, "sampler")
        pruner = _one_of(raw.get("pruner", "median"), PRUNERS, "pruner")
        trials = raw.get("trials", 20)
        if isinstance(trials, bool) or not isinstance(trials, int) or trials < 1:
            raise SweepError(f"Received an invalid value for `trials`, expected a "
                             f"positive integer. Received: trials={trials!r}")
        entries = raw.get("params")
        if not isinstance(entries, list) or not entries:
            raise SweepError("The sweep searches nothing: `params` must list at least "
                             "one setting or layer parameter")
        params = tuple(_param(entry, i, doc) for i, entry in enumerate(entries))
        seen = set()
        for p in params:
            if p.target in seen:
                raise SweepError(f"`{p.target}` is searched twice in the sweep")
            seen.add(p.target)
        return cls(params, objective, trials, sampler, pruner, _metric_name(doc))

    # ------------------------------------------------------------- applying
    def apply(self, document: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """A copy of ``document`` (a plain dict) with the searched values set."""
        out = copy.deepcopy(document)
        nodes = {n["id"]: n for n in out["nodes"]}
        training = out.setdefault("training", {})
        for p in self.params:
            if p.name not in values:
                continue
            value = values[p.name]
            path, key = split_target(p.target)
            if not path:
                training[p.target] = value
            elif len(path) == 1:
                nodes[p.node_id]["params"][key] = value
            else:
                apply_path(out, path, key, value)
        return out


def trial_document(doc, spec: SweepSpec, values: dict[str, Any], number: int):
    """``doc`` with one trial's values (layer parameters, block repeats and exposed
    parameters, settings), named after the trial: the best configuration's file."""
    from graph.fileformat import document_from_dict

    out = document_from_dict(spec.apply(doc.to_dict(), values))
    out.name = f"{doc.name} (sweep best, trial {number})"
    return out


def default_space(doc) -> list[dict[str, Any]]:
    """What ``strata sweep`` searches in a document with no sweep set up."""
    from runtime.setup import TrainingSetup

    setup = TrainingSetup.from_document(doc)
    batch = setup.batch_size
    params: list[dict[str, Any]] = [
        {"target": "lr", "kind": "log", "low": setup.lr / 10, "high": min(setup.lr * 10,
                                                                          10.0)},
        {"target": "batch_size", "kind": "choice",
         "choices": sorted({max(1, batch // 2), batch, batch * 2})},
    ]
    for node in doc.nodes.values():
        if node.type == "Dropout":
            params.append({"target": f"{node.id}.p", "kind": "float", "low": 0.0,
                           "high": 0.5})
    return params


# ---------------------------------------------------------------- checking
def _one_of(value: Any, allowed: tuple[str, ...], key: str) -> str:
    if value not in allowed:
        raise SweepError(f"Received an invalid value for `{key}`, expected one of "
                         f"{', '.join(allowed)}. Received: {key}={value!r}")
    return value


def _param(entry: Any, index: int, doc) -> SearchedParam:
    where = f"sweep params[{index}]"
    if not isinstance(entry, dict) or not isinstance(entry.get("target"), str):
        raise SweepError(f"{where} must be a mapping with a `target`, such as "
                         f'{{"target": "lr", "kind": "log", "low": 1e-4, "high": 0.1}}')
    target = entry["target"]
    if "/" in target.split(".", 1)[0]:  # labels along a path become ids
        try:
            target = resolve_target(doc, target)
        except KeyError as e:
            raise SweepError(f"{where}: {e.args[0]} (target {target})") from None
    kind = entry.get("kind", "choice" if "choices" in entry else "float")
    if kind not in KINDS:
        raise SweepError(f"{where} ({target}): unknown kind {kind!r}, expected one of "
                         f"{', '.join(KINDS)}")
    spec = _target_spec(target, where, doc)
    if kind == "choice":
        choices = entry.get("choices")
        if not isinstance(choices, list) or not choices:
            raise SweepError(f"{where} ({target}): `choices` must be a non-empty list")
        for c in choices:
            _check_value(spec, c, where, target)
        return SearchedParam(target, kind, choices=tuple(choices))
    low, high = (_finite(entry.get(name), name, where, target) for name in ("low", "high"))
    step = entry.get("step")
    if low >= high:
        raise SweepError(f"{where} ({target}): `low` ({low}) must be below `high` "
                         f"({high})")
    if kind == "log" and low <= 0:
        raise SweepError(f"{where} ({target}): a log-uniform range needs `low` > 0, "
                         f"received {low}")
    if step is not None and (isinstance(step, bool) or not isinstance(step, (int, float))
                             or step <= 0):
        raise SweepError(f"{where} ({target}): `step` must be a positive number, "
                         f"received {step!r}")
    if kind == "int" and not all(float(v).is_integer() for v in (low, high, step or 1)):
        raise SweepError(f"{where} ({target}): an integer range needs whole numbers")
    if spec is not None and spec.kind == "int" and kind != "int":
        raise SweepError(f"{where} ({target}) is a whole number: use kind `int` or "
                         "`choice`")
    for value in (low, high):
        _check_value(spec, int(value) if kind == "int" else value, where, target)
    return SearchedParam(target, kind, float(low) if kind != "int" else int(low),
                         float(high) if kind != "int" else int(high),
                         None if step is None else (int(step) if kind == "int"
                                                    else float(step)))


def _finite(value: Any, name: str, where: str, target: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value):
        raise SweepError(f"{where} ({target}): `{name}` must be a number, "
                         f"received {value!r}")
    return value


def _target_spec(target: str, where: str, doc):
    """The ParamSpec the target's values are checked by (None: no declaration)."""
    from runtime.setup import SETTINGS, SETTINGS_BY_NAME

    if "." not in target:
        if target in SETTINGS_BY_NAME:
            return SETTINGS_BY_NAME[target].param
        searchable = ", ".join(s.name for s in SETTINGS
                               if s.param.kind in ("int", "float"))
        raise SweepError(f"{where}: `{target}` is no training setting (numbers that can "
                         f"be searched: {searchable}; a layer parameter is written "
                         "<node id>.<parameter>)")
    node_id, name = target.split(".", 1)
    if "/" in node_id:
        return _nested_spec(target, where, doc)
    node = doc.nodes.get(node_id)
    if node is None:
        raise SweepError(f"{where}: the network has no node `{node_id}` (target "
                         f"{target})")
    if node.type == BLOCK:
        _check_block_target(node, name, where, doc)
    for spec in node.spec.params:
        if spec.name == name:
            return spec
    names = ", ".join(s.name for s in node.spec.params) or "none"
    raise SweepError(f"{where}: {node.describe()} has no parameter `{name}` "
                     f"(its parameters: {names})")


def _nested_spec(target: str, where: str, doc):
    """The ParamSpec of a nested instance's target (``n7/n3.repeat``), checked."""
    path, name = split_target(target)
    holder, node = walk(doc, path)[-1]  # resolve_target walked it already
    if node.type != BLOCK:
        raise SweepError(f"{where}: {node.describe()} inside '{holder.block_name}' is "
                         "no block instance: only nested blocks are searched by path "
                         f"(expose the parameter on '{holder.block_name}' and search "
                         "that on its instance)")
    exposed = bound_by(doc, path, name)
    if exposed is not None:
        outer = target_label(doc, "/".join(path[:-1]) + "." + exposed)
        raise SweepError(f"{where}: `{name}` of {node.describe()} is set by "
                         f"'{holder.block_name}''s exposed parameter `{exposed}`: "
                         f"search {outer} instead")
    _check_block_target(node, name, where, doc)
    for spec in node.spec.params:
        if spec.name == name:
            return spec
    names = ", ".join(s.name for s in node.spec.params)
    raise SweepError(f"{where}: {node.describe()} has no parameter `{name}` "
                     f"(its parameters: {names})")


def _check_block_target(node, name: str, where: str, doc) -> None:
    """A block instance searches its repeat count and its exposed parameters, not
    which block it is; a repeated block needs one input and one output."""
    if name == "block":
        raise SweepError(f"{where}: the `block` of {node.describe()} names the block "
                         "it uses and cannot be searched (search its `repeat` or the "
                         "parameters it exposes)")
    definition = doc.blocks.definitions.get(node.params.get("block"))
    if name == "repeat" and definition is not None:
        ins, outs = len(definition.input_ports), len(definition.output_ports)
        if (ins, outs) != (1, 1):
            raise SweepError(f"{where}: {node.describe()} has {ins} input(s) and "
                             f"{outs} output(s), but only a block with one input and "
                             "one output can repeat")


def _check_value(spec, value: Any, where: str, target: str) -> None:
    if spec is None:
        return
    from graph.errors import ParamError

    try:
        spec.check(value)
    except ParamError as e:
        raise SweepError(f"{where} ({target}): {e}") from None


def _metric_name(doc) -> str:
    import graph
    from graph.outputs import output_ids, output_task
    from runtime.metrics import metric_name

    analysis = graph.analyze(doc)
    outputs = output_ids(analysis)
    return metric_name(output_task(analysis, outputs[0]) if outputs else "")
