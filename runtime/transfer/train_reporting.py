"""What an exported ``train.py`` reports, and where: the ``REPORTING`` and ``TRACKING``
pieces of its template (``train_template``).

``Reporter`` (rank 0 only) prints, writes checkpoints atomically, JSON lines
(``--metrics``), TensorBoard (``--tensorboard``) and, through ``MlflowRun``, MLflow
(``--mlflow [URI]``). ``MlflowRun`` records what Strata's own MLflow logger
(``runtime.mlflow_tracking``) records for a run in the studio or ``strata train``, as
far as a plain script has it:
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

REPORTING = '''

# ---------------------------------------------------------------------------- reporting
def save(data, path):
    """Write a checkpoint atomically: a crash mid-write keeps the previous one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(data, temporary)
    os.replace(temporary, path)


class Reporter:
    """What rank 0 tells: printed lines, history.json, JSON lines (--metrics),
    TensorBoard (--tensorboard) and MLflow (--mlflow). Other processes report nothing."""

    def __init__(self, config, rank, model):
        self.active = rank == 0
        self.metrics = None
        self.writer = None
        self.tracking = None
        self.stopped = False  # on_epoch_end ended training early
        self.window = []
        self.window_started = time.perf_counter()
        if not self.active:
            return
        if config.metrics is not None:
            config.metrics.parent.mkdir(parents=True, exist_ok=True)
            self.metrics = open(config.metrics, "a", encoding="utf-8")  # noqa: SIM115
        if config.tensorboard is not None:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(config.tensorboard))
        if config.mlflow is not None:
            self.tracking = MlflowRun(config)
        self.model = model

    def say(self, text):
        if self.active:
            print(text, flush=True)

    def event(self, kind, **values):
        if self.metrics is not None:
            values = {"event": kind, **values, "time": round(time.time(), 3)}
            self.metrics.write(json.dumps(values) + "\\n")
            self.metrics.flush()

    def step(self, step, epoch, loss, lr, examples, every):
        """Called on every optimizer step; reports every ``every`` steps."""
        if not self.active:
            return
        self.window.append((loss, examples))
        if step % every:
            return
        now = time.perf_counter()
        mean = sum(loss for loss, _ in self.window) / len(self.window)
        speed = sum(n for _, n in self.window) / max(now - self.window_started, 1e-9)
        self.window, self.window_started = [], now
        self.event(
            "step",
            step=step,
            epoch=epoch,
            loss=mean,
            metric=None,
            lr=lr,
            samples_per_second=speed,
        )
        if self.writer is None and self.tracking is None:
            return
        scalars = {
            "train/loss": mean,
            "train/lr": lr,
            "train/samples_per_second": speed,
        }
        for name, p in self.model.named_parameters():  # this step's gradients
            if p.grad is not None:
                norm = torch.linalg.vector_norm(p.grad).item()
                scalars[f"gradients/{name}"] = norm
        for tag, value in scalars.items():
            if self.writer is not None:
                self.writer.add_scalar(tag, value, step)
            if self.tracking is not None:
                self.tracking.add(tag, value, step)

    def epoch(self, record, epochs):
        self.say(
            f"epoch {record['epoch']}/{epochs}  train loss {record['train_loss']:.4f}  "
            f"val loss {record['val_loss']:.4f}  val @METRIC@ {record['val_@METRIC@']:.3f}"
        )
        self.event(
            "epoch",
            epoch=record["epoch"],
            step=record["step"],
            train_loss=record["train_loss"],
            val_loss=record["val_loss"],
            train_metric=None,
            val_metric=record["val_@METRIC@"],
            metric_name="@METRIC@",
            lr=record["lr"],
            seconds=record["seconds"],
            best=record["best"],
        )
        if self.writer is not None:
            for key in ("train_loss", "val_loss", "val_@METRIC@", "lr"):
                self.writer.add_scalar(f"epoch/{key}", record[key], record["epoch"])
            for name, p in self.model.named_parameters():
                tag = f"weights/{name}"
                self.writer.add_histogram(tag, p.detach(), record["epoch"])
            self.writer.flush()
        if self.tracking is not None:
            for key in ("train_loss", "val_loss", "val_@METRIC@", "lr", "seconds"):
                self.tracking.add(f"epoch/{key}", record[key], record["epoch"])
            self.tracking.flush()

    def close(self, config, history, summary):
        if self.writer is not None and history:
            hparams = {
                k: v
                for k, v in vars(config).items()
                if isinstance(v, (int, float, str, bool))
            }
            last = history[-1]
            final = {f"hparam/{k}": last[k] for k in ("val_loss", "val_@METRIC@")}
            self.writer.add_hparams(hparams, final, run_name=".")
            self.writer.close()
        self.event("finished", summary=summary, stopped=self.stopped)
        if self.metrics is not None:
            self.metrics.close()
        if self.tracking is not None:
            files = [
                HERE / "@MODULE@.py",  # the network
                Path(__file__),
                HERE / "history.json",
                config.metrics,
            ]
            self.tracking.finish(summary, files, self.stopped)
'''

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
        # open_mlflow first: it says how to install MLflow when it is missing.
        self.client, experiment = open_mlflow(config.mlflow)
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
