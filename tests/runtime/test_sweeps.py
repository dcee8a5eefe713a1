"""Sweeps on Optuna: the search space, pruning, a real SQLite study shared by processes,
a worker killed mid-trial, and `strata sweep`."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import graph
from graph.builder import Builder
from runtime.sweeps import SweepError, SweepSpec
from runtime.sweeps.cli import main
from runtime.sweeps.runner import SweepRun
from runtime.sweeps.study import open_study, trial_rows
from runtime.sweeps.trials import make_objective

optuna = pytest.importorskip("optuna")
ROOT = Path(__file__).resolve().parents[2]


def small_net(epochs: int = 2, size: int = 200):
    b = Builder("Tiny")
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": 8}, "fc1"),
            ("ReLU", {}, "act1"), ("Dropout", {"p": 0.1}, "drop"),
            ("Linear", {"out_features": 2}, "head"), ("Output", {"task": "classification"}))
    return b.done({"dataset": {"name": "spirals", "size": size}, "epochs": epochs,
                   "batch_size": 32, "lr": 0.05})


def test_space_is_checked_against_the_document_and_applied():
    doc = small_net()
    fc = next(n for n in doc.nodes.values() if n.label == "fc1")
    doc.sweep = {"objective": "val_metric", "sampler": "grid", "params": [
        {"target": "lr", "kind": "log", "low": 1e-3, "high": 0.1},
        {"target": f"{fc.id}.out_features", "kind": "int", "low": 4, "high": 16,
         "step": 4}]}
    spec = SweepSpec.from_document(doc)
    assert spec.direction == "maximize" and spec.objective_label == "val accuracy"
    assert spec.params[1].grid() == [4, 8, 12, 16]
    applied = spec.apply(doc.to_dict(), {"lr": 0.01, f"{fc.id}.out_features": 12})
    assert applied["training"]["lr"] == 0.01
    assert next(n for n in applied["nodes"] if n["id"] == fc.id)["params"][
        "out_features"] == 12
    assert doc.training["lr"] == 0.05  # the document itself is untouched
    # Round trip through the file format.
    assert graph.fileformat.document_from_dict(doc.to_dict()).sweep == doc.sweep
    bad = [({"target": "nope"}, "no training setting"),
           ({"target": "zz.p", "kind": "float", "low": 0, "high": 1}, "no node `zz`"),
           ({"target": f"{fc.id}.width", "kind": "int", "low": 1, "high": 2},
            "has no parameter `width`"),
           ({"target": "lr", "kind": "log", "low": 0, "high": 1}, "needs `low` > 0"),
           ({"target": "batch_size", "kind": "choice", "choices": [32, 0]},
            "batch_size")]
    for entry, words in bad:
        doc.sweep = {"params": [entry]}
        with pytest.raises(SweepError, match=words):
            SweepSpec.from_document(doc)
    doc.sweep = {}
    default = SweepSpec.from_document(doc)
    assert [p.target for p in default.params][:2] == ["lr", "batch_size"]
    assert any(p.target.endswith(".p") for p in default.params)


def test_a_hopeless_trial_is_pruned_on_sqlite(tmp_path):
    doc = small_net(epochs=3)
    doc.sweep = {"pruner": "median", "params": [
        {"target": "lr", "kind": "choice", "choices": [0.05, 1e-7]}]}
    spec = SweepSpec.from_document(doc)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = open_study(spec, storage, "prune", epochs=3)
    for lr in (0.05, 0.05, 1e-7):  # two good trials, then one that cannot learn
        study.enqueue_trial({"lr": lr})
    study.optimize(make_objective(doc.to_dict(), spec, tmp_path / "trials"), n_trials=3)
    rows = trial_rows(optuna.load_study(study_name="prune", storage=storage))
    assert [r.state for r in rows] == ["complete", "complete", "pruned"]
    assert rows[2].epochs < 3 and rows[0].epochs == 3
    assert len(rows[0].history) == 3 and rows[0].value == rows[0].history[-1]
    assert (Path(rows[0].run_folder) / "metrics.jsonl").exists()  # a run folder


def test_sweep_cli_and_a_second_sweep_joins(tmp_path, capsys):
    doc = small_net(epochs=2)
    path = tmp_path / "tiny.strata"
    graph.save(doc, path)
    assert main(["sweep", str(path), "--trials", "2", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert "2/2 trials" in out and "best trials:" in out
    best = graph.load(tmp_path / "tiny_best.strata")
    assert best.name.startswith("Tiny (sweep best, trial ")
    storage = f"sqlite:///{tmp_path / 'tiny.sweeps.db'}"

    # A second sweep (another machine would pass --storage) joins the same study: its
    # worker is another process. Through `strata` itself, in this process: a separate
    # `python -m studio.cli` would only add its start-up to the test.
    from studio.cli import main as strata

    assert strata(["sweep", str(path), "--trials", "1", "--storage", storage,
                   "--study", "tiny"]) == 0
    assert "1/1 trials" in capsys.readouterr().out
    study = optuna.load_study(study_name="tiny", storage=storage)
    assert len(study.trials) == 3


def test_a_killed_worker_is_failed_and_its_trial_retried(tmp_path):
    doc = small_net(epochs=2, size=100)
    spec = SweepSpec.from_document(doc)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    # A worker killed mid-trial: its trial stops beating, is marked failed and retried.
    slow = doc.to_dict()
    slow["training"].update(epochs=200, dataset={"name": "spirals", "size": 400})
    # Never pruned: with the median pruner a slow first epoch could end the trial before
    # the test sees it running, and there would be nothing to kill.
    unpruned = dataclasses.replace(spec, pruner="none")
    run = SweepRun(slow, unpruned, storage=storage, study="tiny", folder=tmp_path / "t",
                   trials=1, heartbeat=1, grace=2)
    run.start()
    deadline = time.monotonic() + 120
    # Killed once it has reported an epoch (so it has beaten: Optuna recognises a dead
    # trial by a heartbeat that stopped, not by one that never started).
    while not any(r.state == "running" and r.epochs for r in trial_rows(run.study)):
        assert time.monotonic() < deadline and run.is_alive()
        time.sleep(0.2)
    os.kill(run.processes[0].pid, signal.SIGKILL)
    run.wait(30)
    assert run.exit_codes == [-signal.SIGKILL]
    time.sleep(3.5)  # past the grace period (SQLite's timestamps are whole seconds)
    # The resumed sweep, here in this process (a second worker process would only add
    # its start-up): its first trial fails the silent one and runs the retry.
    study = open_study(spec, storage, "tiny", epochs=2, heartbeat=1, grace=2)
    study.optimize(make_objective(doc.to_dict(), spec, tmp_path / "t"), n_trials=1)
    rows = trial_rows(optuna.load_study(study_name="tiny", storage=storage))
    states = [r.state for r in rows]
    assert states.count("fail") == 1  # the killed one
    assert states[-1] in ("complete", "pruned")  # its retry, run by the resumed sweep
    assert states.count("running") == 0
    trials = optuna.load_study(study_name="tiny", storage=storage).trials
    assert trials[-1].system_attrs["failed_trial"] == 0  # a retry of the killed trial


ASK_AND_HANG = """
import json, sys, time, warnings
from graph.fileformat import document_from_dict
from runtime.sweeps import SweepSpec
from runtime.sweeps.study import open_study
doc = document_from_dict(json.loads(sys.argv[1]))
study = open_study(SweepSpec.from_document(doc), sys.argv[2], "early", epochs=1,
                   heartbeat=1, grace=2)
warnings.simplefilter("ignore")  # "heartbeat is meant for Study.optimize": on purpose
trial = study.ask()  # RUNNING now; Optuna's heartbeat thread would start after this
print(trial.number, flush=True)
time.sleep(300)
"""


def test_a_trial_killed_before_its_first_heartbeat_is_failed_and_retried(tmp_path):
    import json

    doc = small_net(epochs=1, size=100)
    spec = SweepSpec.from_document(doc)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # A real process takes a trial and is killed before any heartbeat thread runs.
    child = subprocess.Popen([sys.executable, "-c", ASK_AND_HANG,
                              json.dumps(doc.to_dict()), storage],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "0"
    finally:
        child.kill()
        child.wait(30)
        if child.stdout is not None:
            child.stdout.close()
    study = open_study(spec, storage, "early", epochs=1, heartbeat=1, grace=2)
    assert [t.state.name for t in study.trials] == ["RUNNING"]  # within the grace
    time.sleep(3.5)  # past the grace period (SQLite's timestamps are whole seconds)
    # The next process to join (a resumed sweep) fails the silent trial, with public
    # Optuna API, and runs its retry first.
    study = open_study(spec, storage, "early", epochs=1, heartbeat=1, grace=2)
    assert [t.state.name for t in study.trials] == ["FAIL", "WAITING"]
    study.optimize(make_objective(doc.to_dict(), spec, tmp_path / "trials"), n_trials=1)
    trials = optuna.load_study(study_name="early", storage=storage).trials
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    assert trials[1].system_attrs["failed_trial"] == 0  # RetryFailedTrialCallback's mark
