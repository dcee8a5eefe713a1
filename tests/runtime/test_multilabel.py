"""Multi-label classification: several 0/1 target columns or a column of label lists
(CSV, parquet, .npz), the multilabel Output (BCE with logits, micro F1), the dataset
check naming the width, and the streaming path."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import graph
from graph.builder import Builder
from runtime.compatibility import (
    DatasetMismatch,
    check_dataset,
    dataset_mismatches,
    prepare_dataset,
)
from runtime.datasets import DatasetError, load_dataset
from runtime.engine import Trainer
from runtime.events import EpochEvent, FinishedEvent
from runtime.metrics import evaluate, metric_name
from runtime.setup import TrainingSetup
from tests.runtime.training_helpers import EVERY_STEP, of


def tagged(path, rows: int = 120, lists: bool = False, seed: int = 0):
    """Features a, b, c; label 'hot' when a > 0, 'big' when b > 0 (either, both, none)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, 3))
    hot, big = (x[:, 0] > 0).astype(int), (x[:, 1] > 0).astype(int)
    if lists:
        cells = ["|".join(n for n, on in (("hot", h), ("big", g)) if on) or "none"
                 for h, g in zip(hot, big)]
        lines = ["a,b,c,tags"] + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{t}"
                                  for r, t in zip(x, cells)]
    else:
        lines = ["a,b,c,hot,big"] + [f"{r[0]:.4f},{r[1]:.4f},{r[2]:.4f},{h},{g}"
                                     for r, h, g in zip(x, hot, big)]
    path.write_text("\n".join(lines) + "\n")
    return path


def network(dataset: dict, labels: int = 2, **training) -> graph.Document:
    b = Builder("Tagger")
    x = b.add("Input", shape=[3])
    b.chain(x, ("Linear", {"out_features": 16}), "ReLU",
            ("Linear", {"out_features": labels}), ("Output", {"task": "multilabel"}))
    return b.done({"dataset": dataset, "batch_size": 16, "epochs": 8, "lr": 0.05,
                   "optimizer": "adam", "workers": 0, **training})


@pytest.mark.parametrize("data_path", ["memory", "stream"])
def test_several_0_1_columns_are_one_multilabel_target(tmp_path, data_path):
    path = tagged(tmp_path / "t.csv")
    b = load_dataset({"name": "csv", "path": str(path), "target": "hot,big"},
                     data_path=data_path)
    assert b.task == "multilabel" and b.class_names == ["hot", "big"]
    assert b.target_shape == (2,) and b.feature_names == ["a", "b", "c"]
    _x, y = b.train[0][:2]
    assert y.dtype == torch.float32 and y.shape == (2,) and set(y.tolist()) <= {0.0, 1.0}


def test_a_column_of_label_lists_is_multilabel_and_both_paths_agree(tmp_path):
    path = tagged(tmp_path / "t.csv", lists=True)
    spec = {"name": "csv", "path": str(path), "task": "multilabel"}
    memory = load_dataset(spec, seed=2)
    stream = load_dataset(spec, seed=2, data_path="stream")
    assert memory.class_names == stream.class_names == ["big", "hot", "none"]
    assert memory.task == stream.task == "multilabel"
    for i in range(5):
        assert torch.equal(memory.train[i][1], stream.train[i][1])
    assert memory.train.target.sum(1).min() >= 1  # every row names at least one label


def test_bad_multilabel_targets_are_refused_by_column(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("a,x,y\n1,0,1\n2,1,2\n3,0,0\n")
    with pytest.raises(DatasetError, match="the target column 'y' holds '2'; each column "
                       "of a multi-label target must hold 0 or 1"):
        load_dataset({"name": "csv", "path": str(path), "target": "x,y"})
    with pytest.raises(DatasetError, match="several target columns make a multi-label"):
        load_dataset({"name": "csv", "path": str(path), "target": "x,y",
                      "task": "regression"})


def test_parquet_list_and_0_1_columns_and_npz(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 2)).astype(np.float32)
    tags = [["cat"] if v > 0 else ["dog", "cat"] if v < -0.5 else ["dog"] for v in x[:, 0]]
    pq.write_table(pa.table({"f0": x[:, 0], "f1": x[:, 1], "labels": tags}),
                   tmp_path / "a.parquet")
    b = load_dataset({"name": "parquet", "path": str(tmp_path / "a.parquet")})
    assert b.task == "multilabel" and b.class_names == ["cat", "dog"]
    pq.write_table(pa.table({"f0": x[:, 0], "f1": x[:, 1],
                             "p": (x[:, 0] > 0).astype(np.int64),
                             "q": (x[:, 1] > 0).astype(np.int64)}), tmp_path / "b.parquet")
    b = load_dataset({"name": "parquet", "path": str(tmp_path / "b.parquet"),
                      "target": "p,q"})
    assert b.task == "multilabel" and b.class_names == ["p", "q"]
    np.savez(tmp_path / "c.npz", X=x, y=(x > 0).astype(np.int64))
    b = load_dataset({"name": "npz", "path": str(tmp_path / "c.npz"),
                      "task": "multilabel"})
    assert b.task == "multilabel" and b.target_shape == (2,)


def test_a_multilabel_network_trains_with_bce_and_reports_micro_f1(tmp_path):
    path = tagged(tmp_path / "t.csv", rows=200)
    doc = network({"name": "csv", "path": str(path), "target": "hot,big"})
    assert TrainingSetup.from_document(doc).resolved_loss("multilabel") == \
        "bce_with_logits"
    events: list = []
    final = Trainer(doc, emit=events.append, options=EVERY_STEP).run()
    assert isinstance(final, FinishedEvent), final
    epochs = of(events, EpochEvent)
    assert epochs[-1].metric_name == metric_name("multilabel") == "f1"
    assert epochs[-1].val_metric > 0.85 and epochs[-1].confusion is None


def test_micro_and_per_label_f1_are_counted_over_the_split():
    model = torch.nn.Identity()
    out = torch.tensor([[5.0, -5.0], [5.0, 5.0], [-5.0, -5.0], [-5.0, 5.0]])
    target = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [0.0, 1.0]])
    result = evaluate(model, (out, target), torch.nn.BCEWithLogitsLoss(), "multilabel",
                      None, batch_size=3)
    # label 0: tp 2; label 1: tp 1, fp 1, fn 1 -> micro 2*3 / (2*3 + 1 + 1)
    assert result.metric == pytest.approx(6 / 8)
    assert result.per_label.tolist() == pytest.approx([1.0, 0.5])


def test_the_dataset_check_names_the_number_of_labels(tmp_path):
    path = tagged(tmp_path / "t.csv")
    doc = network({"name": "csv", "path": str(path), "target": "hot,big"}, labels=3)
    with pytest.raises(DatasetMismatch) as e:
        prepare_dataset(doc)
    assert "has 2 labels but" in str(e.value) and "out_features=2" in str(e.value)
    reason = dataset_mismatches(doc, load_dataset(
        {"name": "csv", "path": str(path), "target": "hot,big"}))[0]
    assert reason.fix_title.startswith("Set out_features to 2") and reason.edits
    b = Builder("Classifier")
    x = b.add("Input", shape=[3])
    b.chain(x, ("Linear", {"out_features": 2}), ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "csv", "path": str(path), "target": "hot,big"}})
    bundle = load_dataset({"name": "csv", "path": str(path), "target": "hot,big"})
    words = check_dataset(graph.Analyzer().analyze(doc), bundle)[0]
    assert "gives 2 labels per example (multi-label)" in words
    assert "set the Output's task to multilabel" in words


def test_a_checkpoint_of_a_streamed_multilabel_run_is_evaluated_per_label(tmp_path):
    from graph.fileformat import document_to_dict
    from runtime.evaluation import evaluate_checkpoint

    path = tagged(tmp_path / "t.csv", rows=160)
    doc = network({"name": "csv", "path": str(path), "target": "hot,big"},
                  data_path="stream", epochs=4)
    final = Trainer(doc, options=EVERY_STEP, out_dir=tmp_path / "run").run()
    assert isinstance(final, FinishedEvent), final
    result = evaluate_checkpoint(tmp_path / "run" / "last.pt", document_to_dict(doc))
    assert result.metric_name == "f1" and result.examples == 32
    assert set(result.per_label) == {"hot", "big"}
    assert "F1" in result.describe() and "hot" in result.describe()


@pytest.mark.parametrize("style", ["pipes", "semicolons", "json"])
def test_auto_finds_a_column_of_label_lists_and_says_so(tmp_path, style):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(60, 2))
    cells = []
    for r in x:
        tags = [n for n, on in (("cat", r[0] > 0), ("dog", r[1] > 0)) if on]
        cells.append({"pipes": "|".join(tags) or "none",
                      "semicolons": ";".join(tags) or "none",
                      "json": '"' + json.dumps(tags).replace('"', '""') + '"'}[style])
    path = tmp_path / "pets.csv"
    path.write_text("a,b,pets\n" + "".join(f"{r[0]:.3f},{r[1]:.3f},{c}\n"
                                           for r, c in zip(x, cells)))
    labels = ["cat", "dog"] + (["none"] if style != "json" else [])
    bundles = [load_dataset({"name": "csv", "path": str(path)}, seed=1, data_path=p)
               for p in ("memory", "stream")]
    for b in bundles:
        assert b.task == "multilabel" and b.class_names == labels
        assert f"multi-label, {len(labels)} labels" in b.describe()
        assert "the target column 'pets' holds lists of labels" in b.notes[0]
        assert "found by the task 'auto'" in b.notes[0]
    memory, stream = bundles
    for i in range(len(memory.train)):
        assert torch.equal(memory.train[i][1], stream.train[i][1])
    both = int(((x[:, 0] > 0) & (x[:, 1] > 0)).sum())
    assert int((memory.tensors("train")[1].sum(1) == 2).sum()) + int(
        (memory.tensors("val")[1].sum(1) == 2).sum()) + int(
        (memory.tensors("test")[1].sum(1) == 2).sum()) == both


def test_auto_keeps_class_names_that_only_hold_a_separator(tmp_path):
    path = tmp_path / "music.csv"
    styles = ["rock|pop", "jazz", "blues"]
    path.write_text("a,style\n" + "".join(f"{i % 7},{styles[i % 3]}\n" for i in range(30)))
    b = load_dataset({"name": "csv", "path": str(path)})
    assert b.task == "classification" and b.class_names == ["blues", "jazz", "rock|pop"]
    assert b.notes == []


def test_each_labels_f1_is_reported_while_training(tmp_path, capsys):
    """Per-label and macro F1 after each validation pass: in the epoch events, the
    printed progress, metrics.jsonl, TensorBoard, the summary and the run's message."""
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from runtime.cli import main
    from runtime.run_record import RunRecord
    from runtime.runfolder import open_run

    path = tagged(tmp_path / "t.csv", rows=160, lists=True)
    doc = network({"name": "csv", "path": str(path), "task": "multilabel"}, labels=3,
                  epochs=2)
    graph.save(doc, tmp_path / "tagger.strata")
    folder = tmp_path / "run"
    assert main(["train", str(tmp_path / "tagger.strata"), "--out", str(folder)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("F1 per label (validation): big ") == 2
    saved = open_run(folder)
    epochs = of(saved.events, EpochEvent)
    assert [len(e.label_f1) for e in epochs] == [3, 3]
    last = epochs[-1]
    assert last.class_names == ("big", "hot", "none")
    assert all(0.0 <= v <= 1.0 for v in last.label_f1)
    assert last.macro_f1 == pytest.approx(sum(last.label_f1) / 3)
    lines = [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]
    logged = [d for d in lines if d["event"] == "epoch"][-1]
    assert logged["val_label_f1"] == pytest.approx(dict(zip(last.class_names, last.label_f1)))
    assert logged["val_macro_f1"] == pytest.approx(last.macro_f1)
    summary = saved.final.summary
    assert summary["val_macro_f1"] == pytest.approx(last.macro_f1)
    assert set(summary["val_label_f1"]) == {"big", "hot", "none"}
    acc = EventAccumulator(str(folder), size_guidance={"scalars": 0})
    acc.Reload()
    assert {"epoch/val_f1", "epoch/val_macro_f1", "epoch/val_f1/big", "epoch/val_f1/hot",
            "epoch/val_f1/none"} <= set(acc.Tags()["scalars"])
    assert acc.Scalars("epoch/val_f1/hot")[-1].value == pytest.approx(last.label_f1[1])
    run = RunRecord(1)
    for event in saved.events:
        run.apply(event)
    assert run.label_f1 == last.label_f1
    assert "F1 (micro)" in run.message and "F1 per label (validation): big" in run.message
