"""Sweeps over blocks nested in blocks: an instance inside a block's definition is
searched by its path (``outer/inner.repeat``, stored as ``n8/n3.repeat``), offered in
the list of targets, checked, applied to that path only, and marked from the CLI."""

from __future__ import annotations

import pytest

import graph
from graph.builder import Builder
from graph.document import Edge
from graph.fileformat import document_from_dict
from runtime.runfolder import open_run
from runtime.sweeps import SweepError, SweepSpec
from runtime.sweeps.cli import main
from runtime.sweeps.study import open_study, trial_rows
from runtime.sweeps.targets import candidates, target_label
from runtime.sweeps.trials import make_objective

optuna = pytest.importorskip("optuna")


def nested(shared: bool = False):
    """stem -> 'outer' (block Outer: 'inner' (block Inner: fc + act) -> fc2) -> head;
    with ``shared``, a second instance of Outer ('outer_b') follows the first."""
    b = Builder("Nested")
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": 8}, "stem"),
            ("Linear", {"out_features": 8}, "fc"), ("ReLU", {}, "act"),
            ("Linear", {"out_features": 8}, "fc2"),
            ("Linear", {"out_features": 2}, "head"),
            ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "spirals", "size": 96}, "epochs": 1,
                  "batch_size": 32, "lr": 0.05})
    body_ids = [n.id for n in doc.nodes.values() if n.label in ("fc", "act", "fc2")]
    outer = doc.group(body_ids, "Outer", "outer").result["instance"]
    body = doc.blocks["Outer"].body
    inner_ids = [n.id for n in body.nodes.values() if n.label in ("fc", "act")]
    inner = body.group(inner_ids, "Inner", "inner").result["instance"]
    if shared:
        head = next(n.id for n in doc.nodes.values() if n.label == "head")
        (edge,) = [e for e in doc.edges if e.target == head]
        doc.disconnect(edge)
        second = doc.add_node("Block", {"block": "Outer"}, "outer_b").id
        doc.connect(Edge(outer, "out", second, "in"))
        doc.connect(Edge(second, "out", head, edge.target_port))
    return doc, outer, inner


def test_nested_instances_are_offered_named_and_checked():
    doc, outer, inner = nested()
    offered = {target: label for label, target, _kind, _value in candidates(doc)}
    assert offered[f"{outer}/{inner}.repeat"] == "outer > inner: repeat"
    assert target_label(doc, f"{outer}/{inner}.repeat") == "outer/inner.repeat"
    # Labels along the path are read as the ids they name.
    doc.sweep = {"params": [{"target": "outer/inner.repeat", "kind": "int", "low": 1,
                             "high": 3}]}
    (param,) = SweepSpec.from_document(doc).params
    assert param.target == f"{outer}/{inner}.repeat" and param.node_id == outer
    fc2 = next(n.id for n in doc.blocks["Outer"].body.nodes.values()
               if n.label == "fc2")
    bad = [(f"{outer}/{fc2}.out_features", "no block instance"),
           (f"{outer}/zz.repeat", "'Outer' has no node `zz`"),
           (f"{outer}/{inner}.depth", "has no parameter `depth`")]
    for target, words in bad:
        doc.sweep = {"params": [{"target": target, "kind": "int", "low": 1, "high": 3}]}
        with pytest.raises(SweepError, match=words):
            SweepSpec.from_document(doc)
    # A value the outer block sets through an exposed parameter is searched there.
    from graph.blocks import ExposedParam

    doc.set_exposed("Outer", [ExposedParam("depth", 1, [(inner, "repeat")])])
    assert f"{outer}/{inner}.repeat" not in {t for _l, t, _k, _v in candidates(doc)}
    doc.sweep = {"params": [{"target": f"{outer}/{inner}.repeat", "kind": "int",
                             "low": 1, "high": 3}]}
    with pytest.raises(SweepError, match="search outer.depth instead"):
        SweepSpec.from_document(doc)


def test_a_nested_repeat_changes_only_its_path(tmp_path):
    doc, outer, inner = nested(shared=True)
    doc.sweep = {"pruner": "none", "params": [
        {"target": f"{outer}/{inner}.repeat", "kind": "int", "low": 1, "high": 3}]}
    spec = SweepSpec.from_document(doc)
    applied = document_from_dict(spec.apply(doc.to_dict(), {f"{outer}/{inner}.repeat": 3}))
    first = applied.nodes[outer].params["block"]
    second = next(n for n in applied.nodes.values() if n.label == "outer_b")
    assert first != "Outer" and second.params["block"] == "Outer"  # a copy for the path
    assert applied.blocks[first].body.nodes[inner].params["repeat"] == 3
    assert applied.blocks["Outer"].body.nodes[inner].params["repeat"] == 1
    assert graph.analyze(applied).ok

    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = open_study(spec, storage, "nested", epochs=1, seed=0)
    study.enqueue_trial({f"{outer}/{inner}.repeat": 1})
    study.enqueue_trial({f"{outer}/{inner}.repeat": 3})
    study.optimize(make_objective(doc.to_dict(), spec, tmp_path / "trials"), n_trials=2)
    rows = trial_rows(optuna.load_study(study_name="nested", storage=storage))
    assert [r.state for r in rows] == ["complete", "complete"]
    counts = [open_run(r.run_folder).events[0].parameter_count for r in rows]
    # Two more Linear(8, 8) copies (72 parameters each) in the first outer block only.
    assert counts[1] - counts[0] == 2 * 72


def test_the_cli_marks_a_nested_block_by_its_path(tmp_path, capsys):
    doc, outer, inner = nested()
    path = tmp_path / "nested.strata"
    graph.save(doc, path)
    assert main(["sweep", str(path), "--targets"]) == 0
    listed = capsys.readouterr().out
    assert "outer/inner.repeat" in listed and "outer > inner: repeat" in listed
    assert main(["sweep", str(path), "--trials", "1", "--seed", "0", "--pruner", "none",
                 "--search", "outer/inner.repeat=int:1:2",
                 "--search", "lr=log:0.01:0.1"]) == 0
    out = capsys.readouterr().out
    assert "searching outer/inner.repeat, lr" in out
    study = optuna.load_study(study_name="nested",
                              storage=f"sqlite:///{tmp_path / 'nested.sweeps.db'}")
    (trial,) = study.trials
    assert set(trial.params) == {"lr", f"{outer}/{inner}.repeat"}
    best = graph.load(tmp_path / "nested_best.strata")
    chosen = best.nodes[outer].params["block"]
    assert best.blocks[chosen].body.nodes[inner].params["repeat"] == \
        trial.params[f"{outer}/{inner}.repeat"]
    assert main(["sweep", str(path), "--search", "outer/nope.repeat"]) == 1
    assert "'Outer' has no node `nope`" in capsys.readouterr().err
    assert main(["sweep", str(path), "--search", "lr=log:abc"]) == 1
    assert "cannot read 'log:abc'" in capsys.readouterr().err
