"""Standard dataset formats people already have on disk.

- ``idx``: MNIST, Fashion-MNIST and KMNIST as distributed: a folder holding
  ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte`` (each optionally ``.gz``),
  and usually ``t10k-...`` files, which become the test split. The IDX header (magic,
  element type, dimensions) is checked against the file's length before anything is
  read.
- ``cifar``: CIFAR-10 (``data_batch_1``..``5``, ``test_batch``, ``batches.meta``) or
  CIFAR-100 (``train``, ``test``, ``meta``) python batches. They are pickles: read with
  an unpickler that only builds dicts, lists, strings, bytes and NumPy arrays, so a file
  cannot run code.
- ``npy``: a pair of ``.npy`` files in a folder (``X.npy``/``x.npy``/``inputs.npy`` and
  ``y.npy``/``targets.npy``/``labels.npy``), read with ``allow_pickle=False``.

Nothing is downloaded: the user points at files. Bad files are refused naming the file
and what is wrong with it.
"""

from __future__ import annotations

import gzip
import io
import pickle
from pathlib import Path

import numpy as np

from graph.catalog import ParamSpec

from .bundle import split_indices
from .files_table import TASK_OPTION, _targets
from .registry import DatasetError, DatasetSpec, Raw, register

IDX_TYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4",
             0x0E: ">f8"}


# ---------------------------------------------------------------- IDX (MNIST family)
def read_idx(path: Path) -> np.ndarray:
    """One IDX file (``.gz`` or not) as an array shaped by its header."""
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError) as e:
        raise DatasetError(f"IDX file '{path.name}' cannot be read ({e})") from None
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in IDX_TYPES:
        raise DatasetError(f"'{path.name}' is not an IDX file (its first bytes are not an "
                           "IDX magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    if ndim == 0 or len(data) < header:
        raise DatasetError(f"IDX file '{path.name}' has a damaged header")
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    dtype: np.dtype = np.dtype(IDX_TYPES[data[2]])  # type: ignore[call-overload]
    expected = int(np.prod(dims)) * dtype.itemsize
    if len(data) - header != expected:
        raise DatasetError(
            f"IDX file '{path.name}' announces {'x'.join(map(str, dims))} values "
            f"({expected:,} bytes) but holds {len(data) - header:,} bytes; it is "
            "truncated or damaged")
    return np.frombuffer(data, dtype, offset=header).reshape(dims)


def _find(folder: Path, stem: str) -> Path | None:
    for name in (stem, stem + ".gz"):
        for candidate in (folder / name, folder / name.replace("-idx", ".idx")):
            if candidate.is_file():
                return candidate
    return None


def make_idx(o, rng) -> Raw:
    folder = o["path"]
    parts = {}
    for split, prefix in (("train", "train"), ("test", "t10k")):
        images = _find(folder, f"{prefix}-images-idx3-ubyte")
        labels = _find(folder, f"{prefix}-labels-idx1-ubyte")
        if images is None and labels is None:
            continue
        if images is None or labels is None:
            missing = f"{prefix}-{'images-idx3' if images is None else 'labels-idx1'}-ubyte"
            raise DatasetError(f"IDX folder '{folder.name}': {missing} (or .gz) is missing "
                               "beside its partner file")
        x, y = read_idx(images), read_idx(labels)
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DatasetError(f"IDX folder '{folder.name}': {images.name} holds "
                               f"{x.shape} and {labels.name} {y.shape}; expected "
                               "(n, height, width) images and n labels")
        parts[split] = (x, y)
    if "train" not in parts:
        raise DatasetError(f"'{folder.name}' holds no train-images-idx3-ubyte and "
                           "train-labels-idx1-ubyte files (MNIST's layout)")
    x = np.concatenate([p[0] for p in parts.values()])
    y = np.concatenate([p[1] for p in parts.values()]).astype(np.int64)
    pixels = (x.astype(np.float32) / 255.0)[:, None]
    names = [str(c) for c in range(int(y.max()) + 1)]
    return Raw([pixels], y, "classification", names, display_name=folder.name,
               splits=_given_test(parts, y, o))


def _given_test(parts: dict, y: np.ndarray, o: dict) -> dict[str, np.ndarray] | None:
    """Train/val from the train files (stratified, seeded), test from the test files."""
    if "test" not in parts:
        return None
    n_train = len(parts["train"][1])
    inner = split_indices(n_train, y[:n_train], o["seed"], o["val_fraction"], 0.0)
    return {"train": inner["train"], "val": inner["val"],
            "test": np.arange(n_train, len(y))}


# ---------------------------------------------------------------- CIFAR
class _ArraysOnly(pickle.Unpickler):
    """Builds NumPy arrays and plain containers, nothing else."""

    ALLOWED = frozenset({("numpy.core.multiarray", "_reconstruct"), ("numpy", "ndarray"),
               ("numpy", "dtype"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
               ("_codecs", "encode")})

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refused to load {module}.{name}")


def _unpickle(path: Path) -> dict:
    try:
        data = _ArraysOnly(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, OSError) as e:
        raise DatasetError(f"CIFAR file '{path.name}' cannot be read ({e})") from None
    if not isinstance(data, dict):
        raise DatasetError(f"CIFAR file '{path.name}' holds no batch (a dict)")
    return {k.decode() if isinstance(k, bytes) else k: v for k, v in data.items()}


def _batch(path: Path, key: str) -> tuple[np.ndarray, np.ndarray]:
    d = _unpickle(path)
    if "data" not in d or key not in d:
        raise DatasetError(f"CIFAR file '{path.name}' has no '{key}' or 'data' entry")
    x = np.asarray(d["data"], np.uint8)
    y = np.asarray(d[key], np.int64)
    if x.ndim != 2 or x.shape[1] != 3072 or len(x) != len(y):
        raise DatasetError(f"CIFAR file '{path.name}': data shaped {x.shape} for "
                           f"{len(y)} labels; expected (n, 3072)")
    return x, y


def make_cifar(o, rng) -> Raw:
    folder = o["path"]
    if (folder / "data_batch_1").is_file():  # CIFAR-10
        key, meta, names_key = "labels", folder / "batches.meta", "label_names"
        train_files = sorted(folder.glob("data_batch_*"))
        test_file = folder / "test_batch"
    elif (folder / "train").is_file():  # CIFAR-100
        key = "fine_labels" if o["labels"] == "fine" else "coarse_labels"
        meta, names_key = folder / "meta", f"{o['labels']}_label_names"
        train_files, test_file = [folder / "train"], folder / "test"
    else:
        raise DatasetError(f"'{folder.name}' holds neither CIFAR-10 (data_batch_1..5) nor "
                           "CIFAR-100 (train, test) python batches")
    parts = {"train": [_batch(f, key) for f in train_files]}
    if test_file.is_file():
        parts["test"] = [_batch(test_file, key)]
    joined = {s: (np.concatenate([b[0] for b in bs]), np.concatenate([b[1] for b in bs]))
              for s, bs in parts.items()}
    x = np.concatenate([v[0] for v in joined.values()])
    y = np.concatenate([v[1] for v in joined.values()])
    names = [str(c) for c in range(int(y.max()) + 1)]
    if meta.is_file():
        found = _unpickle(meta).get(names_key)
        if isinstance(found, list) and len(found) >= len(names):
            names = [n.decode() if isinstance(n, bytes) else str(n) for n in found]
    images = x.reshape(-1, 3, 32, 32).astype(np.float32) / 255.0
    return Raw([images], y, "classification", names, display_name=folder.name,
               splits=_given_test(joined, y, o))


# ---------------------------------------------------------------- .npy pairs
NPY_INPUTS = ("X.npy", "x.npy", "inputs.npy", "features.npy")
NPY_TARGETS = ("y.npy", "Y.npy", "targets.npy", "labels.npy")


def _npy(folder: Path, names: tuple[str, ...], what: str) -> np.ndarray:
    for name in names:
        if (folder / name).is_file():
            try:
                return np.load(folder / name, allow_pickle=False)
            except (ValueError, OSError) as e:
                raise DatasetError(f"'{name}' cannot be read as a .npy array "
                                   f"({str(e).splitlines()[0][:150]})") from None
    raise DatasetError(f"'{folder.name}' holds no {what} file ({', '.join(names)})")


def make_npy(o, rng) -> Raw:
    folder = o["path"]
    x = _npy(folder, NPY_INPUTS, "inputs")
    y = _npy(folder, NPY_TARGETS, "targets")
    if len(x) != len(y):
        raise DatasetError(f"'{folder.name}': the inputs hold {len(x)} examples and the "
                           f"targets {len(y)}; they must match")
    names: list[str] = []
    if y.ndim > 1 and y.shape[1:] != (1,):
        target = y.astype(np.float32)
        task = "regression" if o["task"] in ("auto", "regression") else o["task"]
    else:
        flat = y.reshape(-1)
        numeric = flat.dtype.kind in "iuf"
        values = flat.astype(float).tolist() if numeric else flat.astype(str).tolist()
        target, task, names = _targets(values, numeric, o["task"], "the targets")
    x = x.astype(np.int64 if o["x_dtype"] == "long" else np.float32)
    return Raw([x], target, task, names, standardize=o["standardize"],
               display_name=folder.name)


def _folder_spec(name, display, help_text, make, options, summary) -> DatasetSpec:
    return DatasetSpec(name, display, "Your files", help_text, make,
                       (ParamSpec("path", "str", "", "The folder holding the files."),
                        *options), task="depends" if name == "npy" else "classification",
                       input_summary=summary, path_kind="folder")


register(_folder_spec(
    "idx", "MNIST-style IDX files",
    "MNIST, Fashion-MNIST or KMNIST as distributed: train-images-idx3-ubyte and "
    "train-labels-idx1-ubyte (and t10k-... for the test split), plain or .gz.", make_idx,
    (), "1x28x28 grayscale images"))
register(_folder_spec(
    "cifar", "CIFAR-10/100 python batches",
    "The folder of CIFAR-10 (data_batch_1..5, test_batch) or CIFAR-100 (train, test) "
    "python batches; test_batch/test becomes the test split.", make_cifar,
    (ParamSpec("labels", "choice", "fine", "CIFAR-100: the 100 fine classes or the 20 "
               "coarse ones.", choices=("fine", "coarse")),), "3x32x32 colour images"))
register(_folder_spec(
    "npy", "NumPy .npy pair",
    "A folder with X.npy (examples, ...) and y.npy (examples,) or (examples, k).",
    make_npy,
    (TASK_OPTION,
     ParamSpec("x_dtype", "choice", "float", "float for measurements and pixels, long "
               "for integer token ids.", choices=("float", "long")),
     ParamSpec("standardize", "bool", False, "Shift and scale each input value to mean "
               "0, standard deviation 1 (statistics of the training split).")),
    "arrays X and y"))
