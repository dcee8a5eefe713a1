"""A CSV file on the streaming path: a bounded-memory scan, the same split and batches
as the in-memory path, the hostile-file rules, flat memory, and the auto decision
(decoded size against the training device's free memory)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

from graph.builder import Builder
from runtime.datasets import DatasetError, csv_stream, load_dataset, placement
from runtime.datasets.csv_stream import scan_csv
from runtime.datasets.placement import Footprint, FreeMemory, choose_data_path
from runtime.engine import Trainer
from runtime.events import EpochEvent, FinishedEvent, StepEvent
from runtime.loop import TensorBatches
from runtime.streaming import LoaderBatches
from tests.runtime.training_helpers import EVERY_STEP, of

CPU = torch.device("cpu")


def table(path, rows: int, features: int = 4, seed: int = 0, labels="text"):
    """A CSV whose class is the sign of the first feature."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, features))
    names = ",".join(f"f{i}" for i in range(features))
    y = (np.where(x[:, 0] > 0, "pos", "neg") if labels == "text"
         else np.round(x[:, 1] * 3 + x[:, 0], 4).astype(str))
    lines = [f"{names},label"] + [",".join(f"{v:.6f}" for v in r) + f",{t}"
                                  for r, t in zip(x, y)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def spec(path, **more):
    return {"name": "csv", "path": str(path), **more}


@pytest.mark.parametrize("standardize", [False, True])
def test_both_paths_split_alike_and_give_the_same_batches(tmp_path, standardize):
    path = table(tmp_path / "t.csv", 200)
    memory = load_dataset(spec(path, standardize=standardize), seed=3)
    stream = load_dataset(spec(path, standardize=standardize), seed=3, data_path="stream")
    assert stream.streaming and not memory.streaming
    assert (stream.task, stream.class_names, stream.sizes) == (
        memory.task, memory.class_names, memory.sizes)
    assert stream.feature_names == memory.feature_names
    for split in ("train", "val", "test"):
        assert torch.equal(stream.indices[split], memory.indices[split])
    order = torch.randperm(memory.sizes["train"], generator=torch.Generator().manual_seed(1))
    tensors = TensorBatches(memory.tensors("train"), 16, 9)
    for workers in (0, 2):
        rows = LoaderBatches(stream.train, 16, 9, workers=workers, device=CPU)
        pairs = list(zip(tensors.epoch(order, 2), rows.epoch(order, 2), strict=True))
        assert len(pairs) == 7
        for (xa, ya), (xb, yb) in pairs:
            assert torch.equal(ya, yb)
            if standardize:  # float64 sums vs float32 means: rounding only
                torch.testing.assert_close(xa[0], xb[0], atol=1e-5, rtol=1e-5)
            else:
                assert torch.equal(xa[0], xb[0])
        rows.close()


def test_regression_targets_stream_as_floats(tmp_path):
    path = table(tmp_path / "r.csv", 60, labels="numbers")
    memory = load_dataset(spec(path), seed=1)
    stream = load_dataset(spec(path), seed=1, data_path="stream")
    assert stream.task == memory.task == "regression"
    assert stream.target_shape == memory.target_shape == (1,)
    _x, y, problem = stream.train[0]
    assert problem == "" and torch.allclose(y, memory.train[0][1])


def network(path, **training):
    b = Builder("Table net")
    x = b.add("Input", shape=[4])
    b.chain(x, ("Linear", {"out_features": 8}), "ReLU", ("Linear", {"out_features": 2}),
            ("Output", {"task": "classification"}))
    return b.done({"dataset": spec(path), "batch_size": 16, "epochs": 2,
                   "sample_every": 1, "workers": 0, **training})


def test_a_network_trains_on_a_streamed_csv_exactly_as_in_memory(tmp_path):
    path = table(tmp_path / "t.csv", 120)
    runs = {}
    for data_path in ("memory", "stream"):
        events: list = []
        final = Trainer(network(path, data_path=data_path), emit=events.append,
                        options=EVERY_STEP).run()
        assert isinstance(final, FinishedEvent), final
        runs[data_path] = events
    losses = {k: [e.loss for e in of(v, StepEvent)] for k, v in runs.items()}
    assert len(losses["stream"]) == 12
    assert losses["stream"] == pytest.approx(losses["memory"], rel=1e-4)
    assert of(runs["stream"], EpochEvent)[-1].val_metric == pytest.approx(
        of(runs["memory"], EpochEvent)[-1].val_metric)


def test_the_scan_counts_types_previews_and_can_be_cancelled(tmp_path, monkeypatch):
    path = table(tmp_path / "t.csv", 120)
    monkeypatch.setattr(csv_stream, "REPORT_EVERY", 50)
    monkeypatch.setattr(csv_stream, "SCAN_CHUNK", 25)
    seen: list[int] = []
    scan = scan_csv(path, "", "", "auto", progress=seen.append)
    assert scan.rows == 120 and seen == [50, 100, 120]
    counts = scan.class_counts()
    assert set(counts) == {"neg", "pos"} and sum(counts.values()) == 120
    assert scan.column_types() == {"f0": "number", "f1": "number", "f2": "number",
                                   "f3": "number", "label": "text"}
    assert len(scan.preview) == 5 and scan.preview[0][-1] in ("neg", "pos")
    with pytest.raises(DatasetError, match="cancelled after 50 rows"):
        scan_csv(path, "", "", "auto", cancelled=lambda: True)


@pytest.mark.parametrize(("text", "message"), [
    ('a,b,label\n1,2,x\n"1\n2",3,y\n4,5,x\n', r"row 3, column 'a' holds '1\n2'"),
    ("a,label\n1,x\n2,x\x00\n3,y\n", "row 3, target column 'label' holds a NUL"),
    ("a,label\n1,x\n(1+2j),y\n3,y\n", "row 3, column 'a' holds '(1+2j)', which is not"),
    ("label\nx\ny\nx\n", "has only the target column 'label'"),
    ("a,label\n1,x\n2,y\n" + "3," + "z" * 200 + "\n", None),
])
def test_hostile_csv_rules_hold_on_the_streaming_path(tmp_path, text, message):
    path = tmp_path / "h.csv"
    path.write_text(text, encoding="utf-8")
    if message is None:  # a long label is fine
        assert load_dataset(spec(path), data_path="stream").sizes["train"] >= 1
        return
    with pytest.raises(DatasetError) as e:
        load_dataset(spec(path), data_path="stream")
    assert "CSV file 'h.csv'" in str(e.value) and message in str(e.value)


def test_a_file_changed_after_its_scan_is_refused_not_misread(tmp_path):
    path = table(tmp_path / "t.csv", 40)
    stream = load_dataset(spec(path, standardize=False), data_path="stream")
    table(path, 41, seed=5)
    with pytest.raises(DatasetError, match="changed since it was scanned"):
        stream.train[0]


def _peak_streaming(path) -> int:
    """Peak traced bytes of scanning ``path`` and reading one epoch of it."""
    tracemalloc.start()
    try:
        bundle = load_dataset(spec(path, standardize=False), data_path="stream")
        n = len(bundle.train)
        rows = LoaderBatches(bundle.train, 256, -(-n // 256), workers=0, device=CPU)
        for _ in rows.epoch(torch.arange(n), 0):
            pass
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streaming_memory_does_not_grow_with_the_file(tmp_path):
    small = table(tmp_path / "small.csv", 2_500, features=20)  # ~0.5 MB
    large = table(tmp_path / "large.csv", 10_000, features=20, seed=1)  # ~2 MB
    grown = large.stat().st_size - small.stat().st_size
    assert grown > 1 << 20
    a, b = _peak_streaming(small), _peak_streaming(large)
    # The index is a few bytes per row (offset, label): 7,500 more rows are ~100 kB;
    # the table as Python floats (the in-memory reader) would be ~6 MB more.
    assert b - a < min(grown // 4, 512 << 10), (a, b)


def test_auto_weighs_the_decoded_size_against_the_training_devices_free_memory():
    gb = 2**30
    cpu = FreeMemory("cpu", 16 * gb, 16 * gb)
    assert choose_data_path(Footprint(3 * gb), cpu).path == "memory"
    assert choose_data_path(Footprint(5 * gb), cpu).path == "stream"
    # A CSV parsed whole needs far more than its decoded size.
    assert choose_data_path(Footprint(1 * gb, reading=10 * gb), cpu).path == "stream"
    # CUDA: the GPU's free memory decides, the host's must hold the data too.
    gpu = FreeMemory("cuda:0", 8 * gb, 64 * gb)
    assert choose_data_path(Footprint(1 * gb), gpu).path == "memory"
    decided = choose_data_path(Footprint(3 * gb), gpu)
    assert decided.path == "stream" and "GPU" in decided.reason
    assert choose_data_path(Footprint(3 * gb), FreeMemory("cuda", 80 * gb, 4 * gb)
                            ).path == "stream"
    # MPS shares the host's memory.
    assert choose_data_path(Footprint(3 * gb), FreeMemory("mps", 16 * gb, 16 * gb)
                            ).path == "memory"


def test_auto_streams_a_large_csv_and_the_cuda_branch_asks_the_gpu(tmp_path,
                                                                   monkeypatch):
    path = table(tmp_path / "t.csv", 50)
    assert not load_dataset(spec(path), data_path="auto").streaming
    monkeypatch.setattr(csv_stream, "STREAM_FILE_BYTES", 100)  # a "big" file
    assert load_dataset(spec(path), data_path="auto").streaming
    monkeypatch.undo()
    asked = []

    def mem_get_info(device):
        asked.append(device)
        return (1000, 8000)  # bytes free, total

    monkeypatch.setattr(torch.cuda, "mem_get_info", mem_get_info)
    free = placement.free_memory("cuda:0")
    assert asked == [torch.device("cuda:0")] and free.device_bytes == 1000
    assert load_dataset(spec(path), data_path="auto", device="cuda:0").streaming
    assert not load_dataset(spec(path), data_path="auto", device="cpu").streaming



def test_a_streamed_csv_run_resumes_mid_epoch_with_the_same_remaining_batches(
        tmp_path, monkeypatch):
    """Stopped in the middle of its second epoch and resumed from the checkpoint, a run
    reads the rows the uninterrupted run reads from there on, batch for batch."""
    from runtime.control import Control
    from runtime.datasets.csv_stream import CsvRowReader

    path = table(tmp_path / "t.csv", 120)
    read: list[tuple[int, ...]] = []  # the offsets of every batch read, in order
    original = CsvRowReader.read_many

    def recording(self, offsets):
        read.append(tuple(int(o) for o in offsets))
        return original(self, offsets)

    monkeypatch.setattr(CsvRowReader, "read_many", recording)

    def doc():
        return network(path, dataset=spec(path, standardize=False), data_path="stream",
                       epochs=3, seed=7)

    bundle = load_dataset(spec(path, standardize=False), seed=7, data_path="stream")
    train_rows = {int(o) for o in bundle.train.index.items[bundle.train.positions]}

    def training_batches():  # validation reads other rows
        return [b for b in read if set(b) <= train_rows]

    whole_events: list = []
    final = Trainer(doc(), emit=whole_events.append, options=EVERY_STEP).run()
    assert isinstance(final, FinishedEvent), final
    whole = training_batches()
    assert len(whole) == 18  # 84 training rows: 6 batches an epoch (the last of 4)

    read.clear()
    control = Control()

    def stop_mid_epoch(event):
        if isinstance(event, StepEvent) and event.step == 8:  # epoch 2, batch 2 of 6
            control.stop()

    out = tmp_path / "run"
    stopped = Trainer(doc(), emit=stop_mid_epoch, control=control, out_dir=out,
                      options=EVERY_STEP).run()
    assert stopped.stopped and stopped.summary["steps"] == 8
    read.clear()
    rest_events: list = []
    final = Trainer(doc(), emit=rest_events.append, resume=out / "last.pt", out_dir=out,
                    options=EVERY_STEP).run()
    assert isinstance(final, FinishedEvent), final
    assert [e.step for e in of(rest_events, StepEvent)] == list(range(9, 19))
    # The same rows in the same order: the rest of epoch 2, then epoch 3.
    assert training_batches() == whole[8:]
    assert [e.loss for e in of(rest_events, StepEvent)] == pytest.approx(
        [e.loss for e in of(whole_events, StepEvent)][8:], rel=1e-6)
