"""Importing a network built from blocks keeps the blocks: a torchvision-style ResNet
(BasicBlocks in nn.Sequential stages, written as real projects write it) arrives as a
stem, four stages and a head; its own state_dict loads strictly into the exported module
with equal outputs, and the exported code imports back to the same network."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import torch
from transfer_helpers import FIXTURES

import graph
from graph.importers import import_file, import_module
from runtime.transfer.python import write_python
from runtime.transfer.weights import export_weights


def _load_fixture(name: str):
    spec = importlib.util.spec_from_file_location(f"fixture_{name}", FIXTURES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    model = _load_fixture("resnet").ResNet()
    # Non-default BatchNorm statistics, as a trained model has.
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
    return model.eval()


@pytest.fixture(scope="module")
def imported(resnet):
    return import_module(resnet, [(2, 3, 32, 32)])


def test_resnet_arrives_as_stem_stages_and_head(imported):
    doc = imported.document
    top = [n.label for n in doc.nodes.values() if n.is_block]
    assert top == ["layer1", "layer2", "layer3"]
    assert len(doc.nodes) < 15  # not 50-odd flat cards
    names = {d.name for d in doc.blocks}
    assert {"BasicBlock", "Downsample", "Stage"} <= names
    # One definition per distinct structure, with instances where it is used: layer2
    # and layer3 are one Stage (first block downsamples), layer1 repeats a BasicBlock.
    assert [doc.nodes[i].params["block"] for _d, i in doc.blocks.instances_of("Stage")]
    assert len(doc.blocks.instances_of("Stage")) == 2
    assert len(doc.blocks.instances_of("BasicBlock")) == 2
    layer1 = next(n for n in doc.nodes.values() if n.label == "layer1")
    assert (layer1.params["block"], layer1.params["repeat"]) == ("BasicBlock", 2)
    source = graph.generate_code(doc).source
    assert source.count("class BasicBlock(nn.Module):") == 1
    assert "self.layer1 = nn.Sequential(BasicBlock(" in source


def test_original_state_dict_loads_strictly_with_equal_outputs(resnet, imported, tmp_path):
    net = graph.compile_network(imported.document)
    original = resnet.state_dict()
    assert set(net.module.state_dict()) == set(original)  # layer1.0.conv1.weight...
    net.module.load_state_dict(original, strict=True)
    net.module.eval()
    x = torch.randn(3, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(net.module(x), resnet(x), rtol=1e-4, atol=1e-5)
    assert imported.max_abs_diff is not None and imported.max_abs_diff < 1e-4
    # Exported weights load into the original class.
    path = export_weights(imported.document, original, tmp_path / "w.pt")
    fresh = _load_fixture("resnet").ResNet()
    fresh.load_state_dict(torch.load(path, weights_only=True), strict=True)


def test_exported_code_imports_back_to_the_same_network(imported, tmp_path):
    doc = imported.document
    path = write_python(doc, tmp_path / "resnet_export.py")
    again = import_file(f"{path}:{graph.generate_code(doc).class_name}", [(2, 3, 32, 32)])
    assert graph.generate_code(again.document).source == graph.generate_code(doc).source
    assert [n.label for n in again.document.nodes.values()] == [
        n.label for n in doc.nodes.values()]
    assert {d.name for d in again.document.blocks} == {d.name for d in doc.blocks}


def test_flat_import_stays_available(resnet):
    flat = import_module(resnet, [(2, 3, 32, 32)], blocks=False)
    assert not len(flat.document.blocks)
    assert any(n.label == "layer1_0_conv1" for n in flat.document.nodes.values())
