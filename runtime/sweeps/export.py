"""The text of an exported ``sweep.py``: the document's sweep on Optuna, outside Strata.

The script imports ``Config`` and ``train`` from the exported ``train.py`` and runs the
same search (the same objective, sampler, pruner, searched training settings and layer
parameters) with the validation objective reported after every epoch for pruning.
Searched layer parameters (a Linear's width, a Dropout's p) are arguments of the
exported network class (``sweeps.model_args``): each trial's ``Config.model_args``
builds its own model. The few that cannot be (a block's repeat count, a value that
changes a layer's code in other ways) stay fixed, and the script lists them.
"""

from __future__ import annotations

import textwrap

from graph.naming import snake_case
from graph.pysource import prose

from .model_args import ModelArguments
from .space import SweepSpec

# Training settings the exported Config has, by setting name (the same names).
CONFIG_FIELDS = ("epochs", "batch_size", "lr", "weight_decay", "momentum", "step_size",
                 "gamma", "grad_clip", "seed")

TEMPLATE = '''"""Search @NAME@'s @SEARCHED@ with Optuna, training with train.py.

Exported from Strata with the sweep set up there. Run:

    python sweep.py --trials 20
    python sweep.py --trials 20 --storage postgresql://user@host/db  # on each machine

The study is kept in sweep.db beside this script, so running it again resumes; any
Optuna storage URL shared by several machines lets each of them add trials. Needs
optuna (pip install optuna). Each trial calls train(config, on_epoch_end) and reports
the validation @OBJECTIVE_WORDS@ after every epoch; @PRUNING@.@LAYERS@@LEFT_OUT@
"""

import argparse
from pathlib import Path

import optuna

from train import Config, train

HERE = Path(__file__).resolve().parent
STUDY = @STUDY@
OBJECTIVE = @OBJECTIVE@  # the history entry the study optimises
DIRECTION = @DIRECTION@


@SUGGEST_FUNCTIONS@def make_sampler():
    return @SAMPLER@


def make_pruner(epochs):
    return @PRUNER_CODE@


def objective(trial, epochs):
    config = Config(
@CONFIG_ARGS@    )

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
    args = parser.parse_args()
    study = optuna.create_study(
        study_name=args.study,
        storage=args.storage,
        direction=DIRECTION,
        sampler=make_sampler(),
        pruner=make_pruner(args.epochs),
        load_if_exists=True,
    )
    study.optimize(lambda trial: objective(trial, args.epochs), n_trials=args.trials)
    best = study.best_trial
    print(f"best {OBJECTIVE} {best.value:.4f} (trial {best.number}): {best.params}")


if __name__ == "__main__":
    main()
'''


def sweep_script(doc, metric: str, arguments: ModelArguments | None = None) -> str:
    """``sweep.py`` for ``doc`` (its sweep, or the default one); ``metric`` is the
    exported train.py's metric name ("accuracy" or "r2"); ``arguments`` are the
    exported class's arguments for searched layer parameters (``model_args``)."""
    spec = SweepSpec.from_document(doc)
    kept = [p for p in spec.params if p.node_id is None and p.target in CONFIG_FIELDS]
    names = arguments.names if arguments is not None else {}
    layers = [(names[p.target], p) for p in spec.params if p.target in names]
    left = [p.target for p in spec.params if p not in kept and p.target not in names]
    if not kept and not layers:  # nothing here to search: the learning rate
        from .space import SearchedParam

        lr = float(doc.training.get("lr", 1e-3))
        kept = [SearchedParam("lr", "log", lr / 10, min(lr * 10, 10.0))]
    objective = "val_loss" if spec.objective == "val_loss" else f"val_{metric}"
    words = "loss" if spec.objective == "val_loss" else metric
    left_out = "" if not left else "\n\n" + textwrap.fill(
        "Searched in Strata but fixed here (a block's repeat count or parameter, or a "
        "value that changes more of the network's code than its layers' sizes): "
        + ", ".join(prose(t) for t in left) + ".", 88)
    class_name = arguments.code.class_name if arguments is not None else ""
    layer_note = "" if not layers else "\n\n" + textwrap.fill(
        f"The searched layer parameters are {class_name}'s constructor arguments: "
        f"each trial builds its own model (the shapes in the module's comments are "
        f"those of the defaults).", 88)
    named = [(p.target, p) for p in kept] + layers
    replacements = {
        "@NAME@": prose(doc.name) or "the network",  # user text: escaped for a docstring
        "@SEARCHED@": "training settings and layer parameters" if layers and kept else
        "layer parameters" if layers else "training settings",
        "@OBJECTIVE_WORDS@": words, "@LEFT_OUT@": left_out,
        "@PRUNING@": "no trial is pruned" if spec.pruner == "none" else
        f"the {spec.pruner} pruner stops\ntrials that fall behind",
        "@LAYERS@": layer_note,
        "@STUDY@": _literal(snake_case(doc.name) or "sweep"),
        "@OBJECTIVE@": _literal(objective), "@DIRECTION@": _literal(spec.direction),
        "@SUGGEST_FUNCTIONS@": _suggest_functions(kept, layers, class_name),
        "@CONFIG_ARGS@": "".join(
            f"        {a},\n" for a in ("epochs=epochs",
                                         'out=HERE / "trials" / f"trial-{trial.number}"',
                                         *(["model_args=suggest_model(trial)"]
                                           if layers else []),
                                         *(["**suggest(trial)"] if kept else []))),
        "@SAMPLER@": _sampler(spec, named), "@PRUNER_CODE@": _pruner(spec),
        "@TRIALS@": str(spec.trials),
    }
    text = TEMPLATE
    for key, value in replacements.items():
        text = text.replace(key, value)
    return text


def _literal(value) -> str:
    from runtime.transfer.train_data import literal

    return literal(value)


def _suggest_functions(kept, layers, class_name: str) -> str:
    out = ""
    if kept:
        out += ('def suggest(trial):\n'
                '    """The searched settings of one trial, as set up in Strata."""\n'
                "    return {\n" + "".join(_entry(p.target, p) for p in kept)
                + "    }\n\n\n")
    if layers:
        out += ("def suggest_model(trial):\n"
                f'    """The searched layer parameters of one trial: {class_name}\'s '
                'arguments."""\n'
                "    return {\n" + "".join(_entry(name, p) for name, p in layers)
                + "    }\n\n\n")
    return out


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
