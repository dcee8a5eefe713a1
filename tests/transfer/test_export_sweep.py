"""The exported sweep.py runs the document's sweep on Optuna with train.py's train()."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_export_train import assert_clean

from graph.builder import Builder
from runtime.transfer.train_script import export_training

optuna = pytest.importorskip("optuna")


def test_sweep_script_searches_the_settings_with_pruning(tmp_path):
    b = Builder("Tiny")
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": 8}, "fc1"),
            ("ReLU", {}, "act"), ("Dropout", {"p": 0.1}, "drop"),
            ("Linear", {"out_features": 2}, "head"), ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "spirals", "size": 200}, "epochs": 2,
                  "batch_size": 32, "device": "cpu"})
    drop = next(n.id for n in doc.nodes.values() if n.label == "drop")
    doc.sweep = {"objective": "val_metric", "sampler": "random", "pruner": "median",
                 "trials": 3, "params": [
                     {"target": "lr", "kind": "log", "low": 1e-3, "high": 0.1},
                     {"target": "batch_size", "kind": "choice", "choices": [16, 32]},
                     {"target": f"{drop}.p", "kind": "float", "low": 0, "high": 0.5}]}
    written = export_training(doc, tmp_path)
    assert tmp_path / "sweep.py" in written
    source = (tmp_path / "sweep.py").read_text()
    assert 'trial.suggest_float("lr", 0.001, 0.1, log=True)' in source
    assert 'trial.suggest_categorical("batch_size", [16, 32])' in source
    assert f"fixed here (layer parameters live in the module's code): {drop}.p" in source
    assert 'OBJECTIVE = "val_accuracy"' in source and 'DIRECTION = "maximize"' in source
    assert_clean(tmp_path)
    done = subprocess.run([sys.executable, "sweep.py", "--trials", "2", "--epochs", "1"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "best val_accuracy" in done.stdout
    study = optuna.load_study(study_name="tiny",
                              storage=f"sqlite:///{tmp_path / 'sweep.db'}")
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert all(set(t.params) == {"lr", "batch_size"} for t in study.trials)
