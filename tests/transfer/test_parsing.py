"""One input-shape rule for the CLI and the Import dialog: the permissive one."""

from __future__ import annotations

import pytest

from graph.errors import StrataError
from runtime.transfer import EXPORT_FORMATS, export_format, parse_argument, parse_shape
from runtime.transfer.formats import format_for_path


@pytest.mark.parametrize("text", ["1,3,32,32", "1x3x32x32", "(1, 3, 32, 32)", "1 3 32 32",
                                  "[1,3,32,32]", "1 \u00d7 3 \u00d7 32 \u00d7 32",
                                  " 1X3x32x32 ", "1,3,32,32,"])
def test_every_spelling_gives_the_same_shape(text):
    assert parse_shape(text) == (1, 3, 32, 32)


@pytest.mark.parametrize(("text", "says"), [
    ("a,b", "\u201ca\u201d in \u201ca,b\u201d is not one"),
    ("1.5,3", "\u201c1.5\u201d"),
    ("4", "at least two numbers"),
    ("", "at least two numbers"),
    ("1,0,3", "at least 1"),
    ("1,-3", "at least 1"),
])
def test_bad_shapes_say_what_is_wrong(text, says):
    with pytest.raises(StrataError, match=says):
        parse_shape(text)


def test_cli_arguments_are_literals_or_plain_text():
    assert parse_argument("hidden=16") == ("hidden", 16)
    assert parse_argument("sizes=[4, 8]") == ("sizes", [4, 8])
    assert parse_argument("path=/tmp/x y") == ("path", "/tmp/x y")
    with pytest.raises(StrataError, match="NAME=VALUE"):
        parse_argument("16")


def test_formats_are_declared_once_and_named_by_suffix():
    assert [f.id for f in EXPORT_FORMATS] == ["python", "train", "weights", "onnx"]
    assert format_for_path("net.py").id == "python"
    assert format_for_path("w.safetensors").id == "weights"
    assert format_for_path("m.ONNX").id == "onnx"
    assert format_for_path("folder") is None
    with pytest.raises(StrataError, match="expected one of python, train, weights, onnx"):
        export_format("keras")
