"""Exports of networks built from blocks: train.py repeats Strata's run and its weights,
ONNX matches PyTorch (the nesting kept as the exporter's scopes where it allows)."""

from __future__ import annotations

import pytest
import torch
from test_export_train import assert_same_curve, example, script_curve, strata_curve

from graph.state_dicts import read_state_dict
from runtime.transfer.onnx import export_onnx, onnx_available
from runtime.transfer.train_script import export_training


def _spiral_with_blocks():
    doc = example("spiral_mlp", epochs=2)
    ids = [n.id for n in doc.nodes.values() if n.label in ("fc2",)]
    ids += [e.target for e in doc.edges if e.source == ids[0]]  # its ReLU
    edit = doc.group(ids, "Hidden", "hidden")
    doc.set_repeat(edit.result["instance"], 2)
    return doc


def test_train_script_repeats_the_run_of_a_network_with_blocks(tmp_path):
    doc = _spiral_with_blocks()
    runs = tmp_path / "strata"
    expected = strata_curve(doc, runs)
    export_training(doc, tmp_path / "export")
    source = (tmp_path / "export" / "spiral_mlp.py").read_text("utf-8")
    assert "class Hidden(nn.Module):" in source
    got = script_curve(tmp_path / "export", "--device", "cpu", "--out", "ckpt")
    assert_same_curve(expected, got)
    mine = read_state_dict(tmp_path / "export" / "ckpt" / "last.pt")
    theirs = read_state_dict(runs / "last.pt")
    assert theirs.keys() == mine.keys() and "hidden.1.fc2.weight" in mine
    for key, value in theirs.items():
        assert torch.equal(value, mine[key]), key


@pytest.mark.skipif(not onnx_available(), reason="needs the onnx extra")
def test_onnx_export_of_a_network_with_blocks_matches_pytorch(tmp_path):
    report = export_onnx(_spiral_with_blocks(), tmp_path / "net.onnx")
    assert report.checked
    assert report.max_abs_diff is None or report.max_abs_diff < 1e-4
