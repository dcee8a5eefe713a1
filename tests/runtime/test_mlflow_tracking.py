"""MLflow tracking (optional extra): ``strata train --mlflow URI`` records the run's
params, step and epoch metrics, final metrics and its document and code, read back
with MLflow's own client from a file store; a clear message when MLflow is missing."""

from __future__ import annotations

import sys
from pathlib import Path
from urllib.parse import urlparse

import pytest

import graph
from graph.builder import Builder
from runtime.cli import main

mlflow = pytest.importorskip("mlflow")


def tiny(tmp_path):
    b = Builder("Tracked")
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": 8}, "fc1"),
            ("ReLU", {}, "act"), ("Linear", {"out_features": 2}, "head"),
            ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "spirals", "size": 120}, "epochs": 2,
                  "batch_size": 32, "lr": 0.02, "device": "cpu"})
    path = tmp_path / "tracked.strata"
    graph.save(doc, path)
    return path


def test_train_tracks_the_run_in_mlflow(tmp_path, monkeypatch, capsys):
    from mlflow.tracking import MlflowClient

    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)  # restored afterwards
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    path = tiny(tmp_path)
    uri = (tmp_path / "mlruns").as_uri()
    out = tmp_path / "run"
    assert main(["train", str(path), "--out", str(out), "--mlflow", uri,
                 "--no-tensorboard"]) == 0, capsys.readouterr().err

    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("Tracked")
    assert experiment is not None
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED" and run.info.run_name == "run"
    assert run.data.params["lr"] == "0.02" and run.data.params["batch_size"] == "32"
    assert run.data.params["dataset"] == "spirals"
    history = client.get_metric_history(run.info.run_id, "epoch/val_loss")
    assert [m.step for m in history] == [1, 2]
    steps = client.get_metric_history(run.info.run_id, "train/loss")
    # Step events come at the engine's sampling rate, by optimizer step (6 in all).
    assert steps and all(1 <= m.step <= 6 for m in steps)
    metrics = run.data.metrics
    assert metrics["final/val_loss"] == pytest.approx(history[-1].value)
    assert {"final/train_loss", "final/val_accuracy", "epoch/val_accuracy",
            "epoch/lr"} <= set(metrics)
    assert any(k.startswith("layers/fc1_") for k in metrics)  # per-layer statistics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id)}
    assert {"network.strata", "model.py", "setup.json", "metrics.jsonl"} <= artifacts
    # Read from the store's folder (downloading would leave MLflow's thread pool behind).
    stored = Path(urlparse(run.info.artifact_uri).path) / "model.py"
    assert stored.read_text() == (out / "model.py").read_text()
    assert run.data.tags["strata.run_folder"] == str(out.resolve())


def test_a_missing_mlflow_is_one_clear_line(tmp_path, monkeypatch, capsys):
    path = tiny(tmp_path)
    monkeypatch.setitem(sys.modules, "mlflow", None)  # as if it were not installed
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    code = main(["train", str(path), "--out", str(tmp_path / "run"), "--mlflow"])
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip() == ("strata train: MLflow tracking needs the `mlflow` package (or "
                           "`mlflow-skinny`): pip install 'strata-studio[mlflow]'")
    assert not (tmp_path / "run" / "last.pt").exists()  # nothing trained


def test_an_unusable_tracking_store_is_one_clear_line(tmp_path, capsys):
    path = tiny(tmp_path)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the store's folder would be")
    code = main(["train", str(path), "--out", str(tmp_path / "run"), "--mlflow",
                 (blocker / "mlruns").as_uri()])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("strata train: Cannot track to MLflow at file:")
    assert "Traceback" not in err
