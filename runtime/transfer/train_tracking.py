"""The MLflow piece of an exported ``train.py`` (``--mlflow [URI]``).

``MlflowRun`` records what Strata's own MLflow logger (``runtime.mlflow_tracking``)
records for a run in the studio or ``strata train``, as far as a plain script has it:
the config as params; ``train/loss``, ``train/lr``, ``train/samples_per_second`` and
per-parameter gradient norms (``gradients/<name>``, as the script's TensorBoard
scalars) at each reported step; ``epoch/train_loss``, ``epoch/val_loss``,
``epoch/val_<metric>``, ``epoch/lr``, ``epoch/seconds`` per epoch; ``final/...`` at
the end; the network's module, the script and the history as artifacts; the status
(finished, or killed when ``on_epoch_end`` stopped it: a pruned sweep trial). Metrics
go in one batch per epoch, so a tracking server costs a request an epoch. MLflow is
imported only with ``--mlflow``; without it the flag says how to install it.

``Config.mlflow_parent`` nests the run under another (``sweep.py --mlflow`` makes one
per study, as ``strata sweep --mlflow`` does). ``@MARKERS@`` are filled by
``train_script.export_training`` with the rest of the template.
"""

from __future__ import annotations

TRACKING = '''

# ---------------------------------------------------------------------------- tracking
def open_mlflow(uri):
    """(MLflow client, experiment id) for a tracking URI: "" means MLFLOW_TRACKING_URI
    or mlruns/ beside this script; a plain folder is MLflow's file store."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError:
        raise SystemExit(
            "--mlflow needs MLflow: pip install mlflow-skinny (or mlflow)"
        ) from None
    uri = uri or os.environ.get("MLFLOW_TRACKING_URI") or str(HERE / "mlruns")
    if "://" not in uri and not uri.startswith("file:") and uri != "databricks":
        uri = Path(uri).resolve().as_uri()
    if uri.startswith("file:"):  # MLflow 3 keeps its file store behind this switch
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return client, found.experiment_id
    return client, client.create_experiment(EXPERIMENT)


class MlflowRun:
    """One run in MLflow with what Strata records for a run (see Reporter)."""

    def __init__(self, config):
        self.client, experiment = open_mlflow(config.mlflow)  # says if MLflow is missing
        from mlflow.entities import Param

        tags = {}
        if config.mlflow_parent:
            tags["mlflow.parentRunId"] = config.mlflow_parent  # a trial of a sweep
        run = self.client.create_run(experiment, run_name=config.run_name, tags=tags)
        self.run_id = run.info.run_id
        values = dict(vars(config))
        for k, v in values.pop("model_args", {}).items():  # the network's arguments
            values[f"model_args.{k}"] = v
        params = [Param(k, str(v)[:6000]) for k, v in values.items() if v is not None]
        self.client.log_batch(self.run_id, params=params)
        self.pending = []

    def add(self, key, value, step):
        from mlflow.entities import Metric

        if value is not None and math.isfinite(value):
            now = int(time.time() * 1000)
            self.pending.append(Metric(key, float(value), now, int(step)))

    def flush(self):
        while self.pending:  # MLflow takes at most 1000 metrics a batch
            batch, self.pending = self.pending[:1000], self.pending[1000:]
            self.client.log_batch(self.run_id, metrics=batch)

    def finish(self, summary, files, stopped):
        for key in ("val_loss", "best_val_loss", "val_metric", "train_loss"):
            name = "val_" + summary["metric_name"] if key == "val_metric" else key
            self.add(f"final/{name}", summary[key], 0)
        self.flush()
        for path in files:
            if path is not None and Path(path).exists():
                self.client.log_artifact(self.run_id, str(path))
        self.client.set_terminated(self.run_id, "KILLED" if stopped else "FINISHED")
'''
