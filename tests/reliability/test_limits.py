"""Anything that can be saved can be loaded: the limits are declared once
(graph.limits), edits are refused where they enter (the inspector says why), and save
checks that its output would load."""

from __future__ import annotations

import json

import pytest
from reliability_helpers import chain

import graph
from graph.errors import DocumentError
from graph.limits import MAX_LABEL


def doc():
    return chain([("Linear", {"out_features": 3})], [4])


def fc(d):
    return next(n for n in d.nodes.values() if n.type == "Linear")


HOSTILE_EDITS = {
    "label 216 characters": lambda d: d.set_label(fc(d).id, "l" * 216),
    "label lone surrogate": lambda d: d.set_label(fc(d).id, "fc\ud800"),
    "name 1,001 characters": lambda d: d.set_metadata(name="n" * 1001),
    "description 100,001 characters": lambda d: d.set_metadata(description="d" * 100_001),
    "NaN parameter": lambda d: d.set_param(fc(d).id, "out_features", float("nan")),
    "NaN learning rate": lambda d: d.set_training("lr", float("nan")),
    "deep nesting": lambda d: d.set_training("x", [[[[[[[[[[1]]]]]]]]]]),
    "over-long list": lambda d: d.set_training("x", list(range(10_001))),
    "sweep with infinity": lambda d: d.set_sweep({"lr": float("inf")}),
}


@pytest.mark.parametrize("edit", list(HOSTILE_EDITS), ids=list(HOSTILE_EDITS))
def test_edits_the_file_could_not_hold_are_refused_where_they_enter(edit, tmp_path):
    d = doc()
    before = d.to_dict()
    with pytest.raises(DocumentError):
        HOSTILE_EDITS[edit](d)
    assert d.to_dict() == before  # nothing half-applied
    graph.load(graph.save(d, tmp_path / "net.strata"))


def test_a_far_position_is_kept_inside_what_a_file_holds(tmp_path):
    d = doc()
    d.move_node(fc(d).id, (1e12, float("nan")))
    x, y = fc(d).position
    assert abs(x) < 1e12 and y == 0.0
    assert graph.load(graph.save(d, tmp_path / "net.strata")) == d


def test_save_refuses_what_would_not_load_and_writes_nothing(tmp_path):
    d = doc()
    fc(d).label = "l" * (MAX_LABEL + 16)  # behind the document's back
    target = tmp_path / "net.strata"
    with pytest.raises(DocumentError, match="cannot save.*longer than 200") as e:
        graph.save(d, target)
    assert e.value.where == "$.nodes[1].label"
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_autosave_of_an_unloadable_document_says_so_without_a_traceback(tmp_path):
    """Autosave uses graph.save: it never writes a recovery file that cannot open."""
    d = doc()
    d.training["lr"] = float("nan")
    with pytest.raises(DocumentError, match="numbers must be finite"):
        graph.save(d, tmp_path / "recovery.strata")
    assert not (tmp_path / "recovery.strata").exists()


def test_the_loaders_limits_are_the_declared_ones(tmp_path):
    data = doc().to_dict()
    data["nodes"][1]["label"] = "l" * (MAX_LABEL + 1)
    with pytest.raises(DocumentError, match=f"longer than {MAX_LABEL}"):
        graph.loads(json.dumps(data))
    data["nodes"][1]["label"] = "l" * MAX_LABEL
    graph.loads(json.dumps(data))


def test_each_text_field_says_which_field_and_both_lengths():
    from graph.limits import MAX_NAME, description_problem, label_problem, name_problem

    assert label_problem("x" * (MAX_LABEL + 1)) == (
        f"A label may be at most {MAX_LABEL:,} characters; this one has {MAX_LABEL + 1:,}.")
    assert name_problem("n" * (MAX_NAME + 5)).startswith(
        f"A network name may be at most {MAX_NAME:,} characters")
    assert description_problem(5).startswith("This description cannot be saved: ")
    assert label_problem("conv1") is None and name_problem("MLP") is None
