"""``strata train FILE [--epochs N] [--device D] [--out DIR] [--resume CHECKPOINT]
[--nproc N] [--no-tensorboard] [--mlflow [URI]]``.

Trains the network in FILE on the dataset its training setup names, in this process:
a progress line with loss and metrics, each diagnosis as soon as it appears, one line
per epoch, and a summary at the end. DIR becomes a run folder (``runtime.runfolder``):
the document snapshot, its generated code, the setup, checkpoints (``last.pt``,
``best.pt``), the JSON-lines metrics log (``metrics.jsonl``) and TensorBoard event
files; ``--mlflow`` tracks the same run in MLflow (``runtime.mlflow_tracking``).
Ctrl-C stops after the current step and writes a checkpoint; a second Ctrl-C gives up
at once. ``--nproc N`` trains in N processes under torchrun instead, through
the exported train.py (``runtime.distributed_cli``).

Bad input (a missing or malformed file, an invalid setting, a dataset that does not fit
the network) is one clear line on stderr and a non-zero exit status, never a traceback.
Exit status: 0 trained, 1 failed, 2 bad command line, 130 stopped by Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from .cli_args import ArgumentError, Parser
from .diagnoses import loss_text
from .events import (
    CheckpointEvent,
    DiagnosisEvent,
    EpochEvent,
    FailedEvent,
    FinishedEvent,
    StartedEvent,
    StepEvent,
    label_f1_text,
)
from .runfolder import METRICS_LOG, RunLog

PROG = "strata train"
__all__ = ["METRICS_LOG", "Printer", "main", "train"]




def _parser() -> argparse.ArgumentParser:
    p = Parser(prog=PROG, description="Train a Strata network on the dataset its "
                "training setup names.")
    p.add_argument("file", help="the network (.strata file)")
    p.add_argument("--epochs", type=int, help="train for this many epochs in all")
    p.add_argument("--device", help="auto, cpu, cuda or mps")
    p.add_argument("--out", help="folder for checkpoints and the metrics log "
                   "(default: runs/<network file name>)")
    p.add_argument("--resume", help="continue from this checkpoint (e.g. DIR/last.pt)")
    p.add_argument("--no-tensorboard", dest="tensorboard", action="store_false",
                   help="do not write TensorBoard event files into DIR")
    p.add_argument("--mlflow", nargs="?", const="", metavar="URI",
                   help="also track the run in MLflow: a tracking URI or folder "
                   "(default: $MLFLOW_TRACKING_URI, else mlruns beside DIR; before FILE "
                   "write --mlflow=URI); needs strata-studio[mlflow]")
    p.add_argument("--nproc", type=int, metavar="N",
                   help="train in N processes under torchrun (data parallel), through "
                   "the exported train.py written into DIR/code")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "train":
        argv = argv[1:]
    try:
        args = _parser().parse_args(argv)
    except ArgumentError as e:
        print(f"{PROG}: {e} (see: {PROG} --help)", file=sys.stderr)
        return 2
    return train(args)


def train(args: argparse.Namespace, out: TextIO | None = None) -> int:
    import graph
    from graph.errors import StrataError

    from .control import Control
    from .engine import Trainer
    from .setup import TrainingSetup

    out = out or sys.stdout
    path = Path(args.file)
    try:
        doc = graph.load(path)
        setup = TrainingSetup.from_document(doc)
        changes = {k: v for k, v in (("epochs", args.epochs), ("device", args.device))
                   if v is not None}
        if changes:
            setup = setup.replace(**changes)
    except StrataError as e:
        print(f"{PROG}: {path}: {_one_line(e)}", file=sys.stderr)
        return 1
    folder = Path(args.out) if args.out else Path("runs") / path.stem
    if args.nproc is not None:
        from .distributed_cli import train_distributed

        return train_distributed(path, doc, setup, folder, args, out, PROG)
    try:
        log = RunLog(folder, doc.to_dict(), setup.to_dict(),
                     tensorboard=args.tensorboard, mlflow=args.mlflow)
    except OSError as e:
        print(f"{PROG}: cannot write to {folder}: {e.strerror or e}", file=sys.stderr)
        return 1
    except (ImportError, StrataError) as e:  # MLflow missing, or its store refused
        print(f"{PROG}: {_one_line(e)}", file=sys.stderr)
        return 1

    control = Control()
    interrupted = {"count": 0}

    def on_sigint(_signum, _frame):
        interrupted["count"] += 1
        if interrupted["count"] > 1:
            raise KeyboardInterrupt
        control.stop()
        print("\nstopping after this step (Ctrl-C again to quit at once)...", file=out,
              flush=True)

    printer = Printer(out, setup.epochs, log)
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        trainer = Trainer(doc, setup, emit=printer, control=control, out_dir=folder,
                          resume=args.resume)
        final = trainer.run()
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted; the last checkpoint in {folder} is intact",
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, previous)
        log.close()
    if isinstance(final, FailedEvent):
        print(f"{PROG}: training failed: {final.reason}", file=sys.stderr)
        return 1
    return 130 if final.stopped and interrupted["count"] else 0


def _one_line(e: Exception) -> str:
    return " ".join(str(e).split())


class Printer:
    """Turns events into terminal output, and hands them to ``log`` (the run folder)."""

    def __init__(self, out: TextIO, epochs: int, log: Callable[[Any], None]) -> None:
        self.out = out
        self.epochs = epochs
        self.log = log
        self.tty = hasattr(out, "isatty") and out.isatty()
        self.names: dict[str, str] = {}
        self.steps_per_epoch = 1
        self.metric = "accuracy"
        self.started = time.perf_counter()
        self.line_open = False

    def __call__(self, event) -> None:
        self.log(event)
        handler = getattr(self, "_" + type(event).__name__, None)
        if handler is not None:
            handler(event)

    def _print(self, text: str) -> None:
        if self.line_open:
            self.out.write("\r\033[K" if self.tty else "\n")
            self.line_open = False
        self.out.write(text + "\n")
        self.out.flush()

    def _StartedEvent(self, e: StartedEvent) -> None:
        self.names = dict(zip(e.node_ids, e.node_names))
        self.steps_per_epoch = max(1, e.steps_per_epoch)
        self.epochs = e.epochs
        d = e.dataset
        resumed = f", resuming after epoch {e.start_epoch}" if e.start_step else ""
        self._print(f"training {e.network or 'network'} on {d.get('description')}: "
                    f"{e.parameter_count:,} parameters, {d.get('loss')} loss, "
                    f"device {e.device}{resumed}")

    def _StepEvent(self, e: StepEvent) -> None:
        if not self.tty:
            return
        done = (e.step - 1) % self.steps_per_epoch + 1
        width = 20
        filled = int(width * done / self.steps_per_epoch)
        metric = "" if e.metric is None else f" {self._metric_words(e.metric)}"
        self.out.write(f"\r\033[Kepoch {e.epoch}/{self.epochs} "
                       f"[{'#' * filled}{'.' * (width - filled)}] loss {e.loss:.4f}"
                       f"{metric} {e.samples_per_second:,.0f} samples/s")
        self.out.flush()
        self.line_open = True

    def _metric_words(self, value: float) -> str:
        if self.metric == "f1":
            return f"F1 {value:.3f}"
        return f"R2 {value:.3f}" if self.metric == "r2" else f"acc {value:.1%}"

    def _EpochEvent(self, e: EpochEvent) -> None:
        self.metric = e.metric_name
        val = "" if e.val_metric is None else f", val {self._metric_words(e.val_metric)}"
        best = " (best)" if e.best else ""
        self._print(f"epoch {e.epoch}/{self.epochs}: train loss {loss_text(e.train_loss)}, "
                    f"val loss {loss_text(e.val_loss)}{val}{best}  [{e.seconds:.1f} s]")
        if e.label_f1:
            self._print(f"  {label_f1_text(e.class_names, e.label_f1)}")

    def _DiagnosisEvent(self, e: DiagnosisEvent) -> None:
        where = ", ".join(self.names.get(n, n) for n in e.node_ids)
        self._print(f"! {e.title}{' in ' + where if where else ''}: {e.explanation}\n"
                    f"  fix: {e.fix}")

    def _CheckpointEvent(self, e: CheckpointEvent) -> None:
        if e.reason in ("stop", "request"):
            self._print(f"checkpoint written: {e.path}")

    def _FinishedEvent(self, e: FinishedEvent) -> None:
        s = e.summary
        state = "stopped" if e.stopped else "finished"
        epochs = f"{s['epochs']} epoch{'' if s['epochs'] == 1 else 's'}"
        lines = [f"{state} after {epochs} ({s['steps']} steps) in {s['seconds']:.1f} s"]
        if s.get("val_loss") is not None:
            metric = "" if s.get("val_metric") is None else \
                f", {self._metric_words(s['val_metric'])}"
            lines.append(f"  last epoch: train loss {loss_text(s['train_loss'])}, val loss "
                         f"{loss_text(s['val_loss'])}{metric}")
        if s.get("best_val_loss") is not None:
            lines.append(f"  best val loss {loss_text(s['best_val_loss'])} after epoch "
                         f"{s['best_epoch']}")
        if s.get("diagnoses"):
            lines.append("  diagnoses: " + ", ".join(k.replace("_", " ")
                                                      for k in s["diagnoses"]))
        if s.get("checkpoint"):
            lines.append(f"  checkpoint: {s['checkpoint']}"
                         + (f" (best: {s['best_checkpoint']})"
                            if s.get("best_checkpoint") else ""))
        self._print("\n".join(lines))

    def _FailedEvent(self, e: FailedEvent) -> None:
        if self.line_open:
            self._print("")
