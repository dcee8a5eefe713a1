"""Target columns of a table, tallied row by row in a few bytes per row.

``LabelTally`` keeps one target column as it is read: the number (when every value so
far is one) and an id per distinct text (up to ``MAX_TEXT_LABELS``), never the rows'
strings, so a streaming scan of a file larger than memory stays small. ``encode``
decides the task ("auto": text or up to ``MAX_AUTO_CLASSES`` whole numbers are classes,
other numbers are regressed) and gives the array the losses expect:

- classification: int64 class ids (n,), classes sorted (so ids do not depend on order);
- binary: float32 0/1 (n,);
- regression: float32 (n, 1);
- multilabel: float32 0/1 (n, labels), from several 0/1 columns (``encode_columns``) or
  from one column of label lists such as ``cat|dog`` or ``["cat", "dog"]``
  (``LabelTally(lists=True)``, or found by "auto": ``looks_like_lists``).

"auto" takes a text column for label lists when its distinct cells say so: every cell
is a JSON list, or some cells name several labels (``cat|dog``, ``cat;dog``) and the
labels are fewer than the distinct cells (combinations of a few labels, not class names
that happen to hold a ``|``). It looks at the distinct cells only (at most
``MAX_TEXT_LABELS``), so deciding costs nothing per row.
"""

from __future__ import annotations

import json
import math
import re
from array import array

import numpy as np

from .registry import DatasetError

MAX_AUTO_CLASSES = 20
MAX_TEXT_LABELS = 20_000  # distinct text labels a column may hold
LIST_SEPARATORS = re.compile(r"[|;,]")  # inside one cell of a label-list column


def label_name(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def split_labels(cell: str) -> list[str]:
    """The labels of one label-list cell: a JSON list (``["cat", "dog"]``, ``[]``) or
    labels separated by ``|``, ``;`` or ``,`` (``cat|dog``)."""
    cell = cell.strip()
    if cell.startswith("[") and cell.endswith("]"):
        try:
            items = json.loads(cell)
        except ValueError:
            items = None
        if isinstance(items, list):
            return [label_name(v) for v in items if str(v).strip()]
    return [p.strip() for p in LIST_SEPARATORS.split(cell) if p.strip()]


def looks_like_lists(cells: list[str]) -> bool:
    """Whether the distinct cells of a text column are lists of labels (see the module
    docstring)."""
    cells = [c.strip() for c in cells if c.strip()]
    if not cells:
        return False
    if all(c.startswith("[") and c.endswith("]") for c in cells):
        return all(_json_list(c) for c in cells)
    parts = [split_labels(c) for c in cells]
    several = any(len(p) > 1 for p in parts)
    labels = {label for p in parts for label in p}
    return several and len(labels) < len(cells)


def _json_list(cell: str) -> bool:
    try:
        return isinstance(json.loads(cell), list)
    except ValueError:
        return False


def few(names: list[str]) -> str:
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")


class LabelTally:
    """One target column, value by value (see the module docstring)."""

    def __init__(self, where: str, lists: bool = False) -> None:
        self.where = where  # "CSV file 'x.csv': the target column 'y'"
        self.lists = lists  # each cell is a list of labels ("cat|dog")
        self.values = array("d")
        self.ids = array("i")
        self.index: dict[str, int] = {}
        self.numeric = not lists
        self.first_text: tuple[str, int] | None = None  # (label, row) of the first text
        self.bad_number: tuple[str, int] | None = None  # a NaN or infinite target
        self.overflow = False
        self.starts = array("q", [0])  # label lists: where each row's ids start
        self.note = ""  # what "auto" found, for the dataset's summary

    def __len__(self) -> int:
        return len(self.starts) - 1 if self.lists else max(len(self.values), len(self.ids))

    def add(self, label: str, row: int) -> None:
        if self.lists:
            for part in split_labels(label):
                self._id(part)
            self.starts.append(len(self.ids))
            return
        if self.numeric:
            try:
                v = float(label)
            except ValueError:
                self.numeric = False
                self.first_text = (label, row)
                self.values = array("d")
            else:
                if not math.isfinite(v):
                    self.bad_number = self.bad_number or (label, row)
                self.values.append(v)
        if not self.overflow:
            self._id(label)

    def _id(self, label: str) -> None:
        i = self.index.get(label)
        if i is None:
            if len(self.index) >= MAX_TEXT_LABELS:
                # Numbers to regress are all different: stop naming them.
                self.overflow, self.index, self.ids = True, {}, array("i")
                if self.lists:
                    raise DatasetError(f"{self.where} holds more than "
                                       f"{MAX_TEXT_LABELS:,} different labels")
                return
            i = self.index[label] = len(self.index)
        self.ids.append(i)

    def _classes(self) -> tuple[np.ndarray, list[str]]:
        """Class ids (n,) and class names, sorted."""
        if self.numeric:
            classes, ids = np.unique(np.frombuffer(self.values, np.float64),
                                     return_inverse=True)
            return ids.astype(np.int64), [label_name(float(c)) for c in classes]
        if self.overflow:
            raise DatasetError(f"{self.where} holds more than {MAX_TEXT_LABELS:,} "
                               "different labels; a class needs several examples")
        keys = list(self.index)
        order = sorted(range(len(keys)), key=keys.__getitem__)
        remap = np.empty(len(keys), np.int64)
        remap[order] = np.arange(len(keys))
        return remap[np.frombuffer(self.ids, np.int32)], [keys[i] for i in order]

    def encode(self, task: str) -> tuple[np.ndarray, str, list[str]]:
        """(targets, task, class names); see the module docstring."""
        if self.lists:
            return self._label_lists()
        if self.numeric and self.bad_number is not None:
            label, row = self.bad_number
            raise DatasetError(f"{_row(self.where, row)} holds {label!r}; targets must "
                               "be finite numbers or text labels")
        n = len(self)
        values = np.frombuffer(self.values, np.float64) if self.numeric else None
        if task == "auto" and not self.numeric and not self.overflow and \
                looks_like_lists(list(self.index)):
            return self._cells_as_lists()
        if task == "auto":
            task = "classification"
            if values is not None and not (np.all(values == np.floor(values)) and len(
                    np.unique(values)) <= MAX_AUTO_CLASSES):
                task = "regression"
        if task == "multilabel":
            return encode_columns([self], self.where)
        if task == "regression":
            if values is None:
                label, row = self.first_text or ("", 0)
                raise DatasetError(f"{self.where} holds text ({label!r} in row {row}), "
                                   "which cannot be regressed; set the dataset's task "
                                   "to classification")
            return values.astype(np.float32).reshape(n, 1), task, []
        ids, names = self._classes()
        if len(names) < 2:
            raise DatasetError(f"{self.where} holds a single value "
                               f"({names[0] if names else 'none'}); classification "
                               "needs at least 2 classes")
        if task == "binary":
            if len(names) != 2:
                raise DatasetError(
                    f"{self.where} holds {len(names)} different values ({few(names)}) "
                    "but a binary task needs exactly 2; set the dataset's task to "
                    "classification")
            return ids.astype(np.float32), task, names
        return ids, task, names

    def _label_lists(self) -> tuple[np.ndarray, str, list[str]]:
        keys = list(self.index)
        if len(keys) < 2:
            raise DatasetError(f"{self.where} names {len(keys)} label"
                               f"{'' if len(keys) == 1 else 's'}; multi-label needs at "
                               "least 2 (separate a row's labels with |)")
        order = sorted(range(len(keys)), key=keys.__getitem__)
        remap = np.empty(len(keys), np.int64)
        remap[order] = np.arange(len(keys))
        starts = np.frombuffer(self.starts, np.int64)
        y = np.zeros((len(starts) - 1, len(keys)), np.float32)
        rows = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
        y[rows, remap[np.frombuffer(self.ids, np.int32)]] = 1.0
        return y, "multilabel", [keys[i] for i in order]


    def _cells_as_lists(self) -> tuple[np.ndarray, str, list[str]]:
        """Text cells found to be label lists ("auto"): each distinct cell's multi-hot
        row, then one row per example by the cell's id."""
        keys = list(self.index)
        parts = [split_labels(k) for k in keys]
        table, _, names = encode_label_lists(parts, self.where)
        example = max(zip(keys, parts), key=lambda kp: len(kp[1]))[0]
        column = _column(self.where)
        self.note = (f"multi-label: the target column '{column}' holds lists of labels "
                     f"(such as {example!r}), found by the task 'auto'")
        return table[np.frombuffer(self.ids, np.int32)], "multilabel", names


def encode_columns(tallies: list[LabelTally], where: str
                   ) -> tuple[np.ndarray, str, list[str]]:
    """Several 0/1 target columns as one multi-label target (n, columns)."""
    columns = []
    for t in tallies:
        if t.numeric:
            v = np.frombuffer(t.values, np.float64)
            bad = np.flatnonzero((v != 0) & (v != 1))
            if not len(bad):
                columns.append(v.astype(np.float32))
                continue
            found = label_name(float(v[bad[0]]))
        else:
            found = t.first_text[0] if t.first_text else "text"
        raise DatasetError(f"{t.where} holds {found!r}; each column of a multi-label "
                           "target must hold 0 or 1")
    return np.stack(columns, axis=1), "multilabel", [_column(t.where) for t in tallies]


def encode_label_lists(rows: list, where: str) -> tuple[np.ndarray, str, list[str]]:
    """A column whose cells are lists of labels (parquet ``list`` columns) as a
    multi-label target; labels sorted, numbers numerically."""
    labels = sorted({v for row in rows for v in (row or ())},
                    key=lambda v: (isinstance(v, str), v))
    if len(labels) < 2:
        raise DatasetError(f"{where} names {len(labels)} label"
                           f"{'' if len(labels) == 1 else 's'}; multi-label needs at "
                           "least 2")
    index = {v: i for i, v in enumerate(labels)}
    y = np.zeros((len(rows), len(labels)), np.float32)
    for r, row in enumerate(rows):
        for v in row or ():
            y[r, index[v]] = 1.0
    return y, "multilabel", [label_name(v) for v in labels]


def _column(where: str) -> str:
    found = re.search(r"column '(.*)'$", where)
    return found.group(1) if found else where


def _row(where: str, row: int) -> str:
    """"CSV file 'x.csv': the target column 'y'" -> "CSV file 'x.csv', row 3, target
    column 'y'"."""
    head, _, column = where.partition(": the ")
    return f"{head}, row {row}, {column}" if column else f"{where}, row {row}"
