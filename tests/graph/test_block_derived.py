"""Derived block parameters: MobileNetV2's inverted residual widens its input by
``expand_ratio`` (the hidden width is ``in_channels * expand_ratio``, not a number of
its own); the width follows the input and the ratio in analysis, parameter counts,
code (written as a careful person writes it, ruff-clean, runnable on its own), files,
the block library and ungrouping; a bad expression is refused with its place."""

from __future__ import annotations

import json

import pytest
import torch
from graph_helpers import random_inputs, ruff

import graph
from graph.block_derived import DerivedParam, check_expression
from graph.block_files import block_from_text, block_to_text
from graph.block_insert import insert_block
from graph.block_library import builtin_document
from graph.builder import Builder
from graph.document import Edge
from graph.errors import DocumentError, StrataError
from graph.fileformat import dumps, loads


def _mobilenet(ratio: int = 6, stem: int = 16):
    """stem conv -> InvertedResidual -> InvertedResidualDown (to 24) -> head."""
    b = Builder("Mobile")
    h = b.chain(b.add("Input", shape=[3, 16, 16]),
                ("Conv2d", {"out_channels": stem}, "stem"))
    doc = b.doc
    blocks = []
    for name, params in (("InvertedResidual", {"channels": stem}),
                         ("InvertedResidualDown", {"channels": 24})):
        edit = insert_block(doc, builtin_document(name), name,
                            {**params, "expand_ratio": ratio}, name.lower())
        blocks.append(edit.result["instance"])
    doc.connect(Edge(h, "out", blocks[0], "in"))
    doc.connect(Edge(blocks[0], "out", blocks[1], "in"))
    b.chain(blocks[1], "Flatten", ("Linear", {"out_features": 3}, "fc"),
            ("Output", {"task": "classification"}))
    return b.done(), blocks


def _expected_params(stem: int, ratio: int) -> int:
    def block(cin: int, cout: int) -> int:
        hidden = cin * ratio
        return (cin * hidden + 2 * hidden  # expand 1x1 + BN
                + hidden * 9 + 2 * hidden  # depthwise 3x3 + BN
                + hidden * cout + 2 * cout)  # project 1x1 + BN
    stem_params = 3 * stem * 9 + stem
    return stem_params + block(stem, stem) + block(stem, 24) + 24 * 8 * 8 * 3 + 3


@pytest.mark.parametrize(("ratio", "stem"), [(6, 16), (4, 8), (1, 16)])
def test_the_hidden_width_is_the_input_times_the_ratio(ratio, stem):
    doc, (ir, down) = _mobilenet(ratio, stem)
    analysis = graph.analyze(doc)
    assert analysis.ok, [p.message for p in analysis.problems]
    for instance, cin in ((ir, stem), (down, stem)):
        (run,) = analysis.shapes[instance].values["runs"]
        assert run.derived == {"hidden_channels": cin * ratio}
        expand = next(n for n in run.doc.nodes.values() if n.label == "expand")
        assert expand.params["out_channels"] == cin * ratio
    net = graph.compile_network(doc)
    count = sum(p.numel() for p in net.module.parameters())
    assert count == _expected_params(stem, ratio) == graph.summarize(doc).total_params


def test_code_computes_the_hidden_width_once_and_runs_on_its_own(tmp_path):
    doc, _ = _mobilenet()
    net = graph.compile_network(doc)
    source = net.code.source
    assert ("    def __init__(\n        self, in_channels: int, channels: int, "
            "expand_ratio: int, stride: int\n    ) -> None:\n        super().__init__()\n"
            "        hidden_channels = in_channels * expand_ratio\n"
            "        self.expand = nn.Conv2d(in_channels, hidden_channels, 1, bias=False)\n"
            "        self.expand_bn = nn.BatchNorm2d(hidden_channels)\n") in source
    # With an identity shortcut the input has the block's own channels.
    assert ("        hidden_channels = channels * expand_ratio\n"
            "        self.expand = nn.Conv2d(channels, hidden_channels, 1, bias=False)\n"
            ) in source
    assert "groups=hidden_channels" in source
    assert "InvertedResidualDown(\n            16, 24, expand_ratio=6, stride=2\n" in source
    path = tmp_path / "mobile.py"
    path.write_text(source, "utf-8")
    assert ruff("check", str(path)).returncode == 0
    assert ruff("format", "--check", str(path)).returncode == 0
    # The class is usable as written: other widths build other weights.
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)  # noqa: S102 - our own code
    wide = namespace["InvertedResidualDown"](8, 32, expand_ratio=3, stride=2)
    assert wide.expand.weight.shape == (24, 8, 1, 1)
    assert wide.depthwise.groups == 24
    assert wide(torch.randn(2, 8, 10, 10)).shape == (2, 32, 5, 5)
    module = net.module.eval()
    x = random_inputs(doc, net.code, batch=2)
    assert module(*x).shape == (2, 3)


def test_the_ratio_is_an_instance_parameter_and_edits_follow():
    doc, (ir, _down) = _mobilenet(6, 16)
    before = graph.summarize(doc).total_params
    assert doc.nodes[ir].spec.param("expand_ratio").kind == "int"
    doc.set_param(ir, "expand_ratio", 2)
    after = graph.summarize(doc).total_params
    assert after < before
    hidden = next(n for n in graph.analyze(doc).shapes[ir].values["runs"][0].doc.nodes
                  .values() if n.label == "depthwise")
    assert hidden.params["groups"] == 32


def test_files_and_the_library_keep_derived_parameters():
    doc, _ = _mobilenet(4, 8)
    again = loads(dumps(doc))
    assert again == doc
    derived = again.blocks["InvertedResidualDown"].derived
    assert [(d.name, d.expression) for d in derived] == [
        ("hidden_channels", "in_channels * expand_ratio")]
    assert graph.generate_code(again).source == graph.generate_code(doc).source
    name, lib_doc = block_from_text(block_to_text(doc, "InvertedResidualDown"))
    assert lib_doc.blocks[name].derived[0].targets == derived[0].targets
    # Without derived parameters, nothing new is written (older files stay as they were).
    assert "derived" not in json.loads(dumps(builtin_document("BasicBlock")))["blocks"][0]


def test_ungrouping_writes_the_widths_each_copy_had():
    doc, (_ir, down) = _mobilenet(4, 8)
    count = graph.summarize(doc).total_params
    made = doc.ungroup(down).result["nodes"]
    expand = next(doc.nodes[i] for i in made.values() if doc.nodes[i].label == "expand")
    assert expand.params["out_channels"] == 32
    assert graph.analyze(doc).ok and graph.summarize(doc).total_params == count


def test_a_bad_expression_is_refused_with_its_place():
    check_expression("in_channels * expand_ratio", ["expand_ratio"])
    with pytest.raises(StrataError, match="reads `ratio`"):
        check_expression("in_channels * ratio", ["expand_ratio"])
    with pytest.raises(StrataError, match=r"only use whole numbers"):
        check_expression("__import__('os').getcwd()", [])
    with pytest.raises(StrataError, match="not an expression"):
        check_expression("in_channels *", [])
    doc, _ = _mobilenet()
    data = json.loads(dumps(doc))
    data["blocks"][1]["derived"][0]["expression"] = "in_channels ** 2"
    with pytest.raises(DocumentError) as error:
        loads(json.dumps(data))
    assert error.value.where == "$.blocks[1].derived[0].expression"
    # A ratio that is no whole number is refused on the instance, in the user's terms.
    doc, (ir, _down) = _mobilenet()
    doc.nodes[ir].params["expand_ratio"] = 1.5  # behind the inspector's checks
    messages = [p.message for p in graph.analyze(doc).problems]
    assert any("`expand_ratio`, expected an integer" in m and "1.5" in m
               for m in messages), messages
    # An expression that cannot be evaluated for a use names itself.
    definition = doc.blocks["InvertedResidual"]
    definition.derived[0].expression = "channels // (expand_ratio - expand_ratio)"
    doc.nodes[ir].params["expand_ratio"] = 6
    doc.blocks._runs.clear()  # edited behind the library's back: forget old analyses
    messages = [p.message for p in graph.analyze(doc).problems]
    assert any("hidden_channels = channels // (expand_ratio - expand_ratio)` divides by "
               "zero" in m for m in messages), messages
    assert DerivedParam("h", "in_features * 2").uses_input() == ["in_features"]
