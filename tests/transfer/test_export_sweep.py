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
    # The names `strata sweep` gives them, so both can add trials to one study.
    assert f'"{drop}.p": trial.suggest_float("{drop}.p", 0.0, 0.5),' in source
    assert f'MODEL_ARGS = {{"{drop}.p": "drop_p"}}' in source
    module = (tmp_path / "tiny.py").read_text()
    assert "def __init__(self, drop_p: float = 0.1) -> None:" in module
    assert "nn.Dropout(p=drop_p)" in module
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
    assert all(set(t.params) == {"lr", "batch_size", f"{drop}.p"} for t in study.trials)


def test_sweep_script_rebuilds_the_model_with_each_trials_widths(tmp_path):
    import torch

    b = Builder("Widths")
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": 8}, "fc1"),
            ("ReLU", {}, "act"), ("Linear", {"out_features": 8}, "fc2"),
            ("ReLU", {}, "act2"), ("Linear", {"out_features": 2}, "head"),
            ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "spirals", "size": 120}, "epochs": 1,
                  "batch_size": 32, "device": "cpu"})
    fc1 = next(n.id for n in doc.nodes.values() if n.label == "fc1")
    doc.sweep = {"sampler": "grid", "pruner": "none", "params": [
        {"target": f"{fc1}.out_features", "kind": "choice", "choices": [4, 16]}]}
    export_training(doc, tmp_path)
    module = (tmp_path / "widths.py").read_text()
    assert "def __init__(self, fc1_out_features: int = 8) -> None:" in module
    assert "self.fc1 = nn.Linear(2, fc1_out_features)" in module
    assert "self.fc2 = nn.Linear(fc1_out_features, 8)" in module  # follows fc1
    script = (tmp_path / "train.py").read_text()
    assert "model = Widths(**config.model_args).to(device)" in script
    assert_clean(tmp_path)
    storage = f"sqlite:///{tmp_path / 'widths.db'}"
    done = subprocess.run([sys.executable, "sweep.py", "--trials", "2", "--storage",
                           storage], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    study = optuna.load_study(study_name="widths", storage=storage)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    widths = [t.params[f"{fc1}.out_features"] for t in study.trials]
    assert sorted(widths) == [4, 16]
    for trial, width in zip(study.trials, widths):  # each trial trained its own model
        saved = list((tmp_path / "trials" / f"trial-{trial.number}").glob("*.pt"))
        assert saved
        state = torch.load(saved[0], map_location="cpu", weights_only=False)
        assert state["model"]["fc1.weight"].shape == (width, 2)
        assert state["model"]["fc2.weight"].shape == (8, width)


def test_sweep_script_and_strata_sweep_add_trials_to_one_study(tmp_path):
    """Block repeats, exposed parameters and a width a block's class is written with
    are searched by sweep.py as by `strata sweep`: same names, same distributions, one
    study; each sweep.py trial trains the structure it drew."""
    import torch

    from graph.blocks import ExposedParam
    from runtime.sweeps import SweepSpec
    from runtime.sweeps.study import open_study
    from runtime.sweeps.trials import make_objective

    b = Builder("Blocky")  # stem -> block 'hidden' (fc + act, width exposed) -> head
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": 8}, "stem"),
            ("Linear", {"out_features": 8}, "fc"), ("ReLU", {}, "act"),
            ("Linear", {"out_features": 2}, "head"), ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "spirals", "size": 96}, "epochs": 1,
                  "batch_size": 32, "lr": 0.05, "device": "cpu"})
    inner = [n.id for n in doc.nodes.values() if n.label in ("fc", "act")]
    hidden = doc.group(inner, "Hidden", "hidden").result["instance"]
    fc = next(n.id for n in doc.blocks["Hidden"].body.nodes.values() if n.label == "fc")
    doc.set_exposed("Hidden", [ExposedParam("width", 8, [(fc, "out_features")])])
    stem = next(n.id for n in doc.nodes.values() if n.label == "stem")
    doc.sweep = {"sampler": "random", "pruner": "none", "params": [
        {"target": "lr", "kind": "log", "low": 0.01, "high": 0.1},
        {"target": f"{hidden}.repeat", "kind": "int", "low": 1, "high": 2},
        {"target": f"{hidden}.width", "kind": "choice", "choices": [4, 16]},
        {"target": f"{stem}.out_features", "kind": "int", "low": 4, "high": 8,
         "step": 4}]}
    folder = tmp_path / "export"
    export_training(doc, folder)
    source = (folder / "sweep.py").read_text()
    assert f'STRUCTURE = ("{hidden}.repeat", "{hidden}.width", "{stem}.out_features")' \
        in source
    assert len(list((folder / "sweep_networks").glob("blocky_*.py"))) == 8
    assert_clean(folder)
    storage = f"sqlite:///{tmp_path / 'joint.db'}"
    done = subprocess.run([sys.executable, "sweep.py", "--trials", "2", "--epochs", "1",
                           "--storage", storage, "--study", "joint"], cwd=folder,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    # Strata joins the study sweep.py made (Optuna would refuse another distribution),
    # here in this process as `strata sweep --storage URL --study joint`'s worker does.
    spec = SweepSpec.from_document(doc)
    study = open_study(spec, storage, "joint", epochs=1)
    study.optimize(make_objective(doc.to_dict(), spec, tmp_path / "strata"), n_trials=1)
    trials = optuna.load_study(study_name="joint", storage=storage).trials
    assert [t.state.name for t in trials] == ["COMPLETE"] * 3
    names = {"lr", f"{hidden}.repeat", f"{hidden}.width", f"{stem}.out_features"}
    assert all(set(t.params) == names for t in trials)
    assert trials[2].distributions == trials[0].distributions  # strata's == sweep.py's
    for trial in trials[:2]:  # sweep.py's trials trained the structure they drew
        repeat, width = trial.params[f"{hidden}.repeat"], trial.params[f"{hidden}.width"]
        state = torch.load(folder / "trials" / f"trial-{trial.number}" / "last.pt",
                           map_location="cpu", weights_only=False)["model"]
        first = "hidden.0.fc.weight" if repeat > 1 else "hidden.fc.weight"
        assert state[first].shape == (width, trial.params[f"{stem}.out_features"])
        assert ("hidden.1.fc.weight" in state) == (repeat == 2)
