"""The exported train.py under a real torchrun (Gloo, CPU), launched by
`strata train --nproc 2`: it finishes, only rank 0 writes, rank 0's progress streams as
events, and the weights equal those one process reaches with the same global batch and
seed (up to the order float sums are taken in)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from transfer_helpers import EXAMPLES

import graph
from graph.state_dicts import read_state_dict
from runtime.cli import main
from runtime.runfolder import open_run


def torchrun(folder, nproc: int, *args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone",
         f"--nproc_per_node={nproc}", "train.py", "--device", "cpu", *args],
        cwd=folder, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def epochs_of(path) -> list[dict]:
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    return [line for line in lines if line["event"] == "epoch"]


def test_two_processes_end_where_one_process_does(tmp_path, capsys):
    doc = graph.load(next(p for p in EXAMPLES if p.stem == "spiral_mlp"))
    doc.training.update(epochs=2, batch_size=32, device="cpu",
                        dataset={"name": "spirals", "size": 240})
    graph.save(doc, tmp_path / "spiral.strata")
    run = tmp_path / "run"
    code = main(["train", str(tmp_path / "spiral.strata"), "--nproc", "2", "--out",
                 str(run)])
    out, err = capsys.readouterr()
    assert code == 0, err
    # Rank 0's progress, streamed as events: one line per epoch, not one per process.
    assert out.count("epoch 1/2:") == 1 and out.count("epoch 2/2:") == 1
    assert "finished after 2 epochs" in out
    saved = open_run(run)
    assert [e.epoch for e in saved.events if type(e).__name__ == "EpochEvent"] == [1, 2]
    assert list(run.glob("events.out.tfevents.*"))  # TensorBoard, as for any run
    # Only rank 0 writes: its checkpoints, its log (one line per epoch).
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.pt",
                                                                        "last.pt"]
    assert [e["epoch"] for e in epochs_of(run / "rank0.jsonl")] == [1, 2]

    # The same script in one process under torchrun: same examples in every step.
    torchrun(run / "code", 1, "--out", "one", "--metrics", "one.jsonl")
    two = read_state_dict(run / "checkpoints" / "last.pt")
    one = read_state_dict(run / "code" / "one" / "last.pt")
    assert two.keys() == one.keys()
    for key, value in one.items():
        torch.testing.assert_close(two[key], value, rtol=1e-4, atol=1e-5)
    losses = [[e["train_loss"] for e in epochs_of(p)]
              for p in (run / "rank0.jsonl", run / "code" / "one.jsonl")]
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
