"""Exported module + exported weights reproduce the trained model; ONNX is checked."""

from __future__ import annotations

import importlib.util

import pytest
import torch
from sklearn.datasets import make_moons
from transfer_helpers import EXAMPLES, inputs_for, run

import graph
from graph import state_dicts
from graph.errors import StrataError
from graph.importers import build_module
from graph.state_dicts import read_state_dict, safetensors_available
from runtime.transfer import onnx as onnx_export
from runtime.transfer import onnx_available
from runtime.transfer.onnx import export_onnx
from runtime.transfer.python import write_python
from runtime.transfer.weights import export_weights

SPIRAL = next(p for p in EXAMPLES if p.stem == "spiral_mlp")


def train_spiral(steps: int = 60):
    """The spiral MLP trained for a few real steps on two moons; returns the trained
    module, the document and the loss before and after."""
    doc = graph.load(SPIRAL)
    torch.manual_seed(0)
    model = graph.compile(doc)
    x, y = make_moons(256, noise=0.15, random_state=0)
    x = torch.tensor(x, dtype=torch.float32)
    y = torch.tensor(y)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    losses = []
    for _ in range(steps):
        loss = torch.nn.functional.cross_entropy(model(x), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return model, doc, losses


def save_checkpoint(model, doc, path):
    """A checkpoint as the runtime writes it: a dict whose "model" is the state_dict."""
    torch.save({"format": "strata-checkpoint", "version": 1, "model": model.state_dict(),
                "document": doc.to_dict(), "epoch": 1, "step": 60}, path)
    return path


def test_python_export_is_the_code_strata_compiles(tmp_path):
    doc = graph.load(SPIRAL)
    path = write_python(doc, tmp_path / "spiral.py")
    code = graph.generate_code(doc)
    assert path.read_text() == code.source
    module = build_module(path, code.class_name)
    assert set(module.state_dict()) == set(graph.compile(doc).state_dict())


@pytest.mark.parametrize("suffix", [".pt", ".safetensors"])
def test_exported_module_and_weights_reproduce_the_trained_model(tmp_path, suffix):
    if suffix == ".safetensors" and not safetensors_available():
        pytest.skip("safetensors is not installed (pip install safetensors)")
    model, doc, losses = train_spiral()
    assert losses[-1] < 0.5 * losses[0]  # it really trained
    checkpoint = save_checkpoint(model, doc, tmp_path / "last.pt")

    weights = export_weights(doc, checkpoint, tmp_path / f"spiral{suffix}")
    source = write_python(doc, tmp_path / "spiral.py")
    exported = build_module(source, graph.generate_code(doc).class_name)
    if suffix == ".pt":
        state = torch.load(weights, weights_only=True)
    else:
        from safetensors.torch import load_file

        state = load_file(weights)
    exported.load_state_dict(state, strict=True)

    x = inputs_for(doc, batch=64, seed=2)
    for a, b in zip(run(model, x), run(exported, x)):
        assert torch.equal(a, b)


def test_weights_from_a_checkpoint_the_engine_wrote(tmp_path):
    from runtime.engine import Trainer
    from runtime.events import FinishedEvent

    doc = graph.load(SPIRAL)
    doc.training.update(epochs=2, dataset={"name": "spirals", "size": 300})
    trainer = Trainer(doc, out_dir=tmp_path / "run")
    assert isinstance(trainer.run(), FinishedEvent)
    weights = export_weights(doc, tmp_path / "run" / "last.pt", tmp_path / "spiral.pt")
    exported = build_module(write_python(doc, tmp_path / "spiral.py"), "SpiralMLP")
    exported.load_state_dict(torch.load(weights, weights_only=True))
    x = inputs_for(doc, batch=32, seed=1)
    assert torch.equal(run(trainer.model, x)[0], run(exported, x)[0])


def test_weights_of_another_network_are_refused(tmp_path):
    model, doc, _ = train_spiral(steps=1)
    checkpoint = save_checkpoint(model, doc, tmp_path / "last.pt")
    other = graph.load(next(p for p in EXAMPLES if p.stem == "shapes_cnn"))
    with pytest.raises(StrataError) as caught:
        export_weights(other, checkpoint, tmp_path / "w.pt")
    message = str(caught.value)
    assert "the weights do not fit 'Shapes CNN'" in message
    assert "missing conv1.weight" in message
    assert "unexpected fc2.weight" in message or "wrong shapes" in message
    assert not (tmp_path / "w.pt").exists()


def test_a_file_that_is_no_checkpoint_is_refused(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a pickle at all")
    with pytest.raises(StrataError, match="junk.pt: not a PyTorch weights file"):
        read_state_dict(junk)
    plain = tmp_path / "plain.pt"
    torch.save({"epoch": 3}, plain)
    with pytest.raises(StrataError, match="holds no state_dict"):
        read_state_dict(plain)


def test_safetensors_without_the_package_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(state_dicts, "safetensors_available", lambda: False)
    with pytest.raises(StrataError, match="pip install safetensors"):
        export_weights(graph.load(SPIRAL), {}, tmp_path / "w.safetensors")


def test_onnx_without_the_extra_says_what_to_install(tmp_path, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(onnx_export.importlib.util, "find_spec",
                        lambda name, *a: None if name in ("onnx", "onnxscript")
                        else real(name, *a))
    with pytest.raises(onnx_export.OnnxUnavailableError) as caught:
        export_onnx(graph.load(SPIRAL), tmp_path / "spiral.onnx")
    assert "pip install strata-studio[onnx]" in str(caught.value)
    assert "onnx and onnxscript" in str(caught.value)
    assert not (tmp_path / "spiral.onnx").exists()


needs_onnx = pytest.mark.skipif(
    not onnx_available(), reason="the ONNX extra (onnx, onnxscript) is not installed: "
    "pip install strata-studio[onnx]")


@needs_onnx
def test_onnx_export_of_a_trained_model_matches_pytorch(tmp_path):
    import onnx

    model, doc, _ = train_spiral(steps=20)
    checkpoint = save_checkpoint(model, doc, tmp_path / "last.pt")
    report = export_onnx(doc, tmp_path / "spiral.onnx", state_dict=checkpoint)
    assert report.checked
    loaded = onnx.load(report.path)
    assert [i.name for i in loaded.graph.input] == ["x"]
    batch = loaded.graph.input[0].type.tensor_type.shape.dim[0]
    assert batch.dim_param and not batch.dim_value  # the batch size is dynamic
    if importlib.util.find_spec("onnxruntime") is None:
        pytest.skip("onnxruntime is not installed: outputs were not compared")
    assert report.max_abs_diff is not None and report.max_abs_diff <= 1e-5
    import onnxruntime as ort

    session = ort.InferenceSession(str(report.path), providers=["CPUExecutionProvider"])
    x = inputs_for(doc, batch=7, seed=4)
    (got,) = session.run(None, {"x": x[0].numpy()})
    (expected,) = run(model, x)
    assert torch.allclose(torch.from_numpy(got), expected, atol=1e-5)


@needs_onnx
def test_onnx_export_of_token_inputs_and_attention(tmp_path):
    doc = graph.load(next(p for p in EXAMPLES if p.stem == "transformer_classifier"))
    report = export_onnx(doc, tmp_path / "transformer.onnx")
    assert report.checked and report.opset >= 17
    if importlib.util.find_spec("onnxruntime") is not None:
        assert report.max_abs_diff <= 1e-5
        assert report.compared_batches == (1, 3)
