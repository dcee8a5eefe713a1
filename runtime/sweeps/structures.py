"""How the exported ``sweep.py`` builds each trial's network: class arguments, or one
module per structure.

A searched layer parameter that only resizes layers (a Linear's width, a Dropout's p)
is an argument of the exported network class (``model_args``). A searched value that
changes more of the code (a block's repeat count or exposed parameter, a block nested
in a block, a width a block's class is written with) cannot be: the code differs per
value. Those are the network's *structure*. When each of them takes finitely many
values (whole numbers, a list of choices) and there are at most ``MAX_STRUCTURES``
combinations, the export writes the network once per combination, exactly as Strata
would train it (``graph.generate_code`` of the trial's document), into
``sweep_networks/<module>_<k>.py``; ``sweep.py`` picks the module for the trial's
values and ``train.py`` builds the class from it (``Config.network``). So sweep.py
searches the very space ``strata sweep`` does, under the same names, and both can add
trials to one study. A structure that does not build (a shape error) is a failed
trial in both. A continuous structural range (or too many combinations) stays fixed,
and sweep.py says so.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from graph.analysis import Analyzer
from graph.codegen import generate_code
from graph.fileformat import document_from_dict

from .model_args import ModelArguments, model_arguments
from .space import SearchedParam, SweepSpec

MAX_STRUCTURES = 48  # network modules written at most
FOLDER = "sweep_networks"


@dataclass(frozen=True)
class Structures:
    params: tuple[SearchedParam, ...]  # the structural searched values, in key order
    modules: dict[tuple, str | None]  # their values -> module (None: does not build)
    sources: dict[str, str]  # file name in FOLDER -> the network module's source


@dataclass(frozen=True)
class NetworkPlan:
    """What sweep.py does with each searched layer parameter."""

    arguments: ModelArguments | None  # class arguments (the base module's class)
    structures: Structures | None
    fixed: tuple[str, ...]  # searched but fixed in sweep.py (see the module docstring)


def domain(p: SearchedParam) -> list | None:
    """Every value Optuna can suggest for ``p`` (None: a continuous range)."""
    if p.kind == "choice":
        return list(p.choices)
    if p.kind == "int":
        low, high = p.bounds()
        return list(range(int(low), int(high) + 1, int(p.step or 1)))
    return None


def network_plan(doc, spec: SweepSpec, module: str) -> NetworkPlan:
    """The plan for ``doc``'s sweep; ``module`` names the network's module."""
    layer = [p for p in spec.params if p.node_id is not None]
    if not layer:
        return NetworkPlan(None, None, ())
    arguments = model_arguments(doc, layer)
    structural = [p for p in layer if arguments is None or p.target not in arguments.names]
    for _attempt in range(3):
        if not structural:
            return NetworkPlan(arguments, None, ())
        domains = [d for d in map(domain, structural) if d]  # each a non-empty list
        if len(domains) < len(structural) or \
                _product([len(d) for d in domains]) > MAX_STRUCTURES:
            return NetworkPlan(arguments, None, _fixed(structural, arguments))
        rest = [p for p in layer if p not in structural]
        arguments = model_arguments(doc, rest) if rest else None
        names = arguments.names if arguments is not None else {}
        modules: dict[tuple, str | None] = {}
        sources: dict[str, str] = {}
        moved: set[str] = set()
        for k, values in enumerate(itertools.product(*domains), 1):
            variant = document_from_dict(spec.apply(
                doc.to_dict(), {p.name: v for p, v in zip(structural, values)}))
            analysis = Analyzer().analyze(variant)
            if not analysis.ok:
                modules[values] = None
                continue
            found = model_arguments(variant, rest) if rest else None
            found_names = found.names if found is not None else {}
            if found_names != names:  # an argument here is structure there
                moved |= {t for t in set(names) ^ set(found_names)}
                moved |= {t for t in names if found_names.get(t) != names[t]}
                break
            code = found.code if found is not None else generate_code(variant, analysis)
            name = f"{module}_{k}"
            sources[f"{name}.py"] = code.source
            modules[values] = f"{FOLDER}.{name}"
        else:
            return NetworkPlan(arguments, Structures(tuple(structural), modules, sources),
                               ())
        structural += [p for p in rest if p.target in moved]
    return NetworkPlan(arguments, None, _fixed(structural, arguments))


def _fixed(structural, arguments) -> tuple[str, ...]:
    names = arguments.names if arguments is not None else {}
    return tuple(p.target for p in structural if p.target not in names)


def _product(sizes: list[int]) -> int:
    out = 1
    for n in sizes:
        out *= n
    return out
