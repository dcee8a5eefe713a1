"""``strata check / summary``: output, exit codes, and one clear line (never a
traceback) for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from graph_helpers import EXAMPLES, chain_doc, wire

import graph
from graph.cli import main

RESIDUAL = next(p for p in EXAMPLES if p.stem == "residual_cnn")


def strata(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture
def broken(tmp_path) -> Path:
    doc = chain_doc(("Conv2d", {"out_channels": 16}, "conv"), ("MaxPool2d", {}),
                    ("MaxPool2d", {}), ("Linear", {"out_features": 10}, "fc"),
                    shape=(1, 28, 28), task="classification")
    fc = next(i for i, n in doc.nodes.items() if n.label == "fc")
    wire(doc, fc, doc.add_node("ReLU", {}, "dead").id)
    return graph.save(doc, tmp_path / "broken.strata")


@pytest.fixture
def corrupt(tmp_path) -> Path:
    data = json.loads(RESIDUAL.read_text())
    data["nodes"][3]["type"] = "Conv9d"
    path = tmp_path / "corrupt.strata"
    path.write_text(json.dumps(data))
    return path


# ---------------------------------------------------------------------- check
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_check_clean_example(capsys, path):
    code, out, err = strata(capsys, "check", str(path))
    count = len(graph.load(path).nodes)
    assert (code, out, err) == (0, f"{path}: no problems ({count} nodes)\n", "")


def test_check_lists_errors_then_warnings(capsys, broken):
    code, out, _ = strata(capsys, "check", str(broken))
    assert code == 1
    assert out.splitlines() == [
        (f"{broken}: node 'fc' (Linear): error: Linear 'fc' needs a flat input but "
        "receives (N, 16, 7, 7) (hint: insert a Flatten before it)"),
        (f"{broken}: node 'dead' (ReLU): warning: ReLU 'dead' does not lead to any Output, "
        "so its result is unused (hint: wire it towards an Output or delete it)"),
        f"{broken}: 1 error, 1 warning",
    ]


def test_check_problems_without_a_node(capsys, tmp_path):
    path = graph.save(graph.Document("Empty"), tmp_path / "empty.strata")
    code, out, _ = strata(capsys, "check", str(path))
    assert code == 1
    assert out.splitlines()[0] == (f"{path}: error: the network has no Input layer "
                                   "(hint: add an Input and set the shape of one example)")


def test_check_warnings_alone_pass(capsys, tmp_path):
    doc = chain_doc("ReLU")
    wire(doc, next(iter(doc.nodes)), doc.add_node("Tanh", {}, "spare").id)
    path = graph.save(doc, tmp_path / "warn.strata")
    code, out, _ = strata(capsys, "check", str(path))
    assert code == 0 and out.endswith(": 0 errors, 1 warning\n")


def test_check_unreadable_file(capsys, corrupt, tmp_path):
    code, out, err = strata(capsys, "check", str(corrupt))
    assert (code, out) == (2, "")
    assert err == f"{corrupt}: error: unknown layer type 'Conv9d' (at $.nodes[3].type)\n"
    code, _, err = strata(capsys, "check", str(tmp_path / "nope.strata"))
    assert code == 2
    assert err == f"{tmp_path / 'nope.strata'}: error: cannot read the file: No such file " \
        "or directory\n"


def test_check_several_files_exits_with_the_worst(capsys, broken, corrupt):
    code, out, err = strata(capsys, "check", str(EXAMPLES[0]), str(broken), str(corrupt))
    assert code == 2
    assert "no problems" in out and "1 error, 1 warning" in out and "Conv9d" in err


# ---------------------------------------------------------------------- summary
def test_summary_table(capsys):
    code, out, err = strata(capsys, "summary", str(RESIDUAL))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == 'Model: "Residual CNN"'
    assert lines[2].split() == ["Layer", "(type)", "Output", "shape", "Params", "MACs",
                                "Connected", "to"]
    skip = next(line for line in lines if line.startswith("skip1 (Add)"))
    assert skip.split() == ["skip1", "(Add)", "(N,", "16,", "28,", "28)", "0", "-",
                            "block1_bn2,", "stem_relu"]
    stem = next(line for line in lines if line.startswith("stem (Conv2d)"))
    # 16 filters of 1x3x3 plus biases; 16x28x28 outputs of 9 MACs each.
    assert stem.split()[6:8] == ["160", "112,896"]
    real = sum(p.numel() for p in graph.compile(graph.load(RESIDUAL)).parameters())
    assert f"Total params: {real:,} (" in out
    assert "Total MACs per example: 4,628,800 (4.63 M)" in out


def test_summary_parameter_counts_match_the_real_modules():
    from graph.summary import summarize

    for path in EXAMPLES:
        doc = graph.load(path)
        summary = summarize(doc)
        compiled = graph.compile_network(doc)
        for row in summary.rows:
            module = compiled.submodule(row.node_id)
            real = sum(p.numel() for p in module.parameters()) if module else 0
            assert row.params == real, (path.stem, row.name)
        assert summary.total_params == sum(
            p.numel() for p in compiled.module.parameters())


def test_summary_of_a_broken_network(capsys, broken):
    code, out, _ = strata(capsys, "summary", str(broken))
    assert code == 1
    assert "Total params: unknown until the network's errors are fixed (1 error; run " \
        "strata check)" in out
    assert "dead (ReLU) [unused]" in out


def test_summary_of_sizes_torch_cannot_build(capsys, tmp_path):
    """Counted from the catalog (nothing is built), and the size said in terabytes."""
    doc = chain_doc(("Conv2d", {"out_channels": 2**31 - 1}),
                    ("Conv2d", {"out_channels": 2**31 - 1}), shape=(3, 8, 8))
    path = graph.save(doc, tmp_path / "huge.strata")
    code, out, _ = strata(capsys, "summary", str(path))
    assert code == 0
    n = 3 * 9 * (2**31 - 1) + (2**31 - 1) ** 2 * 9 + 2 * (2**31 - 1)
    assert f"Total params: {n:,} (" in out and " TB as float32)" in out


def test_summary_of_an_unreadable_file(capsys, corrupt):
    code, out, err = strata(capsys, "summary", str(corrupt))
    assert (code, out) == (2, "") and err.count("\n") == 1


# ---------------------------------------------------------------------- entry point
def test_the_strata_command_dispatches_here(corrupt):
    strata_bin = Path(sys.executable).with_name("strata")
    done = subprocess.run([str(strata_bin), "check", str(RESIDUAL), str(corrupt)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stdout == f"{RESIDUAL}: no problems (23 nodes)\n"
    assert done.stderr == f"{corrupt}: error: unknown layer type 'Conv9d' " \
        "(at $.nodes[3].type)\n"
