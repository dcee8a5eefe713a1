"""The exported train.py under a real torchrun: two processes (Gloo, CPU) end with the
weights one process reaches with the same global batch and seed; only rank 0 writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import torch
from transfer_helpers import EXAMPLES

import graph
from graph.export import read_state_dict
from runtime.export_train import export_training


def torchrun(folder, nproc: int, *args: str) -> str:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone",
         f"--nproc_per_node={nproc}", "train.py", "--device", "cpu", *args],
        cwd=folder, capture_output=True, text=True, timeout=300, env=env, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    return done.stdout


def test_two_processes_end_where_one_process_does(tmp_path):
    doc = graph.load(next(p for p in EXAMPLES if p.stem == "spiral_mlp"))
    doc.training.update(epochs=2, batch_size=32, dataset={"name": "spirals",
                                                          "size": 240})
    export_training(doc, tmp_path)
    two = torchrun(tmp_path, 2, "--out", "two", "--metrics", "two.jsonl", "--test")
    one = torchrun(tmp_path, 1, "--out", "one", "--metrics", "one.jsonl")
    # Only rank 0 prints and writes: one line per epoch, one log line per epoch.
    assert two.count("epoch 1/2") == 1 and two.count("epoch 2/2") == 1
    assert two.count("test loss") == 1
    assert sorted(p.name for p in (tmp_path / "two").iterdir()) == ["best.pt", "last.pt"]
    lines = [json.loads(line) for line in (tmp_path / "two.jsonl").read_text().split("\n")
             if line]
    assert [line["epoch"] for line in lines if line["event"] == "epoch"] == [1, 2]
    assert lines[-1]["event"] == "finished"
    # Each step saw the same 32 examples, split 16 + 16 over the two processes: the
    # weights agree up to the order float sums are taken in.
    mine, theirs = (read_state_dict(tmp_path / name / "last.pt") for name in ("two",
                                                                               "one"))
    assert mine.keys() == theirs.keys()
    for key, value in theirs.items():
        torch.testing.assert_close(mine[key], value, rtol=1e-4, atol=1e-5)
    losses = [[line["train_loss"] for line in map(json.loads, (tmp_path / name)
               .read_text().splitlines()) if line["event"] == "epoch"]
              for name in ("two.jsonl", "one.jsonl")]
    assert losses[0] == pytest.approx(losses[1], rel=1e-5)
