"""The exported train.py at scale: --amp and --compile on the CPU, and DDP step time.

    python benchmarks/bench_scale_training.py            # a measurement (quiet machine)
    python benchmarks/bench_scale_training.py --quick    # a smoke run: tiny, seconds

1. Precision and compilation: the same export trained plainly, with ``--amp`` (bf16
   autocast on the CPU), with ``--compile`` (torch.compile) and with both. Each must
   still learn: the last epoch's training loss below the first one's (checked, exit
   status 1 otherwise). Their time per step is reported beside the plain run's.
2. Data parallel: the script under ``torchrun --standalone --nproc_per_node=1`` and
   ``=2`` (Gloo, CPU), same global batch; the median time per optimizer step (from the
   script's own progress lines, the first epoch left out as warm-up) of each.

On a 2-core machine two processes share the cores that one process used, so DDP shows
its communication overhead rather than a speed-up; on GPUs or more cores it is the
scaling. Numbers from a loaded machine are not numbers: run it on a quiet one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def export(folder: Path, size: int, width: int, epochs: int, batch: int) -> None:
    from graph.builder import Builder
    from runtime.transfer.train_script import export_training

    b = Builder("Scale bench MLP")
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": width}, "fc1"),
            ("ReLU", {}, "act1"), ("Linear", {"out_features": width}, "fc2"),
            ("ReLU", {}, "act2"), ("Linear", {"out_features": 2}, "head"),
            ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "spirals", "size": size}, "epochs": epochs,
                  "batch_size": batch, "lr": 0.01, "device": "cpu"})
    export_training(doc, folder)


def run(folder: Path, command: list[str], name: str, threads: int) -> list[dict]:
    log = folder / f"{name}.jsonl"
    log.unlink(missing_ok=True)
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run([*command, "--device", "cpu", "--out", str(folder / name),
                           "--metrics", str(log), "--log-every", "1"], cwd=folder,
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{name} failed:\n{done.stdout[-1500:]}{done.stderr[-3000:]}")
    return [json.loads(line) for line in log.read_text().splitlines()]


def step_seconds(lines: list[dict], batch: int) -> float:
    """Median seconds per optimizer step after the first epoch (warm-up, compiling)."""
    steps = [line for line in lines if line["event"] == "step" and line["epoch"] > 1]
    steps = steps or [line for line in lines if line["event"] == "step"]
    return statistics.median(batch / s["samples_per_second"] for s in steps)


def losses(lines: list[dict]) -> list[float]:
    return [line["train_loss"] for line in lines if line["event"] == "epoch"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke run)")
    parser.add_argument("--skip-compile", action="store_true",
                        help="leave out --compile (it takes a while the first time)")
    args = parser.parse_args()
    size, width, epochs, batch = (400, 32, 3, 32) if args.quick else (20000, 256, 4, 256)
    python = [sys.executable, "train.py"]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    variants = [("plain", []), ("amp bf16", ["--amp", "bf16"])]
    if not args.skip_compile:
        variants += [("compile", ["--compile"]), ("amp + compile",
                                                  ["--amp", "bf16", "--compile"])]
    threads = max(1, os.cpu_count() or 1)
    ok = True
    with tempfile.TemporaryDirectory(prefix="strata-scale-") as tmp:
        folder = Path(tmp)
        export(folder, size, width, epochs, batch)
        print(f"spirals ({size} examples), MLP width {width}, {epochs} epochs, global "
              f"batch {batch}, {threads} threads\n")
        print(f"{'variant':<16}{'ms/step':>10}{'first loss':>12}{'last loss':>11}"
              f"  learns")
        for name, flags in variants:
            lines = run(folder, [*python, *flags], name.replace(" ", "_"), threads)
            curve = losses(lines)
            learns = len(curve) > 1 and curve[-1] < curve[0]
            ok &= learns
            print(f"{name:<16}{1000 * step_seconds(lines, batch):>10.2f}"
                  f"{curve[0]:>12.6f}{curve[-1]:>11.6f}  {'yes' if learns else 'NO'}")
        print(f"\n{'torchrun':<16}{'ms/step':>10}{'last loss':>12}")
        for nproc in (1, 2):
            lines = run(folder, [*torchrun, f"--nproc_per_node={nproc}", "train.py"],
                        f"ddp{nproc}", max(1, threads // nproc))
            print(f"{f'{nproc} process' + ('es' if nproc > 1 else ''):<16}"
                  f"{1000 * step_seconds(lines, batch):>10.2f}{losses(lines)[-1]:>12.4f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
