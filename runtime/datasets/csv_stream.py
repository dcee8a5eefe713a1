"""A CSV file read without holding it: a scan, then rows read by offset in workers.

For a CSV too large to read whole (or above ``STREAM_FILE_BYTES`` under the "auto" data
path), ``scan_csv`` reads the file once, record by record, keeping only a few numbers per
row: where the record starts (its byte offset), its target (``csv_targets.LabelTally``)
and nothing else. It applies every rule of the in-memory reader (``csv_rows``: ragged
rows, text, blanks, NaN, quoted line breaks, complex numbers, NUL bytes in labels, no
features), with the same messages, and gives the row count, the column types, the class
balance and the first rows (a preview), reporting progress every few thousand rows and
stopping when cancelled. When the features are standardised, a second pass over the
training rows sums them (float64) for the mean and standard deviation.

Training then reads rows through the streaming path (``runtime.streaming``): a batch's
rows are read by byte offset (``CsvRowReader``), sorted so the file is read forwards.
Shuffling is by offset index: each epoch is a seeded permutation of the training rows,
the same permutation the device-resident path takes, so the same seed gives the same
batches on both paths (bit for bit without standardisation; to float rounding of the
statistics with it). Memory is a few bytes per row for the index, not the data.
"""

from __future__ import annotations

import csv
import os
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .bundle import split_indices
from .csv_rows import CsvColumns, pick_delimiter, read_columns
from .csv_targets import LabelTally
from .registry import DatasetError, FileIndex

STREAM_FILE_BYTES = 64 << 20  # "auto" streams a CSV file larger than this
READ_PEAK_FACTOR = 10  # the in-memory reader needs about this many times the file size
MAX_RECORD_BYTES = 64 << 20  # one line longer than this is refused, not buffered
SCAN_CHUNK = 1024  # records checked at once (their text is what the scan holds)
REPORT_EVERY = 8192  # rows between two progress reports (and cancel checks)
PREVIEW_ROWS = 5


@dataclass
class CsvScan:
    """What the scan learned about a CSV file, in bounded memory."""

    path: Path
    delimiter: str
    columns: CsvColumns
    offsets: np.ndarray  # byte offset of each example's record
    targets: np.ndarray
    task: str
    class_names: list[str]
    signature: tuple[int, int]  # (size, mtime_ns): the file the offsets belong to
    preview: list[list[str]] = field(default_factory=list)
    text_columns: list[str] = field(default_factory=list)  # target columns holding text
    note: str = ""  # what "auto" found in the targets (label lists)

    @property
    def rows(self) -> int:
        return len(self.offsets)

    def class_counts(self) -> dict[str, int]:
        """Examples per class (classification and binary), labels (multi-label)."""
        if self.task == "regression":
            return {}
        if self.task == "multilabel":
            return dict(zip(self.class_names, self.targets.sum(axis=0).astype(int).tolist()))
        counts = np.bincount(self.targets.astype(np.int64), minlength=len(self.class_names))
        return dict(zip(self.class_names, counts.tolist()))

    def column_types(self) -> dict[str, str]:
        types = {f: "number" for f in self.columns.feature_names}
        for t in self.columns.targets:
            types[t] = "text" if t in self.text_columns else "number"
        return types


def _signature(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns


class _Lines:
    """The file's lines as text, remembering where the next one starts."""

    def __init__(self, f, name: str) -> None:
        self.f, self.name = f, name
        self.offset = f.tell()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        start = self.offset
        raw = self.f.readline(MAX_RECORD_BYTES + 1)
        if not raw:
            raise StopIteration
        if len(raw) > MAX_RECORD_BYTES:
            raise DatasetError(f"CSV file '{self.name}' has a line longer than "
                               f"{MAX_RECORD_BYTES >> 20} MB (at byte {start:,}); is it "
                               "a CSV file?")
        self.offset = start + len(raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            raise DatasetError(f"CSV file '{self.name}' is not UTF-8 text (byte "
                               f"{start + e.start} cannot be read); save it as UTF-8 CSV"
                               ) from None
        return text[1:] if start == 0 and text.startswith("\ufeff") else text


def _records(path: Path, target: str, features: str):
    """Open ``path``: (file, columns, delimiter, an iterator of (offset, line, row))."""
    name = path.name
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed by the caller
    except OSError as e:
        raise DatasetError(f"CSV file '{name}' cannot be read: {e.strerror or e}") from None
    lines = _Lines(f, name)
    first = next((line for line in lines if line.strip()), None)
    if first is None:
        f.close()
        raise DatasetError(f"CSV file '{name}' is empty; it needs a header row naming the "
                           "columns, then one row per example")
    delimiter = pick_delimiter(first)
    columns = read_columns(name, next(csv.reader([first], delimiter=delimiter)),
                           target, features)
    header_line = 1

    def rows() -> Iterator[tuple[int, int, list[str]]]:
        reader = csv.reader(lines, delimiter=delimiter)
        last = 0
        while True:
            start = lines.offset
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                raise DatasetError(f"CSV file '{name}', row {header_line + last + 1} "
                                   f"cannot be read ({e})") from None
            line, last = header_line + last + 1, reader.line_num
            yield start, line, row

    return f, columns, delimiter, rows()


def scan_csv(path: Path, target: str, features: str, task: str,
             progress: Callable[[int], None] | None = None,
             cancelled: Callable[[], bool] | None = None) -> CsvScan:
    """Check every row and index the file (see the module docstring)."""
    from .files_table import encode_targets, target_note, target_tallies

    signature = _signature(path)
    f, columns, delimiter, records = _records(path, target, features)
    tallies: list[LabelTally] = target_tallies(columns, task)
    offsets = array("q")
    preview: list[list[str]] = []
    chunk: list[tuple[int, int, list[str]]] = []

    def flush() -> None:
        _, labels, kept = columns.parse_many([r for _, _, r in chunk],
                                             [line for _, line, _ in chunk])
        for i, row_labels in zip(kept, labels):
            start, line, row = chunk[i]
            offsets.append(start)
            for tally, label in zip(tallies, row_labels):
                tally.add(label, line)
            if len(preview) < PREVIEW_ROWS:
                preview.append(row)
        chunk.clear()

    with f:
        for record in records:
            chunk.append(record)
            if len(chunk) < SCAN_CHUNK:
                continue
            told = len(offsets) // REPORT_EVERY
            flush()
            if len(offsets) // REPORT_EVERY > told:
                if cancelled is not None and cancelled():
                    raise DatasetError(f"Reading the CSV file '{path.name}' was "
                                       f"cancelled after {len(offsets):,} rows")
                if progress is not None:
                    progress(len(offsets))
        flush()
    if not offsets:
        raise DatasetError(f"CSV file '{path.name}' has a header but no rows of data")
    if progress is not None:
        progress(len(offsets))
    y, task, classes = encode_targets(tallies, task, path.name)
    text = [t for t, tally in zip(columns.targets, tallies) if not tally.numeric]
    return CsvScan(path, delimiter, columns, np.frombuffer(offsets, np.int64).copy(), y,
                   task, classes, signature, preview, text, target_note(tallies))


def feature_statistics(scan: CsvScan, rows: np.ndarray, chunk: int = 4096
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Mean and standard deviation (float32, as the in-memory path) of the features of
    ``rows``, read in chunks in file order; float64 sums keep them close to the
    float32 statistics of the in-memory path."""
    reader = CsvRowReader.of(scan)
    k = len(scan.columns.feature_names)
    total, squares = np.zeros(k), np.zeros(k)
    ordered = np.sort(scan.offsets[rows])
    for i in range(0, len(ordered), chunk):
        x = reader.read_many(ordered[i:i + chunk]).astype(np.float64)
        total += x.sum(axis=0)
        squares += (x * x).sum(axis=0)
    n = max(len(rows), 1)
    mean = total / n
    std = np.sqrt(np.maximum(squares / n - mean * mean, 0.0))
    return mean.astype(np.float32), np.maximum(std, 1e-8).astype(np.float32)


_HANDLES: dict[tuple[int, str], object] = {}  # per process: forked workers reopen


@dataclass(frozen=True)
class CsvRowReader:
    """Reads rows of a scanned CSV file by byte offset (picklable, for workers)."""

    path: str
    delimiter: str
    header_columns: int
    columns: tuple[int, ...]
    signature: tuple[int, int]
    mean: np.ndarray | None = None
    std: np.ndarray | None = None

    @classmethod
    def of(cls, scan: CsvScan, mean=None, std=None) -> CsvRowReader:
        return cls(str(scan.path), scan.delimiter, len(scan.columns.header),
                   tuple(scan.columns.feature_cols), scan.signature, mean, std)

    def _file(self):
        key = (os.getpid(), self.path)
        f = _HANDLES.get(key)
        if f is None:
            name = Path(self.path).name
            try:
                changed = _signature(Path(self.path)) != self.signature
                f = open(self.path, "rb")  # noqa: SIM115 - kept for the process
            except OSError as e:
                raise DatasetError(f"CSV file '{name}' cannot be read: "
                                   f"{e.strerror or e}") from None
            if changed:
                f.close()
                raise DatasetError(f"CSV file '{name}' changed since it was scanned; "
                                   "train again to scan it anew")
            _HANDLES[key] = f
        return f

    def _row(self, f, offset: int) -> list[str]:
        f.seek(int(offset))
        row = next(csv.reader(_Lines(f, Path(self.path).name), delimiter=self.delimiter),
                   [])
        if len(row) != self.header_columns:
            raise DatasetError(f"CSV file '{Path(self.path).name}' changed since it was "
                               "scanned; train again to scan it anew")
        return [row[c] for c in self.columns]

    def read_many(self, offsets) -> np.ndarray:
        """The feature rows at ``offsets`` (in that order), float32, standardised
        (converted as the in-memory reader does: text -> float64 -> float32)."""
        f = self._file()
        order = np.argsort(offsets, kind="stable")
        cells: list[list[str]] = [[]] * len(order)
        for i in order:  # forwards through the file
            cells[i] = self._row(f, offsets[i])
        try:
            x = np.array(cells, dtype=np.float64)
        except ValueError:  # the scan checked them: the file changed since
            raise DatasetError(f"CSV file '{Path(self.path).name}' changed since it was "
                               "scanned; train again to scan it anew") from None
        x = x.reshape(len(order), len(self.columns)).astype(np.float32)
        if self.mean is not None and self.std is not None:
            x = (x - self.mean) / self.std
        return x

    def __call__(self, offset) -> np.ndarray:
        return self.read_many(np.asarray([offset], np.int64))[0]


def csv_footprint(path: Path) -> tuple[int, int]:
    """(decoded bytes, bytes the in-memory reader needs) of a CSV file, from its size:
    at least two characters per value, so at most 2 bytes of float32 per byte of text;
    the in-memory reader holds Python floats, about ``READ_PEAK_FACTOR`` times the file.
    A file above ``STREAM_FILE_BYTES`` counts as too large to read whole."""
    size = path.stat().st_size
    reading = size * READ_PEAK_FACTOR
    if size > STREAM_FILE_BYTES:
        reading = max(reading, 1 << 62)
    return size * 2, reading


def index_csv(o, progress=None, cancelled=None) -> FileIndex:
    """The streaming form of the "csv" dataset (``DatasetSpec.index``)."""
    path = o["path"]
    scan = scan_csv(path, o["target"], o["features"], o["task"], progress, cancelled)
    mean = std = None
    if o["standardize"]:
        classes = scan.task in ("classification", "binary")
        labels = scan.targets.reshape(scan.rows) if classes else None
        train = split_indices(scan.rows, labels, o["seed"], o["val_fraction"],
                              o["test_fraction"])["train"]
        mean, std = feature_statistics(scan, train)
    reader = CsvRowReader.of(scan, mean, std)
    return FileIndex(scan.offsets, scan.targets, scan.class_names,
                     (len(scan.columns.feature_names),), reader,
                     display_name=path.name, task=scan.task,
                     feature_names=list(scan.columns.feature_names),
                     standardization=(mean, std), scan=scan,
                     notes=[scan.note] if scan.note else [])
