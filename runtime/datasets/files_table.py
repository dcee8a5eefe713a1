"""The user's table data: CSV files and NumPy ``.npz`` archives.

CSV: a header row naming the columns, numeric feature columns and one target column
(text labels become classes, sorted alphabetically so the class ids do not depend on row
order). Rows are numbered as a spreadsheet numbers them: the header is row 1. Every
problem (empty file, missing column, ragged row, text or a blank in a feature column) is
reported with the file name, the row and the column.

NPZ: arrays ``X`` (examples, features...) and ``y`` (examples,) or (examples, k), as
``np.savez(path, X=inputs, y=targets)`` writes them. Read with ``allow_pickle=False``, so
an archive cannot run code.
"""

from __future__ import annotations

import ast
import csv
import io
import math
import os
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from graph.catalog import ParamSpec

from .csv_rows import CsvColumns, pick_delimiter, read_columns
from .csv_stream import csv_footprint, index_csv
from .csv_targets import MAX_AUTO_CLASSES, LabelTally, encode_columns
from .registry import DatasetError, DatasetSpec, Raw, register

# A numeric target with at most MAX_AUTO_CLASSES distinct whole numbers is read as class
# ids when the task is "auto"; anything else is a quantity to regress.
CHUNK_ROWS = 2048  # records checked and converted at once
TASK_OPTION = ParamSpec(
    "task", "choice", "auto", "What the target is: auto decides from the values (text "
    f"or up to {MAX_AUTO_CLASSES} whole numbers: classes; other numbers: regression; "
    "several 0/1 target columns: multi-label); multilabel also reads one column of "
    "label lists such as cat|dog.",
    choices=("auto", "classification", "binary", "regression", "multilabel"))


# ---------------------------------------------------------------- targets
def _targets(values: list, numeric: bool, task: str, where: str,
             where_row=None) -> tuple[np.ndarray, str, list[str]]:
    """Encode a target column as (array, task, class names).

    ``values`` are floats when ``numeric`` else strings; ``where`` names the column for
    messages; ``where_row(i)`` names the row of value i.
    """
    if task == "auto":
        whole = numeric and all(float(v).is_integer() for v in values)
        task = ("classification" if not numeric or (
            whole and len(set(values)) <= MAX_AUTO_CLASSES) else "regression")
    if task == "regression":
        if not numeric:
            first = next(i for i, v in enumerate(values) if not _is_number(v))
            at = f" in {where_row(first)}" if where_row else ""
            raise DatasetError(
                f"{where} holds text ({values[first]!r}{at}), which cannot be "
                "regressed; set the dataset's task to classification")
        return np.asarray(values, np.float32).reshape(len(values), -1), task, []
    classes = sorted(set(values))
    names = [_label(c) for c in classes]
    if len(classes) < 2:
        raise DatasetError(f"{where} holds a single value ({names[0] if names else 'none'})"
                           "; classification needs at least 2 classes")
    if task == "binary":
        if len(classes) != 2:
            raise DatasetError(
                f"{where} holds {len(classes)} different values ({_few(names)}) but a "
                "binary task needs exactly 2; set the dataset's task to classification")
        index = {c: i for i, c in enumerate(classes)}
        return np.asarray([index[v] for v in values], np.float32), task, names
    index = {c: i for i, c in enumerate(classes)}
    return np.asarray([index[v] for v in values], np.int64), task, names


def _label(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _few(names: list[str]) -> str:
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")


def _is_number(text) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True


# ---------------------------------------------------------------- CSV
def read_csv(path: Path, target: str, features: str, task: str):
    """(features array, target array, task, class names, feature names) from a CSV."""
    return read_csv_noted(path, target, features, task)[:5]


def read_csv_noted(path: Path, target: str, features: str, task: str):
    """``read_csv`` and what "auto" found in the targets (a note for the summary)."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as e:
        raise DatasetError(f"CSV file '{name}' is not UTF-8 text (byte {e.start} cannot "
                           "be read); save it as UTF-8 CSV") from None
    except OSError as e:
        raise DatasetError(f"CSV file '{name}' cannot be read: {e.strerror or e}") from None
    if not text.strip():
        raise DatasetError(f"CSV file '{name}' is empty; it needs a header row naming the "
                           "columns, then one row per example")
    # Records, not lines: a quoted field may span lines ("1\n2" was merged into 12).
    reader = csv.reader(io.StringIO(text, newline=""),
                        delimiter=pick_delimiter(text.splitlines()[0]))
    columns = read_columns(name, next(reader), target, features)
    tallies = target_tallies(columns, task)
    blocks: list[np.ndarray] = []
    chunk: list[list[str]] = []
    lines: list[int] = []

    def flush() -> None:
        x, labels, kept = columns.parse_many(chunk, lines)
        blocks.append(x.astype(np.float32))
        for i, row_labels in zip(kept, labels):
            for tally, label in zip(tallies, row_labels):
                tally.add(label, lines[i])
        chunk.clear()
        lines.clear()

    last = reader.line_num
    for row in reader:
        # The line the record starts on (a quoted field may run over several).
        line, last = last + 1, reader.line_num
        chunk.append(row)
        lines.append(line)
        if len(chunk) == CHUNK_ROWS:
            flush()
    flush()
    rows = np.concatenate(blocks)
    if not len(rows):
        raise DatasetError(f"CSV file '{name}' has a header but no rows of data")
    y, task, classes = encode_targets(tallies, task, name)
    return rows, y, task, classes, columns.feature_names, target_note(tallies)


def target_tallies(columns: CsvColumns, task: str) -> list[LabelTally]:
    lists = task == "multilabel" and len(columns.targets) == 1
    return [LabelTally(f"CSV file '{columns.name}': the target column '{t}'", lists)
            for t in columns.targets]


def target_note(tallies: list[LabelTally]) -> str:
    """What deciding the task found out (label lists in a text column), or ""."""
    return next((t.note for t in tallies if t.note), "")


def encode_targets(tallies: list[LabelTally], task: str, name: str):
    """(targets, task, class names) of the target column(s)."""
    if len(tallies) > 1:
        if task not in ("auto", "multilabel"):
            raise DatasetError(f"CSV file '{name}': several target columns make a "
                               f"multi-label target, but the dataset's task is {task}; "
                               "set it to multilabel or auto")
        return encode_columns(tallies, f"CSV file '{name}'")
    return tallies[0].encode(task)


def make_csv(o, rng) -> Raw:
    path = o["path"]
    x, y, task, classes, names, note = read_csv_noted(path, o["target"], o["features"],
                                                      o["task"])
    return Raw([x], y, task, classes, names, standardize=o["standardize"],
               display_name=path.name, notes=[note] if note else [])


# ---------------------------------------------------------------- NPZ
def read_npz(path: Path, task: str, x_dtype: str):
    name = path.name
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, zipfile.BadZipFile) as e:
        raise DatasetError(f"NumPy file '{name}' cannot be read as an .npz archive "
                           f"({e}); save it with np.savez(path, X=inputs, y=targets)"
                           ) from None
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise DatasetError(f"NumPy file '{name}' holds a single array, not an .npz "
                           "archive; save it with np.savez(path, X=inputs, y=targets)")
    with archive:
        held = ", ".join(archive.files) or "nothing"
        arrays = {}
        for key in ("X", "y"):
            if key not in archive.files:
                raise DatasetError(
                    f"NumPy file '{name}' has no array '{key}' (it holds: {held}); save "
                    "it with np.savez(path, X=inputs, y=targets)")
            check_npz_entry(path, key)  # sizes from the header, before decoding
            try:
                arrays[key] = archive[key]
            except MemoryError:
                raise DatasetError(f"NumPy file '{name}': array '{key}' does not fit "
                                   "in memory") from None
            except (ValueError, AttributeError, OSError, EOFError,
                    zipfile.BadZipFile) as e:  # object arrays need pickle, refused
                raise DatasetError(f"NumPy file '{name}': array '{key}' cannot be read "
                                   f"({e}); it must hold numbers") from None
    x, y = arrays["X"], arrays["y"]
    for key, a in (("X", x), ("y", y)):
        if a.dtype.kind == "c":
            raise DatasetError(f"NumPy file '{name}': array '{key}' holds complex "
                               "numbers; keep the real part (a.real) or stack real and "
                               "imaginary parts as features")
        if a.ndim == 0 or len(a) == 0:
            raise DatasetError(f"NumPy file '{name}': array '{key}' is empty (shape "
                               f"{a.shape}); it needs one entry per example")
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == np.bool_):
            if key == "y" and a.dtype.kind == "U" and a.ndim == 1:
                continue  # text labels
            raise DatasetError(f"NumPy file '{name}': array '{key}' holds {a.dtype} "
                               "values; it must hold numbers")
    if x.ndim < 2:
        raise DatasetError(
            f"NumPy file '{name}': array 'X' is {x.ndim}-D (shape {x.shape}) but needs "
            "one row per example, shaped (examples, features...); for one feature use "
            "X.reshape(-1, 1)")
    if y.ndim not in (1, 2):
        raise DatasetError(
            f"NumPy file '{name}': array 'y' is {y.ndim}-D (shape {y.shape}) but must be "
            "shaped (examples,) for labels or (examples, k) for regression targets")
    if 0 in x.shape[1:]:
        raise DatasetError(f"NumPy file '{name}': array 'X' is shaped {x.shape}: 0 "
                           "features per example; each example needs at least one")
    if len(x) != len(y):
        raise DatasetError(f"NumPy file '{name}': 'X' holds {len(x)} examples but 'y' "
                           f"holds {len(y)}; they must have the same length")
    if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
        bad = int(np.flatnonzero((~np.isfinite(x.reshape(len(x), -1))).any(axis=1))[0])
        raise DatasetError(f"NumPy file '{name}': array 'X' holds NaN or infinite "
                           f"values (first in example {bad})")
    if x_dtype == "long":
        if not (np.issubdtype(x.dtype, np.integer) or np.all(np.mod(x, 1) == 0)):
            raise DatasetError(f"NumPy file '{name}': the inputs are to be token ids "
                               "(x_dtype long) but 'X' holds fractions")
        x = x.astype(np.int64)
    else:
        x = x.astype(np.float32)

    where = f"NumPy file '{name}': array 'y'"
    if task == "multilabel":
        if y.ndim != 2 or not np.isin(y, (0, 1)).all():
            raise DatasetError(f"{where} is shaped {y.shape}; a multi-label target is "
                               "shaped (examples, labels) and holds 0 or 1")
        return x, y.astype(np.float32), "multilabel", [str(i) for i in range(y.shape[1])]
    if y.ndim == 2 and y.shape[1] == 1 and task != "regression":
        y = y[:, 0]  # one label per example, stored as a column
    if y.ndim == 2 and task in ("classification", "binary"):
        raise DatasetError(f"{where} is shaped {y.shape}; class labels must be shaped "
                           "(examples,)")
    if y.ndim == 2:
        if not np.issubdtype(y.dtype, np.number) or not np.isfinite(y).all():
            raise DatasetError(f"{where} must hold finite numbers to regress")
        return x, y.astype(np.float32), "regression", []
    values: list[Any]
    if y.dtype.kind == "U":
        values, numeric = [str(v) for v in y], False
    else:
        if np.issubdtype(y.dtype, np.floating) and not np.isfinite(y).all():
            raise DatasetError(f"{where} holds NaN or infinite values")
        values, numeric = [float(v) for v in y], True
        if task == "auto" and np.issubdtype(y.dtype, np.floating):
            task = "regression"  # float labels are measurements; int labels are classes
    y_enc, task, classes = _targets(values, numeric, task, where,
                                    lambda i: f"example {i}")
    return x, y_enc, task, classes


def max_dataset_bytes() -> int:
    """The largest decoded array Strata reads (4 GB; raise it with the environment
    variable STRATA_MAX_DATASET_GB)."""
    try:
        return int(float(os.environ.get("STRATA_MAX_DATASET_GB", "4")) * 2**30)
    except ValueError:
        return 4 * 2**30


_MAX_HEADER = 10000  # numpy.lib.format's default max_header_size


def _read_header_3_0(f) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a version 3.0 .npy header (after the magic): the 2.0 layout,
    a 4-byte little-endian length then a dict literal, in UTF-8 rather than latin-1.
    Malformed headers raise ValueError, as NumPy's own readers do."""
    raw = f.read(4)
    if len(raw) < 4:
        raise EOFError("the header ends before its length")
    (length,) = struct.unpack("<I", raw)
    if length > _MAX_HEADER:  # NumPy's own bound against a hostile header
        raise ValueError(f"header of {length} bytes, above NumPy's {_MAX_HEADER}")
    try:
        header = ast.literal_eval(f.read(length).decode("utf-8"))
    except (SyntaxError, UnicodeDecodeError) as e:
        raise ValueError(f"cannot parse the header: {e}") from None
    if (not isinstance(header, dict) or not isinstance(header.get("shape"), tuple)
            or not all(isinstance(d, int) for d in header["shape"]) or "descr" not in header):
        raise ValueError(f"header is not a .npy header: {header!r:.80}")
    try:
        return header["shape"], np.lib.format.descr_to_dtype(header["descr"])
    except TypeError as e:  # not a dtype description
        raise ValueError(f"header names no dtype: {e}") from None


def check_npz_entry(path: Path, key: str) -> None:
    """Refuse, from the zip directory and the .npy header alone, an array whose
    decoded size is above the limit (a 1 MB zip bomb decoded to 2.4 GB) or whose
    header claims more values than the entry holds (10^12 elements, MemoryError)."""
    name, limit = path.name, max_dataset_bytes()
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo(f"{key}.npy")
            if info.file_size > limit:
                raise DatasetError(
                    f"NumPy file '{name}': array '{key}' decodes to "
                    f"{info.file_size / 2**30:.1f} GB ({info.compress_size / 2**20:.1f} "
                    f"MB compressed), above the {limit / 2**30:.1f} GB limit; raise "
                    "it with STRATA_MAX_DATASET_GB if the data is genuine")
            with z.open(info) as f:
                version = np.lib.format.read_magic(f)
                fmt = np.lib.format
                if version == (1, 0):
                    shape, _order, dtype = fmt.read_array_header_1_0(f)
                elif version == (2, 0):
                    shape, _order, dtype = fmt.read_array_header_2_0(f)
                else:  # 3.0 (UTF-8 field names) has no public reader
                    shape, dtype = _read_header_3_0(f)
    except DatasetError:
        raise
    except KeyError:
        raise DatasetError(f"NumPy file '{name}': the entry '{key}' is not an .npy "
                           "array; save it with np.savez(path, X=inputs, y=targets)"
                           ) from None
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise DatasetError(f"NumPy file '{name}': array '{key}' is not a readable .npy "
                           f"array ({e})") from None
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > limit:
        raise DatasetError(
            f"NumPy file '{name}': array '{key}' is shaped {shape} ({dtype}), "
            f"{claimed / 2**30:.1f} GB decoded, above the {limit / 2**30:.1f} GB limit; "
            "raise it with STRATA_MAX_DATASET_GB if the data is genuine")
    if dtype.itemsize and claimed > info.file_size:
        raise DatasetError(f"NumPy file '{name}': array '{key}' claims shape {shape} "
                           f"but its entry holds only {info.file_size:,} bytes (a "
                           "damaged or hand-edited file)")


def make_npz(o, rng) -> Raw:
    path = o["path"]
    x, y, task, classes = read_npz(path, o["task"], o["x_dtype"])
    return Raw([x], y, task, classes, standardize=o["standardize"],
               display_name=path.name)


register(DatasetSpec(
    "csv", "CSV file", "Your files",
    "A table with a header row: numeric feature columns and one target column. Text "
    "labels become classes.", make_csv,
    (ParamSpec("path", "str", "", "The CSV file."),
     ParamSpec("target", "str", "", "The column to predict (empty: the last column)."),
     ParamSpec("features", "str", "", "Feature columns, comma separated (empty: every "
               "column but the target)."),
     TASK_OPTION,
     ParamSpec("standardize", "bool", True, "Shift and scale each feature to mean 0, "
               "standard deviation 1 (statistics of the training split).")),
    task="depends", input_summary="one row of numbers per example", path_kind="file",
    path_filter="CSV files (*.csv *.tsv *.txt)", index=index_csv,
    footprint=lambda o: csv_footprint(o["path"])))
register(DatasetSpec(
    "npz", "NumPy arrays (.npz)", "Your files",
    "An archive written by np.savez(path, X=inputs, y=targets): X shaped (examples, "
    "...), y shaped (examples,) or (examples, k).", make_npz,
    (ParamSpec("path", "str", "", "The .npz file."), TASK_OPTION,
     ParamSpec("x_dtype", "choice", "float", "float for measurements and pixels, long "
               "for integer token ids.", choices=("float", "long")),
     ParamSpec("standardize", "bool", False, "Shift and scale each input value to mean "
               "0, standard deviation 1 (statistics of the training split).")),
    task="depends", input_summary="arrays X and y", path_kind="file",
    path_filter="NumPy archives (*.npz)"))
