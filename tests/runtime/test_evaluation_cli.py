"""``strata evaluate`` and ``runtime.evaluation``: a real checkpoint of a real run, on
disk, evaluated from the command line; the numbers are the run's own validation numbers."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from training_helpers import EVERY_STEP, example, train

import graph
from graph.fileformat import document_to_dict
from runtime.evaluation import evaluate_checkpoint
from runtime.evaluation_cli import main
from runtime.events import EpochEvent


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The spiral MLP trained for one epoch: (network file, last.pt, its epoch event)."""
    folder = tmp_path_factory.mktemp("evaluate")
    doc = example("spiral_mlp")
    path = graph.save(doc, folder / "spiral.strata")
    _, events = train(doc, out_dir=folder / "run", epochs=1, options=EVERY_STEP)
    epoch = [e for e in events if isinstance(e, EpochEvent)][-1]
    return path, folder / "run" / "last.pt", epoch


def evaluate(capsys, *argv) -> tuple[int, str, str]:
    code = main(["evaluate", *map(str, argv)])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def test_prints_the_runs_own_validation_numbers(trained, capsys):
    path, checkpoint, epoch = trained
    code, out, err = evaluate(capsys, path, "--checkpoint", checkpoint)
    assert (code, err) == (0, "")
    first, *table = out.splitlines()
    assert first.startswith(f"{path}: On the validation set (200 examples): loss ")
    result = evaluate_checkpoint(checkpoint, document_to_dict(graph.load(path)))
    assert result.loss == pytest.approx(epoch.val_loss, rel=1e-5)
    assert result.metric == pytest.approx(epoch.val_metric, abs=1e-6)
    assert f"accuracy {result.metric:.1%}" in first
    # The confusion matrix, rows the true class: each row sums to that class's count.
    assert table[0].startswith("confusion (rows: true class")
    rows = [[int(v) for v in line.split()[2:]] for line in table[2:]]
    assert np.array_equal(np.array(rows), result.confusion)
    assert sum(map(sum, rows)) == 200


def test_the_test_split(trained, capsys):
    path, checkpoint, _ = trained
    code, out, _ = evaluate(capsys, path, "--checkpoint", checkpoint, "--split", "test")
    assert code == 0 and "On the test set (100 examples)" in out


def test_a_changed_network_says_what_changed(trained, capsys, tmp_path):
    path, checkpoint, _ = trained
    doc = graph.load(path)
    fc1 = doc.find_label("fc1").id
    doc.set_param(fc1, "out_features", 32)
    changed = graph.save(doc, tmp_path / "changed.strata")
    code, out, err = evaluate(capsys, changed, "--checkpoint", checkpoint)
    assert (code, out) == (1, "")
    assert err.startswith("strata evaluate: error: last.pt was trained from a different")
    assert "out_features changed from 64 to 32" in err and err.count("\n") == 1


def test_bad_files_and_usage(trained, capsys, tmp_path):
    path, checkpoint, _ = trained
    broken = tmp_path / "broken.strata"
    broken.write_text("{")
    assert evaluate(capsys, broken, "--checkpoint", checkpoint)[0] == 2
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    code, _, err = evaluate(capsys, path, "--checkpoint", junk)
    assert code == 1 and "junk.pt: not a readable Strata checkpoint" in err
    code, _, err = evaluate(capsys, path)
    assert code == 2 and "--checkpoint" in err
    code, _, err = evaluate(capsys, path, "--checkpoint", checkpoint, "--split", "train")
    assert code == 2 and "invalid choice" in err


def test_the_strata_command_dispatches_here(trained, tmp_path):
    path, checkpoint, _ = trained
    # A copy elsewhere: a relative dataset path would be read from the network's folder.
    copy = Path(shutil.copy(path, tmp_path / "net.strata"))
    strata = Path(sys.executable).with_name("strata")
    done = subprocess.run([str(strata), "evaluate", str(copy), "--checkpoint",
                           str(checkpoint)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert "On the validation set (200 examples)" in done.stdout
