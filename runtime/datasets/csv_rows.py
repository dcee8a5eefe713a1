"""The rules of a CSV table, shared by the in-memory reader and the streaming scan.

``read_columns`` checks the header and resolves the feature and target columns;
``CsvColumns.parse`` checks one record: the count of values, numbers in the feature
columns (finite; a quoted line break, a complex number or text is refused), and a target
that is one line of text without NUL bytes. Every message names the file, the row (as a
spreadsheet numbers it: the header is row 1) and the column, so both paths refuse the
same files with the same words.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .registry import DatasetError


def few(names: list[str]) -> str:
    return ", ".join(names[:5]) + (", ..." if len(names) > 5 else "")


def pick_delimiter(first_line: str) -> str:
    return max(",;\t", key=first_line.count)


@dataclass(frozen=True)
class CsvColumns:
    """Which columns of a CSV file are read, and how one record is checked."""

    name: str  # the file's name, for messages
    header: list[str]
    feature_names: list[str]
    feature_cols: list[int]
    targets: list[str]  # one column, or several 0/1 columns (multi-label)
    target_cols: list[int]

    @property
    def target(self) -> str:
        return self.targets[0]

    def parse(self, row: list[str], line: int) -> tuple[list[float], list[str]] | None:
        """(feature values, target texts) of the record starting on ``line``; None for
        a blank record (often one at the end), which is not an example."""
        name = self.name
        if not any(cell.strip() for cell in row):
            return None
        if len(row) != len(self.header):
            raise DatasetError(
                f"CSV file '{name}', row {line} has {len(row)} values but the header "
                f"names {len(self.header)} columns")
        values = []
        for c, f in zip(self.feature_cols, self.feature_names):
            cell = row[c].strip()
            try:
                v = float(cell)
            except ValueError:
                what = "is empty" if not cell else f"holds {cell!r}, which is not a number"
                raise DatasetError(
                    f"CSV file '{name}', row {line}, column '{f}' {what}; feature "
                    "columns must hold numbers (only the target column may hold text)"
                ) from None
            if not math.isfinite(v):
                raise DatasetError(f"CSV file '{name}', row {line}, column '{f}' holds "
                                   f"{cell!r}; feature values must be finite numbers")
            values.append(v)
        labels = []
        for c, t in zip(self.target_cols, self.targets):
            label = row[c].strip()
            if "\x00" in label or "\n" in label or "\r" in label:
                what = "a NUL byte" if "\x00" in label else "a line break"
                raise DatasetError(f"CSV file '{name}', row {line}, target column "
                                   f"'{t}' holds {what} ({label[:40]!r}); a label is "
                                   "one line of text")
            if not label:
                raise DatasetError(f"CSV file '{name}', row {line}, target column "
                                   f"'{t}' is empty")
            labels.append(label)
        return values, labels

    def parse_many(self, rows: list[list[str]], lines: list[int]
                   ) -> tuple[np.ndarray, list[list[str]], list[int]]:
        """``parse`` for a chunk of records: (features (k, f) float64, targets, the
        positions in ``rows`` of the k examples: blank records are not examples).

        NumPy converts the cells in one call; any doubt (a ragged or blank row, a cell
        NumPy refuses, NaN) sends the chunk through ``parse``, so the rules and the
        messages are exactly those of one row at a time.
        """
        width = len(self.header)
        if all(len(r) == width for r in rows):
            try:
                # float() per cell: the rules of ``parse`` (spaces, "1_000").
                x = np.array([[r[c] for c in self.feature_cols] for r in rows],
                             dtype=np.float64)
            except ValueError:
                pass
            else:
                labels = [[r[c].strip() for c in self.target_cols] for r in rows]
                if np.isfinite(x).all() and all(
                        label and "\x00" not in label and "\n" not in label and
                        "\r" not in label for row in labels for label in row):
                    return (x.reshape(len(rows), len(self.feature_cols)), labels,
                            list(range(len(rows))))
        values, targets, kept = [], [], []
        for i, (row, line) in enumerate(zip(rows, lines)):
            parsed = self.parse(row, line)
            if parsed is not None:
                values.append(parsed[0])
                targets.append(parsed[1])
                kept.append(i)
        x = np.asarray(values, np.float64).reshape(len(values), len(self.feature_cols))
        return x, targets, kept


def read_columns(name: str, header: list[str], target: str, features: str) -> CsvColumns:
    """The columns to read, from the header row and the dataset's options."""
    header = [h.strip() for h in header]
    position = {h: i for i, h in enumerate(header)}  # one scan: 40,000 columns was 18 s
    if len(position) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DatasetError(f"CSV file '{name}': the header names the column '{dup}' "
                           "twice; column names must be unique")
    # Several comma-separated names: multi-label (one 0/1 column per label).
    targets = ([target.strip()] if target.strip() in position else
               [t.strip() for t in target.split(",") if t.strip()] or [header[-1]])
    for t in targets:
        if t not in position:
            raise DatasetError(f"CSV file '{name}' has no column '{t}' (its columns: "
                               f"{few(header)})")
    if features.strip():
        feature_names = [f.strip() for f in features.split(",") if f.strip()]
        for f in feature_names:
            if f not in position:
                raise DatasetError(f"CSV file '{name}' has no column '{f}' (its columns: "
                                   f"{few(header)})")
        both = next((t for t in targets if t in feature_names), None)
        if both is not None:
            raise DatasetError(f"CSV file '{name}': the column '{both}' is both the "
                               "target and a feature")
    else:
        feature_names = [h for h in header if h not in targets]
    if not feature_names:
        what = (f"the target column '{targets[0]}'" if len(targets) == 1
                else f"target columns ({few(targets)})")
        raise DatasetError(f"CSV file '{name}' has only {what}; it needs at least one "
                           "feature column")
    return CsvColumns(name, header, feature_names, [position[f] for f in feature_names],
                      targets, [position[t] for t in targets])
