"""Renaming a block's port moves the wires of every instance, at every depth, as one
edit that undoes and redoes exactly; a name two ports would share is refused."""

from __future__ import annotations

import pytest
from strata_paths import EXAMPLES

import graph
from graph import StrataError
from graph.block_edits import port_name_problem


def _port(body, kind: str, label: str) -> str:
    return next(n.id for n in body.nodes.values() if n.type == kind and n.label == label)


def _nested():
    """The blocks ResNet with its two blocks grouped into a Stage (so BasicBlock and
    DownBlock have instances inside another body), and the BasicBlock's Add grouped
    into a two-input block (ports ``in`` and ``in2``)."""
    doc = graph.load(EXAMPLES / "blocks_resnet.strata")
    stage = doc.group(["n5", "n6"], "Stage", "stage").result["instance"]
    basic = doc.blocks["BasicBlock"].body
    merge = basic.group(["n7"], "Merge", "merge").result["instance"]
    return doc, stage, merge


def test_renaming_ports_keeps_every_instance_wired_and_undoes_exactly():
    doc, stage, merge = _nested()
    assert graph.analyze(doc).ok
    code = graph.generate_code(doc).source
    code_doc = graph.fileformat.dumps(doc)
    before = doc.to_dict()
    basic, down = doc.blocks["BasicBlock"].body, doc.blocks["DownBlock"].body
    stage_body, merge_body = doc.blocks["Stage"].body, doc.blocks["Merge"].body
    assert doc.blocks["Merge"].input_ports == ["in", "in2"]

    edits = [
        basic.rename_port(_port(basic, "BlockInput", "in"), "x"),  # used in Stage
        down.rename_port(_port(down, "BlockOutput", "out"), "y"),  # Stage's output
        stage_body.rename_port(_port(stage_body, "BlockInput", "in"), "features"),
        merge_body.rename_port(_port(merge_body, "BlockInput", "in2"), "skip"),
    ]
    assert doc.blocks["BasicBlock"].input_ports == ["x"]
    assert doc.blocks["Merge"].input_ports == ["in", "skip"]
    assert {e.target_port for e in stage_body.edges_into("n5")} == {"x"}
    assert {e.source_port for e in stage_body.edges_from("n6")} == {"y"}
    assert [e.target_port for e in doc.edges_into(stage)] == ["features"]
    assert sorted(e.target_port for e in basic.edges_into(merge)) == ["in", "skip"]
    analysis = graph.analyze(doc)
    assert analysis.ok, analysis.problems
    # The forward of Merge takes the port by its new name; the modules are the same.
    renamed = graph.generate_code(doc).source
    assert "skip: torch.Tensor" in renamed and "skip: torch.Tensor" not in code
    keys = graph.compile_network(doc).module.state_dict().keys()
    assert list(keys) == list(graph.compile_network(graph.fileformat.loads(code_doc)).module
                              .state_dict().keys())
    after = doc.to_dict()
    assert graph.fileformat.loads(graph.fileformat.dumps(doc)).to_dict() == after

    for edit in reversed(edits):
        edit.undo()
    assert doc.to_dict() == before
    for edit in edits:
        edit.redo()
    assert doc.to_dict() == after


def test_port_names_are_checked_and_a_refusal_changes_nothing():
    doc, _stage, _merge = _nested()
    merge_body = doc.blocks["Merge"].body
    in2 = _port(merge_body, "BlockInput", "in2")
    before = doc.to_dict()
    assert "already has an input port named 'in'" in port_name_problem(merge_body, in2, "in")
    assert "Python name" in port_name_problem(merge_body, in2, "2nd")
    # An output may share an input's name: they are different kinds of port.
    assert port_name_problem(merge_body, _port(merge_body, "BlockOutput", "out"), "in") is None
    for name in ("in", "2nd", ""):
        with pytest.raises(StrataError):
            merge_body.rename_port(in2, name)
    with pytest.raises(StrataError, match="not a port"):
        merge_body.rename_port(next(n.id for n in merge_body.nodes.values()
                                    if n.type == "Add"), "x")
    assert doc.to_dict() == before
