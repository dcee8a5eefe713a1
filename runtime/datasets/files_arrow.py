"""Parquet files and Hugging Face datasets saved with ``save_to_disk``, read with pyarrow.

pyarrow is an optional package (the ``parquet`` extra); the Hugging Face ``datasets``
package is not needed: a ``save_to_disk`` folder is Arrow files plus JSON
(``state.json`` lists the files, ``dataset_info.json`` declares the features, and a
``DatasetDict`` adds ``dataset_dict.json`` and one subfolder per split, whose
train/validation/test become Strata's splits).

Columns: ``target`` names the column(s) to predict (empty: ``label``/``labels``, else
the last column); several numeric target columns are a regression of that many values,
or a multi-label target when they hold 0/1 integers (or the task says multilabel); a
column of label lists is a multi-label target.
``inputs`` names the input columns (empty: every other column). An image column (Hugging
Face's ``Image`` feature, a struct holding the encoded ``bytes``, or a binary column) is
decoded with Pillow and resized; a column of token-id lists becomes a long input padded
with 0 to the longest; numeric columns become one float vector. Class names come from
the ``ClassLabel`` feature when the dataset declares one.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from graph.catalog import ParamSpec

from .csv_targets import encode_label_lists, looks_like_lists, split_labels
from .files_images import ImageReader, UnreadableFile
from .files_table import TASK_OPTION, _targets
from .registry import DatasetError, DatasetSpec, Raw, register

HF_SPLITS = {"train": "train", "validation": "val", "valid": "val", "val": "val",
             "test": "test"}


def _pa():
    import pyarrow

    return pyarrow


def _read_arrow(path: Path):
    pa = _pa()
    from pyarrow import ipc

    try:
        with pa.memory_map(str(path)) as source:
            try:
                return ipc.open_stream(source).read_all()
            except pa.ArrowInvalid:
                source.seek(0)
                return ipc.open_file(source).read_all()
    except (pa.ArrowInvalid, OSError) as e:
        raise DatasetError(f"Arrow file '{path.name}' cannot be read ({e})") from None


def _hf_split(folder: Path):
    state = folder / "state.json"
    try:
        files = [f["filename"] for f in json.loads(state.read_text())["_data_files"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise DatasetError(f"'{folder.name}' is not a dataset saved with save_to_disk "
                           f"(its state.json cannot be read: {e})") from None
    pa = _pa()
    table = pa.concat_tables([_read_arrow(folder / f) for f in files])
    features: dict = {}
    info = folder / "dataset_info.json"
    if info.is_file():
        try:
            features = json.loads(info.read_text()).get("features") or {}
        except ValueError:
            features = {}
    return table, features


def read_hf_disk(folder: Path):
    """({split or "all": table}, features) of a save_to_disk folder."""
    listing = folder / "dataset_dict.json"
    if listing.is_file():
        try:
            names = json.loads(listing.read_text())["splits"]
        except (ValueError, KeyError) as e:
            raise DatasetError(f"'{folder.name}/dataset_dict.json' cannot be read ({e})"
                               ) from None
        tables, features = {}, {}
        for name in names:
            split = HF_SPLITS.get(name)
            if split is None or split in tables:
                continue
            tables[split], features = _hf_split(folder / name)
        if "train" not in tables:
            raise DatasetError(f"'{folder.name}' has no train split (it has: "
                               f"{', '.join(names)})")
        return tables, features
    table, features = _hf_split(folder)
    return {"all": table}, features


def _columns(text: str) -> list[str]:
    return [c.strip() for c in text.split(",") if c.strip()]


def _class_names(features: dict, column: str) -> list[str] | None:
    f = features.get(column)
    if isinstance(f, dict) and f.get("_type") == "ClassLabel" and f.get("names"):
        return [str(n) for n in f["names"]]
    return None


def _image_column(values: list, column: str, o: dict) -> np.ndarray:
    reader = ImageReader(o["image_size"], o["color"])
    out = []
    for i, v in enumerate(values):
        data = v.get("bytes") if isinstance(v, dict) else v
        if not isinstance(data, (bytes, bytearray)):
            path = v.get("path") if isinstance(v, dict) else None
            raise DatasetError(f"Column '{column}', row {i + 1}: the image holds no "
                               f"encoded bytes{f' (only a path: {path})' if path else ''}")
        try:
            out.append(reader(io.BytesIO(data)))
        except UnreadableFile as e:
            raise DatasetError(f"Column '{column}', row {i + 1}: the image cannot be "
                               f"read ({e.reason})") from None
    return np.stack(out).astype(np.float32)


def _inputs(table, columns: list[str], o: dict) -> list[np.ndarray]:
    pa = _pa()
    numeric, arrays = [], []
    for name in columns:
        col = table.column(name)
        t = col.type
        if pa.types.is_struct(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t):
            arrays.append(_image_column(col.to_pylist(), name, o))
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            rows = col.to_pylist()
            width = max((len(r) for r in rows if r), default=1)
            tokens = np.zeros((len(rows), width), np.int64)
            for i, r in enumerate(rows):
                tokens[i, :len(r or [])] = r or []
            arrays.append(tokens)
        elif pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t):
            values = col.to_numpy(zero_copy_only=False).astype(np.float32)
            numeric.append(values)
        else:
            raise DatasetError(f"Column '{name}' holds {t}, which Strata cannot feed a "
                               "network directly (text must be tokenized into a list of "
                               "token ids first)")
    if numeric:
        arrays.insert(0, np.stack(numeric, axis=1))
    return arrays


def _table_raw(tables: dict, features: dict, o: dict, display: str) -> Raw:
    pa = _pa()
    order = [s for s in ("all", "train", "val", "test") if s in tables]
    table = pa.concat_tables([tables[s] for s in order], promote_options="default")
    names = table.column_names
    targets = _columns(o["target"]) or [next(
        (c for c in ("label", "labels") if c in names), names[-1])]
    for c in targets:
        if c not in names:
            raise DatasetError(f"{display}: no column '{c}' (its columns: "
                               f"{', '.join(names)})")
    inputs = _columns(o["inputs"]) or [c for c in names if c not in targets]
    for c in inputs:
        if c not in names:
            raise DatasetError(f"{display}: no column '{c}' (its columns: "
                               f"{', '.join(names)})")
    xs = _inputs(table, inputs, o)
    notes: list[str] = []
    if len(xs) != 1:
        raise DatasetError(f"{display}: the input columns make {len(xs)} different kinds "
                           "of input (images, token lists, numbers); choose the columns "
                           "of one kind with the `inputs` option")
    if len(targets) > 1:
        y = np.stack([table.column(c).to_numpy(zero_copy_only=False).astype(np.float32)
                      for c in targets], axis=1)
        whole = all(pa.types.is_integer(table.column(c).type) or
                    pa.types.is_boolean(table.column(c).type) for c in targets)
        zero_one = bool(np.isin(y, (0.0, 1.0)).all())
        if o["task"] == "multilabel" or (o["task"] == "auto" and whole and zero_one):
            if not zero_one:
                raise DatasetError(f"{display}: the target columns ({', '.join(targets)}) "
                                   "must hold 0 or 1 for a multi-label target")
            task, class_names = "multilabel", list(targets)
        else:
            task, class_names = "regression", []
    elif pa.types.is_list(table.column(targets[0]).type) or \
            pa.types.is_large_list(table.column(targets[0]).type):
        if o["task"] not in ("auto", "multilabel"):
            raise DatasetError(f"{display}: the column '{targets[0]}' holds lists of "
                               "labels (a multi-label target); set the task to "
                               "multilabel or auto")
        y, task, class_names = encode_label_lists(
            table.column(targets[0]).to_pylist(), f"{display}: the column '{targets[0]}'")
    else:
        col = table.column(targets[0])
        numeric = pa.types.is_integer(col.type) or pa.types.is_floating(col.type)
        values = col.to_pylist()
        declared = _class_names(features, targets[0])
        texts = None if numeric else [str(v) for v in values]
        if texts is not None and o["task"] == "auto" and looks_like_lists(
                list(set(texts))):
            y, task, class_names = encode_label_lists(
                [split_labels(v) for v in texts], f"{display}: the column '{targets[0]}'")
            notes.append(f"multi-label: the column '{targets[0]}' holds lists of labels, "
                         "found by the task 'auto'")
        elif declared and o["task"] in ("auto", "classification"):
            y, task, class_names = np.asarray(values, np.int64), "classification", declared
        else:
            y, task, class_names = _targets(
                [float(v) for v in values] if numeric else [str(v) for v in values],
                numeric, o["task"], f"the column '{targets[0]}'")
    splits = None
    if order != ["all"]:
        sizes = [len(tables[s]) for s in order]
        bounds = np.cumsum([0, *sizes])
        splits = {s: np.arange(bounds[i], bounds[i + 1]) for i, s in enumerate(order)}
        splits.setdefault("test", np.zeros(0, np.int64))
    return Raw(xs, y, task, class_names, standardize=o["standardize"] and
               xs[0].dtype == np.float32 and xs[0].ndim == 2, display_name=display,
               splits=splits, notes=notes)


def make_parquet(o, rng) -> Raw:
    path = o["path"]
    pa = _pa()
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(str(path))
    except (pa.ArrowInvalid, OSError) as e:
        raise DatasetError(f"Parquet file '{path.name}' cannot be read ({e})") from None
    meta = (table.schema.metadata or {}).get(b"huggingface")
    features: dict = {}
    if meta:
        try:
            features = json.loads(meta).get("info", {}).get("features") or {}
        except ValueError:
            features = {}
    return _table_raw({"all": table}, features, o, path.name)


def make_hf_disk(o, rng) -> Raw:
    folder = o["path"]
    tables, features = read_hf_disk(folder)
    if "train" in tables and "val" not in tables:
        raise DatasetError(f"'{folder.name}' has a train split but no validation split; "
                           "save one (e.g. train_test_split) or save the dataset whole")
    return _table_raw(tables, features, o, folder.name)


COLUMN_OPTIONS = (
    ParamSpec("target", "str", "", "Column(s) to predict, comma separated (empty: label "
              "or labels, else the last column); several numeric columns: regression."),
    ParamSpec("inputs", "str", "", "Input columns, comma separated (empty: all others)."),
    TASK_OPTION,
    ParamSpec("image_size", "int", 28, "Image columns: width and height after resizing.",
              min=4, max=512),
    ParamSpec("color", "choice", "rgb", "Image columns: grayscale or rgb.",
              choices=("grayscale", "rgb")),
    ParamSpec("standardize", "bool", True, "Numeric columns: shift and scale to mean 0, "
              "standard deviation 1 (statistics of the training split)."),
)

register(DatasetSpec(
    "parquet", "Parquet file", "Your files",
    "A .parquet table (e.g. a Hugging Face dataset file): image, token-list or numeric "
    "input columns and a target column.", make_parquet,
    (ParamSpec("path", "str", "", "The .parquet file."), *COLUMN_OPTIONS),
    task="depends", input_summary="columns of a table", needs=("pyarrow",),
    path_kind="file", path_filter="Parquet files (*.parquet)"))
register(DatasetSpec(
    "hf_disk", "Hugging Face dataset (save_to_disk)", "Your files",
    "A folder written by datasets' save_to_disk (a Dataset, or a DatasetDict whose train/"
    "validation/test splits are kept).", make_hf_disk,
    (ParamSpec("path", "str", "", "The folder save_to_disk wrote."), *COLUMN_OPTIONS),
    task="depends", input_summary="columns of a table", needs=("pyarrow",),
    path_kind="folder"))
