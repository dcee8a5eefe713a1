"""``strata export`` and ``strata import`` on real files."""

from __future__ import annotations

import pytest
import torch
from test_export import SPIRAL, save_checkpoint, train_spiral
from transfer_helpers import FIXTURES, inputs_for, run

import graph
from graph.importers import build_module
from runtime.transfer import onnx_available
from runtime.transfer.cli import main


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


def test_export_of_an_unreadable_file_is_one_message(tmp_path, capsys):
    broken = tmp_path / "broken.strata"
    broken.write_text("{")
    assert main(["export", str(broken), "-o", str(tmp_path / "x.py")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{broken}: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_unknown_output_suffix_asks_for_the_format(tmp_path, capsys):
    assert main(["export", str(SPIRAL), "-o", str(tmp_path / "x.bin")]) == 2
    assert "--format" in capsys.readouterr().err


def test_export_replaces_an_existing_file(capsys, tmp_path):
    target = tmp_path / "net.py"
    target.write_text("old")
    assert main(["export", str(SPIRAL), "--output", str(target)]) == 0
    assert target.read_text().startswith('"""')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.py"]


def test_export_to_standard_output(capsys):
    assert main(["export", str(SPIRAL)]) == 0
    assert capsys.readouterr().out == graph.generate_code(graph.load(SPIRAL)).source


def test_export_refuses_a_broken_network(capsys, tmp_path):
    doc = graph.Document("Broken")
    image = doc.add_node("Input", {"shape": [1, 28, 28]}).id
    fc = doc.add_node("Linear", {"out_features": 10}, "fc").id
    out = doc.add_node("Output", {"task": "classification"}).id
    doc.connect(graph.Edge(image, "out", fc, "in"))
    doc.connect(graph.Edge(fc, "out", out, "in"))
    broken = graph.save(doc, tmp_path / "broken.strata")
    target = tmp_path / "net.py"
    assert main(["export", str(broken), "-o", str(target)]) == 1
    out_text, err = capsys.readouterr()
    assert out_text == ""
    assert err.splitlines()[-1] == f"{broken}: cannot export: the network has 1 error"
    assert "node 'fc' (Linear): error:" in err and "flat input" in err
    assert not target.exists()


def test_export_reports_files_it_cannot_write(capsys, tmp_path):
    assert main(["export", str(SPIRAL), "-o", str(tmp_path)]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    assert main(["export", str(SPIRAL), "--format", "python", "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err.startswith(f"{tmp_path}: error: cannot write: ")


def test_export_will_not_overwrite_the_network_itself(capsys, tmp_path):
    path = graph.save(graph.load(SPIRAL), tmp_path / "net.strata")
    assert main(["export", str(path), "--format", "python", "-o", str(path)]) == 2
    assert "refusing to overwrite the network file itself" in capsys.readouterr().err
    assert graph.load(path).name == graph.load(SPIRAL).name


def test_usage_errors_come_from_argparse(capsys):
    assert main(["export"]) == 2
    assert "the following arguments are required: FILE" in capsys.readouterr().err
    assert main(["export", str(SPIRAL), "--format", "onnx"]) == 2
    assert "--format onnx needs -o PATH" in capsys.readouterr().err


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
    assert "--input-shape" in capsys.readouterr().err
    assert main(["import", f"{FIXTURES / 'mlp.py'}:MLP", "--input-shape", "a,b",
                 "-o", str(tmp_path / "n.strata")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("strata import: error: --input-shape: ") and "\u201ca\u201d" in err


def test_import_takes_a_spelled_out_shape(tmp_path):
    # The CLI reads --input-shape with parse_shape, whose every spelling
    # test_parsing.py checks; the import (a process of its own, seconds) runs once.
    out = tmp_path / "mlp.strata"
    assert main(["import", f"{FIXTURES / 'mlp.py'}:make_mlp", "--input-shape", "(4 \u00d7 2)",
                 "--arg", "hidden=16", "-o", str(out)]) == 0
    (node,) = [n for n in graph.load(out).nodes.values() if n.type == "Input"]
    assert node.params["shape"] == [2]


def test_import_infers_token_ids_without_input_dtype(tmp_path, capsys):
    """An input an Embedding reads is imported as long token ids, no flag needed."""
    from pathlib import Path

    zoo = Path(__file__).with_name("zoo_models.py")
    out = tmp_path / "tagger.strata"
    assert main(["import", f"{zoo}:LSTMTagger", "--input-shape", "2,7", "--task",
                 "regression", "-o", str(out)]) == 0
    doc = graph.load(out)
    (node,) = [n for n in doc.nodes.values() if n.type == "Input"]
    assert node.params["dtype"] == "long"


def test_import_report_says_what_each_layer_was_and_where(tmp_path, capsys):
    """--report: per layer of the imported network (through its blocks), the module path
    or operation it came from and the source line."""
    out = tmp_path / "resnet.strata"
    rc = main(["import", f"{FIXTURES / 'resnet.py'}:ResNet", "--input-shape", "1,3,32,32",
               "--report", "-o", str(out)])
    assert rc == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(line for line in lines if line.startswith("layer2 > 0 > downsample > 0 "))
    assert row.split()[-3:] == ["nn.Conv2d", "'layer2.0.downsample.0'", "(resnet.py:43)"]
    add = next(line for line in lines if line.startswith("layer1 > 1 > add "))
    assert "the operator + in layer1.1.forward  (resnet.py:45)" in add
    assert any(line.startswith("fc ") and "nn.Linear 'fc'" in line for line in lines)
