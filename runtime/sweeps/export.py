"""The text of an exported ``sweep.py``: the document's sweep on Optuna, outside Strata.

The script imports ``Config`` and ``train`` from the exported ``train.py`` and runs the
same study as ``strata sweep``: the same objective, sampler and pruner, and the same
searched values under the same names (``lr``, ``n2.out_features``, ``n5.repeat``,
``n5/n3.repeat``) with the same distributions, so trials of both can go to one study
(Optuna refuses a parameter whose distribution differs). Each value goes where
``structures.network_plan`` puts it: a ``Config`` field (a training setting), an
argument of the exported network class (``Config.model_args``), or the choice of the
network module written for the trial's structure (``Config.network``). The validation
objective is reported after every epoch for pruning.
"""

from __future__ import annotations

import textwrap

from graph.naming import snake_case
from graph.pysource import prose

from .space import SweepSpec
from .structures import FOLDER, NetworkPlan

# Training settings the exported Config can take, by setting name (the same names);
# momentum, step_size, gamma and grad_clip are fields only where train.py uses them.
CONFIG_FIELDS = ("epochs", "batch_size", "lr", "weight_decay", "momentum", "step_size",
                 "gamma", "grad_clip", "seed", "workers")
# Settings train.py cannot take (its data split is written in; it samples no layer
# statistics): searched under the same names, so the study stays one, but not applied.
NOT_APPLIED = ("val_fraction", "test_fraction", "sample_every")

TEMPLATE = '''"""Search @NAME@'s @SEARCHED@ with Optuna, training with train.py.

Exported from Strata with the sweep set up there. Run:

    python sweep.py --trials 20
    python sweep.py --trials 20 --storage postgresql://user@host/db  # on each machine

@ABOUT@@LAYERS@@LEFT_OUT@
"""

import argparse
from pathlib import Path

import optuna

from train import Config, open_mlflow, train

HERE = Path(__file__).resolve().parent
STUDY = @STUDY@
OBJECTIVE = @OBJECTIVE@  # the history entry the study optimises
DIRECTION = @DIRECTION@
@WHERE@

class TrialFailed(Exception):
    """A trial that cannot train (Strata records such trials as failed too)."""


def suggest(trial):
    """One trial's values, under the names `strata sweep` gives them."""
    return {
@SUGGEST@    }


def make_sampler():
    return @SAMPLER@


def make_pruner(epochs):
    return @PRUNER_CODE@


def study_run(uri, study):
    """The MLflow run the trials nest in: one per study, found by its tag (the one
    `strata sweep --mlflow` made for the same study, if any), else made."""
    client, experiment = open_mlflow(uri)
    quoted = study.replace("'", "\\\\'")
    runs = client.search_runs(
        [experiment], f"tags.`strata.study` = '{quoted}'", max_results=1
    )
    if runs:
        return runs[0].info.run_id
    tags = {"strata.study": study}
    return client.create_run(experiment, run_name=study, tags=tags).info.run_id


def objective(trial, epochs, mlflow=None, parent=None):
    values = suggest(trial)
    config = Config(epochs=epochs, out=HERE / "trials" / f"trial-{trial.number}")
    config.mlflow, config.mlflow_parent = mlflow, parent  # None: no MLflow
    config.run_name = f"trial-{trial.number}"
    for name, value in values.items():  # each searched value where it belongs
        if name in SETTINGS:
            setattr(config, SETTINGS[name], value)
@MODEL_ARGS_CODE@@NETWORK_CODE@
    def on_epoch_end(record):
        trial.report(record[OBJECTIVE], record["epoch"])
        return trial.should_prune()  # True stops training

    history = train(config, on_epoch_end)
    if trial.should_prune():
        raise optuna.TrialPruned()
    return history[-1][OBJECTIVE]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=@TRIALS@)
    parser.add_argument("--epochs", type=int, default=Config.epochs)
    parser.add_argument("--storage", default=f"sqlite:///{HERE / 'sweep.db'}")
    parser.add_argument("--study", default=STUDY)
    parser.add_argument(
        "--mlflow",
        nargs="?",
        const="",
        metavar="URI",
        help="track each trial in MLflow, nested in a run of the study",
    )
    args = parser.parse_args()
    study = optuna.create_study(
        study_name=args.study,
        storage=args.storage,
        direction=DIRECTION,
        sampler=make_sampler(),
        pruner=make_pruner(args.epochs),
        load_if_exists=True,
    )
    parent = None if args.mlflow is None else study_run(args.mlflow, args.study)
    study.optimize(
        lambda trial: objective(trial, args.epochs, args.mlflow, parent),
        n_trials=args.trials,
        catch=(TrialFailed,),
    )
    best = study.best_trial
    print(f"best {OBJECTIVE} {best.value:.4f} (trial {best.number}): {best.params}")


if __name__ == "__main__":
    main()
'''

MODEL_ARGS_CODE = """\
        elif name in MODEL_ARGS:
            config.model_args[MODEL_ARGS[name]] = value
"""
NETWORK_CODE = """\
    config.network = NETWORKS.get(tuple(values[name] for name in STRUCTURE))
    if config.network is None:
        raise TrialFailed(f"{values}: this structure does not build (see Strata)")
"""


def sweep_script(doc, metric: str, plan: NetworkPlan | None = None,
                 class_name: str = "") -> str:
    """``sweep.py`` for ``doc`` (its sweep, or the default one); ``metric`` is the
    exported train.py's metric name ("accuracy" or "r2"); ``plan`` says where each
    searched layer parameter goes (``structures.network_plan``), ``class_name`` is the
    exported network class."""
    plan = plan or NetworkPlan(None, None, ())
    spec = SweepSpec.from_document(doc)
    arguments = plan.arguments.names if plan.arguments is not None else {}
    structure = plan.structures.params if plan.structures is not None else ()
    fixed = set(plan.fixed)
    searched = [p for p in spec.params if p.target not in fixed]
    if not searched:  # nothing here to search: the learning rate
        from .space import SearchedParam

        lr = float(doc.training.get("lr", 1e-3))
        searched = [SearchedParam("lr", "log", lr / 10, min(lr * 10, 10.0))]
    settings = [p for p in searched if p.node_id is None and p.target in CONFIG_FIELDS]
    unapplied = [p.target for p in searched if p.node_id is None
                 and p.target not in CONFIG_FIELDS]
    objective = "val_loss" if spec.objective == "val_loss" else f"val_{metric}"
    words = "loss" if spec.objective == "val_loss" else metric
    notes = []
    if arguments:
        notes.append(f"The searched layer parameters are {class_name}'s constructor "
                     "arguments (MODEL_ARGS): each trial builds its own model (the shapes "
                     "in the module's comments are those of the defaults).")
    if structure:
        notes.append(f"Searched values that change the network's code (STRUCTURE) pick "
                     f"one of the networks in {FOLDER}/, written by Strata for each of "
                     "their combinations.")
    if unapplied:
        notes.append("Searched, but not applied by train.py (its data split and "
                     "reports are written in): " + ", ".join(unapplied) + ".")
    left = "" if not fixed else "\n\n" + textwrap.fill(
        "Searched in Strata but fixed here, so this is not the same study (give it "
        "its own --study): " + ", ".join(prose(t) for t in plan.fixed) + " (a value "
        "that changes the network's code and takes too many values, or any value in "
        "a continuous range).", 88)
    kinds = [label for label, present in (("training settings", settings or unapplied),
                                          ("layer parameters", arguments),
                                          ("structure", structure)) if present]
    replacements = {
        "@NAME@": prose(doc.name) or "the network",  # user text: escaped for a docstring
        "@SEARCHED@": " and ".join([", ".join(kinds[:-1]), kinds[-1]] if len(kinds) > 1
                                   else kinds or ["training settings"]),
        "@ABOUT@": textwrap.fill(
            "The study is kept in sweep.db beside this script, so running it again "
            "resumes; any Optuna storage URL shared by several machines lets each of "
            "them add trials. The values are searched as `strata sweep` searches them, "
            "under the same names, so this script and `strata sweep FILE --storage URL "
            "--study NAME` can add trials to one study. Needs optuna (pip install "
            "optuna). Each trial calls train(config, on_epoch_end) and reports the "
            f"validation {words} after every epoch; " + (
                "no trial is pruned." if spec.pruner == "none" else
                f"the {spec.pruner} pruner stops trials that fall behind."), 88),
        "@LEFT_OUT@": left,
        "@LAYERS@": "".join("\n\n" + textwrap.fill(n, 88) for n in notes),
        "@STUDY@": _literal(snake_case(doc.name) or "sweep"),
        "@OBJECTIVE@": _literal(objective), "@DIRECTION@": _literal(spec.direction),
        "@WHERE@": _where(settings, arguments, plan),
        "@SUGGEST@": "".join(_entry(p.name, p) for p in searched),
        "@MODEL_ARGS_CODE@": MODEL_ARGS_CODE if arguments else "",
        "@NETWORK_CODE@": NETWORK_CODE if structure else "",
        "@SAMPLER@": _sampler(spec, [(p.name, p) for p in searched]),
        "@PRUNER_CODE@": _pruner(spec), "@TRIALS@": str(spec.trials),
    }
    text = TEMPLATE
    for key, value in replacements.items():
        text = text.replace(key, value)
    return text


def _where(settings, arguments: dict[str, str], plan: NetworkPlan) -> str:
    """The tables saying where each searched value goes."""
    lines = textwrap.wrap(
        "Where each searched value goes: a Config field (SETTINGS)"
        + (", an argument of the network class (MODEL_ARGS)" if arguments else "")
        + (", or the network module for the trial's structure (NETWORKS)"
           if plan.structures is not None else "") + ".", 86,
        initial_indent="# ", subsequent_indent="# ")
    lines += _dict("SETTINGS", [(p.name, p.target) for p in settings])
    if arguments:
        lines += _dict("MODEL_ARGS", list(arguments.items()))
    if plan.structures is not None:
        names = [p.name for p in plan.structures.params]
        lines.append(f"STRUCTURE = ({''.join(_literal(n) + ', ' for n in names)[:-2]}"
                     f"{',' if len(names) == 1 else ''})")
        lines += _dict("NETWORKS", [(tuple(values), module) for values, module
                                    in plan.structures.modules.items()], keys=True)
    return "".join(f"{line}\n" for line in lines)


def _dict(name: str, items: list, *, keys: bool = False) -> list[str]:
    """``NAME = {...}`` laid out as ruff format does (one entry a line when long)."""
    def key(k) -> str:
        return _tuple(k) if keys else _literal(k)

    entries = [f"{key(k)}: {_literal(v)}" for k, v in items]
    one = f"{name} = {{{', '.join(entries)}}}"
    if len(one) <= 88:
        return [one]
    return [f"{name} = {{", *(f"    {e}," for e in entries), "}"]


def _tuple(values: tuple) -> str:
    inner = ", ".join(_literal(v) for v in values)
    return f"({inner},)" if len(values) == 1 else f"({inner})"


def _literal(value) -> str:
    from runtime.transfer.train_data import literal

    return literal(value)


def _entry(name: str, p) -> str:
    """``"name": trial.suggest_...(...),`` at the dict's indentation, split as ruff
    format splits a long one."""
    function, args = _suggestion(p, name)
    line = f"        {_literal(name)}: trial.{function}({', '.join(args)}),\n"
    if len(line) <= 89:  # 88 columns and the newline
        return line
    inner = ", ".join(args)
    if len(inner) + 12 <= 88:
        return (f"        {_literal(name)}: trial.{function}(\n            {inner}\n"
                "        ),\n")
    return (f"        {_literal(name)}: trial.{function}(\n"
            + "".join(f"            {a},\n" for a in args) + "        ),\n")


def _suggestion(p, name: str) -> tuple[str, list[str]]:
    """The trial's suggest method and its arguments for searched ``p``."""
    key = _literal(name)
    if p.kind == "choice":
        return "suggest_categorical", [key, _literal(list(p.choices))]
    if p.kind == "int":
        step = [f"step={int(p.step)}"] if p.step and p.step != 1 else []
        return "suggest_int", [key, str(int(p.low)), str(int(p.high)), *step]
    extra = ["log=True"] if p.kind == "log" else []
    if p.step:
        extra.append(f"step={p.step!r}")
    return "suggest_float", [key, repr(p.low), repr(p.high), *extra]


def _sampler(spec: SweepSpec, named) -> str:
    if spec.sampler == "random":
        return "optuna.samplers.RandomSampler()"
    if spec.sampler == "grid":
        grid = ", ".join(f"{_literal(name)}: {_literal(p.grid())}" for name, p in named)
        return f"optuna.samplers.GridSampler({{{grid}}})"
    return "optuna.samplers.TPESampler()"


def _pruner(spec: SweepSpec) -> str:
    if spec.pruner == "median":
        return "optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)"
    if spec.pruner == "hyperband":
        return "optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs)"
    return "optuna.pruners.NopPruner()"
