"""``strata train``: progress, diagnoses, checkpoints, a metrics log, clean errors, Ctrl-C."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time

import pytest
from training_helpers import EXAMPLES, mlp

import graph
from runtime.checkpoints import load_checkpoint
from runtime.cli import main


def run(argv, capsys):
    code = main(["train", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def log_lines(folder):
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def test_train_prints_progress_and_writes_checkpoints_and_log(tmp_path, capsys):
    out_dir = tmp_path / "run"
    code, out, err = run([str(EXAMPLES / "spiral_mlp.strata"), "--epochs", "3", "--out",
                          str(out_dir)], capsys)
    assert code == 0 and err == ""
    assert out.startswith("training Spiral MLP on Two spirals: 700 train / 200 val")
    assert "epoch 3/3: train loss" in out and "val acc" in out
    assert "finished after 3 epochs (33 steps)" in out
    assert f"checkpoint: {out_dir / 'last.pt'}" in out
    lines = log_lines(out_dir)
    kinds = [line["event"] for line in lines]
    assert kinds[0] == "started" and kinds[-1] == "finished"
    assert kinds.count("epoch") == 3 and "step" in kinds and "layerstats" in kinds
    assert all("time" in line for line in lines)
    assert load_checkpoint(out_dir / "last.pt").epoch == 3
    # --resume continues from there
    code, out, _ = run([str(EXAMPLES / "spiral_mlp.strata"), "--epochs", "4", "--out",
                        str(out_dir), "--resume", str(out_dir / "last.pt")], capsys)
    assert code == 0 and "resuming after epoch 3" in out and "epoch 4/4" in out
    assert "epoch 3/4" not in out


def test_diagnoses_are_printed_as_they_appear(tmp_path, capsys):
    doc = mlp(32, 10, "Sigmoid", name="Deep sigmoid MLP",
              training={"dataset": {"name": "spirals"}, "sample_every": 1})
    graph.save(doc, tmp_path / "deep.strata")
    code, out, _ = run([str(tmp_path / "deep.strata"), "--epochs", "1", "--out",
                        str(tmp_path / "run")], capsys)
    assert code == 0
    assert "! Vanishing gradients in fc1, act1" in out
    assert "fix: Replace Sigmoid with ReLU" in out
    assert "diagnoses: vanishing gradients" in out
    diagnosis = next(line for line in log_lines(tmp_path / "run")
                     if line["event"] == "diagnosis")
    assert diagnosis["kind"] == "vanishing_gradients"


@pytest.mark.parametrize("argv, message", [
    (["missing.strata"], "missing.strata: cannot read the file"),
    (["{bad}", "--epochs", "0"], "expected an integer >= 1"),
    (["{bad}", "--epochs", "two"], "argument --epochs: invalid int value: 'two'"),
    (["{bad}", "--device", "tpu"], "expected one of auto, cpu, cuda, mps"),
    (["{notjson}"], "not valid JSON"),
    ([], "the following arguments are required: file"),
])
def test_bad_input_is_one_clear_line(tmp_path, capsys, argv, message):
    shutil.copy(EXAMPLES / "spiral_mlp.strata", tmp_path / "net.strata")
    (tmp_path / "notjson.strata").write_text("{ nope")
    argv = [a.replace("{bad}", str(tmp_path / "net.strata"))
             .replace("{notjson}", str(tmp_path / "notjson.strata")) for a in argv]
    if argv and argv[0] == "missing.strata":
        argv[0] = str(tmp_path / "missing.strata")
    code, out, err = run(argv + ["--out", str(tmp_path / "run")], capsys)
    assert code in (1, 2)
    assert message in err and err.startswith("strata train: ")
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out


def test_a_dataset_that_does_not_fit_fails_with_one_line(tmp_path, capsys):
    doc = graph.load(EXAMPLES / "spiral_mlp.strata")
    doc.set_training("dataset", {"name": "shapes"})
    graph.save(doc, tmp_path / "net.strata")
    code, out, err = run([str(tmp_path / "net.strata"), "--out", str(tmp_path / "run")],
                         capsys)
    assert code == 1
    assert err.startswith("strata train: training failed: The dataset 'Shapes")
    assert "Traceback" not in err + out


def test_ctrl_c_stops_cleanly_with_a_checkpoint(tmp_path, capsys):
    out_dir = tmp_path / "run"
    # Whatever handler the suite runs with (a background job ignores SIGINT) is the
    # one the command must restore.
    before = signal.getsignal(signal.SIGINT)

    def interrupt_after_first_epoch():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            log = out_dir / "metrics.jsonl"
            if log.exists() and '"event": "epoch"' in log.read_text():
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.02)

    threading.Thread(target=interrupt_after_first_epoch, daemon=True).start()
    code, out, _err = run([str(EXAMPLES / "spiral_mlp.strata"), "--epochs", "100000",
                          "--out", str(out_dir)], capsys)
    assert code == 130
    assert "stopping after this step" in out and "stopped after" in out
    assert f"checkpoint written: {out_dir / 'last.pt'}" in out
    saved = load_checkpoint(out_dir / "last.pt")
    assert saved["reason"] == "stop" and saved.step >= 11
    assert log_lines(out_dir)[-1]["event"] == "finished"
    assert signal.getsignal(signal.SIGINT) == before  # restored
