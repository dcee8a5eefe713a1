"""MLflow from the exported scripts: ``train.py --mlflow URI`` records the run as
Strata's MLflow logger does (params, step/epoch/final metrics, the code as artifacts),
``sweep.py --mlflow`` nests each trial in one run of the study, the same run `strata
sweep --mlflow` nests its trials in; a missing MLflow is one clear line."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from test_export_train import ROOT

from graph.builder import Builder
from runtime.transfer.train_script import export_training

mlflow = pytest.importorskip("mlflow")
optuna = pytest.importorskip("optuna")


def tiny():
    b = Builder("Tracked")
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": 8}, "fc1"),
            ("ReLU", {}, "act"), ("Linear", {"out_features": 2}, "head"),
            ("Output", {"task": "classification"}))
    return b.done({"dataset": {"name": "spirals", "size": 120}, "epochs": 2,
                   "batch_size": 16, "lr": 0.02, "device": "cpu"})


def run(folder, *args, env=None):
    done = subprocess.run([sys.executable, *args], cwd=folder, capture_output=True,
                          text=True, timeout=300, check=False,
                          env={**os.environ, **(env or {})})
    return done


@pytest.fixture
def client(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")  # reading the file store
    uri = (tmp_path / "mlruns").as_uri()
    return uri, MlflowClient(tracking_uri=uri)


def test_train_script_tracks_its_run_in_mlflow(tmp_path, client):
    uri, reader = client
    folder = tmp_path / "export"
    export_training(tiny(), folder)
    done = run(folder, "train.py", "--mlflow", uri, "--log-every", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    experiment = reader.get_experiment_by_name("Tracked")  # the network's, as Strata's
    (found,) = reader.search_runs([experiment.experiment_id])
    assert found.info.status == "FINISHED"
    assert found.data.params["lr"] == "0.02" and found.data.params["batch_size"] == "16"
    history = reader.get_metric_history(found.info.run_id, "epoch/val_loss")
    assert [m.step for m in history] == [1, 2]
    metrics = found.data.metrics
    assert metrics["final/val_loss"] == pytest.approx(history[-1].value)
    assert {"train/loss", "train/lr", "train/samples_per_second", "epoch/train_loss",
            "epoch/val_accuracy", "epoch/lr", "final/best_val_loss",
            "final/val_accuracy", "gradients/fc1.weight"} <= set(metrics)
    artifacts = {a.path for a in reader.list_artifacts(found.info.run_id)}
    assert {"tracked.py", "train.py", "history.json"} <= artifacts


def test_sweep_trials_nest_in_the_studys_run_from_both_sides(tmp_path, client):
    from runtime.mlflow_tracking import experiment_name, study_run
    from runtime.sweeps import SweepSpec
    from runtime.sweeps.study import open_study
    from runtime.sweeps.trials import make_objective

    uri, reader = client
    doc = tiny()
    doc.sweep = {"sampler": "random", "pruner": "none", "params": [
        {"target": "lr", "kind": "log", "low": 0.005, "high": 0.05}]}
    folder = tmp_path / "export"
    export_training(doc, folder)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    done = run(folder, "sweep.py", "--trials", "2", "--epochs", "1", "--storage",
               storage, "--study", "tracked", "--mlflow", uri)
    assert done.returncode == 0, done.stderr[-3000:]
    # Strata's trials of the same study nest in the same run.
    parent = study_run(uri, experiment_name(doc.to_dict()), "tracked")
    spec = SweepSpec.from_document(doc)
    study = open_study(spec, storage, "tracked", epochs=1)
    study.optimize(make_objective(doc.to_dict(), spec, tmp_path / "trials", mlflow=uri,
                                  mlflow_parent=parent), n_trials=1)

    experiment = reader.get_experiment_by_name("Tracked")
    runs = reader.search_runs([experiment.experiment_id])
    (top,) = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    assert top.info.run_id == parent and top.data.tags["strata.study"] == "tracked"
    trials = sorted((r for r in runs if r is not top), key=lambda r: r.info.start_time)
    assert [r.data.tags["mlflow.parentRunId"] for r in trials] == [parent] * 3
    assert [r.info.run_name for r in trials] == ["trial-0", "trial-1", "trial-2"]
    assert all(r.info.status == "FINISHED" for r in trials)
    values = [t.params["lr"] for t in optuna.load_study(study_name="tracked",
                                                        storage=storage).trials]
    assert float(trials[0].data.params["lr"]) == pytest.approx(values[0])  # sweep.py
    assert float(trials[2].data.params["sweep.lr"]) == pytest.approx(values[2])  # Strata


def test_train_script_without_mlflow_says_how_to_install_it(tmp_path):
    folder = tmp_path / "export"
    export_training(tiny(), folder)
    blocker = tmp_path / "blocked" / "mlflow"
    blocker.mkdir(parents=True)
    (blocker / "__init__.py").write_text("raise ImportError('not installed')\n")
    done = run(folder, "train.py", "--mlflow", env={
        "PYTHONPATH": os.pathsep.join([str(blocker.parent), str(ROOT)])})
    assert done.returncode == 1
    assert done.stderr.strip() == "--mlflow needs MLflow: pip install mlflow-skinny (or " \
        "mlflow)"
    assert not (folder / "checkpoints" / "last.pt").exists()  # nothing trained
