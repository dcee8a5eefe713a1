"""Sweeps over blocks: a block instance's repeat count and exposed parameters are
searched like any layer parameter, applied to each trial's network, and kept in the
best configuration's file."""

from __future__ import annotations

import pytest

import graph
from graph.blocks import ExposedParam
from graph.builder import Builder
from runtime.runfolder import open_run
from runtime.sweeps import SweepError, SweepSpec
from runtime.sweeps.space import target_label, trial_document
from runtime.sweeps.study import best_rows, open_study, trial_rows
from runtime.sweeps.trials import make_objective

optuna = pytest.importorskip("optuna")


def blocky():
    """stem -> block 'Hidden' (Linear 'fc' + ReLU, its width exposed) -> head."""
    b = Builder("Blocky")
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": 8}, "stem"),
            ("Linear", {"out_features": 8}, "fc"), ("ReLU", {}, "act"),
            ("Linear", {"out_features": 2}, "head"), ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "spirals", "size": 96}, "epochs": 1,
                  "batch_size": 32, "lr": 0.05})
    inner = [n.id for n in doc.nodes.values() if n.label in ("fc", "act")]
    instance = doc.group(inner, "Hidden", "hidden").result["instance"]
    fc = next(n.id for n in doc.blocks["Hidden"].body.nodes.values() if n.label == "fc")
    doc.set_exposed("Hidden", [ExposedParam("width", 8, [(fc, "out_features")])])
    return doc, instance


def test_repeats_and_exposed_parameters_are_searched_per_trial(tmp_path):
    doc, hidden = blocky()
    doc.sweep = {"pruner": "none", "params": [
        {"target": f"{hidden}.repeat", "kind": "int", "low": 1, "high": 3},
        {"target": f"{hidden}.width", "kind": "choice", "choices": [4, 16]}]}
    spec = SweepSpec.from_document(doc)
    storage = f"sqlite:///{tmp_path / 'study.db'}"
    study = open_study(spec, storage, "blocks", epochs=1, seed=0)
    study.enqueue_trial({f"{hidden}.repeat": 1, f"{hidden}.width": 4})
    study.enqueue_trial({f"{hidden}.repeat": 3, f"{hidden}.width": 16})
    study.optimize(make_objective(doc.to_dict(), spec, tmp_path / "trials"), n_trials=3)

    rows = trial_rows(optuna.load_study(study_name="blocks", storage=storage))
    assert [r.state for r in rows] == ["complete"] * 3
    for row in rows:  # each trial trained its own network, as its run folder shows
        run = open_run(row.run_folder)
        repeat, width = row.params[f"{hidden}.repeat"], row.params[f"{hidden}.width"]
        assert run.document is not None
        instance = next(n for n in run.document["nodes"] if n["id"] == hidden)
        assert (instance["params"]["repeat"], instance["params"]["width"]) == (repeat,
                                                                               width)
        started = run.events[0]
        # stem 2*8+8; the block: Linear(8, w), then (repeat - 1) Linear(w, w); head.
        expected = 24 + (8 * width + width) + (repeat - 1) * (width * width + width) + \
            (width * 2 + 2)
        assert started.parameter_count == expected
        copies = {name.split(" > ")[0] for name in started.node_names if " > " in name}
        assert len(copies) == repeat
    assert rows[0].params != rows[1].params

    # The best configuration, written as a network file, carries the trial's block.
    best = best_rows(study, 1)[0]
    path = tmp_path / "blocky_best.strata"
    graph.save(trial_document(doc, spec, best.params, best.number), path)
    saved = graph.load(path)
    assert saved.nodes[hidden].params["repeat"] == best.params[f"{hidden}.repeat"]
    assert saved.nodes[hidden].params["width"] == best.params[f"{hidden}.width"]
    assert saved.name == f"Blocky (sweep best, trial {best.number})"
    assert doc.nodes[hidden].params["repeat"] == 1  # the document itself is untouched


def test_block_targets_are_checked(tmp_path):
    doc, hidden = blocky()
    assert target_label(doc, f"{hidden}.repeat") == "hidden.repeat"  # the CLI's words
    bad = [({"target": f"{hidden}.block", "kind": "choice", "choices": ["Hidden"]},
            "names the block it uses"),
           ({"target": f"{hidden}.repeat", "kind": "int", "low": 0, "high": 3},
            "expected an integer from 1"),
           ({"target": f"{hidden}.depth", "kind": "int", "low": 1, "high": 3},
            "has no parameter `depth`"),
           ({"target": f"{hidden}.repeat", "kind": "float", "low": 1, "high": 3},
            "whole number")]
    for entry, words in bad:
        doc.sweep = {"params": [entry]}
        with pytest.raises(SweepError, match=words):
            SweepSpec.from_document(doc)
