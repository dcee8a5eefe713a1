"""``strata export`` and ``strata import`` on real files."""

from __future__ import annotations

import pytest
import torch
from test_export import SPIRAL, save_checkpoint, train_spiral
from transfer_helpers import FIXTURES, inputs_for, run

import graph
from graph.export import onnx_available
from graph.importers import build_module
from runtime.transfer_cli import main


def test_export_python(tmp_path, capsys):
    out = tmp_path / "spiral.py"
    assert main(["export", str(SPIRAL), "-o", str(out)]) == 0
    assert out.read_text() == graph.generate_code(graph.load(SPIRAL)).source
    assert "class SpiralMLP" in capsys.readouterr().out


def test_export_weights_from_a_checkpoint(tmp_path):
    model, doc, _ = train_spiral(steps=5)
    checkpoint = save_checkpoint(model, doc, tmp_path / "last.pt")
    out = tmp_path / "spiral.pt"
    assert main(["export", str(SPIRAL), "--format", "weights", "--checkpoint",
                 str(checkpoint), "-o", str(out)]) == 0
    exported = graph.compile(doc)
    exported.load_state_dict(torch.load(out, weights_only=True))
    x = inputs_for(doc, batch=8)
    assert torch.equal(run(model, x)[0], run(exported, x)[0])


def test_export_weights_needs_a_checkpoint(tmp_path, capsys):
    assert main(["export", str(SPIRAL), "-o", str(tmp_path / "w.pt")]) == 1
    assert "needs --checkpoint" in capsys.readouterr().err


def test_export_of_a_broken_file_is_one_message(tmp_path, capsys):
    broken = tmp_path / "broken.strata"
    broken.write_text("{")
    assert main(["export", str(broken), "-o", str(tmp_path / "x.py")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("strata export: error: ") and "broken.strata" in err
    assert "Traceback" not in err


def test_unknown_output_suffix_asks_for_the_format(tmp_path, capsys):
    assert main(["export", str(SPIRAL), "-o", str(tmp_path / "x.bin")]) == 1
    assert "--format" in capsys.readouterr().err


@pytest.mark.skipif(not onnx_available(), reason="the ONNX extra is not installed")
def test_export_onnx(tmp_path, capsys):
    out = tmp_path / "spiral.onnx"
    assert main(["export", str(SPIRAL), "-o", str(out)]) == 0
    assert out.exists() and "checked" in capsys.readouterr().out


def test_import_a_tutorial_network(tmp_path, capsys):
    out = tmp_path / "net.strata"
    rc = main(["import", f"{FIXTURES / 'lenet.py'}:Net", "--input-shape", "1,3,32,32",
               "-o", str(out)])
    assert rc == 0
    doc = graph.load(out)
    assert graph.validate(doc) == []
    assert sum(n.type == "Conv2d" for n in doc.nodes.values()) == 2
    assert "wrote" in capsys.readouterr().out


def test_import_with_arguments_and_weights(tmp_path):
    original = build_module(FIXTURES / "mlp.py", "make_mlp", {"hidden": 16})
    weights = tmp_path / "trained.pt"
    torch.save(original.state_dict(), weights)
    out = tmp_path / "mlp.strata"
    assert main(["import", f"{FIXTURES / 'mlp.py'}:make_mlp", "--input-shape", "4,2",
                 "--arg", "hidden=16", "--task", "classification", "--weights",
                 str(weights), "-o", str(out)]) == 0
    doc = graph.load(out)
    model = graph.compile(doc)
    model.load_state_dict(torch.load(tmp_path / "mlp.pt", weights_only=True))
    x = inputs_for(doc, batch=6)
    assert torch.equal(run(original, x)[0], run(model, x)[0])


def test_import_of_token_ids(tmp_path):
    out = tmp_path / "gru.strata"
    assert main(["import", f"{FIXTURES / 'rnn.py'}:GRUTextClassifier", "--input-shape",
                 "1,10", "--input-dtype", "long", "-o", str(out)]) == 0
    (node,) = [n for n in graph.load(out).nodes.values() if n.type == "Input"]
    assert node.params == {"shape": [10], "dtype": "long"}


def test_import_of_an_unmappable_module_lists_the_operations(tmp_path, capsys):
    out = tmp_path / "net.strata"
    rc = main(["import", f"{FIXTURES / 'unmappable.py'}:CustomOpNet", "--input-shape",
               "1,8", "-o", str(out)])
    assert rc == 1
    err = capsys.readouterr().err
    assert "nn.RReLU at 'act'" in err and "Tensor.std" in err
    assert not out.exists()


def test_usage_errors(tmp_path, capsys):
    assert main(["import", "x.py:Net", "-o", str(tmp_path / "n.strata")]) == 2
    assert main(["import", f"{FIXTURES / 'mlp.py'}:MLP", "--input-shape", "a,b",
                 "-o", str(tmp_path / "n.strata")]) == 1
    assert "--input-shape expects" in capsys.readouterr().err
