"""The dataset registry: one frozen ``DatasetSpec`` per dataset kind, as data.

A spec lists its options as ``graph.catalog.ParamSpec`` (the same declarations the layer
inspector is built from), so the training panel can build its dataset form the same way
and every option is checked with the same words. ``make`` turns checked options and a
numpy ``Generator`` into a ``Raw`` (arrays, task, class names); ``load_dataset`` checks
the spec, makes the arrays and splits them into a ``DatasetBundle``.

Reproducible by construction: the data come from ``default_rng([seed, 0xDA7A])`` and the
split from its own seeded stream, so the same spec and seed give the same bundle.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from graph.catalog import ParamSpec
from graph.errors import ParamError, StrataError

from .bundle import DatasetBundle, make_bundle

CATEGORIES = ("Generated", "Real", "Your files")


class DatasetError(StrataError):
    """A dataset could not be made or read; the message names the option, file, row or
    folder concerned."""


class MissingDependency(DatasetError):
    """A dataset needs an optional package that is not installed."""

    def __init__(self, message: str, package: str):
        self.package = package
        super().__init__(message)


@dataclass
class Raw:
    """What a dataset kind produces before splitting."""

    inputs: list[np.ndarray]  # one array per network input, shaped (examples, ...)
    target: np.ndarray
    task: str
    class_names: list[str] = field(default_factory=list)
    feature_names: list[str] = field(default_factory=list)
    standardize: bool = False
    display_name: str = ""  # e.g. "CSV file iris.csv"
    # Given splits (train/val/test subfolders): indices per split; None to split here.
    splits: dict[str, np.ndarray] | None = None
    skipped: list[str] = field(default_factory=list)  # unreadable files left out
    notes: list[str] = field(default_factory=list)  # what reading found, for summaries


@dataclass
class FileIndex:
    """A dataset of files listed but not read: what the streaming path needs.

    ``reader(item)`` decodes one item into an array shaped ``input_shape`` (it runs in
    DataLoader workers, so it must be picklable); a reader with ``read_many(items)``
    reads a whole batch at once. ``items`` are file names (image folders) or byte
    offsets (CSV rows). ``labels`` are what ``task`` takes: class ids, or float targets
    shaped (n, k) for regression and multi-label.
    """

    items: Any  # a list of names or an array of offsets: anything indexable
    labels: np.ndarray
    class_names: list[str]
    input_shape: tuple[int, ...]
    reader: Callable[[str], np.ndarray]
    display_name: str = ""
    splits: dict[str, np.ndarray] | None = None
    names: list[str] = field(default_factory=list)  # item names for messages
    task: str = "classification"
    feature_names: list[str] = field(default_factory=list)  # table columns
    # Per-feature (mean, std) the reader applies, for the bundle to report; or None.
    standardization: tuple[Any, Any] | None = None
    scan: Any = None  # what a scan learned (e.g. ``csv_stream.CsvScan``), for previews
    notes: list[str] = field(default_factory=list)  # what reading found, for summaries

    def estimated_bytes(self) -> int:
        """The dataset's size as float32 tensors in memory."""
        return len(self.items) * int(np.prod(self.input_shape)) * 4


@dataclass(frozen=True)
class DatasetSpec:
    """Everything Strata knows about one dataset kind."""

    name: str
    display_name: str
    category: str
    help: str
    make: Callable[[dict[str, Any], np.random.Generator], Raw]
    options: tuple[ParamSpec, ...] = ()
    task: str = "classification"  # what it usually gives ("depends" for files)
    input_summary: str = ""  # "2-D points", "1x28x28 grayscale images", ...
    needs: tuple[str, ...] = ()  # optional packages, by pip name
    # When set, the option named "path" is a file ("file") or folder ("folder") to pick;
    # ``path_filter`` is the file-dialog filter.
    path_kind: str = ""
    path_filter: str = ""
    # Kinds that can stream: lists the files without reading them
    # (options, progress(count), cancelled()) -> FileIndex.
    index: Callable[..., FileIndex] | None = None
    # For "auto": (decoded bytes, bytes the in-memory reader needs) from a cheap look
    # (a file's size), so data that fits is not indexed first; None: index, then decide.
    footprint: Callable[[dict[str, Any]], tuple[int, int]] | None = None

    def option(self, name: str) -> ParamSpec:
        for p in self.options:
            if p.name == name:
                return p
        raise DatasetError(f"the dataset '{self.name}' has no option `{name}`")

    def defaults(self) -> dict[str, Any]:
        return {"name": self.name, **{p.name: _plain(p.default) for p in self.options}}

    def missing(self) -> list[str]:
        """The optional packages this dataset needs that are not installed."""
        return [pkg for pkg in self.needs if not _installed(pkg)]

    @property
    def available(self) -> bool:
        return not self.missing()


# Kept for the name used in the interface notes: describe() returns the declaration.
DatasetInfo = DatasetSpec

_SPECS: dict[str, DatasetSpec] = {}
_IMPORT_NAMES = {"scikit-learn": "sklearn", "Pillow": "PIL"}
INSTALL_HINTS = {"scikit-learn": "pip install scikit-learn  (or: pip install "
                 "'strata-studio[digits]')", "Pillow": "pip install Pillow",
                 "pyarrow": "pip install pyarrow  (or: pip install "
                 "'strata-studio[parquet]')"}


def register(spec: DatasetSpec) -> DatasetSpec:
    if spec.name in _SPECS:
        raise StrataError(f"dataset '{spec.name}' is declared twice")
    if spec.category not in CATEGORIES:
        raise StrataError(f"dataset '{spec.name}' has unknown category {spec.category!r}")
    _SPECS[spec.name] = spec
    return spec


def dataset_names() -> list[str]:
    """Every dataset kind, grouped by category (generated, real, your files)."""
    order = {c: i for i, c in enumerate(CATEGORIES)}
    return [s.name for s in sorted(_SPECS.values(), key=lambda s: order[s.category])]


def describe(name: str) -> DatasetSpec:
    try:
        return _SPECS[name]
    except KeyError:
        raise DatasetError(
            f"Unknown dataset '{name}'; available datasets: "
            f"{', '.join(dataset_names())}") from None


def check_spec(spec: dict | str) -> dict[str, Any]:
    """The dataset spec with every option checked and defaults filled in.

    Raises DatasetError naming the option and the value; does not read any file.
    """
    if isinstance(spec, str):
        spec = {"name": spec}
    if not isinstance(spec, dict) or "name" not in spec:
        raise DatasetError('A dataset is described by a mapping with a "name", such as '
                           f'{{"name": "spirals"}}; received {spec!r}')
    info = describe(spec["name"])
    known = {p.name for p in info.options}
    unknown = sorted(set(spec) - known - {"name"})
    if unknown:
        choices = ", ".join(sorted(known)) or "none"
        raise DatasetError(f"The dataset '{info.name}' has no option `{unknown[0]}` "
                           f"(its options: {choices})")
    checked: dict[str, Any] = {"name": info.name}
    for p in info.options:
        try:
            checked[p.name] = _plain(p.check(spec.get(p.name, p.default)))
        except ParamError as e:
            raise DatasetError(f"Dataset '{info.name}': {e}") from None
    return checked


def load_dataset(spec: dict | str, seed: int = 0, val_fraction: float = 0.2,
                 test_fraction: float = 0.1, base_dir: str | Path | None = None,
                 data_path: str = "memory", strict_files: bool = True,
                 progress: Callable[[int], None] | None = None,
                 cancelled: Callable[[], bool] | None = None,
                 device: str = "cpu") -> DatasetBundle:
    """Make or read a dataset and split it into train, validation and test.

    A relative ``path`` option is taken relative to ``base_dir`` (the folder of the
    network file, when there is one), else to the working directory.

    ``data_path`` "stream" gives a bundle whose splits read their files on demand
    (``runtime.streaming``) for kinds that can stream; "auto" streams when the data would
    not fit comfortably in the free memory of ``device`` (the training device, see
    ``placement``); "memory" reads everything.
    ``strict_files`` False skips unreadable files (named in ``bundle.skipped``).
    ``progress``/``cancelled`` follow and stop the listing of a large folder.
    """
    options = check_spec(spec)
    info = describe(options["name"])
    for pkg in info.missing():
        raise MissingDependency(
            f"The dataset '{info.display_name}' needs the {pkg} package, which is not "
            f"installed. Install it with: {INSTALL_HINTS.get(pkg, 'pip install ' + pkg)}",
            pkg)
    made = dict(options)
    if info.path_kind:
        made["path"] = _resolve_path(info, options["path"], base_dir)
    # What a reader with given splits (a test file, train/val folders) needs to split
    # the rest the way make_bundle would.
    made.update(strict=strict_files, seed=int(seed), val_fraction=val_fraction,
                test_fraction=test_fraction)
    stream = data_path == "stream"
    if info.index is not None and data_path == "auto" and info.footprint is not None:
        stream = not fits_in_memory(*info.footprint(made), device=device)
    if info.index is not None and (stream or data_path == "auto" and
                                   info.footprint is None):
        index = info.index(made, progress, cancelled)
        if cancelled is not None and cancelled():
            raise DatasetError(f"Reading the dataset '{info.display_name}' was cancelled")
        if stream or not fits_in_memory(index.estimated_bytes(), device=device):
            from ..streaming import streaming_bundle

            return streaming_bundle(info.name, index, seed=int(seed),
                                    val_fraction=val_fraction,
                                    test_fraction=test_fraction, options=options,
                                    display_name=index.display_name or info.display_name)
    rng = np.random.default_rng([int(seed), 0xDA7A])
    raw = info.make(made, rng)
    n = len(raw.target)
    if n < 3:
        raise DatasetError(f"The dataset '{info.display_name}' holds {n} example"
                           f"{'' if n == 1 else 's'}; training needs at least 3")
    return make_bundle(
        info.name, raw.inputs, raw.target, raw.task, seed=int(seed),
        val_fraction=val_fraction, test_fraction=test_fraction,
        class_names=raw.class_names, display_name=raw.display_name or info.display_name,
        options=options, feature_names=raw.feature_names, standardize=raw.standardize,
        splits=raw.splits, skipped=raw.skipped, notes=raw.notes)


def fits_in_memory(nbytes: int, reading: int = 0, device: str = "cpu") -> bool:
    """Whether a dataset of ``nbytes`` decoded (``reading`` bytes while it is read) can
    live on ``device`` for a whole run (``placement.choose_data_path``)."""
    from .placement import Footprint, choose_data_path, free_memory

    return choose_data_path(Footprint(nbytes, reading),
                            free_memory(device)).path == "memory"


def _resolve_path(info: DatasetSpec, value: str, base_dir) -> Path:
    what = {"file": "file", "folder": "folder"}[info.path_kind]
    if not value.strip():
        raise DatasetError(f"The dataset '{info.display_name}' needs a {what}: set its "
                           "`path` option")
    path = Path(value).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = Path(base_dir) / path
    if not path.exists():
        raise DatasetError(f"{info.display_name}: the {what} '{value}' was not found "
                           f"(looked for {path.resolve()})")
    if info.path_kind == "folder" and not path.is_dir():
        raise DatasetError(f"{info.display_name}: '{value}' is a file, but a folder "
                           "with one subfolder per class is expected")
    if info.path_kind == "file" and path.is_dir():
        raise DatasetError(f"{info.display_name}: '{value}' is a folder, but a file "
                           "is expected")
    return path


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _installed(package: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(_IMPORT_NAMES.get(package, package)) is not None
