"""ONNX export keeps the nesting of blocks as scopes in the node names, as the
TorchScript exporter wrote them (``/layer1/layer1.0/relu/Relu``): torch's dynamo
exporter names nodes flatly and records the scopes only as node metadata. An
operation written in ``forward`` (``a + b``, ``torch.relu(x)``) is in its class's
scope (``/layer1/layer1.0/Relu``)."""

from __future__ import annotations

import pytest
from strata_paths import EXAMPLES

import graph
from runtime.transfer.onnx import export_onnx, onnx_available
from runtime.transfer.onnx_scopes import scope_path


def test_scope_paths_read_like_the_torchscript_exporter():
    assert scope_path(["", "layer1", "layer1.0", "layer1.0.conv1", "conv2d"]) == [
        "layer1", "layer1.0", "conv1"]
    assert scope_path(["", "stage", "stage.block", "stage.block.2", "stage.block.2.fc",
                       "linear"]) == ["stage", "block", "stage.block.2", "fc"]
    assert scope_path(["", "relu"]) == []


@pytest.mark.skipif(not onnx_available(), reason="needs the onnx extra")
def test_onnx_node_names_follow_the_blocks(tmp_path):
    import onnx

    doc = graph.load(EXAMPLES / "blocks_resnet.strata")
    report = export_onnx(doc, tmp_path / "net.onnx")
    assert report.checked
    assert report.max_abs_diff is None or report.max_abs_diff < 1e-4
    names = [n.name for n in onnx.load(tmp_path / "net.onnx").graph.node]
    assert len(set(names)) == len(names)
    # layer1 repeats BasicBlock twice (an nn.Sequential): each copy is its own scope.
    for copy in ("layer1.0", "layer1.1"):
        assert f"/layer1/{copy}/bn1/Conv" in names  # BatchNorm folded into the conv
        # `torch.relu(h)` and `a + b` in forward: the block's own scope.
        assert f"/layer1/{copy}/Relu" in names and f"/layer1/{copy}/Add" in names
    assert "/layer2/Relu" in names and "/classifier/Gemm" in names
    assert all(name.startswith("/") for name in names), names
