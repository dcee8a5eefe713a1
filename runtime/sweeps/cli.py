"""``strata sweep FILE --trials N [--jobs J] [--storage URL] [--study NAME]``.

Runs N trials of the document's sweep (``doc.sweep``; without one, the learning rate,
the batch size and every Dropout's p) in J worker processes, with a progress line, then
prints the best trials and writes the best configuration as a new network file beside
FILE (``<name>_best.strata``, or ``--best-out``). ``--search TARGET[=SPEC]`` adds a
searched value for this run (``layer1.repeat=int:1:4``, ``lr=log:1e-4:0.1``,
``batch_size=32,64``; a block nested in a block by its path, ``layer1/inner.repeat``),
and ``--targets`` lists every target the network offers. The study lives in ``--storage``
(default: SQLite beside FILE), so running the same command again resumes it, and the
same command on another machine with a shared storage URL adds trials to it; so does
the exported ``sweep.py`` (the same space under the same names). With ``--mlflow
[URI]`` each trial is also an MLflow run, nested in one run of the study.

Exit status: 0 with at least one completed trial, 1 when none completed or the input
is bad (one clear line on stderr), 2 for a bad command line, 130 on Ctrl-C.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path
from typing import TextIO

from ..cli_args import ArgumentError, Parser

PROG = "strata sweep"
KINDS_HELP = "int:LOW:HIGH[:STEP], float:LOW:HIGH, log:LOW:HIGH or A,B,C"


def _parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Search a network's hyperparameters with Optuna.")
    p.add_argument("file", help="the network (.strata file)")
    p.add_argument("--trials", type=int, help="trials to run now (default: the sweep's)")
    p.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    p.add_argument("--storage", help="Optuna storage URL or journal file (default: "
                   "sqlite:///<FILE's folder>/<name>.sweeps.db)")
    p.add_argument("--study", help="study name (default: the file's name)")
    p.add_argument("--sampler", choices=("tpe", "random", "grid"))
    p.add_argument("--pruner", choices=("median", "hyperband", "none"))
    p.add_argument("--objective", choices=("val_loss", "val_metric"))
    p.add_argument("--epochs", type=int, help="epochs per trial")
    p.add_argument("--seed", type=int, help="seed the samplers (worker i: seed + i)")
    p.add_argument("--best-out", help="where to write the best configuration")
    p.add_argument("--top", type=int, default=5, help="best trials to list (default 5)")
    p.add_argument("--search", action="append", default=[], metavar="TARGET[=SPEC]",
                   help="also search TARGET (a setting, LAYER.PARAM, or a nested block "
                   f"by path: OUTER/INNER.repeat); SPEC: {KINDS_HELP} (default: a "
                   "range around today's value)")
    p.add_argument("--mlflow", nargs="?", const="", metavar="URI",
                   help="track each trial in MLflow, nested in a run of the study "
                   "(default URI: MLFLOW_TRACKING_URI or mlruns/ in the trials' "
                   "folder); needs strata-studio[mlflow]")
    p.add_argument("--targets", action="store_true",
                   help="list what can be searched and exit")
    return p


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "sweep":
        argv = argv[1:]
    try:
        args = _parser().parse_args(argv)
        for name in ("trials", "jobs", "epochs", "top"):
            value = getattr(args, name)
            if value is not None and value < 1:
                raise ArgumentError(f"--{name} must be at least 1, got {value}")
    except ArgumentError as e:
        print(f"{PROG}: {e} (see: {PROG} --help)", file=sys.stderr)
        return 2
    return sweep(args, out or sys.stdout)


def sweep(args: argparse.Namespace, out: TextIO) -> int:
    import graph
    from graph.errors import StrataError

    from .runner import SweepRun
    from .space import SweepSpec, target_label
    from .study import default_storage, default_study_name

    path = Path(args.file)
    try:
        doc = graph.load(path)
        if args.targets:
            return _list_targets(doc, out)
        if args.epochs is not None:
            doc.training["epochs"] = args.epochs
        raw = dict(doc.sweep)
        if args.search:
            raw["params"] = _searched(doc, raw.get("params") or [], args.search)
        for key in ("sampler", "pruner", "objective"):
            if getattr(args, key) is not None:
                raw[key] = getattr(args, key)
        if not raw.get("params"):
            from .space import default_space

            raw["params"] = default_space(doc)
        spec = SweepSpec.from_dict(raw, doc)
        from runtime.setup import TrainingSetup

        TrainingSetup.from_document(doc)  # a setup the engine would refuse: say so now
    except StrataError as e:
        print(f"{PROG}: {path}: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    storage = args.storage or default_storage(path)
    study = args.study or default_study_name(path)
    trials = args.trials or spec.trials
    folder = path.resolve().with_name(f"{path.stem}.sweeps") / study
    run = SweepRun(doc.to_dict(), spec, storage=storage, study=study, folder=folder,
                   trials=trials, jobs=args.jobs, seed=args.seed, mlflow=args.mlflow)
    searched = ", ".join(target_label(doc, p.target) for p in spec.params)
    print(f"sweeping {doc.name}: {trials} trials in {run.jobs} process"
          f"{'es' if run.jobs > 1 else ''}, {spec.sampler} sampler, {spec.pruner} "
          f"pruning, {spec.direction} {spec.objective_label}\n  searching {searched}\n"
          f"  study {study!r} in {storage}", file=out, flush=True)
    try:
        run.start()
        _follow(run, trials, spec, out)
    except (StrataError, ImportError) as e:  # ImportError: MLflow is missing
        run.stop()
        print(f"{PROG}: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        run.stop()
        print(f"\n{PROG}: interrupted; the study is kept in {storage} (run the same "
              "command to resume)", file=sys.stderr)
        return 130
    return _report(run, spec, doc, path, args, out)


def _list_targets(doc, out: TextIO) -> int:
    from .targets import candidates, target_label

    print(f"{doc.name}: what a sweep can search (--search TARGET[=SPEC])", file=out)
    for label, target, kind, value in candidates(doc):
        print(f"  {target_label(doc, target):<32} {kind:<6} now {value!r:<10} {label}",
              file=out)
    return 0


def _searched(doc, params: list, options: list[str]) -> list:
    """``params`` with the ``--search`` entries added (replacing the same target)."""
    from .space import SweepError
    from .targets import candidates, first_range, resolve_target

    entries = list(params)
    offered = {target: (kind, value) for _l, target, kind, value in candidates(doc)}
    for option in options:
        name, _, spec = option.partition("=")
        try:
            target = resolve_target(doc, name.strip())
        except KeyError as e:
            raise SweepError(f"--search {option}: {e.args[0]}") from None
        if spec.strip():
            entry = _parse_spec(target, spec.strip(), option)
        elif target in offered:
            entry = first_range(target, *offered[target])
        else:
            raise SweepError(f"--search {option}: give a range for it ({KINDS_HELP}); "
                             f"see {PROG} FILE --targets")
        entries = [e for e in entries if e.get("target") != target] + [entry]
    return entries


def _parse_spec(target: str, spec: str, option: str) -> dict:
    from .space import SweepError

    kind, _, rest = spec.partition(":")
    try:
        if kind in ("int", "float", "log") and rest:
            numbers = [float(v) for v in rest.split(":")]
            if kind == "int":
                numbers = [int(v) for v in numbers]
            if len(numbers) not in (2, 3):
                raise ValueError
            entry = {"target": target, "kind": kind, "low": numbers[0],
                     "high": numbers[1]}
            if len(numbers) == 3:
                entry["step"] = numbers[2]
            return entry
        choices = [_value(v) for v in spec.split(",") if v.strip()]
        if choices and ":" not in spec:
            return {"target": target, "kind": "choice", "choices": choices}
    except ValueError:
        pass
    raise SweepError(f"--search {option}: cannot read {spec!r}, expected {KINDS_HELP}")


def _value(text: str):
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return float(text)


def _follow(run, trials: int, spec, out: TextIO) -> None:
    tty = hasattr(out, "isatty") and out.isatty()
    last = None
    while True:
        alive = run.is_alive()
        progress = run.poll()
        done = min(progress.done_here, trials)
        best = "" if progress.best_value is None else \
            f"  best {spec.objective_label} {progress.best_value:.4g} " \
            f"(trial {progress.best_number})"
        states = progress.counts
        line = (f"[{'#' * (20 * done // trials)}{'.' * (20 - 20 * done // trials)}] "
                f"{done}/{trials} trials  {states.get('complete', 0)} complete, "
                f"{states.get('pruned', 0)} pruned, {states.get('fail', 0)} failed"
                f"{best}")
        if tty:
            out.write("\r\033[K" + line)
            out.flush()
        elif line != last:
            out.write(line + "\n")
            out.flush()
        last = line
        if not alive:
            break
        time.sleep(0.5)
    if tty:
        out.write("\n")


def _report(run, spec, doc, path: Path, args, out: TextIO) -> int:
    import graph

    from .space import target_label, trial_document
    from .study import best_rows

    best = best_rows(run.study, args.top)
    crashed = [c for c in run.exit_codes if c not in (0, None)]
    if crashed:
        print(f"{PROG}: {len(crashed)} worker process(es) ended abnormally (exit "
              f"{', '.join(map(str, crashed))}); their trials are retried next time",
              file=sys.stderr)
    if not best:
        print(f"{PROG}: no trial completed; see the trials' run folders in "
              f"{run.folder}", file=sys.stderr)
        return 1
    names = [p.target for p in spec.params]
    header = ["trial", spec.objective_label, *(target_label(doc, n) for n in names)]
    rows = [[str(r.number), _number(r.value), *(_number(r.params.get(n)) for n in names)]
            for r in best]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(header)]
    print("\nbest trials:", file=out)
    for row in [header, *rows]:
        print("  " + "  ".join(c.rjust(w) for c, w in zip(row, widths)), file=out)
    top = best[0]
    best_doc = trial_document(doc, spec, top.params, top.number)
    target = Path(args.best_out) if args.best_out else \
        path.with_name(f"{path.stem}_best.strata")
    try:
        graph.save(best_doc, target)
    except OSError as e:
        print(f"{PROG}: cannot write {target}: {e.strerror or e}", file=sys.stderr)
        return 1
    print(f"best configuration written to {target}\ntrial run folders: {run.folder}",
          file=out)
    return 0


def _number(value) -> str:
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        return f"{value:.4g}"
    return "" if value is None else str(value)
