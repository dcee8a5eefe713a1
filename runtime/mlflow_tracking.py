"""MLflow tracking for a run, written from the run's typed events (optional extra).

``MlflowLogger(uri, folder, document=..., setup=...)`` is an event sink like
``TensorBoardLogger`` and records the same content in an MLflow run:

- params: the flat training setup (``tensorboard.hparams_of``), once the run starts;
- metrics per step event: ``train/loss``, ``train/metric``, ``train/lr``,
  ``train/samples_per_second`` (the optimizer step as MLflow's step); per epoch:
  ``epoch/train_loss``, ``epoch/val_loss``, ``epoch/train_<metric>``,
  ``epoch/val_<metric>``, ``epoch/lr``, ``epoch/seconds`` (the epoch as the step); per
  layer at the instrumentation's sampling rate: ``layers/<name>/<statistic>`` (MLflow
  has no histograms: those stay in TensorBoard);
- the final metrics (``final/val_loss``, ``final/best_val_loss``, ``final/val_<metric>``,
  ``final/train_loss``) and the run's status (finished, failed, stopped);
- artifacts: the document (``network.strata``), its generated code (``model.py``) and
  the setup, from the run folder, and the metrics log when the run ends.

Metrics are buffered and sent in one batch per epoch (and at the end), so a remote
tracking server costs one request an epoch, not one a step. A tracking store that
fails mid-run (a server gone) stops the logging with a note, never the training.

URIs: any MLflow tracking URI (``http://host:5000``, ``sqlite:///mlflow.db``,
``databricks``); a plain folder or ``file:`` URI is MLflow's file store, which MLflow
3 keeps only behind ``MLFLOW_ALLOW_FILE_STORE``: naming one is choosing it, so it is
allowed here. Without a URI, ``MLFLOW_TRACKING_URI`` or ``<runs folder>/mlruns``.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import Any

from graph.errors import StrataError

from .event_sinks import RunLogger
from .events import (
    EpochEvent,
    FailedEvent,
    FinishedEvent,
    LayerStatsEvent,
    StartedEvent,
    StepEvent,
)
from .tensorboard import LAYER_SCALARS, hparams_of, label_scalars

MISSING = ("MLflow tracking needs the `mlflow` package (or `mlflow-skinny`): "
           "pip install 'strata-studio[mlflow]'")
ARTIFACTS = ("network.strata", "model.py", "setup.json")


class TrackingError(StrataError):
    """The MLflow tracking store could not be used; the message says which and why."""


def mlflow_available() -> bool:
    try:
        import mlflow  # noqa: F401
    except ImportError:
        return False
    return True


def tracking_uri(uri: str | None, runs_folder: str | Path) -> str:
    """The URI to track to: ``uri`` (a plain folder becomes a ``file:`` URI), else
    ``MLFLOW_TRACKING_URI``, else ``<runs_folder>/mlruns``."""
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or \
        str(Path(runs_folder) / "mlruns")
    if "://" not in uri and not uri.startswith("file:") and uri != "databricks":
        uri = Path(uri).resolve().as_uri()
    return uri


def experiment_name(document: dict | None) -> str:
    """The MLflow experiment of a document's runs: its name (as train.py's)."""
    return str((document or {}).get("name") or "Strata")


def _experiment(client, name: str) -> str:
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found is not None else client.create_experiment(name)


def study_run(uri: str, experiment: str, study: str) -> str:
    """The MLflow run a sweep's trials are nested in: one per study, found by its
    ``strata.study`` tag (an exported sweep.py finds the same one), else made."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as e:
        raise ImportError(MISSING) from e
    if uri.startswith("file:"):
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    try:
        client = MlflowClient(tracking_uri=uri)
        experiment_id = _experiment(client, experiment)
        quoted = study.replace("'", "\\'")
        found = client.search_runs([experiment_id],
                                   f"tags.`strata.study` = '{quoted}'", max_results=1)
        if found:
            return found[0].info.run_id
        return client.create_run(experiment_id, run_name=study,
                                 tags={"strata.study": study}).info.run_id
    except Exception as e:  # noqa: BLE001 - any store failure, in the user's words
        raise TrackingError(f"Cannot track to MLflow at {uri}: "
                            f"{' '.join(str(e).split())[:300]}") from None


class MlflowLogger(RunLogger):
    """Writes one run's events into an MLflow run (see the module docstring)."""

    def __init__(self, uri: str, folder: str | Path, *, document: dict | None = None,
                 setup: dict | None = None, experiment: str | None = None,
                 tags: dict[str, str] | None = None,
                 params: dict[str, Any] | None = None) -> None:
        try:
            from mlflow.tracking import MlflowClient
        except ImportError as e:
            raise ImportError(MISSING) from e
        if uri.startswith("file:"):
            os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        self.folder = Path(folder)
        self.setup = dict(setup or (document or {}).get("training", {}))
        self.extra = dict(params or {})  # a sweep trial's searched values
        name = experiment or experiment_name(document)
        try:
            self.client = MlflowClient(tracking_uri=uri)
            experiment_id = _experiment(self.client, name)
            self.run_id = self.client.create_run(
                experiment_id, run_name=self.folder.name,
                tags={"strata.run_folder": str(self.folder.resolve()),
                      **(tags or {})}).info.run_id
        except Exception as e:  # noqa: BLE001 - any store failure, in the user's words
            raise TrackingError(f"Cannot track to MLflow at {uri}: "
                                f"{' '.join(str(e).split())[:300]}") from None
        self.uri = uri
        self.metric = "metric"
        self.names: dict[str, str] = {}
        self.pending: list[Any] = []
        self.closed = False
        self.problem = ""  # why logging stopped early, if it did

    # ---------------------------------------------------------------- sink
    def dispatch(self, event: object) -> None:
        try:
            super().dispatch(event)
        except Exception as e:  # noqa: BLE001 - the store failed: stop logging, not training
            self.problem = f"MLflow logging stopped: {type(e).__name__}: {e}"
            self.closed = True

    def close(self, status: str = "KILLED") -> None:
        """End the MLflow run (a run closed before its end event was stopped)."""
        if self.closed:
            return
        self.closed = True
        try:
            self._flush()
            metrics = self.folder / "metrics.jsonl"
            if metrics.exists():
                self.client.log_artifact(self.run_id, str(metrics))
            self.client.set_terminated(self.run_id, status)
        except Exception as e:  # noqa: BLE001 - as in __call__
            self.problem = f"MLflow logging stopped: {type(e).__name__}: {e}"

    # ---------------------------------------------------------------- events
    def _started(self, e: StartedEvent) -> None:
        from mlflow.entities import Param

        self.names = {i: f"{_key(n)}_{_key(i)}" for i, n in zip(e.node_ids, e.node_names)}
        if e.start_step == 0:  # a resumed run keeps the params it was given
            values = {**hparams_of(self.setup), **self.extra}
            params = [Param(k, str(v)[:6000]) for k, v in values.items()]
            self.client.log_batch(self.run_id, params=params)
        self.client.set_tag(self.run_id, "strata.parameters", str(e.parameter_count))
        for name in ARTIFACTS:
            path = self.folder / name
            if path.exists():
                self.client.log_artifact(self.run_id, str(path))

    def _step(self, e: StepEvent) -> None:
        self._add("train/loss", e.loss, e.step)
        self._add("train/metric", e.metric, e.step)
        self._add("train/lr", e.lr, e.step)
        self._add("train/samples_per_second", e.samples_per_second, e.step)

    def _layers(self, e: LayerStatsEvent) -> None:
        for s in e.layers:
            name = self.names.get(s.node_id, _key(s.node_id))
            for key in LAYER_SCALARS:
                self._add(f"layers/{name}/{key}", getattr(s, key), e.step)

    def _epoch(self, e: EpochEvent) -> None:
        self.metric = e.metric_name
        for tag, value in (("train_loss", e.train_loss), ("val_loss", e.val_loss),
                           (f"train_{e.metric_name}", e.train_metric),
                           (f"val_{e.metric_name}", e.val_metric), ("lr", e.lr),
                           ("seconds", e.seconds), *label_scalars(e)):
            self._add(f"epoch/{tag}", value, e.epoch)
        self._flush()

    def _finished(self, e) -> None:
        summary = e.summary if isinstance(e, FinishedEvent) else {}
        for tag, key in (("val_loss", "val_loss"), ("best_val_loss", "best_val_loss"),
                         (f"val_{self.metric}", "val_metric"),
                         ("train_loss", "train_loss")):
            self._add(f"final/{tag}", summary.get(key), 0)
        if isinstance(e, FailedEvent):
            self.client.set_tag(self.run_id, "strata.failure", str(e.reason)[:5000])
            status = "FAILED"
        else:
            status = "KILLED" if e.stopped else "FINISHED"
        self.close(status)

    # ---------------------------------------------------------------- pieces
    def _add(self, key: str, value, step: int) -> None:
        from mlflow.entities import Metric

        if isinstance(value, (int, float)) and not isinstance(value, bool) and \
                math.isfinite(value):
            self.pending.append(Metric(key, float(value), int(time.time() * 1000),
                                       int(step)))

    def _flush(self) -> None:
        # MLflow takes at most 1000 metrics a batch.
        while self.pending:
            batch, self.pending = self.pending[:1000], self.pending[1000:]
            self.client.log_batch(self.run_id, metrics=batch)


def _key(text: str) -> str:
    """An MLflow metric-name piece: letters, digits, ``_-.`` only."""
    cleaned = "".join(c if c.isalnum() or c in "-_." else "_" for c in str(text))
    return cleaned.strip("_") or "layer"
