"""The data section of an exported ``train.py``: code that gives the same splits Strata
trained on.

Generated datasets (spirals, shapes, parity...) are saved beside the script as an
``.npz`` holding the three splits exactly as the engine used them, so the script needs
no generator code. The user's files (CSV, ``.npz``, image folder) are read by code
written into the script, specialised to the options Strata used: the same parsing, the
same class ids, the same seeded stratified split (``runtime.datasets.bundle``) and the
same standardisation, so the script can also be pointed at new data. Every template here
mirrors one function of ``runtime.datasets``; the export tests compare the results.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from graph.fileformat import write_atomic
from graph.pysource import prose, py_string

FILE_DATASETS = ("csv", "npz", "image_folder")

# ---------------------------------------------------------------------- shared pieces
SPLIT_CODE = '''
def split_indices(n, labels, seed):
    """Seeded train/val/test indices, stratified by class (as Strata splits)."""
    rng = np.random.default_rng([seed, 0x5B1])
    groups = (
        [np.arange(n)]
        if labels is None
        else [np.flatnonzero(labels == c) for c in np.unique(labels)]
    )
    parts = {"train": [], "val": [], "test": []}
    for group in groups:
        group = rng.permutation(group)
        n_test = round(len(group) * TEST_FRACTION)
        n_val = round(len(group) * VAL_FRACTION)
        parts["test"].append(group[:n_test])
        parts["val"].append(group[n_test : n_test + n_val])
        parts["train"].append(group[n_test + n_val :])
    return {
        name: torch.from_numpy(rng.permutation(np.concatenate(p)))
        for name, p in parts.items()
    }
'''

CLASSES_CODE = '''
def encode_classes(values, dtype):
    """Class ids in sorted order of the labels, so ids do not depend on row order."""
    classes = sorted(set(values))
    index = {c: i for i, c in enumerate(classes)}
    return np.asarray([index[v] for v in values], dtype)
'''

LOAD_CODE = '''
def load_data():
    """The train, validation and test splits, each a tuple (inputs..., target)."""
    x, y = read_examples()
    n = len(y)
    labels = None if DATA_TASK in ("regression", "multilabel") else y.reshape(n)
    index = split_indices(n, labels, SEED)
    x = torch.from_numpy(np.ascontiguousarray(x, dtype=@X_DTYPE@))
    if DATA_TASK == "classification":
        y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64)).reshape(n)
    else:
        y = torch.from_numpy(np.ascontiguousarray(y, dtype=np.float32)).reshape(n, -1)
@STANDARDIZE@    y = network_target(y)
    return tuple((x[index[name]], y[index[name]]) for name in ("train", "val", "test"))
'''

STANDARDIZE_CODE = '''    if STANDARDIZE:
        # Mean 0, standard deviation 1, with statistics of the training split only.
        train = x[index["train"]]
        mean = train.mean(dim=0)
        std = train.std(dim=0, unbiased=False).clamp_min(1e-8)
        x = (x - mean) / std
'''

# ---------------------------------------------------------------------- readers
CSV_CODE = '''
def read_examples():
    """Feature rows and target labels from the CSV file."""
    text = DATA_FILE.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    delimiter = max(",;\\t", key=lines[0].count)
    reader = csv.reader(lines, delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    columns = [header.index(f) for f in FEATURES]
    target = header.index(TARGET)
    rows, labels = [], []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not examples
        rows.append([float(row[c].strip()) for c in columns])
        labels.append(row[target].strip())
    if all(is_number(v) for v in labels):
        labels = [float(v) for v in labels]
    return np.asarray(rows, np.float32), encode_target(labels)


def is_number(text):
    try:
        float(text)
    except ValueError:
        return False
    return True
'''

CSV_MULTILABEL_CODE = '''
def read_examples():
    """Feature rows and 0/1 labels from the CSV file."""
    text = DATA_FILE.read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    delimiter = max(",;\\t", key=lines[0].count)
    reader = csv.reader(lines, delimiter=delimiter)
    header = [h.strip() for h in next(reader)]
    columns = [header.index(f) for f in FEATURES]
    targets = [header.index(t) for t in TARGETS]
    rows, labels = [], []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue  # blank lines are not examples
        rows.append([float(row[c].strip()) for c in columns])
        labels.append([row[t].strip() for t in targets])
    return np.asarray(rows, np.float32), encode_target(labels)
'''

# One 0/1 column per label, or one column of label lists (csv_targets.split_labels).
MULTI_HOT_CODE = '''
def encode_target(labels):
    """0/1 targets (examples, labels) from each row's target cells: one 0/1 column
    per label, or one column listing a row's labels (such as cat|dog or a JSON list),
    the labels in sorted order."""
    if len(TARGETS) > 1:
        return np.asarray(labels, np.float64).astype(np.float32)
    lists = [split_labels(cell) for (cell,) in labels]
    names = sorted({label for row in lists for label in row})
    index = {label: i for i, label in enumerate(names)}
    y = np.zeros((len(lists), len(names)), np.float32)
    for r, row in enumerate(lists):
        for label in row:
            y[r, index[label]] = 1.0
    return y


def split_labels(cell):
    """One cell's labels: a JSON list, or labels separated by |, ; or , (as Strata
    reads them)."""
    if cell.startswith("[") and cell.endswith("]"):
        try:
            items = json.loads(cell)
        except ValueError:
            items = None
        if isinstance(items, list):
            return [label_text(v) for v in items if str(v).strip()]
    parts = cell.replace(";", "|").replace(",", "|").split("|")
    return [p.strip() for p in parts if p.strip()]


def label_text(value):
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
'''

NPZ_CODE = '''
def read_examples():
    """Arrays X and y from the .npz archive."""
    with np.load(DATA_FILE, allow_pickle=False) as archive:
        x, y = archive["X"], archive["y"]
    x = x.astype(@X_NUMPY@)
    if y.ndim == 2 and y.shape[1] == 1 and DATA_TASK != "regression":
        y = y[:, 0]  # one label per example, stored as a column
    if DATA_TASK in ("regression", "multilabel"):
        return x, y.astype(np.float32)
    labels = [str(v) for v in y] if y.dtype.kind == "U" else [float(v) for v in y]
    return x, encode_target(labels)
'''

SAVED_CODE = '''
def load_data():
    """The train, validation and test splits Strata trained on, each a tuple
    (inputs..., target), from the archive saved beside this script."""
    with np.load(DATA_FILE) as arrays:
        return tuple(
            (
                *(torch.from_numpy(arrays[f"{name}_input{i}"]) for i in range(INPUTS)),
                torch.from_numpy(arrays[f"{name}_target"]),
            )
            for name in ("train", "val", "test")
        )
'''


def _encode_target_code(task: str) -> str:
    body = {
        "classification": "    return encode_classes(labels, np.int64)\n",
        "binary": "    return encode_classes(labels, np.float32)\n",
        "regression": "    return np.asarray(labels, np.float32).reshape(len(labels), -1)\n",
        "multilabel": "    return np.asarray(labels, np.float32)  # 0/1 per label\n",
    }[task]
    return ("\n\ndef encode_target(labels):\n"
            f'    """Targets for a {task} dataset."""\n' + body)


def _network_target_code(data_task: str, output_task: str,
                         shape: tuple[int, ...]) -> str:
    """Adapt the data's targets to what the Output's loss expects (as the engine does)."""
    if output_task == "classification":
        body = ("    return y.reshape(-1).round().long()  # 0/1 labels as class ids\n"
                if data_task == "binary" else "    return y  # class ids\n")
    else:
        body = (f"    return y.reshape(len(y), *{shape!r}).float()  # shaped like the "
                "output\n")
    return ('\n\ndef network_target(y):\n'
            '    """Targets shaped for the loss of the network\'s Output."""\n' + body)


# ---------------------------------------------------------------------- assembly
def data_section(raw, output_task: str, output_shape: tuple[int, ...], folder: Path,
                 stem: str, bundle) -> tuple[str, list[str], list[Path]]:
    """(code, extra imports, files written) for the dataset of ``raw`` (the bundle as
    loaded, before adapting targets to the Output) and ``bundle`` (as trained on)."""
    options = raw.options
    name = options["name"]
    if name not in FILE_DATASETS:
        path = folder / f"{stem}_data.npz"
        _save_splits(bundle, output_task, output_shape, path)
        code = (f"# {prose(raw.display_name)}, split as Strata split it.\n"
                f"DATA_FILE = HERE / {literal(path.name)}\n"
                f"INPUTS = {bundle.input_count}\n\n" + SAVED_CODE)
        return code, [], [path]

    constants = [f"DATA_TASK = {literal(raw.task)}  # what the targets are"]
    imports: list[str] = []
    if name == "csv" and raw.task == "multilabel":
        constants[:0] = [
            "# The file Strata trained on; point it at another with the same columns.",
            _path_constant("DATA_FILE", options["path"]),
            f"TARGETS = {literal(_target_columns(raw))}",
            f"FEATURES = {literal(list(raw.feature_names))}",
            f"STANDARDIZE = {bool(options['standardize'])!r}",
        ]
        if bundle.streaming:  # rows read by offset in the loader's workers
            from .train_stream import csv_code

            pieces = ["\n".join(constants), csv_code(multilabel=True), MULTI_HOT_CODE,
                      SPLIT_CODE, _network_target_code(raw.task, output_task,
                                                       output_shape)]
            return ("\n\n\n".join(p.strip() for p in pieces) + "\n",
                    ["import csv"], [])
        reader = [CSV_MULTILABEL_CODE, MULTI_HOT_CODE]
        imports.append("import csv")
        x_dtype = "np.float32"
    elif name == "csv":
        constants[:0] = [
            "# The file Strata trained on; point it at another with the same columns.",
            _path_constant("DATA_FILE", options["path"]),
            f"TARGET = {literal(_target_column(raw))}",
            f"FEATURES = {literal(list(raw.feature_names))}",
            f"STANDARDIZE = {bool(options['standardize'])!r}",
        ]
        if bundle.streaming:  # rows read by offset in the loader's workers
            from .train_stream import csv_code

            pieces = ["\n".join(constants), csv_code(), CLASSES_CODE,
                      _encode_target_code(raw.task), SPLIT_CODE,
                      _network_target_code(raw.task, output_task, output_shape)]
            return ("\n\n\n".join(p.strip() for p in pieces) + "\n",
                    ["import csv"], [])
        reader = [CSV_CODE, CLASSES_CODE, _encode_target_code(raw.task)]
        imports.append("import csv")
        x_dtype = "np.float32"
    elif name == "npz":
        long = options["x_dtype"] == "long"
        constants[:0] = [
            "# The archive Strata trained on (np.savez(path, X=inputs, y=targets)).",
            _path_constant("DATA_FILE", options["path"]),
            f"STANDARDIZE = {bool(options['standardize']) and not long!r}",
        ]
        reader = [NPZ_CODE.replace("@X_NUMPY@", "np.int64" if long else "np.float32"),
                  CLASSES_CODE, _encode_target_code(raw.task)]
        x_dtype = "np.int64" if long else "np.float32"
    else:
        from .train_images import image_code, image_constants, split_folders_of

        split_folders = split_folders_of(options["path"])
        pieces = [*image_constants(options, split_folders), *constants]
        pieces = ["\n".join(pieces), image_code(split_folders, bundle.streaming),
                  SPLIT_CODE, _network_target_code(raw.task, output_task, output_shape)]
        return "\n\n\n".join(p.strip() for p in pieces) + "\n", imports, []
    load = LOAD_CODE.replace("@X_DTYPE@", x_dtype).replace(
        "@STANDARDIZE@", STANDARDIZE_CODE)
    pieces = ["\n".join(constants), *reader, SPLIT_CODE, load,
              _network_target_code(raw.task, output_task, output_shape)]
    # Top-level definitions two blank lines apart, as ruff format writes them.
    return "\n\n\n".join(p.strip() for p in pieces) + "\n", imports, []


def _path_constant(name: str, path) -> str:
    line = f"{name} = Path({literal(str(path))})"
    if len(line) <= 88:
        return line
    return f"{name} = Path(\n    {literal(str(path))}\n)"


def literal(value) -> str:
    """Python source for a plain value, with double quotes as ``ruff format`` writes."""
    if isinstance(value, str):  # file and column names: graph.pysource.py_string
        return py_string(value)
    if isinstance(value, (list, tuple)):
        items = ", ".join(literal(v) for v in value)
        if isinstance(value, tuple):
            return f"({items}{',' if len(value) == 1 else ''})"
        return f"[{items}]"
    return repr(value)


def _header(path) -> list[str]:
    """The CSV file's column names, from its first line only (the file may be large)."""
    import csv

    with open(path, encoding="utf-8-sig") as f:
        first = f.readline()
    return [h.strip() for h in next(csv.reader([first], delimiter=max(
        ",;\t", key=first.count)), [])]


def _target_columns(raw) -> list[str]:
    """The target columns as the reader resolved them (``csv_rows.read_columns``)."""
    target = raw.options.get("target", "")
    header = _header(raw.options["path"])
    if target.strip() in header:
        return [target.strip()]
    return [t.strip() for t in target.split(",") if t.strip()] or [header[-1]]


def _target_column(raw) -> str:
    target = raw.options.get("target", "").strip()
    return target or _header(raw.options["path"])[-1]


def _save_splits(bundle, output_task: str, shape: tuple[int, ...], path: Path) -> None:
    """The splits as the engine feeds them, targets already shaped for the Output."""
    arrays = {}
    for split in ("train", "val", "test"):
        *inputs, target = bundle.tensors(split)
        for i, x in enumerate(inputs):
            arrays[f"{split}_input{i}"] = x.numpy()
        if output_task != "classification":
            if math.prod(shape) == math.prod(target.shape[1:]):
                target = target.reshape(len(target), *shape)
            target = target.float()
        arrays[f"{split}_target"] = target.numpy()
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    write_atomic(path, buffer.getvalue())

