"""The exported train.py runs with torch and numpy only and repeats Strata's run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from strata_paths import ROOT
from transfer_helpers import EXAMPLES

import graph
from graph.builder import Builder
from graph.state_dicts import read_state_dict
from runtime.engine import Trainer
from runtime.events import EpochEvent, FinishedEvent
from runtime.setup import SetupError
from runtime.transfer.cli import main
from runtime.transfer.train_script import export_training

# Runs the script as ``python train.py`` would, with Strata's packages made unimportable
# (so the script provably needs only torch and numpy) and one thread, as the tests use.
RUNNER = ("import runpy, sys, torch; torch.set_num_threads(1); "
          "sys.modules.update(graph=None, runtime=None, studio=None); "
          "sys.argv = ['train.py', *sys.argv[1:]]; "
          "runpy.run_path('train.py', run_name='__main__')")


def strata_curve(doc, out_dir=None) -> list[tuple[float, float]]:
    events: list = []
    final = Trainer(doc, emit=events.append, out_dir=out_dir).run()
    assert isinstance(final, FinishedEvent), getattr(final, "reason", final)
    return [(e.train_loss, e.val_loss) for e in events if isinstance(e, EpochEvent)]


def script_curve(folder, *args: str, printed: list | None = None
                 ) -> list[tuple[float, float]]:
    done = subprocess.run([sys.executable, "-c", RUNNER, *args], check=False,
                          cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "epoch 1/" in done.stdout
    if printed is not None:
        printed.append(done.stdout)
    history = json.loads((folder / "history.json").read_text())
    return [(h["train_loss"], h["val_loss"]) for h in history]


def assert_clean(folder) -> None:
    """The script and the module pass the project's ruff check and ruff format."""
    ruff = str(Path(sys.executable).with_name("ruff"))
    config = ["--config", str(ROOT / "pyproject.toml")]
    for command in (["check", *config], ["format", "--check", *config]):
        done = subprocess.run([ruff, *command, "."], check=False, cwd=folder,
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def assert_same_curve(a, b) -> None:
    assert len(a) == len(b) > 0
    for (ta, va), (tb, vb) in zip(a, b):
        assert tb == pytest.approx(ta, rel=1e-6, abs=1e-7)
        assert vb == pytest.approx(va, rel=1e-6, abs=1e-7)


def example(stem: str, **training) -> graph.Document:
    doc = graph.load(next(p for p in EXAMPLES if p.stem == stem))
    doc.training.update(training)
    return doc


def test_spiral_script_repeats_the_run_and_its_weights(tmp_path):
    doc = example("spiral_mlp", epochs=3)
    runs = tmp_path / "strata"
    expected = strata_curve(doc, runs)
    written = export_training(doc, tmp_path / "export")
    assert [p.name for p in written] == ["spiral_mlp.py", "spiral_mlp_data.npz",
                                         "train.py", "sweep.py"]
    assert_clean(tmp_path / "export")
    printed: list = []
    got = script_curve(tmp_path / "export", "--device", "cpu", "--test", "--out", "ckpt",
                       printed=printed)
    assert_same_curve(expected, got)
    assert got[-1][0] < got[0][0]  # it learns
    assert "epoch 3/3" in printed[0] and "test loss" in printed[0]
    # Same run, same weights: the script's last checkpoint equals Strata's.
    mine = read_state_dict(tmp_path / "export" / "ckpt" / "last.pt")
    theirs = read_state_dict(runs / "last.pt")
    assert theirs.keys() == mine.keys()
    for key, value in theirs.items():
        assert torch.equal(value, mine[key]), key


def test_two_inputs_with_sgd_one_cycle_and_clipping(tmp_path):
    doc = example("two_input_concat", epochs=2, optimizer="sgd", lr=0.05,
                  schedule="onecycle", grad_clip=0.5, batch_size=32)
    doc.training["dataset"] = {"name": "two_inputs", "size": 300}
    expected = strata_curve(doc)
    export_training(doc, tmp_path / "train.py")
    source = (tmp_path / "train.py").read_text()
    assert "OneCycleLR" in source and "clip_grad_norm_" in source
    assert_clean(tmp_path)
    assert_same_curve(expected, script_curve(tmp_path))


def _csv(path, rng, rows: int = 150):
    species = ["setosa", "versicolor", "virginica"]
    centres = np.array([[5.0, 3.4, 1.5, 0.2], [5.9, 2.8, 4.3, 1.3], [6.6, 3.0, 5.5, 2.0]])
    lines = ["sepal_length,sepal_width,petal_length,petal_width,species"]
    for i in range(rows):
        k = i % 3
        values = centres[k] + rng.normal(0, 0.35, 4)
        lines.append(",".join(f"{v:.2f}" for v in values) + f",{species[k]}")
    lines.append("")  # a blank last line, as editors write
    path.write_text("\n".join(lines))


def test_csv_file_is_read_split_and_standardised_like_strata(tmp_path):
    data = tmp_path / "iris.csv"
    _csv(data, np.random.default_rng(0))
    b = Builder("Iris MLP")
    x = b.add("Input", shape=[4])
    b.chain(x, ("Linear", {"out_features": 16}, "fc1"), ("BatchNorm1d", {}, "bn"), "ReLU",
            ("Dropout", {"p": 0.3}, "drop"), ("Linear", {"out_features": 3}, "out"),
            "Output")
    doc = b.done({"dataset": {"name": "csv", "path": str(data)}, "epochs": 3,
                  "batch_size": 16, "optimizer": "adamw", "lr": 0.01,
                  "weight_decay": 0.01, "schedule": "cosine"})
    expected = strata_curve(doc)
    folder = tmp_path / "export"
    written = export_training(doc, folder)
    assert not any(p.suffix == ".npz" for p in written)  # the script reads the CSV
    source = (folder / "train.py").read_text()
    assert "import csv" in source and "iris.csv" in source
    assert_clean(folder)
    assert_same_curve(expected, script_curve(folder))


def test_npz_regression_and_token_ids(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 3)).astype(np.float32)
    np.savez(tmp_path / "table.npz", X=x, y=(x @ [1.0, -2.0, 0.5]).astype(np.float32))
    b = Builder("Regressor")
    h = b.add("Input", shape=[3])
    b.chain(h, ("Linear", {"out_features": 8}), "Tanh", ("Linear", {"out_features": 1}),
            ("Output", {"task": "regression"}))
    doc = b.done({"dataset": {"name": "npz", "path": str(tmp_path / "table.npz"),
                              "standardize": True},
                  "epochs": 3, "batch_size": 16, "optimizer": "sgd", "lr": 0.05,
                  "schedule": "step", "step_size": 1, "gamma": 0.5})
    expected = strata_curve(doc)
    export_training(doc, tmp_path / "regression")
    assert_clean(tmp_path / "regression")
    assert_same_curve(expected, script_curve(tmp_path / "regression"))

    ids = rng.integers(0, 12, size=(90, 6))
    np.savez(tmp_path / "tokens.npz", X=ids, y=(ids.sum(1) > 33).astype(np.int64))
    b = Builder("Tokens")
    t = b.add("Input", shape=[6], dtype="long")
    b.chain(t, ("Embedding", {"num_embeddings": 12, "embedding_dim": 4}),
            ("Mean", {"dim": 1}), ("Linear", {"out_features": 1}),
            ("Output", {"task": "binary"}))
    doc = b.done({"dataset": {"name": "npz", "path": str(tmp_path / "tokens.npz"),
                              "x_dtype": "long"}, "epochs": 2, "batch_size": 16,
                  "lr": 0.02})
    expected = strata_curve(doc)
    export_training(doc, tmp_path / "tokens")
    assert_clean(tmp_path / "tokens")
    assert_same_curve(expected, script_curve(tmp_path / "tokens"))


def test_image_folder(tmp_path):
    image = pytest.importorskip("PIL.Image", reason="Pillow reads image folders")
    rng = np.random.default_rng(2)
    for label, name in enumerate(("dark", "light")):
        (tmp_path / "images" / name).mkdir(parents=True)
        for i in range(12):
            pixels = rng.uniform(0, 0.5, (10, 10, 3)) + 0.5 * label
            image.fromarray((pixels * 255).astype(np.uint8)).save(
                tmp_path / "images" / name / f"{i}.png")
    (tmp_path / "images" / "notes.txt").write_text("not an image")
    b = Builder("Light or Dark")
    x = b.add("Input", shape=[3, 8, 8])
    b.chain(x, ("Conv2d", {"out_channels": 4}), "ReLU", ("MaxPool2d", {}), "Flatten",
            ("Linear", {"out_features": 1}), ("Output", {"task": "binary"}))
    doc = b.done({"dataset": {"name": "image_folder", "path": str(tmp_path / "images"),
                              "image_size": 8, "color": "rgb"},
                  "epochs": 2, "batch_size": 8, "lr": 0.01})
    expected = strata_curve(doc)
    export_training(doc, tmp_path / "export")
    assert "Pillow" in (tmp_path / "export" / "train.py").read_text()
    assert_clean(tmp_path / "export")
    assert_same_curve(expected, script_curve(tmp_path / "export"))


def test_a_network_strata_cannot_train_is_refused(tmp_path):
    doc = example("spiral_mlp")
    doc.training.clear()
    with pytest.raises(SetupError, match="names no dataset"):
        export_training(doc, tmp_path)
    assert not list(tmp_path.iterdir())


def test_cli_exports_the_training_script(tmp_path, capsys):
    path = next(p for p in EXAMPLES if p.stem == "spiral_mlp")
    assert main(["export", str(path), "--format", "train", "-o",
                 str(tmp_path / "out")]) == 0
    printed = capsys.readouterr().out
    assert "train.py" in printed and "spiral_mlp.py" in printed
    assert (tmp_path / "out" / "spiral_mlp_data.npz").exists()


def test_fine_tuning_and_augmentation_are_kept(tmp_path):
    """Starting weights, a frozen layer, a smaller rate for another, and a Kornia
    pipeline with mixup: the script repeats Strata's run and leaves the frozen layer as
    it was loaded."""
    b = Builder("Shapes fine-tune")
    x = b.add("Input", shape=[1, 16, 16])
    b.chain(x, ("Conv2d", {"out_channels": 4}, "conv"), "ReLU", "Flatten",
            ("Linear", {"out_features": 16}, "hidden"), "ReLU",
            ("Linear", {"out_features": 4}, "head"), ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "shapes", "size": 120, "image_size": 16},
                  "epochs": 2, "batch_size": 16, "lr": 0.01})
    start = graph.compile(doc).state_dict()
    start["head.weight"] = torch.zeros(7, 16)  # another task's head: left fresh
    torch.save(start, tmp_path / "pretrained.pt")
    ids = {n.label: n.id for n in doc.nodes.values()}
    doc.training.update(init_weights=str(tmp_path / "pretrained.pt"),
                        frozen=[ids["conv"]], lr_scale={ids["hidden"]: 0.1},
                        augment=[{"op": "flip"}, {"op": "rotation", "degrees": 10.0},
                                 {"op": "mixup"}])
    runs = tmp_path / "strata"
    expected = strata_curve(doc, runs)
    written = export_training(doc, tmp_path / "export")
    assert "init_weights.pt" in [p.name for p in written]
    text = (tmp_path / "export" / "train.py").read_text()
    assert "FROZEN = [\"conv\"]" in text and "K.RandomMixUpV2" in text
    assert_clean(tmp_path / "export")
    got = script_curve(tmp_path / "export", "--device", "cpu", "--out", "ckpt")
    assert_same_curve(expected, got)
    mine = read_state_dict(tmp_path / "export" / "ckpt" / "last.pt")
    assert torch.equal(mine["conv.weight"], start["conv.weight"])  # frozen
    assert not torch.equal(mine["hidden.weight"], start["hidden.weight"])


@pytest.mark.parametrize("lists", [False, True])
def test_multilabel_csv_exports_a_script_that_repeats_the_run(tmp_path, lists):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(90, 3))
    hot, big = x[:, 0] > 0, x[:, 1] > 0
    if lists:
        tags = ["|".join(n for n, on in (("hot", h), ("big", g)) if on) or "none"
                for h, g in zip(hot, big)]
        lines = ["a,b,c,tags"] + [f"{r[0]:.3f},{r[1]:.3f},{r[2]:.3f},{t}"
                                  for r, t in zip(x, tags)]
        dataset, labels = {"task": "multilabel"}, 3
    else:
        lines = ["a,b,c,hot,big"] + [f"{r[0]:.3f},{r[1]:.3f},{r[2]:.3f},{int(h)},{int(g)}"
                                     for r, h, g in zip(x, hot, big)]
        dataset, labels = {"target": "hot,big"}, 2
    (tmp_path / "tags.csv").write_text("\n".join(lines) + "\n")
    b = Builder("Tagger")
    i = b.add("Input", shape=[3])
    b.chain(i, ("Linear", {"out_features": 8}, "fc1"), "ReLU",
            ("Linear", {"out_features": labels}, "out"), ("Output", {"task": "multilabel"}))
    doc = b.done({"dataset": {"name": "csv", "path": str(tmp_path / "tags.csv"),
                              **dataset}, "epochs": 2, "batch_size": 16})
    expected = strata_curve(doc)
    folder = tmp_path / "export"
    export_training(doc, folder)
    assert_clean(folder)
    printed: list = []
    assert_same_curve(expected, script_curve(folder, printed=printed))
    assert "val f1" in printed[0]


def test_a_streamed_image_folder_exports_a_script_that_streams_the_same_run(tmp_path):
    from PIL import Image

    rng = np.random.default_rng(0)
    root = tmp_path / "imgs"
    for c, name in enumerate(("circle", "square", "wave")):
        (root / name).mkdir(parents=True)
        for i in range(12):
            pixels = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
            pixels[..., c] = 255 - c * 60  # a class signal a network can learn
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    b = Builder("Folder net")
    x = b.add("Input", shape=[3, 8, 8])
    b.chain(x, ("Flatten", {}, "flat"), ("Linear", {"out_features": 3}, "out"), "Output")
    doc = b.done({"dataset": {"name": "image_folder", "path": str(root), "image_size": 8,
                              "color": "rgb"}, "batch_size": 8, "epochs": 2,
                  "data_path": "stream", "workers": 2})
    expected = strata_curve(doc)
    folder = tmp_path / "export"
    export_training(doc, folder)
    source = (folder / "train.py").read_text()
    assert "class Files(torch.utils.data.Dataset)" in source
    assert "WORKERS = 2" in source and "TensorDataset(*train_split)" not in source
    assert_clean(folder)
    assert_same_curve(expected, script_curve(folder))  # two worker processes decode


def test_a_streamed_csv_exports_a_script_that_reads_rows_by_offset(tmp_path):
    data = tmp_path / "iris.csv"
    _csv(data, np.random.default_rng(0), rows=120)
    b = Builder("Iris MLP")
    x = b.add("Input", shape=[4])
    b.chain(x, ("Linear", {"out_features": 16}, "fc1"), "ReLU",
            ("Linear", {"out_features": 3}, "out"), "Output")
    doc = b.done({"dataset": {"name": "csv", "path": str(data)}, "epochs": 2,
                  "batch_size": 16, "data_path": "stream", "workers": 0})
    expected = strata_curve(doc)
    folder = tmp_path / "export"
    export_training(doc, folder)
    source = (folder / "train.py").read_text()
    assert "class Rows(torch.utils.data.Dataset)" in source and "WORKERS = 0" in source
    assert_clean(folder)
    assert_same_curve(expected, script_curve(folder))


def test_mixup_of_multilabel_targets_is_kept_in_the_script(tmp_path):
    """Mixup and CutMix on 0/1 label rows: the script mixes the rows as Strata does."""
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (64, 1, 8, 8)).astype(np.float32)
    y = np.stack([x[:, 0, :4].mean((1, 2)) > 0.5, x[:, 0, 4:].mean((1, 2)) > 0.5], 1)
    np.savez(tmp_path / "quads.npz", X=x, y=y.astype(np.int64))
    b = Builder("Tiny tagger")
    i = b.add("Input", shape=[1, 8, 8])
    b.chain(i, ("Flatten", {}, "flat"), ("Linear", {"out_features": 2}, "out"),
            ("Output", {"task": "multilabel"}))
    doc = b.done({"dataset": {"name": "npz", "path": str(tmp_path / "quads.npz"),
                              "task": "multilabel"}, "epochs": 2, "batch_size": 16,
                  "augment": [{"op": "mixup"}, {"op": "cutmix"}]})
    expected = strata_curve(doc)
    export_training(doc, tmp_path / "export")
    text = (tmp_path / "export" / "train.py").read_text()
    assert "def mix_rows(" in text and "soft_targets" not in text
    assert_clean(tmp_path / "export")
    assert_same_curve(expected, script_curve(tmp_path / "export"))
