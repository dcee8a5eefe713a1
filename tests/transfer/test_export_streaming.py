"""The exported train.py on the streaming path: a multi-label CSV is read row by row
(never whole), and an image folder's train/val/test subfolders stay the split on both
data paths. Each script runs as a real subprocess and repeats Strata's curve."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from test_export_train import assert_clean, assert_same_curve, strata_curve

from graph.builder import Builder
from runtime.transfer.train_script import export_training

# As test_export_train's runner, and reading any .csv file whole fails the run: the
# script must read the rows by offset, batch by batch.
STREAMING_RUNNER = '''
import pathlib, runpy, sys, torch
torch.set_num_threads(1)
sys.modules.update(graph=None, runtime=None, studio=None)
whole = {"read_text": pathlib.Path.read_text, "read_bytes": pathlib.Path.read_bytes}
def guard(name):
    def read(self, *args, **kwargs):
        if self.suffix == ".csv":
            raise AssertionError(f"{self.name} was read whole")
        return whole[name](self, *args, **kwargs)
    return read
for name in whole:
    setattr(pathlib.Path, name, guard(name))
sys.argv = ["train.py", *sys.argv[1:]]
runpy.run_path("train.py", run_name="__main__")
'''


def run_script(folder) -> tuple[list[tuple[float, float]], str]:
    done = subprocess.run([sys.executable, "-c", STREAMING_RUNNER], check=False,
                          cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    history = json.loads((folder / "history.json").read_text())
    return [(h["train_loss"], h["val_loss"]) for h in history], done.stdout


def tags_csv(path, rows: int = 96) -> None:
    """Label lists found by the task "auto": 'hot' when a > 0, 'big' when b > 0."""
    rng = np.random.default_rng(4)
    x = rng.normal(size=(rows, 3))
    lines = ["a,b,c,tags"]
    for r in x:
        tags = "|".join(n for n, on in (("hot", r[0] > 0), ("big", r[1] > 0)) if on)
        lines.append(f"{r[0]:.3f},{r[1]:.3f},{r[2]:.3f},{tags or 'none'}")
    path.write_text("\n".join(lines) + "\n")


def test_a_streamed_multilabel_csv_exports_a_script_that_streams_its_rows(tmp_path):
    tags_csv(tmp_path / "tags.csv")
    b = Builder("Tagger")
    i = b.add("Input", shape=[3])
    b.chain(i, ("Linear", {"out_features": 8}, "fc1"), "ReLU",
            ("Linear", {"out_features": 3}, "out"), ("Output", {"task": "multilabel"}))
    doc = b.done({"dataset": {"name": "csv", "path": str(tmp_path / "tags.csv")},
                  "epochs": 2, "batch_size": 16, "data_path": "stream", "workers": 0})
    expected = strata_curve(doc)
    folder = tmp_path / "export"
    export_training(doc, folder)
    source = (folder / "train.py").read_text()
    assert "class Rows(torch.utils.data.Dataset)" in source
    assert 'TARGETS = ["tags"]' in source and 'DATA_TASK = "multilabel"' in source
    assert "read_text" not in source and "TensorDataset(*train_split)" not in source
    assert_clean(folder)
    got, printed = run_script(folder)
    assert_same_curve(expected, got)
    assert "val f1" in printed


def light_or_dark(root, data_path: str):
    """A small RGB classifier of the ``image_tree`` at ``root``, 2 epochs."""
    b = Builder("Light or Dark")
    x = b.add("Input", shape=[3, 6, 6])
    b.chain(x, ("Flatten", {}, "flat"), ("Linear", {"out_features": 2}, "out"), "Output")
    return b.done({"dataset": {"name": "image_folder", "path": str(root), "image_size": 6,
                               "color": "rgb"}, "epochs": 2, "batch_size": 4,
                   "data_path": data_path, "workers": 0})


def image_tree(root, splits: dict[str, int]) -> None:
    """Images of two classes (dark, light) in split subfolders."""
    from PIL import Image

    rng = np.random.default_rng(1)
    for split, count in splits.items():
        for label, name in enumerate(("dark", "light")):
            folder = root / split / name
            folder.mkdir(parents=True)
            for k in range(count):
                pixels = rng.uniform(0, 0.5, (6, 6, 3)) + 0.5 * label
                Image.fromarray((pixels * 255).astype(np.uint8)).save(
                    folder / f"{k:02d}.png")


@pytest.mark.parametrize("data_path", ["memory", "stream"])
def test_image_split_folders_stay_the_split_in_the_exported_script(tmp_path, data_path):
    pytest.importorskip("PIL.Image", reason="Pillow reads image folders")
    root = tmp_path / "images"
    image_tree(root, {"train": 10, "valid": 4, "test": 3})
    doc = light_or_dark(root, data_path)
    expected = strata_curve(doc)
    folder = tmp_path / "export"
    export_training(doc, folder)
    source = (folder / "train.py").read_text()
    assert '"val": "valid"' in source and '"test": "test"' in source
    assert ("class Files(torch.utils.data.Dataset)" in source) == (data_path == "stream")
    assert_clean(folder)
    assert_same_curve(expected, run_script(folder)[0])
    # The subfolders are the splits: 2 classes x (10 train, 4 valid, 3 test) images.
    sizes = ("import sys, train; sys.stdout.write(repr([len(s[-1] if isinstance(s, "
             "tuple) else s) for s in train.load_data()]))")
    done = subprocess.run([sys.executable, "-c", sizes], check=False, cwd=folder,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == "[20, 8, 6]"


@pytest.mark.parametrize("data_path", ["memory", "stream"])
def test_an_unreadable_image_is_skipped_and_named_by_the_exported_script(tmp_path,
                                                                         data_path):
    """As in Strata's own run: a corrupt file costs one example, said with its name, not
    the run (it stopped the exported script with PIL's traceback)."""
    pytest.importorskip("PIL.Image", reason="Pillow reads image folders")
    root = tmp_path / "images"
    image_tree(root, {"train": 10, "val": 4})
    (root / "train" / "dark" / "05.png").write_bytes(b"not a png at all")
    doc = light_or_dark(root, data_path)
    folder = tmp_path / "export"
    export_training(doc, folder)
    assert "STRICT_FILES = False" in (folder / "train.py").read_text()
    curve, out = run_script(folder)
    assert len(curve) == 2 and all(np.isfinite(v) for pair in curve for v in pair)
    assert "1 unreadable image(s) skipped (first: 05.png)" in out
    if data_path == "memory":
        sizes = ("import sys, train; sys.stdout.write(repr([len(s[-1]) for s in "
                 "train.load_data()]))")
        done = subprocess.run([sys.executable, "-c", sizes], check=False, cwd=folder,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-3000:]
        assert done.stdout.endswith("[19, 8, 0]")
