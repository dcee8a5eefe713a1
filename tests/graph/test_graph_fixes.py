"""``graph.fixes`` headless: ``fix_all`` and ``strata check --fix`` on real files (the
studio's Fix buttons are tested through the controller in tests/studio/test_fixes.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from graph_helpers import EXAMPLES

import graph
from graph.builder import Builder
from graph.cli import main
from graph.fixes import fix_all


def cnn_without_flatten_or_output() -> graph.Document:
    """Two problems with obvious fixes: a Linear fed an image, and no Output."""
    b = Builder("Broken CNN")
    x = b.add("Input", shape=[1, 28, 28])
    conv = b.chain(x, ("Conv2d", {"out_channels": 4}, "conv"), ("MaxPool2d", {}, "pool"))
    b.chain(conv, ("Linear", {"out_features": 3}, "fc"))
    return b.done({"dataset": {"name": "shapes"}})


def test_fix_all_applies_one_fix_at_a_time_until_none_is_left():
    doc = cnn_without_flatten_or_output()
    assert not graph.analyze(doc).ok
    done = fix_all(doc)
    assert done == ["Add an Output after 'fc'", "Insert a Flatten before 'fc'"]
    assert graph.analyze(doc).ok
    assert fix_all(doc) == []  # nothing left to do


def test_check_fix_saves_the_fixed_network_and_says_what_it_did(tmp_path, capsys):
    path = graph.save(cnn_without_flatten_or_output(), tmp_path / "cnn.strata")
    os.chmod(path, 0o640)
    assert main(["check", "--fix", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.splitlines() == [
        f"{path}: fixed: Add an Output after 'fc'",
        f"{path}: fixed: Insert a Flatten before 'fc'",
        f"{path}: saved with 2 fixes",
        f"{path}: no problems (6 nodes)",
    ]
    doc = graph.load(path)
    assert graph.analyze(doc).ok and doc.training == {"dataset": {"name": "shapes"}}
    assert os.stat(path).st_mode & 0o777 == 0o640  # rewritten in place, mode kept
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cnn.strata"]  # atomic


def test_check_fix_leaves_alone_what_has_no_obvious_fix(tmp_path, capsys):
    b = Builder("Two loose ends")  # no Output, and which end gets one is not obvious
    x = b.add("Input", shape=[4])
    b.chain(x, ("Linear", {"out_features": 3}, "a"))
    b.chain(x, ("Linear", {"out_features": 3}, "b"))
    path = graph.save(b.done(), tmp_path / "two.strata")
    clean = graph.save(graph.load(EXAMPLES[0]), tmp_path / "clean.strata")
    before = {p: p.read_bytes() for p in (path, clean)}
    code = main(["check", "--fix", str(path), str(clean)])
    out, _ = capsys.readouterr()
    assert "fixed:" not in out and "saved with" not in out
    assert {p: p.read_bytes() for p in (path, clean)} == before  # not rewritten
    assert code == 1 and "no Output" in out


def test_check_fix_of_an_unreadable_file(tmp_path, capsys):
    bad = tmp_path / "bad.strata"
    bad.write_text(json.dumps({"format": "strata", "version": 1, "nodes": 3}))
    assert main(["check", "--fix", str(bad)]) == 2
    assert capsys.readouterr().err.startswith(f"{bad}: error: ")
    assert json.loads(bad.read_text())["nodes"] == 3


def test_the_strata_command_fixes_a_file(tmp_path):
    path = graph.save(cnn_without_flatten_or_output(), tmp_path / "cnn.strata")
    strata = Path(sys.executable).with_name("strata")
    done = subprocess.run([str(strata), "check", str(path), "--fix"], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "saved with 2 fixes" in done.stdout
    assert graph.analyze(graph.load(path)).ok
