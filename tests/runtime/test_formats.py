"""Standard formats on disk (generated here): MNIST IDX, CIFAR batches, .npy pairs,
parquet, Hugging Face save_to_disk folders."""

from __future__ import annotations

import gzip
import io
import json
import pickle

import numpy as np
import pytest

from runtime.datasets import DatasetError, load_dataset


def idx_bytes(array: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(d).to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def mnist_folder(root, n_train=40, n_test=10, gz=True):
    root.mkdir()
    rng = np.random.default_rng(0)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28))
        labels = np.arange(n) % 10
        for kind, data in (("images-idx3", images), ("labels-idx1", labels)):
            name = root / f"{prefix}-{kind}-ubyte"
            if gz:
                with gzip.open(f"{name}.gz", "wb") as f:
                    f.write(idx_bytes(data))
            else:
                name.write_bytes(idx_bytes(data))
    return root


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_idx_files_with_t10k_as_the_test_split(tmp_path, gz):
    bundle = load_dataset({"name": "idx", "path": str(mnist_folder(tmp_path / "m", gz=gz))})
    assert bundle.sizes == {"train": 30, "val": 10, "test": 10}  # stratified by class
    assert bundle.input_shapes == [(1, 28, 28)] and bundle.num_classes == 10
    x = bundle.tensors("train")[0]
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert sorted(bundle.indices["test"].tolist()) == list(range(40, 50))


def test_a_truncated_idx_file_is_refused_by_name(tmp_path):
    root = mnist_folder(tmp_path / "m", gz=False)
    data = (root / "train-images-idx3-ubyte").read_bytes()
    (root / "train-images-idx3-ubyte").write_bytes(data[:-100])
    with pytest.raises(DatasetError, match="train-images-idx3-ubyte' announces 40x28x28"):
        load_dataset({"name": "idx", "path": str(root)})
    (root / "train-images-idx3-ubyte").write_bytes(b"hello world")
    with pytest.raises(DatasetError, match="is not an IDX file"):
        load_dataset({"name": "idx", "path": str(root)})


def cifar10_folder(root):
    root.mkdir()
    rng = np.random.default_rng(0)
    for name, n in (("data_batch_1", 30), ("data_batch_2", 30), ("test_batch", 12)):
        batch = {b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                 b"labels": [i % 10 for i in range(n)]}
        (root / name).write_bytes(pickle.dumps(batch))
    names = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog",
             b"horse", b"ship", b"truck"]
    (root / "batches.meta").write_bytes(pickle.dumps({b"label_names": names}))
    return root


def test_cifar10_batches_with_names_and_test_batch(tmp_path):
    bundle = load_dataset({"name": "cifar", "path": str(cifar10_folder(tmp_path / "c"))})
    assert bundle.sizes["test"] == 12 and sum(bundle.sizes.values()) == 72
    assert bundle.input_shapes == [(3, 32, 32)]
    assert bundle.class_names[:2] == ["airplane", "automobile"]


def test_cifar100_fine_and_coarse_labels(tmp_path):
    root = tmp_path / "c100"
    root.mkdir()
    rng = np.random.default_rng(1)
    for name, n in (("train", 50), ("test", 10)):
        (root / name).write_bytes(pickle.dumps({
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"fine_labels": [i % 5 for i in range(n)],
            b"coarse_labels": [i % 2 for i in range(n)]}))
    assert load_dataset({"name": "cifar", "path": str(root)}).num_classes == 5
    assert load_dataset({"name": "cifar", "path": str(root),
                         "labels": "coarse"}).num_classes == 2


def test_a_pickle_that_would_run_code_is_refused(tmp_path):
    root = cifar10_folder(tmp_path / "c")

    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    (root / "data_batch_2").write_bytes(pickle.dumps({b"data": Evil()}))
    with pytest.raises(DatasetError, match="data_batch_2.*refused to load builtins.print"):
        load_dataset({"name": "cifar", "path": str(root)})


def test_npy_pairs_classification_and_regression(tmp_path):
    (tmp_path / "a").mkdir()
    np.save(tmp_path / "a" / "X.npy", np.random.default_rng(0).normal(size=(30, 4)))
    np.save(tmp_path / "a" / "y.npy", np.arange(30) % 3)
    bundle = load_dataset({"name": "npy", "path": str(tmp_path / "a")})
    assert bundle.task == "classification" and bundle.num_classes == 3
    np.save(tmp_path / "a" / "y.npy", np.random.default_rng(0).normal(size=(30, 2)))
    bundle = load_dataset({"name": "npy", "path": str(tmp_path / "a")})
    assert bundle.task == "regression" and bundle.target_shape == (2,)
    np.save(tmp_path / "a" / "y.npy", np.arange(29))
    with pytest.raises(DatasetError, match="30 examples and the targets 29"):
        load_dataset({"name": "npy", "path": str(tmp_path / "a")})


pa = pytest.importorskip("pyarrow")


def png_bytes(value: int) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.full((6, 6, 3), value, np.uint8)).save(buffer, "PNG")
    return buffer.getvalue()


def image_table(n=24):
    return pa.table({
        "image": pa.array([{"bytes": png_bytes(7 * i % 256), "path": None} for i in range(n)],
                          pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
        "label": pa.array([i % 3 for i in range(n)], pa.int64())})


def test_parquet_images_tables_and_several_regression_targets(tmp_path):
    import pyarrow.parquet as pq

    pq.write_table(image_table(), tmp_path / "img.parquet")
    bundle = load_dataset({"name": "parquet", "path": str(tmp_path / "img.parquet"),
                           "image_size": 8})
    assert bundle.input_shapes == [(3, 8, 8)] and bundle.num_classes == 3
    pq.write_table(pa.table({"a": np.arange(30.0), "b": np.arange(30.0) ** 0.5,
                             "t1": np.arange(30.0) * 2, "t2": np.arange(30.0) * 3}),
                   tmp_path / "tab.parquet")
    bundle = load_dataset({"name": "parquet", "path": str(tmp_path / "tab.parquet"),
                           "target": "t1, t2"})
    assert bundle.task == "regression" and bundle.target_shape == (2,)
    assert bundle.input_shapes == [(2,)]
    pq.write_table(pa.table({"tokens": [[1, 2, 3], [4, 5], [6]] * 10,
                             "label": ["pos", "neg", "pos"] * 10}), tmp_path / "t.parquet")
    bundle = load_dataset({"name": "parquet", "path": str(tmp_path / "t.parquet")})
    assert bundle.input_dtypes == ["long"] and bundle.input_shapes == [(3,)]
    assert bundle.class_names == ["neg", "pos"]
    with pytest.raises(DatasetError, match="no column 'nope'"):
        load_dataset({"name": "parquet", "path": str(tmp_path / "t.parquet"),
                      "target": "nope"})


def save_to_disk(folder, table, names=None):
    """What datasets' Dataset.save_to_disk writes (Arrow stream + JSON)."""
    from pyarrow import ipc

    folder.mkdir(parents=True)
    with ipc.new_stream(str(folder / "data-00000-of-00001.arrow"), table.schema) as w:
        w.write_table(table)
    (folder / "state.json").write_text(json.dumps(
        {"_data_files": [{"filename": "data-00000-of-00001.arrow"}]}))
    features = {"label": {"_type": "ClassLabel", "names": names}} if names else {}
    (folder / "dataset_info.json").write_text(json.dumps({"features": features}))


def test_hugging_face_save_to_disk_dataset_dict_keeps_its_splits(tmp_path):
    root = tmp_path / "hf"
    for split, n in (("train", 24), ("validation", 9), ("test", 6)):
        save_to_disk(root / split, image_table(n), ["cat", "dog", "bird"])
    (root / "dataset_dict.json").write_text(json.dumps(
        {"splits": ["train", "validation", "test"]}))
    bundle = load_dataset({"name": "hf_disk", "path": str(root), "image_size": 8})
    assert bundle.sizes == {"train": 24, "val": 9, "test": 6}
    assert bundle.class_names == ["cat", "dog", "bird"]
    save_to_disk(tmp_path / "one", image_table(30))
    assert sum(load_dataset({"name": "hf_disk",
                             "path": str(tmp_path / "one")}).sizes.values()) == 30
    (tmp_path / "bad").mkdir()
    with pytest.raises(DatasetError, match="not a dataset saved with save_to_disk"):
        load_dataset({"name": "hf_disk", "path": str(tmp_path / "bad")})
