"""A run folder: everything one training run needs to be understood and reopened later.

```
<run folder>/
    network.strata       the document as it was trained (a snapshot, not the live file)
    model.py             the network's generated PyTorch code
    setup.json           the training setup, flat, as ``TrainingSetup.to_dict`` writes it
    metrics.jsonl        the native log: one JSON event per line (runtime.events.to_json)
    last.pt, best.pt     checkpoints (written by the engine)
    events.out.tfevents.*  TensorBoard event files, when tensorboard is installed
```
(and, when asked, the same run in MLflow: ``runtime.mlflow_tracking``)

``RunLog(folder, document, setup)`` is the event sink that writes all of it while the run
streams; ``open_run(folder)`` reads a folder back as a ``SavedRun`` (document, setup and
the logged events as typed events again), which is how the studio reopens a run and how
sweeps show any trial in the run comparison. The JSONL log keeps scalars only (no
histograms, feature maps or decision boundaries): bulky arrays live in TensorBoard.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from graph.atomic import write_atomic
from graph.errors import StrataError

from . import events as ev

METRICS_LOG = "metrics.jsonl"
SNAPSHOT = "network.strata"
CODE = "model.py"
SETUP = "setup.json"

_KINDS = {cls.__name__[:-len("Event")].lower(): cls for cls in (
    ev.StartedEvent, ev.StepEvent, ev.LayerStatsEvent, ev.EpochEvent, ev.DiagnosisEvent,
    ev.CheckpointEvent, ev.PausedEvent, ev.ResumedEvent, ev.FinishedEvent,
    ev.FailedEvent, ev.NoticeEvent)}


class RunFolderError(StrataError):
    """A folder that is not a readable run folder (the message says what is missing)."""


# ====================================================================== writing
def write_snapshot(folder: str | Path, document: dict[str, Any],
                   setup: dict[str, Any] | None = None) -> None:
    """The document, its generated code and the setup, written atomically."""
    import graph
    from graph.fileformat import document_from_dict, dumps

    folder = Path(folder)
    doc = document_from_dict(document)
    if setup is not None:
        doc.training = dict(setup)
    write_atomic(folder / SNAPSHOT, dumps(doc).encode("utf-8"))
    write_atomic(folder / SETUP, (json.dumps(doc.training, indent=1, sort_keys=True)
                                  + "\n").encode("utf-8"))
    try:
        source = graph.generate_code(doc).source
    except StrataError:
        return  # a network that does not compile fails the run, which says why
    write_atomic(folder / CODE, source.encode("utf-8"))


def event_line(event) -> dict[str, Any] | None:
    """The JSONL form of ``event`` (scalars only), or None for events not logged."""
    if isinstance(event, ev.FeatureMapsEvent):
        return None
    data = ev.to_json(event)
    if isinstance(event, ev.LayerStatsEvent):  # scalars only: histograms are bulky
        for layer in data["layers"]:
            for key in ("act_hist", "act_edges", "grad_hist", "grad_edges"):
                layer.pop(key, None)
    elif isinstance(event, ev.StartedEvent):
        data["dataset"].pop("points", None)
        data["dataset"].pop("labels", None)
    elif isinstance(event, ev.EpochEvent):
        data.pop("boundary", None)
        if event.label_f1:  # multi-label: named, and their mean, for readers of the log
            data["val_label_f1"] = dict(zip(event.class_names, event.label_f1))
            data["val_macro_f1"] = event.macro_f1
    data["time"] = round(time.time(), 3)
    return data


class MetricsLog:
    """Appends each event to ``metrics.jsonl`` as one flushed JSON line."""

    def __init__(self, folder: str | Path) -> None:
        self.path = Path(folder) / METRICS_LOG
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.file: TextIO | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115

    def __call__(self, event) -> None:
        data = event_line(event)
        if data is None or self.file is None:
            return
        self.file.write(json.dumps(data, allow_nan=False) + "\n")
        self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class RunLog:
    """Every sink of a run folder: the snapshot now, then the metrics log and (when
    ``tensorboard`` is true and the package is installed) TensorBoard while it streams;
    with ``mlflow`` (a tracking URI, "" for the default) an MLflow run too (with
    ``mlflow_tags`` and ``mlflow_params`` added: a sweep trial's), which raises
    ImportError (the package is missing) or TrackingError (the store) here, before the
    run starts."""

    def __init__(self, folder: str | Path, document: dict[str, Any] | None = None,
                 setup: dict[str, Any] | None = None, *, tensorboard: bool = True,
                 snapshot: bool = True, mlflow: str | None = None,
                 mlflow_tags: dict[str, str] | None = None,
                 mlflow_params: dict[str, Any] | None = None) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        if snapshot and document is not None:
            write_snapshot(self.folder, document, setup)
        self.mlflow = None
        if mlflow is not None:  # first: a store that refuses leaves no file open
            from .mlflow_tracking import MlflowLogger, tracking_uri

            self.mlflow = MlflowLogger(tracking_uri(mlflow, self.folder.parent),
                                       self.folder, document=document, setup=setup,
                                       tags=mlflow_tags, params=mlflow_params)
        self.metrics = MetricsLog(self.folder)
        self.tensorboard = None
        if tensorboard:
            from .tensorboard import TensorBoardLogger, tensorboard_available

            if tensorboard_available():
                self.tensorboard = TensorBoardLogger(self.folder, document=document,
                                                     setup=setup)

    def __call__(self, event) -> None:
        self.metrics(event)
        if self.tensorboard is not None:
            self.tensorboard(event)
        if self.mlflow is not None:
            self.mlflow(event)

    def close(self) -> None:
        self.metrics.close()
        if self.tensorboard is not None:
            self.tensorboard.close()
        if self.mlflow is not None:
            self.mlflow.close()


# ====================================================================== reading
@dataclass
class SavedRun:
    folder: Path
    document: dict[str, Any] | None
    setup: dict[str, Any]
    events: list[Any] = field(default_factory=list)

    @property
    def final(self):
        """The FinishedEvent or FailedEvent, or None for a run that never ended."""
        return next((e for e in reversed(self.events)
                     if isinstance(e, ev.TERMINAL)), None)

    def checkpoint(self) -> Path | None:
        for name in ("best.pt", "last.pt"):
            if (self.folder / name).exists():
                return self.folder / name
        return None


def open_run(folder: str | Path) -> SavedRun:
    """Read a run folder back (see the module docstring); RunFolderError if it is none.

    Lines a crash cut short, and events of kinds this version does not know, are
    skipped: a run folder of a killed run still opens with what was written."""
    import graph

    folder = Path(folder)
    log = folder / METRICS_LOG
    if not log.is_file():
        raise RunFolderError(f"{folder} is not a run folder: it has no {METRICS_LOG}")
    document = None
    if (folder / SNAPSHOT).is_file():
        try:
            document = graph.load(folder / SNAPSHOT).to_dict()
        except StrataError as e:
            raise RunFolderError(f"{folder / SNAPSHOT}: {e}") from None
    setup: dict[str, Any] = {}
    if (folder / SETUP).is_file():
        try:
            setup = json.loads((folder / SETUP).read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise RunFolderError(f"{folder / SETUP} is not readable JSON: {e}") from None
    elif document is not None:
        setup = dict(document.get("training") or {})
    events = []
    with open(log, encoding="utf-8") as f:
        for line in f:
            try:
                event = event_from_json(json.loads(line))
            except (ValueError, TypeError, KeyError):
                continue
            if event is not None:
                events.append(event)
    return SavedRun(folder, document, setup, events)


def event_from_json(data: dict[str, Any]):
    """The typed event a JSONL line holds (arrays the log leaves out come back empty)."""
    cls = _KINDS.get(data.get("event", ""))
    if cls is None:
        return None
    values = {}
    for f in fields(cls):
        if f.name not in data:
            continue
        value = data[f.name]
        if f.name == "layers":
            value = tuple(_layer(v) for v in value)
        elif f.name == "confusion" and value is not None:
            value = np.asarray(value, dtype=np.int64)
        elif isinstance(value, list):
            value = tuple(value)
        values[f.name] = value
    if cls is ev.EpochEvent:
        values.pop("boundary", None)
    return cls(**values)


def _layer(raw: dict[str, Any]) -> ev.LayerStats:
    names = {f.name for f in fields(ev.LayerStats)}
    values = {k: v for k, v in raw.items() if k in names}
    values.setdefault("act_hist", np.zeros(0, np.int64))
    values.setdefault("act_edges", np.zeros(0, np.float32))
    for key in ("act_hist", "act_edges", "grad_hist", "grad_edges"):
        if isinstance(values.get(key), list):
            values[key] = np.asarray(values[key])
    return ev.LayerStats(**values)
