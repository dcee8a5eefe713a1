"""The text of an exported ``sweep.py``: the document's sweep on Optuna, outside Strata.

The script imports ``Config`` and ``train`` from the exported ``train.py`` and runs the
same search (the same objective, sampler, pruner and searched training settings) with
the validation objective reported after every epoch for pruning. Layer parameters
(a Linear's width, a Dropout's p) are fixed in the exported module's code, so they are
searched only by ``strata sweep``; the script lists the ones it leaves out.
"""

from __future__ import annotations

import textwrap

from graph.naming import snake_case
from graph.pysource import prose

from .space import SweepSpec

# Training settings the exported Config has, by setting name (the same names).
CONFIG_FIELDS = ("epochs", "batch_size", "lr", "weight_decay", "momentum", "step_size",
                 "gamma", "grad_clip", "seed")

TEMPLATE = '''"""Search @NAME@'s training settings with Optuna, training with train.py.

Exported from Strata with the sweep set up there. Run:

    python sweep.py --trials 20
    python sweep.py --trials 20 --storage postgresql://user@host/db  # on each machine

The study is kept in sweep.db beside this script, so running it again resumes; any
Optuna storage URL shared by several machines lets each of them add trials. Needs
optuna (pip install optuna). Each trial calls train(config, on_epoch_end) and reports
the validation @OBJECTIVE_WORDS@ after every epoch; the @PRUNER@ pruner stops
trials that fall behind.@LEFT_OUT@
"""

import argparse
from pathlib import Path

import optuna

from train import Config, train

HERE = Path(__file__).resolve().parent
STUDY = @STUDY@
OBJECTIVE = @OBJECTIVE@  # the history entry the study optimises
DIRECTION = @DIRECTION@


def suggest(trial):
    """The searched settings of one trial, as set up in Strata."""
    return {
@SUGGEST@    }


def make_sampler():
    return @SAMPLER@


def make_pruner(epochs):
    return @PRUNER_CODE@


def objective(trial, epochs):
    config = Config(
        epochs=epochs, out=HERE / "trials" / f"trial-{trial.number}", **suggest(trial)
    )

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


def sweep_script(doc, metric: str) -> str:
    """``sweep.py`` for ``doc`` (its sweep, or the default one); ``metric`` is the
    exported train.py's metric name ("accuracy" or "r2")."""
    spec = SweepSpec.from_document(doc)
    kept = [p for p in spec.params if p.node_id is None and p.target in CONFIG_FIELDS]
    left = [p.target for p in spec.params if p not in kept]
    if not kept:  # only layer parameters were searched: search the learning rate
        from .space import SearchedParam

        lr = float(doc.training.get("lr", 1e-3))
        kept = [SearchedParam("lr", "log", lr / 10, min(lr * 10, 10.0))]
    objective = "val_loss" if spec.objective == "val_loss" else f"val_{metric}"
    words = "loss" if spec.objective == "val_loss" else metric
    left_out = "" if not left else "\n\n" + textwrap.fill(
        "Searched in Strata but fixed here (layer parameters live in the module's "
        "code): " + ", ".join(prose(t) for t in left) + ".", 88)
    replacements = {
        "@NAME@": prose(doc.name) or "the network",  # user text: escaped for a docstring
        "@OBJECTIVE_WORDS@": words, "@PRUNER@": spec.pruner, "@LEFT_OUT@": left_out,
        "@STUDY@": _literal(snake_case(doc.name) or "sweep"),
        "@OBJECTIVE@": _literal(objective), "@DIRECTION@": _literal(spec.direction),
        "@SUGGEST@": "".join(f"        {_literal(p.target)}: {_suggestion(p)},\n"
                             for p in kept),
        "@SAMPLER@": _sampler(spec, kept), "@PRUNER_CODE@": _pruner(spec),
        "@TRIALS@": str(spec.trials),
    }
    text = TEMPLATE
    for key, value in replacements.items():
        text = text.replace(key, value)
    return text


def _literal(value) -> str:
    from runtime.transfer.train_data import literal

    return literal(value)


def _suggestion(p) -> str:
    name = _literal(p.name)
    if p.kind == "choice":
        return f"trial.suggest_categorical({name}, {_literal(list(p.choices))})"
    if p.kind == "int":
        step = f", step={int(p.step)}" if p.step and p.step != 1 else ""
        return f"trial.suggest_int({name}, {int(p.low)}, {int(p.high)}{step})"
    extra = ", log=True" if p.kind == "log" else ""
    if p.step:
        extra += f", step={p.step!r}"
    return f"trial.suggest_float({name}, {p.low!r}, {p.high!r}{extra})"


def _sampler(spec: SweepSpec, kept) -> str:
    if spec.sampler == "random":
        return "optuna.samplers.RandomSampler()"
    if spec.sampler == "grid":
        grid = ", ".join(f"{_literal(p.name)}: {_literal(p.grid())}" for p in kept)
        return f"optuna.samplers.GridSampler({{{grid}}})"
    return "optuna.samplers.TPESampler()"


def _pruner(spec: SweepSpec) -> str:
    if spec.pruner == "median":
        return "optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)"
    if spec.pruner == "hyperband":
        return "optuna.pruners.HyperbandPruner(min_resource=1, max_resource=epochs)"
    return "optuna.pruners.NopPruner()"
