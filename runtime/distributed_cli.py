"""``strata train FILE --nproc N``: the same training in N processes under torchrun.

Strata's engine trains in one process; for several, the run goes through the exported
``train.py`` (the script users take to their servers, so what Strata launches is what
they will run): it is exported into ``<run folder>/code`` and started with
``python -m torch.distributed.run --standalone --nproc_per_node=N``. Rank 0 writes its
progress as JSON lines (``--metrics``); this module follows that file and turns each
line back into the runtime's typed events, which go to the same printer and run log
(metrics log, TensorBoard) as a one-process run. Checkpoints are the script's own
(``<run folder>/checkpoints``), which the script's ``--resume`` continues.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TextIO

from .events import FailedEvent, StartedEvent
from .runfolder import RunLog, event_from_json

RANK0_LOG = "rank0.jsonl"


def torchrun_command(script: Path, nproc: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone",
            f"--nproc_per_node={nproc}", str(script), *args]


def started_event(doc, setup, nproc: int) -> StartedEvent:
    """What the run says first, from the document (the script does not stream it)."""
    import graph

    from .layers import network_layers

    compiled = graph.compile_network(doc)
    layers = network_layers(compiled, doc)
    params = sum(p.numel() for p in compiled.module.parameters() if p.requires_grad)
    name = setup.dataset.get("name", "")
    return StartedEvent(
        device=f"{setup.device} x {nproc} processes", parameter_count=params,
        node_ids=tuple(i.node_id for i in layers), node_names=tuple(i.name for i in layers),
        node_types=tuple(i.type for i in layers),
        dataset={"name": name, "description": name, "loss": setup.loss},
        epochs=setup.epochs, steps_per_epoch=0, network=doc.name)


def train_distributed(path: Path, doc, setup, folder: Path, args, out: TextIO,
                      prog: str) -> int:
    """Run ``doc`` under torchrun; exit status as ``strata train`` gives it."""
    from graph.errors import StrataError

    from .cli import Printer
    from .transfer.train_script import export_training

    if args.nproc < 1:
        print(f"{prog}: --nproc must be at least 1, got {args.nproc}", file=sys.stderr)
        return 2
    code = folder / "code"
    try:
        export_training(doc, code, base_dir=path.parent)
        log = RunLog(folder, doc.to_dict(), setup.to_dict(), tensorboard=args.tensorboard,
                     mlflow=getattr(args, "mlflow", None))
    except StrataError as e:
        print(f"{prog}: {path}: {' '.join(str(e).split())}", file=sys.stderr)
        return 1
    except ImportError as e:  # MLflow asked for and missing
        print(f"{prog}: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"{prog}: cannot write to {folder}: {e.strerror or e}", file=sys.stderr)
        return 1
    rank0 = folder / RANK0_LOG
    rank0.unlink(missing_ok=True)
    flags = ["--epochs", str(setup.epochs), "--device", setup.device, "--out",
             str(folder.resolve() / "checkpoints"), "--metrics", str(rank0.resolve())]
    if args.resume:
        flags += ["--resume", str(Path(args.resume).resolve())]
    printer = Printer(out, setup.epochs, log)
    try:
        printer(started_event(doc, setup, args.nproc))
        threads = str(max(1, (os.cpu_count() or 1) // args.nproc))
        env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", threads)}
        with open(folder / "torchrun.log", "w", encoding="utf-8") as output:
            process = subprocess.Popen(
                torchrun_command(Path("train.py"), args.nproc, *flags), cwd=code,
                stdout=output, stderr=subprocess.STDOUT, env=env)
            final = _follow(process, rank0, printer)
        if final is None:
            tail = _failure((folder / "torchrun.log").read_text(errors="replace"))
            event = FailedEvent(f"torchrun exited with status {process.returncode}",
                                exit_status=process.returncode, details=tail)
            printer(event)
            print(f"{prog}: training failed: {event.reason}; its output is in "
                  f"{folder / 'torchrun.log'}:\n{tail}", file=sys.stderr)
            return 1
        return 0
    except KeyboardInterrupt:
        process.wait(30)
        print(f"\n{prog}: interrupted; the last checkpoint in {folder / 'checkpoints'} "
              "is intact", file=sys.stderr)
        return 130
    finally:
        log.close()


def _follow(process: subprocess.Popen, rank0: Path, printer):
    """Hand rank 0's lines to ``printer`` as events until the processes end; returns
    the FinishedEvent, or None when the run failed."""
    position, final, partial = 0, None, ""
    while True:
        running = process.poll() is None
        if rank0.exists():
            with open(rank0, encoding="utf-8") as f:
                f.seek(position)
                chunk = f.read()
                position = f.tell()
            lines = (partial + chunk).split("\n")
            partial = lines.pop()  # a line still being written
            for line in lines:
                event = _event(line)
                if event is not None:
                    printer(event)
                    if type(event).__name__ == "FinishedEvent":
                        final = event
        if not running:
            break
        time.sleep(0.2)
    return final if process.returncode == 0 else None


def _failure(text: str) -> str:
    """The processes' own error from torchrun's output, without the launcher's report
    that follows it (which only says that a child failed)."""
    cut = text.find("torch/distributed/elastic/")
    if cut > 0:
        text = text[:text.rfind("\n", 0, cut) + 1] or text
    return text.strip()[-1500:]


def _event(line: str):
    import json

    try:
        return event_from_json(json.loads(line))
    except (ValueError, TypeError, KeyError):
        return None
