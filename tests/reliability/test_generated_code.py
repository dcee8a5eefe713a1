"""User strings in generated code: never code, always valid Python that ruff formats.

A CSV named ``x\"\"\";import os;...;\"\"\"y.csv`` used to close train.py's docstring and
run on ``python train.py --help``; a network name with ``\\N`` or NUL made train.py a
SyntaxError while the export exited 0."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest
from reliability_helpers import chain

import graph
from graph.pysource import GeneratedCodeError, prose, py_string, write_source
from runtime.transfer.train_script import export_training

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")


def ruff_format_check(*files: Path) -> None:
    result = subprocess.run([str(RUFF), "format", "--check", "--no-cache",
                             *map(str, files)], capture_output=True, text=True,
                            check=False, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def hostile_csv(folder: Path, marker: Path) -> Path:
    payload = f"import pathlib;pathlib.Path({str(marker)!r}).touch()"
    name = f'x""";{payload};"""y.csv'
    if os.sep in name:  # pragma: no cover - the marker path has slashes
        name = name.replace(os.sep, "_")
    path = folder / name
    lines = ["a,b,label"] + [f"{i % 7},{i % 3},{'yes' if i % 2 else 'no'}"
                             for i in range(60)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_csv_named_to_close_the_docstring_runs_nothing(tmp_path):
    marker = tmp_path / "PWNED"
    data = tmp_path / "data"
    data.mkdir()
    # The payload cannot hold a slash in a file name: it touches a relative marker.
    payload = "import pathlib;pathlib.Path('PWNED').touch()"
    csv = data / f'x""";{payload};"""y.csv'
    csv.write_text("a,b,label\n" + "".join(
        f"{i % 7},{i % 3},{'yes' if i % 2 else 'no'}\n" for i in range(60)))
    doc = chain([("Linear", {"out_features": 2})], [2], task="classification",
                name='Net """ \\N{BULLET} \x00 \u200bname')
    doc.training = {"dataset": {"name": "csv", "path": str(csv)}, "epochs": 1}
    out = tmp_path / "export"
    export_training(doc, out)
    script = out / "train.py"
    source = script.read_text(encoding="utf-8")
    ast.parse(source)
    result = subprocess.run([sys.executable, str(script), "--help"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert not marker.exists() and not (out / "PWNED").exists()
    # The file name is still the file the script reads.
    namespace: dict = {}
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == \
                "DATA_FILE":
            namespace["path"] = ast.literal_eval(node.value.args[0])
    assert namespace["path"] == str(csv)
    ruff_format_check(*out.glob("*.py"))


HOSTILE = ["\\N", "\x00", '"""', "'''", "\\", "\u200bzero width", "\x1b[31mred",
           "line\nbreak", "\u2028sep", "\ud800", '"quoted"', "#", "a" * 300, " \t ",
           "@DATA@", "{x}", "%s", "\r\n"]


@pytest.mark.parametrize("text", HOSTILE, ids=[repr(t)[:20] for t in HOSTILE])
def test_prose_and_literals_stay_python(text):
    docstring = f'"""{prose(text)} """\n# {prose(text)}\nx = {py_string(text)}\n'
    tree = ast.parse(docstring)
    assert ast.literal_eval(tree.body[-1].value) == text
    assert "\n" not in prose(text) and not prose(text).startswith(" \u200b")


def test_a_generated_file_that_does_not_parse_is_an_error_never_a_file(tmp_path):
    target = tmp_path / "train.py"
    with pytest.raises(GeneratedCodeError, match="not valid Python.*line 1"):
        write_source(target, "def broken(:\n", "train.py")
    assert not target.exists() and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("text", HOSTILE[:12], ids=[repr(t)[:20] for t in HOSTILE[:12]])
def test_model_code_from_hostile_names_parses_and_is_ruff_formatted(text, tmp_path):
    doc = chain([("Linear", {"out_features": 2})], [3], name=f"{text}net")
    doc.description = f"{text} first\n\n{text}"
    for node in doc.nodes.values():
        node.label = f"{text}{node.label}"[:200]
    source = graph.generate_code(doc).source
    ast.parse(source)
    path = tmp_path / "model.py"
    path.write_text(source, encoding="utf-8")
    ruff_format_check(path)
