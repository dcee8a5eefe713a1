"""The text of an exported ``train.py``: one process, or many under torchrun.

The template is kept in named pieces so features slot in without touching the rest:
``HEADER`` (how to run it), ``SETTINGS`` (the setup as constants), the data section
(``export_train_data``), ``PROCESSES`` (torchrun's process group), ``BATCHES`` (epoch
order, sharding, the loader), ``PRECISION`` (autocast and the gradient scaler),
``EVALUATION``, ``REPORTING`` and ``TRACKING`` (printing, history, JSON lines, TensorBoard,
MLflow; rank 0 only: ``train_reporting``),
``TRAINING`` (``Config`` and ``train(config, on_epoch_end=None)``) and ``MAIN`` (flags).
``@NAME@`` markers are filled by ``train_script.export_training``.

Invariants the export tests hold the script to:
- ``python train.py`` repeats Strata's run step for step: the same shuffling generator
  (one ``randperm`` per epoch), batches, per-step schedule and losses.
- Under torchrun with N processes every optimizer step still sees BATCH_SIZE examples:
  each process takes BATCH_SIZE / (N * K) per forward pass (K: ``--grad-accum``), the
  epoch order comes from a ``DistributedSampler`` (``set_epoch`` each epoch), losses and
  metrics are summed over processes, and only rank 0 prints and writes files.
"""

from __future__ import annotations

from .train_reporting import REPORTING, TRACKING

HEADER = '''"""Train @NAME@ the way Strata trains it.

Exported from Strata with @MODULE@.py (the network). Run it:

    python train.py                    # @EPOCHS@ epochs on @DATASET@, one process
    python train.py --epochs 5 --device cpu --amp --compile
    python train.py --tensorboard runs/first --mlflow http://localhost:5000

On several GPUs of one machine, or several machines, start it with torchrun:

    torchrun --standalone --nproc_per_node=4 train.py
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d \\\\
        --rdzv-endpoint=HOST:29500 --rdzv-id=run1 train.py   # on each machine

Under torchrun each process trains on its own shard of the data (DistributedSampler)
with the model wrapped in DistributedDataParallel (NCCL on GPUs, Gloo on CPUs). The
global batch stays BATCH_SIZE examples per optimizer step, so the learning rate needs
no change: each of N processes takes BATCH_SIZE / (N * K) examples per forward pass, K
being --grad-accum (rounded down if that does not divide; the script says so). Losses
and metrics are summed over all processes; only rank 0 prints and writes files.
BatchNorm layers normalise each process's share of the batch.

Prefer Lightning Fabric or Hugging Face Accelerate? train() is plain PyTorch: with
Fabric, `fabric.setup(model, optimizer)` and `fabric.backward(loss)`; with Accelerate,
`accelerator.prepare(model, optimizer, loader)` and `accelerator.backward(loss)`; drop
init_distributed() and the DistributedSampler, which they handle, and launch with
`fabric run` or `accelerate launch`.

Needs PyTorch and NumPy@EXTRA_NEEDS@. With the same data and seed, one process follows
the loss curve Strata showed. Each epoch writes checkpoints/last.pt (and best.pt when
the validation loss improves), holding {"model": state_dict, "optimizer": ..., "epoch":
...} and what --resume needs, and the losses so far to history.json.
"""

import argparse
@IMPORTS@import json
import math
import os
import random
import time
from contextlib import nullcontext
from dataclasses import dataclass@FIELD_IMPORT@
@IMPORTLIB@from pathlib import Path

@EXTRA_IMPORTS@import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import BatchSampler, DataLoader, DistributedSampler, TensorDataset

from @MODULE@ import @CLASS@

HERE = Path(__file__).resolve().parent
'''

SETTINGS = '''
# The training setup, as it was set in Strata.
SEED = @SEED@
EPOCHS = @EPOCHS@
BATCH_SIZE = @BATCH_SIZE@  # examples per optimizer step, over all processes
LEARNING_RATE = @LR@
WEIGHT_DECAY = @WEIGHT_DECAY@
@OPTIONAL_SETTINGS@VAL_FRACTION = @VAL_FRACTION@
TEST_FRACTION = @TEST_FRACTION@
TASK = @TASK@  # what the network's Output predicts
DEVICE = @DEVICE@  # auto: CUDA, then Apple MPS, then the CPU
EXPERIMENT = @EXPERIMENT@  # the MLflow experiment (--mlflow), as in Strata
'''

PROCESSES = '''

# ---------------------------------------------------------------------------- processes
def pick_device(name):
    """CUDA if available, then Apple's MPS, then the CPU (unless one is named)."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def init_distributed(device_name):
    """(device, rank, world size). Under torchrun (its RANK variable is set) this joins
    the process group: NCCL between GPUs, Gloo on CPUs; otherwise one process."""
    device = pick_device(device_name)
    if "RANK" not in os.environ:
        return device, 0, 1
    if device.type == "cuda":
        device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return device, dist.get_rank(), dist.get_world_size()


def all_sum(values, world):
    """Each number summed over all processes (the same list on every process)."""
    if world == 1:
        return list(values)
    total = torch.tensor(values, dtype=torch.float64)
    if dist.get_backend() == "nccl":
        total = total.cuda()
    dist.all_reduce(total)
    return total.tolist()


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
'''

BATCHES = '''

# ---------------------------------------------------------------------------- batches
def usable_examples(n, batch):
    """Examples an epoch uses: a last batch of one would break BatchNorm, so it is
    dropped (as Strata does)."""
    batches = max(1, math.ceil(n / batch))
    if batches > 1 and n - (batches - 1) * batch == 1:
        return (batches - 1) * batch
    return n


def epoch_order(n, shuffle, sampler, epoch):
    """This process's examples for one epoch, in training order.

    `python train.py` shuffles as Strata does (one permutation per epoch). Under
    torchrun the DistributedSampler shuffles (its own seeded order) and hands each of N
    processes every N-th example: the examples of each optimizer step are then the
    same for any N, so N processes end where one process under torchrun does, up to
    the order float sums are taken in."""
    if sampler is None:
        return torch.randperm(n, generator=shuffle).tolist()
    sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every process
    return list(sampler)


def make_loader(dataset, order, batch, workers, device):
    """Batches of ``order``, each fetched in one indexing call (no per-example work).
    The loader draws its worker seeds from a generator of its own: drawing them from
    the global one would change the dropout masks, which follow the seed."""
    return DataLoader(
        dataset,
        sampler=BatchSampler(order, batch, drop_last=False),
        batch_size=None,
        num_workers=workers,
        pin_memory=device.type == "cuda",
        generator=torch.Generator(),
    )
'''

PRECISION = '''

# ---------------------------------------------------------------------------- precision
def amp_dtype(amp, device):
    """None (full precision), torch.bfloat16 or torch.float16 for --amp."""
    if amp == "off":
        return None
    if amp == "auto":
        cuda_fp16 = device.type == "cuda" and not torch.cuda.is_bf16_supported()
        amp = "fp16" if cuda_fp16 or device.type == "mps" else "bf16"
    return torch.float16 if amp == "fp16" else torch.bfloat16


def autocast(device, dtype):
    if dtype is None:
        return nullcontext()
    return torch.autocast(device.type, dtype=dtype)
'''

EVALUATION = '''

# ---------------------------------------------------------------------------- evaluation
def evaluate(model, split, loss_fn, rank, world, device, dtype, batch_size=1024):
    """Mean loss and @METRIC@ over a split in evaluation mode; each process scores
    every world-th example and the sums are added up over processes."""
    *inputs, target = (t[rank::world].to(device) for t in split)
    n = len(target)
    total = torch.zeros((), device=device)
    sums = None
    model.eval()
    with torch.no_grad(), autocast(device, dtype):
        for start in range(0, n, batch_size):
            out = model(*(x[start : start + batch_size] for x in inputs))
            y = target[start : start + batch_size]
            total += loss_fn(out, y).float() * len(y)
            part = @METRIC@_sums(out.float(), y)
            sums = part if sums is None else sums + part
    model.train()
    if sums is None:
        sums = torch.zeros(@METRIC_SIZE@, dtype=torch.float64)
    loss_sum, count, *metric = all_sum([total.item(), n, *sums.tolist()], world)
    return loss_sum / count, @METRIC@_from_sums(metric)


@METRIC_CODE@@EXTRA_CODE@'''

TRAINING = '''

# ---------------------------------------------------------------------------- training
@dataclass
class Config:
    """Everything a run can change; main() fills it from the command line, other tools
    (a sweep, a notebook) build one and call train(config)."""

    epochs: int = EPOCHS
    batch_size: int = BATCH_SIZE  # examples per optimizer step, over all processes
    lr: float = LEARNING_RATE
    weight_decay: float = WEIGHT_DECAY
@CONFIG_FIELDS@    seed: int = SEED
    device: str = DEVICE
    out: Path = HERE / "checkpoints"
    amp: str = "off"  # "off", "auto", "bf16" or "fp16"
    compile: bool = False
    grad_accum: int = 1  # forward/backward passes per optimizer step
    resume: Path | None = None  # a checkpoint to continue from
    workers: int = 0  # data loading processes
    test: bool = False  # evaluate the test split at the end
    metrics: Path | None = None  # progress as JSON lines
    tensorboard: Path | None = None  # a TensorBoard log folder
    mlflow: str | None = None  # a tracking URI ("": MLFLOW_TRACKING_URI or mlruns/)
    mlflow_parent: str | None = None  # the MLflow run this one is nested in (a sweep)
    run_name: str | None = None  # the run's name in MLflow
    log_every: int = 10  # steps between progress reports


def train(config, on_epoch_end=None):
    """Train the network with ``config``; returns the history (one dict per epoch).

    Runs as one process, or as one of torchrun's (see the header).
    ``on_epoch_end(record)`` is called after every epoch, on every process with the same
    numbers; returning True stops training (an early stop, a sweep's pruner).
    """
    device, rank, world = init_distributed(config.device)
    try:
        return run(config, device, rank, world, on_epoch_end)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


def run(config, device, rank, world, on_epoch_end):
    train_split, val, test = load_data()
    seed_everything(config.seed)  # after the data, before the model: as in Strata
@NETWORK_PICK@    model = @NETWORK_CLASS@(@MODEL_ARGS@).to(device)
@EXTRA_SETUP@    loss_fn = @LOSS@
    dtype = amp_dtype(config.amp, device)
    forward = model
    if dist.is_initialized():  # under torchrun, even with one process
        forward = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    if config.compile:
        forward = torch.compile(forward)

    # Per-process batch: the global batch shared by processes and accumulation steps.
    batch = max(1, config.batch_size // (world * config.grad_accum))
    if batch * world * config.grad_accum != config.batch_size and rank == 0:
        print(
            f"note: {config.batch_size} examples per step do not split evenly over "
            f"{world} processes x {config.grad_accum} passes; each step uses "
            f"{batch * world * config.grad_accum}",
            flush=True,
        )
    dataset = TensorDataset(*train_split)
    sampler = None
    if dist.is_initialized():
        sampler = DistributedSampler(dataset, world, rank, seed=config.seed)
    used = usable_examples(len(sampler) if sampler else len(dataset), batch)
    passes = math.ceil(used / batch)
    steps_per_epoch = math.ceil(passes / config.grad_accum)
    epochs = config.epochs
    optimizer = @OPTIMIZER@
@SCHEDULER@    scaler = torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)
    shuffle = torch.Generator().manual_seed(config.seed)  # the order of examples

    history, best, step, start = [], math.inf, 0, 1
    if config.resume is not None:
        state = torch.load(config.resume, map_location=device, weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
@SCHEDULER_LOAD@        scaler.load_state_dict(state["scaler"])
        shuffle.set_state(state["shuffle"])
        history, best, step = state["history"], state["best"], state["step"]
        start = state["epoch"] + 1
    report = Reporter(config, rank, model)
    for epoch in range(start, epochs + 1):
        started = time.perf_counter()
        order = epoch_order(len(dataset), shuffle, sampler, epoch)[:used]
        loader = make_loader(dataset, order, batch, config.workers, device)
        model.train()
        total, step_loss = 0.0, 0.0
        for i, examples in enumerate(loader):
            *inputs, target = (t.to(device, non_blocking=True) for t in examples)
@AUGMENT_STEP@            first = i - i % config.grad_accum  # first pass of this optimizer step
            step_examples = min(config.grad_accum * batch, used - first * batch)
            last_pass = (i + 1) % config.grad_accum == 0 or i == passes - 1
            # DDP syncs gradients only on an optimizer step's last pass.
            sync = nullcontext() if last_pass or sampler is None else forward.no_sync()
            with sync:
                with autocast(device, dtype):
                    loss = loss_fn(forward(*inputs), target)
                weight = len(target) / step_examples  # each example counts the same
                scaler.scale(loss * weight).backward()
            step_loss += loss.item() * weight
            if not last_pass:
                continue
@CLIP@            scaler.step(optimizer)
            scaler.update()
@SCHEDULER_STEP@            step += 1
            total += step_loss
            lr = optimizer.param_groups[0]["lr"]
            seen = step_examples * world
            report.step(step, epoch, step_loss, lr, seen, config.log_every)
            optimizer.zero_grad(set_to_none=True)  # after the report reads gradients
            step_loss = 0.0
        train_loss = all_sum([total], world)[0] / (world * steps_per_epoch)
        val_loss, val_metric = evaluate(model, val, loss_fn, rank, world, device, dtype)
        record = {
            "epoch": epoch,
            "step": step,
            "train_loss": train_loss,
            "val_loss": val_loss,
            "val_@METRIC@": val_metric,
            "lr": optimizer.param_groups[0]["lr"],
            "seconds": time.perf_counter() - started,
            "best": val_loss < best,
        }
        history.append(record)
        report.epoch(record, epochs)
        best = min(best, val_loss)
        if rank == 0:
            state = {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
@SCHEDULER_SAVE@                "scaler": scaler.state_dict(),
                "shuffle": shuffle.get_state(),
                "epoch": epoch,
                "step": step,
                "val_loss": val_loss,
                "best": best,
                "history": history,
            }
            save(state, config.out / "last.pt")
            if record["best"]:
                save(state, config.out / "best.pt")
            (HERE / "history.json").write_text(json.dumps(history, indent=1))
        if on_epoch_end is not None and on_epoch_end(record):
            report.stopped = True
            break
    if config.test:
        scores = evaluate(model, test, loss_fn, rank, world, device, dtype)
        report.say(f"test loss {scores[0]:.4f}  test @METRIC@ {scores[1]:.3f}")
    last = history[-1] if history else {}
    best_epoch = min(history, key=lambda r: r["val_loss"])["epoch"] if history else 0
    summary = {
        "epochs": last.get("epoch", 0),
        "steps": step,
        "seconds": sum(r["seconds"] for r in history),
        "train_loss": last.get("train_loss"),
        "val_loss": last.get("val_loss"),
        "val_metric": last.get("val_@METRIC@"),
        "metric_name": "@METRIC@",
        "best_val_loss": best if history else None,
        "best_epoch": best_epoch,
        "checkpoint": str(config.out / "last.pt"),
    }
    report.close(config, history, summary)
    return history
'''

MAIN = '''

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--device", default=DEVICE, help="auto, cpu, cuda or mps")
    parser.add_argument("--out", type=Path, default=HERE / "checkpoints")
    parser.add_argument(
        "--amp",
        nargs="?",
        const="auto",
        default="off",
        choices=("off", "auto", "bf16", "fp16"),
        help="mixed precision (bf16, or fp16 with a gradient scaler)",
    )
    parser.add_argument("--compile", action="store_true", help="torch.compile")
    parser.add_argument(
        "--grad-accum", type=int, default=1, metavar="K", help="passes per step"
    )
    parser.add_argument("--resume", type=Path, metavar="CKPT", help="continue a run")
    parser.add_argument("--workers", type=int, default=0, help="data loader processes")
    parser.add_argument(
        "--test", action="store_true", help="evaluate the test split at the end"
    )
    parser.add_argument("--metrics", type=Path, help="write progress as JSON lines")
    parser.add_argument("--tensorboard", type=Path, metavar="DIR", help="log folder")
    parser.add_argument(
        "--mlflow",
        nargs="?",
        const="",
        metavar="URI",
        help="track the run in MLflow (default: MLFLOW_TRACKING_URI or mlruns/)",
    )
    parser.add_argument("--log-every", type=int, default=10, help="steps per report")
    train(Config(**vars(parser.parse_args())))


if __name__ == "__main__":
    main()
'''

OPTIMIZERS = {
    "sgd": "torch.optim.SGD(\n        model.parameters(),\n        lr=config.lr,\n"
           "        momentum=config.momentum,\n        weight_decay=config.weight_decay,"
           "\n    )",
    "adam": "torch.optim.Adam(\n        model.parameters(), lr=config.lr, "
            "weight_decay=config.weight_decay\n    )",
    "adamw": "torch.optim.AdamW(\n        model.parameters(), lr=config.lr, "
             "weight_decay=config.weight_decay\n    )",
    "rmsprop": "torch.optim.RMSprop(\n        model.parameters(),\n"
               "        lr=config.lr,\n        momentum=config.momentum,\n"
               "        weight_decay=config.weight_decay,\n    )",
}
SCHEDULES = {
    "step": "torch.optim.lr_scheduler.StepLR(\n        optimizer, step_size=config.step_size"
            " * steps_per_epoch, gamma=config.gamma\n    )",
    "cosine": "torch.optim.lr_scheduler.CosineAnnealingLR(\n        optimizer, "
              "T_max=steps_per_epoch * epochs\n    )",
    "onecycle": "torch.optim.lr_scheduler.OneCycleLR(\n        optimizer, "
                "max_lr=config.lr, total_steps=steps_per_epoch * epochs\n    )",
}

METRICS = {
    "classification": ("accuracy", 2, '''def accuracy_sums(out, target):
    """Correct predictions and examples, to be added up over batches and processes."""
    correct = (out.argmax(1) == target).sum().item()
    return torch.tensor([correct, len(target)], dtype=torch.float64)


def accuracy_from_sums(sums):
    correct, count = sums
    return correct / count
'''),
    "binary": ("accuracy", 2, '''def accuracy_sums(out, target):
    """Correct predictions and examples, to be added up over batches and processes."""
    correct = ((out > 0) == (target > 0.5)).sum().item() / target[0].numel()
    return torch.tensor([correct, len(target)], dtype=torch.float64)


def accuracy_from_sums(sums):
    correct, count = sums
    return correct / count
'''),
    "multilabel": ("f1", "3 * OUTPUTS", '''OUTPUTS = @OUTPUTS@  # labels per example


def f1_sums(out, target):
    """Per label: true positives, false positives and false negatives, to be added up
    over batches and processes."""
    pred = out.reshape(len(out), -1).cpu() > 0
    truth = target.reshape(len(target), -1).cpu() > 0.5
    counts = [(pred & truth).sum(0), (pred & ~truth).sum(0), (~pred & truth).sum(0)]
    return torch.cat(counts).double()


def f1_from_sums(sums):
    """Micro-averaged F1 over every label (as Strata reports it)."""
    tp, fp, fn = torch.tensor(sums, dtype=torch.float64).reshape(3, -1).sum(1)
    return (2 * tp / (2 * tp + fp + fn)).item() if tp + fp + fn else 1.0
'''),
    "regression": ("r2", "3 * OUTPUTS + 1", '''OUTPUTS = @OUTPUTS@  # predicted values per example


def r2_sums(out, target):
    """Per predicted value: squared errors, sum and sum of squares of the targets, and
    the count, so R^2 can be added up over batches and processes."""
    out = out.reshape(len(out), -1).cpu().double()
    y = target.reshape(len(target), -1).cpu().double()
    count = torch.tensor([len(y)], dtype=torch.float64)
    return torch.cat([(out - y).pow(2).sum(0), y.sum(0), y.pow(2).sum(0), count])


def r2_from_sums(sums):
    """Coefficient of determination, averaged over the predicted values."""
    sums = torch.tensor(sums, dtype=torch.float64)
    sse, total, squares = sums[:-1].reshape(3, -1)
    n = sums[-1]
    sst = (squares - total.pow(2) / n).clamp_min(1e-12)
    return (1.0 - sse / sst).mean().item()
'''),
}


def script_template() -> str:
    """Every piece in order, with the data section as ``@DATA@``."""
    return (HEADER + SETTINGS + "\n# " + "-" * 76 + " data\n@DATA@" + PROCESSES
            + BATCHES + PRECISION + EVALUATION + REPORTING + TRACKING + TRAINING + MAIN)
