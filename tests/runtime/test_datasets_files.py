"""The user's files: CSV, NumPy .npz and image folders, good and bad, written to tmp_path."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from runtime.datasets import (
    DatasetError,
    MissingDependency,
    describe,
    load_dataset,
    registry,
)


def write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def csv_spec(path, **options):
    return {"name": "csv", "path": str(path), **options}


# ---------------------------------------------------------------- CSV
def test_csv_with_text_labels(tmp_path):
    rows = ["sepal,petal,species"]
    rng = np.random.default_rng(0)
    for i in range(60):
        species = ["setosa", "virginica", "versicolor"][i % 3]
        rows.append(f"{rng.normal(5 + i % 3):.3f},{rng.normal(100 * (i % 3)):.3f},{species}")
    path = write(tmp_path / "iris.csv", "\n".join(rows) + "\n\n")
    b = load_dataset(csv_spec(path), seed=1)
    assert b.task == "classification" and b.num_classes == 3
    assert b.class_names == ["setosa", "versicolor", "virginica"]  # sorted, not row order
    assert b.feature_names == ["sepal", "petal"] and b.input_shapes == [(2,)]
    assert b.display_name == "iris.csv" and sum(b.sizes.values()) == 60
    # Standardised with the training split's statistics only.
    x = b.tensors("train")[0]
    assert torch.allclose(x.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(x.std(0, unbiased=False), torch.ones(2), atol=1e-4)
    assert b.input_mean[0] is not None
    # Row i of the file (after the header) keeps its label through the split.
    labels = {i: ["setosa", "virginica", "versicolor"][i % 3] for i in range(60)}
    for split in ("train", "val", "test"):
        for idx, y in zip(b.indices[split].tolist(), b.tensors(split)[-1].tolist()):
            assert b.class_names[y] == labels[idx]
    raw = load_dataset(csv_spec(path, standardize=False), seed=1)
    assert float(raw.tensors("train")[0][:, 1].abs().max()) > 50


def test_csv_target_and_feature_columns_and_delimiter(tmp_path):
    path = write(tmp_path / "t.csv", "a;b;label;c\n" + "\n".join(
        f"{i};{i * 2};{i % 2};{i * 3}" for i in range(30)))
    b = load_dataset(csv_spec(path, target="label", features="c, a", standardize=False))
    assert b.feature_names == ["c", "a"] and b.num_classes == 2
    x, y = b.tensors("train")
    assert torch.equal(x[:, 0], 3 * x[:, 1]) and torch.equal(y, x[:, 1].long() % 2)
    last = load_dataset(csv_spec(path))  # default target: the last column
    assert last.feature_names == ["a", "b", "label"]
    assert last.task == "regression"  # 30 distinct whole numbers: a quantity, not classes
    binary = load_dataset(csv_spec(path, target="label", task="binary"))
    assert binary.task == "binary" and binary.target_shape == (1,)
    regress = load_dataset(csv_spec(path, target="label", task="regression"))
    assert regress.task == "regression" and regress.tensors("val")[-1].dtype == torch.float32


def test_csv_relative_path_uses_base_dir(tmp_path):
    write(tmp_path / "d.csv", "x,y\n" + "\n".join(f"{i},{i % 2}" for i in range(10)))
    b = load_dataset({"name": "csv", "path": "d.csv"}, base_dir=tmp_path)
    assert sum(b.sizes.values()) == 10


@pytest.mark.parametrize(("text", "options", "message"), [
    ("", {}, "CSV file 'bad.csv' is empty; it needs a header row"),
    ("  \n\n", {}, "CSV file 'bad.csv' is empty"),
    ("a,b,y\n", {}, "CSV file 'bad.csv' has a header but no rows of data"),
    ("a,b,y\n1,2,x\n", {"target": "label"},
     "CSV file 'bad.csv' has no column 'label' (its columns: a, b, y)"),
    ("a,b,y\n1,2,x\n", {"features": "a,z"}, "CSV file 'bad.csv' has no column 'z'"),
    ("a,b,y\n1,2,x\n3,4,y\n5,six,x\n", {},
     ("CSV file 'bad.csv', row 4, column 'b' holds 'six', which is not a number; feature "
     "columns must hold numbers (only the target column may hold text)")),
    ("a,b,y\n1,2,x\n3,,y\n", {}, "CSV file 'bad.csv', row 3, column 'b' is empty"),
    ("a,b,y\n1,2,x\n3,4\n", {},
     "CSV file 'bad.csv', row 3 has 2 values but the header names 3 columns"),
    ("a,b,y\n1,2,x\n3,4,y,9\n", {},
     "CSV file 'bad.csv', row 3 has 4 values but the header names 3 columns"),
    ("a,b,y\n1,2,x\n3,4,\n", {}, "CSV file 'bad.csv', row 3, target column 'y' is empty"),
    ("a,b,y\n1,2,x\n3,4,x\n", {},
     ("CSV file 'bad.csv': the target column 'y' holds a single value (x); classification "
     "needs at least 2 classes")),
    ("a,y\n1,cat\n2,dog\n3,cat\n", {"task": "regression"},
     ("CSV file 'bad.csv': the target column 'y' holds text ('cat' in row 2), which cannot "
     "be regressed")),
    ("a,y\n1,a\n2,b\n3,c\n", {"task": "binary"},
     "holds 3 different values (a, b, c) but a binary task needs exactly 2"),
    ("a,y\n1,0\n2,1\n", {}, "holds 2 examples; training needs at least 3"),
    ("y\n1\n2\n", {}, "CSV file 'bad.csv' has only the target column 'y'"),
    ("a,a,y\n1,2,3\n", {}, "the header names the column 'a' twice"),
    ("a,y\n1,0\nnan,1\n", {}, ("row 3, column 'a' holds 'nan'; feature values must be "
     "finite numbers")),
])
@pytest.mark.parametrize("data_path", ["memory", "stream"])
def test_bad_csv_files_get_a_clear_message(tmp_path, text, options, message, data_path):
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(DatasetError) as e:
        load_dataset(csv_spec(path, **options), data_path=data_path)
    assert message in str(e.value)


def test_csv_missing_file_and_encoding(tmp_path):
    with pytest.raises(DatasetError, match="the file 'nowhere.csv' was not found"):
        load_dataset({"name": "csv", "path": "nowhere.csv"}, base_dir=tmp_path)
    with pytest.raises(DatasetError, match="needs a file: set its `path` option"):
        load_dataset({"name": "csv"})
    with pytest.raises(DatasetError, match="is a folder, but a file is expected"):
        load_dataset(csv_spec(tmp_path))
    (tmp_path / "latin.csv").write_bytes(b"a,y\n1,caf\xe9\n")
    with pytest.raises(DatasetError, match="'latin.csv' is not UTF-8 text"):
        load_dataset(csv_spec(tmp_path / "latin.csv"))


# ---------------------------------------------------------------- NPZ
def npz(tmp_path, name="d.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return {"name": "npz", "path": str(path)}


def test_npz_classification_regression_and_tokens(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(50, 1, 4, 4)).astype(np.float32)
    b = load_dataset(npz(tmp_path, X=images, y=np.arange(50) % 5 + 10))
    assert b.task == "classification" and b.input_shapes == [(1, 4, 4)]
    assert b.class_names == ["10", "11", "12", "13", "14"]  # ids made contiguous
    idx = b.indices["val"]
    assert torch.equal(b.tensors("val")[0], torch.from_numpy(images)[idx])
    assert torch.equal(b.tensors("val")[-1], idx % 5)

    reg = load_dataset(npz(tmp_path, X=rng.normal(size=(40, 3)), y=rng.normal(size=(40, 2))))
    assert reg.task == "regression" and reg.target_shape == (2,)
    floats = load_dataset(npz(tmp_path, X=rng.normal(size=(40, 3)), y=rng.normal(size=40)))
    assert floats.task == "regression" and floats.target_shape == (1,)
    column = load_dataset(npz(tmp_path, X=rng.normal(size=(40, 3)),
                              y=(np.arange(40) % 2)[:, None]))
    assert column.task == "classification" and column.num_classes == 2
    text = load_dataset(npz(tmp_path, X=rng.normal(size=(30, 2)),
                            y=np.array(["no", "yes", "maybe"] * 10)))
    assert text.class_names == ["maybe", "no", "yes"]

    spec = npz(tmp_path, X=rng.integers(0, 7, (40, 5)), y=np.arange(40) % 2)
    tokens = load_dataset({**spec, "x_dtype": "long"})
    assert tokens.input_dtypes == ["long"] and tokens.tensors("train")[0].dtype == torch.int64
    std = load_dataset({**npz(tmp_path, X=rng.normal(5, 3, (60, 2)), y=np.arange(60) % 2),
                        "standardize": True})
    assert torch.allclose(std.tensors("train")[0].mean(0), torch.zeros(2), atol=1e-5)


@pytest.mark.parametrize(("arrays", "message"), [
    ({"X": np.zeros((5, 2))}, ("NumPy file 'd.npz' has no array 'y' (it holds: X); save it "
     "with np.savez(path, X=inputs, y=targets)")),
    ({"inputs": np.zeros((5, 2)), "y": np.zeros(5)}, "has no array 'X' (it holds: inputs, y)"),
    ({"X": np.zeros(5), "y": np.zeros(5)}, ("array 'X' is 1-D (shape (5,)) but needs one row "
     "per example, shaped (examples, features...); for one feature use X.reshape(-1, 1)")),
    ({"X": np.zeros((5, 2)), "y": np.zeros((5, 2, 2))}, ("array 'y' is 3-D (shape (5, 2, 2)) "
     "but must be shaped (examples,) for labels or (examples, k) for regression targets")),
    ({"X": np.zeros((5, 2)), "y": np.zeros(4)},
     "'X' holds 5 examples but 'y' holds 4; they must have the same length"),
    ({"X": np.array([[0.0, 1.0], [np.nan, 2.0], [1.0, 1.0]]), "y": np.arange(3)},
     "array 'X' holds NaN or infinite values (first in example 1)"),
    ({"X": np.array([["a", "b"]] * 3), "y": np.arange(3)},
     "array 'X' holds <U1 values; it must hold numbers"),
    ({"X": np.zeros((4, 2)), "y": np.array([1, 1, 1, 1])},
     "array 'y' holds a single value (1); classification needs at least 2 classes"),
])
def test_bad_npz_files_get_a_clear_message(tmp_path, arrays, message):
    with pytest.raises(DatasetError) as e:
        load_dataset(npz(tmp_path, **arrays))
    assert message in str(e.value)


def test_npz_that_is_not_an_archive(tmp_path):
    write(tmp_path / "junk.npz", "this is not a zip file")
    with pytest.raises(DatasetError, match="NumPy file 'junk.npz' cannot be read as an "
                       r"\.npz archive"):
        load_dataset({"name": "npz", "path": str(tmp_path / "junk.npz")})
    np.save(tmp_path / "single.npy", np.zeros(3))
    (tmp_path / "single.npy").rename(tmp_path / "single.npz")
    with pytest.raises(DatasetError, match="holds a single array, not an .npz archive"):
        load_dataset({"name": "npz", "path": str(tmp_path / "single.npz")})
    np.savez(tmp_path / "obj.npz", X=np.array([{"a": 1}] * 3, dtype=object),
             y=np.arange(3))
    with pytest.raises(DatasetError, match="array 'X' cannot be read"):
        load_dataset({"name": "npz", "path": str(tmp_path / "obj.npz")})
    with pytest.raises(DatasetError, match="holds fractions"):
        load_dataset({**npz(tmp_path, X=np.full((4, 2), 0.5), y=np.arange(4) % 2),
                      "x_dtype": "long"})


# ---------------------------------------------------------------- image folders
def image_folder(root, classes: dict[str, int], size=(10, 6), mode="RGB"):
    from PIL import Image

    for k, (name, count) in enumerate(classes.items()):
        folder = root / name
        folder.mkdir(parents=True)
        for i in range(count):
            value = 40 * k + 3 * i
            Image.new(mode, size, (value, value, value) if mode == "RGB" else value
                      ).save(folder / f"{i}.png")
    return {"name": "image_folder", "path": str(root)}


def test_image_folder_grayscale_and_rgb(tmp_path):
    pytest.importorskip("PIL")
    spec = image_folder(tmp_path / "pets", {"dogs": 6, "cats": 5, "birds": 4})
    (tmp_path / "pets" / "cats" / "notes.txt").write_text("not an image")
    (tmp_path / "pets" / "README").write_text("files beside the class folders are ignored")
    b = load_dataset({**spec, "image_size": 8})
    assert b.class_names == ["birds", "cats", "dogs"] and sum(b.sizes.values()) == 15
    assert b.input_shapes == [(1, 8, 8)] and b.display_name == "pets"
    x, y = b.tensors("train")
    # Each image is one flat grey level; class k's level is 40 * k' + 3 * i (k' = the
    # order the folders were written in: dogs 0, cats 1, birds 2).
    written = {"dogs": 0, "cats": 1, "birds": 2}
    for img, label in zip(x, y.tolist()):
        level = round(float(img.mean()) * 255)
        assert (level - 40 * written[b.class_names[label]]) % 3 == 0
        assert float(img.std()) < 1e-6
    rgb = load_dataset({**spec, "image_size": 5, "color": "rgb"})
    assert rgb.input_shapes == [(3, 5, 5)]


@pytest.mark.parametrize(("make", "message"), [
    (lambda root: root.mkdir(), ("has no subfolders; put the images of each class in a "
     "subfolder named after the class")),
    (lambda root: image_folder(root, {"only": 3}), ("has only one class subfolder ('only'); "
     "classification needs at least 2")),
    (lambda root: (image_folder(root, {"a": 3}), (root / "b").mkdir(),
                   (root / "b" / "x.txt").write_text("hi")),
     "the class subfolder 'b' holds no images"),
    (lambda root: (image_folder(root, {"a": 3, "b": 3}),
                   (root / "b" / "broken.png").write_bytes(b"\x89PNG not really")),
     "the file 'b/broken.png' cannot be read (not an image Pillow can read)"),
])
def test_bad_image_folders_get_a_clear_message(tmp_path, make, message):
    pytest.importorskip("PIL")
    root = tmp_path / "imgs"
    make(root)
    with pytest.raises(DatasetError) as e:
        load_dataset({"name": "image_folder", "path": str(root)})
    assert message in str(e.value)
    assert "imgs" in str(e.value)


def test_image_folder_path_must_be_a_folder(tmp_path):
    write(tmp_path / "a.png", "x")
    with pytest.raises(DatasetError, match="'.*a.png' is a file, but a folder with one "
                       "subfolder per class is expected"):
        load_dataset({"name": "image_folder", "path": str(tmp_path / "a.png")})


def test_image_folder_without_pillow_says_how_to_get_it(tmp_path, monkeypatch):
    real = registry._installed
    monkeypatch.setattr(registry, "_installed", lambda pkg: pkg != "Pillow" and real(pkg))
    assert describe("image_folder").missing() == ["Pillow"]
    with pytest.raises(MissingDependency, match="needs the Pillow package, which is not "
                       "installed. Install it with: pip install Pillow"):
        load_dataset({"name": "image_folder", "path": str(tmp_path)})


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_npz_headers_of_every_version_are_read_before_decoding(tmp_path, version):
    """The size check reads .npy headers 1.0, 2.0 and 3.0 (UTF-8 field names, which
    NumPy has no public reader for) and refuses a header claiming 10^12 rows."""
    import io
    import struct
    import zipfile

    from runtime.datasets import DatasetError
    from runtime.datasets.files_table import check_npz_entry

    buf = io.BytesIO()
    np.lib.format.write_array(buf, np.zeros(4, dtype=[("\u00e4", "<f4"), ("b", "<i8")]),
                              version=version)
    path = tmp_path / "ok.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", buf.getvalue())
    check_npz_entry(path, "X")  # small and well-formed: accepted

    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000000, 3), }"
    header = header.ljust(118) + "\n"
    length = struct.pack("<H" if version == (1, 0) else "<I", len(header))
    bomb = np.lib.format.magic(*version) + length + header.encode() + b"\0" * 64
    path = tmp_path / "bomb.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("X.npy", bomb)
    with pytest.raises(DatasetError, match=r"shaped \(1000000000000, 3\).*above the"):
        check_npz_entry(path, "X")
