"""The studio's MLflow setting: Training > Track Runs in MLflow… is remembered, and a
run trained in the studio is then tracked in MLflow (read back with MLflow's client)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

import graph
from graph.builder import Builder
from studio.main_window import MainWindow

mlflow = pytest.importorskip("mlflow")


def tiny():
    b = Builder("Studio tracked")
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": 8}, "fc1"),
            ("ReLU", {}, "act"), ("Linear", {"out_features": 2}, "head"),
            ("Output", {"task": "classification"}))
    return b.done({"dataset": {"name": "spirals", "size": 100}, "epochs": 1,
                   "batch_size": 32, "device": "cpu"})


def window_with(qtbot, tmp_path, path=None):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(str(path) if path else None, settings=settings,
                        autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(window)
    return window, settings


def test_the_setting_is_asked_for_remembered_and_given_to_runs(qtbot, tmp_path,
                                                               monkeypatch):
    from mlflow.tracking import MlflowClient

    # The worker allows the file store it is given; this reader allows it too.
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    uri = (tmp_path / "mlruns").as_uri()
    path = tmp_path / "tracked.strata"
    graph.save(tiny(), path)
    window, settings = window_with(qtbot, tmp_path, path)
    setting = window.training.mlflow
    assert not setting.action.isChecked() and setting.uri() is None
    menu = [a.text() for a in window.menuBar().actions()]
    assert "&Training" in menu
    setting.ask_uri = lambda current: (uri, True)
    setting.action.trigger()
    assert setting.action.isChecked() and setting.uri() == uri
    assert settings.value("training/mlflow") == "true"
    assert settings.value("training/mlflow_uri") == uri
    runner = window.training.runner
    assert runner.mlflow_uri() == uri

    # A studio run is tracked: the worker writes the MLflow run beside the run folder.
    with qtbot.waitSignal(runner.run_ended, timeout=120_000):
        runner.start(window.controller.document)
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("Studio tracked")
    assert experiment is not None
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.status == "FINISHED"
    assert [m.step for m in client.get_metric_history(run.info.run_id,
                                                      "epoch/val_loss")] == [1]
    assert {a.path for a in client.list_artifacts(run.info.run_id)} >= {
        "network.strata", "model.py"}
    window.close()

    # The next session starts with it on.
    again, _settings = window_with(qtbot, tmp_path)
    assert again.training.mlflow.uri() == uri
    again.training.mlflow.action.trigger()  # off
    assert again.training.mlflow.uri() is None
    assert settings.value("training/mlflow") == "false"
    again.close()


def test_without_mlflow_the_setting_says_what_to_install(qtbot, tmp_path, monkeypatch):
    from studio.training import tracking

    window, _settings = window_with(qtbot, tmp_path)
    setting = window.training.mlflow
    shown = []
    monkeypatch.setattr(tracking.MlflowSetting, "_available", lambda _self: False)
    monkeypatch.setattr(tracking.QMessageBox, "information",
                        lambda _parent, _title, text: shown.append(text))
    setting.action.trigger()
    assert not setting.action.isChecked() and setting.uri() is None
    assert shown and "pip install 'strata-studio[mlflow]'" in shown[0]
    window.close()
