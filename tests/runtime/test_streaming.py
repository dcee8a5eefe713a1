"""The streaming data path: image folders read by DataLoader workers, same batches and
same training as the device-resident path, resume mid-epoch, bad files, big folders."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
import torch

from graph.builder import Builder
from runtime.control import Control
from runtime.datasets import DatasetError, load_dataset, placement
from runtime.datasets.files_images import scan_image_folder
from runtime.engine import Trainer
from runtime.events import EpochEvent, FinishedEvent, NoticeEvent, StepEvent
from runtime.loop import TensorBatches
from runtime.setup import TrainingSetup
from runtime.streaming import LoaderBatches
from tests.runtime.training_helpers import EVERY_STEP, of


def image_folder(root, per_class=12, classes=("circle", "square", "wave"), size=8):
    from PIL import Image

    rng = np.random.default_rng(0)
    for c, name in enumerate(classes):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            pixels[..., c] = 255 - c * 60  # a class signal a network can learn
            Image.fromarray(pixels).save(root / name / f"{i:03d}.png")
    return root


def spec(root, **more):
    return {"name": "image_folder", "path": str(root), "image_size": 8, "color": "rgb",
            **more}


def network(root, **training):
    b = Builder("Folder net")
    x = b.add("Input", shape=[3, 8, 8])
    b.chain(x, "Flatten", ("Linear", {"out_features": 3}),
            ("Output", {"task": "classification"}))
    return b.done({"dataset": spec(root), "batch_size": 8, "epochs": 2,
                   "sample_every": 1, "workers": 0, **training})


def test_both_paths_split_alike_and_give_the_same_batches(tmp_path):
    root = image_folder(tmp_path / "imgs")
    memory = load_dataset(spec(root), seed=3)
    stream = load_dataset(spec(root), seed=3, data_path="stream")
    assert stream.streaming and not memory.streaming
    assert stream.sizes == memory.sizes
    for split in ("train", "val", "test"):
        assert torch.equal(stream.indices[split], memory.indices[split])
    order = torch.randperm(memory.sizes["train"], generator=torch.Generator().manual_seed(1))
    tensors = TensorBatches(memory.tensors("train"), 8, 3)
    for workers in (0, 2):
        files = LoaderBatches(stream.train, 8, 3, workers=workers, device=torch.device("cpu"))
        pairs = list(zip(tensors.epoch(order, 1), files.epoch(order, 1), strict=True))
        assert len(pairs) == 2
        for (xa, ya), (xb, yb) in pairs:
            assert torch.equal(xa[0], xb[0]) and torch.equal(ya, yb)
        files.close()


def losses(events):
    return [round(e.loss, 6) for e in of(events, StepEvent)]


def run(doc, **kw):
    events: list = []
    final = Trainer(doc, emit=events.append, options=EVERY_STEP, **kw).run()
    assert isinstance(final, FinishedEvent), final
    return events


def test_streaming_trains_exactly_like_the_device_resident_path(tmp_path):
    root = image_folder(tmp_path / "imgs")
    memory = run(network(root, data_path="memory"))
    stream = run(network(root, data_path="stream"))
    assert losses(stream) == losses(memory) and len(losses(memory)) == 8
    a, b = of(memory, EpochEvent)[-1], of(stream, EpochEvent)[-1]
    assert a.val_loss == pytest.approx(b.val_loss) and a.val_metric == b.val_metric


def test_a_streaming_run_resumes_in_the_middle_of_an_epoch(tmp_path):
    root = image_folder(tmp_path / "imgs")
    whole = run(network(root, data_path="stream", epochs=3))
    control = Control()
    first: list = []

    def emit(event):
        first.append(event)
        if isinstance(event, StepEvent) and event.step == 5:  # epoch 2, batch 1 of 4
            control.stop()

    out = tmp_path / "run"
    doc = network(root, data_path="stream", epochs=3)
    final = Trainer(doc, emit=emit, control=control, out_dir=out, options=EVERY_STEP).run()
    assert final.stopped and final.summary["steps"] == 5
    rest = run(doc, resume=out / "last.pt", out_dir=out)
    assert losses(first) + losses(rest) == losses(whole)
    assert of(rest, EpochEvent)[-1].val_loss == pytest.approx(
        of(whole, EpochEvent)[-1].val_loss)


def test_unreadable_images_are_skipped_and_named_or_stop_a_strict_run(tmp_path):
    root = image_folder(tmp_path / "imgs")
    (root / "square" / "broken.png").write_bytes(b"not a png at all")
    events = run(network(root, data_path="stream"))
    notices = [e for e in of(events, NoticeEvent) if e.kind == "files_skipped"]
    assert notices and "1 unreadable file skipped" in notices[0].message
    assert "square/broken.png" in notices[0].message
    events = run(network(root, data_path="memory"))  # the same on the memory path
    assert any("square/broken.png" in e.message for e in of(events, NoticeEvent))
    final = Trainer(network(root, data_path="stream", strict_files=True),
                    options=EVERY_STEP).run()
    assert not isinstance(final, FinishedEvent)
    assert "square/broken.png" in final.reason and "strict_files" in final.reason


def bomb_png(path, side=200_000):
    """A PNG header announcing side x side pixels (no real pixel data)."""
    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data +
                struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                     chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_refused_by_name(tmp_path):
    root = image_folder(tmp_path / "imgs")
    bomb_png(root / "wave" / "bomb.png")
    with pytest.raises(DatasetError, match="wave/bomb.png.*decompression bomb"):
        load_dataset(spec(root))
    events = run(network(root, data_path="stream", test_fraction=0.0))  # read every file
    assert any("bomb.png" in e.message for e in of(events, NoticeEvent))


def test_train_val_test_subfolders_are_the_split(tmp_path):
    for split, n in (("train", 6), ("val", 3), ("test", 2)):
        image_folder(tmp_path / "data" / split, per_class=n, classes=("a", "b"))
    for path in ("memory", "stream"):
        bundle = load_dataset(spec(tmp_path / "data"), data_path=path)
        assert bundle.sizes == {"train": 12, "val": 6, "test": 4}
        assert bundle.class_names == ["a", "b"]


def test_a_large_scan_reports_progress_and_can_be_cancelled(tmp_path, monkeypatch):
    from runtime.datasets import files_images

    monkeypatch.setattr(files_images, "SCAN_REPORT_EVERY", 100)
    root = tmp_path / "many"
    for c in ("x", "y"):
        (root / c).mkdir(parents=True)
        for i in range(120):
            (root / c / f"{i}.png").touch()
    seen: list[int] = []
    scan = scan_image_folder(root, progress=seen.append)
    assert len(scan.files) == 240 and seen == [100, 200, 240]
    with pytest.raises(DatasetError, match="cancelled after 100 files"):
        scan_image_folder(root, cancelled=lambda: True)


def test_auto_streams_when_the_data_would_not_fit(tmp_path, monkeypatch):
    root = image_folder(tmp_path / "imgs")
    assert not load_dataset(spec(root), data_path="auto").streaming
    monkeypatch.setattr(placement, "host_memory", lambda: 1000)
    assert load_dataset(spec(root), data_path="auto").streaming
    assert TrainingSetup.from_document(network(root)).data_path == "auto"
