"""Run folders and TensorBoard: what `strata train` leaves behind reads back."""

from __future__ import annotations

import pytest
from training_helpers import EXAMPLES

from runtime.cli import main
from runtime.events import EpochEvent, FinishedEvent, LayerStatsEvent, StartedEvent
from runtime.runfolder import RunFolderError, open_run

pytest.importorskip("tensorboard")


def accumulate(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0, "histograms": 0,
                                                       "tensors": 0})
    acc.Reload()
    return acc


def test_train_writes_a_reopenable_run_folder_with_tensorboard_events(tmp_path, capsys):
    folder = tmp_path / "run"
    code = main(["train", str(EXAMPLES / "spiral_mlp.strata"), "--epochs", "2",
                 "--out", str(folder)])
    capsys.readouterr()
    assert code == 0
    names = {p.name for p in folder.iterdir()}
    assert {"network.strata", "model.py", "setup.json", "metrics.jsonl", "last.pt"} <= names
    assert "class SpiralMLP(nn.Module)" in (folder / "model.py").read_text()

    acc = accumulate(folder)
    tags = acc.Tags()
    scalars = set(tags["scalars"])
    assert {"train/loss", "train/lr", "epoch/train_loss", "epoch/val_loss",
            "epoch/val_accuracy", "layers/fc1_n2/grad_norm",
            "layers/fc1_n2/act_mean", "hparam/val_loss"} <= scalars
    assert {"activations/fc1_n2", "gradients/fc1_n2"} <= set(tags["histograms"])
    assert [e.step for e in acc.Scalars("epoch/val_loss")] == [1, 2]
    assert tags["graph"]  # the model graph, traced from the generated code
    # The HPARAMS tab's experiment and session summaries, in the run's own files.
    assert set(acc.PluginTagToContent("hparams")) == {
        "_hparams_/experiment", "_hparams_/session_start_info",
        "_hparams_/session_end_info"}

    saved = open_run(folder)
    assert saved.document["name"] == "Spiral MLP"
    assert saved.setup["epochs"] == 2
    assert isinstance(saved.events[0], StartedEvent)
    assert isinstance(saved.final, FinishedEvent)
    epochs = [e for e in saved.events if isinstance(e, EpochEvent)]
    assert [e.epoch for e in epochs] == [1, 2]
    assert any(isinstance(e, LayerStatsEvent) for e in saved.events)
    assert saved.checkpoint() is not None


def test_train_without_tensorboard_and_a_folder_that_is_no_run(tmp_path, capsys):
    folder = tmp_path / "run"
    assert main(["train", str(EXAMPLES / "spiral_mlp.strata"), "--epochs", "1",
                 "--out", str(folder), "--no-tensorboard"]) == 0
    capsys.readouterr()
    assert not list(folder.glob("events.out.tfevents.*"))
    with pytest.raises(RunFolderError, match="has no metrics.jsonl"):
        open_run(tmp_path)
