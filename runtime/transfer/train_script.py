"""Export a standalone ``train.py`` that trains the network as Strata does.

``export_training(doc, "out/")`` writes, into one folder, the network's module (exactly
``graph.generate_code``'s source), ``train.py`` and, for generated datasets, the data
Strata trained on. The script needs only torch and numpy (plus Pillow for image
folders) and repeats the engine's run step for step: the same splits, seed order
(data, then ``torch.manual_seed`` before the model is built), shuffling generator,
batches (a last batch of one example is dropped), optimizer, per-step schedule,
gradient clipping, loss and evaluation. So on the same machine its loss per epoch follows
the curve Strata showed; the export tests hold it to that.
"""

from __future__ import annotations

import re
from pathlib import Path

import graph
from graph.naming import snake_case
from graph.outputs import trained_output
from graph.pysource import prose, write_source

from ..setup import TrainingSetup
from .python import write_python
from .train_data import data_section, literal
from .train_extras import extra_pieces

LOSSES = {"cross_entropy": "nn.CrossEntropyLoss()", "bce_with_logits":
          "nn.BCEWithLogitsLoss()", "mse": "nn.MSELoss()"}
OPTIMIZERS = {
    "sgd": "torch.optim.SGD(\n        model.parameters(),\n        lr=LEARNING_RATE,\n"
           "        momentum=MOMENTUM,\n        weight_decay=WEIGHT_DECAY,\n    )",
    "adam": "torch.optim.Adam(\n        model.parameters(), lr=LEARNING_RATE, "
            "weight_decay=WEIGHT_DECAY\n    )",
    "adamw": "torch.optim.AdamW(\n        model.parameters(), lr=LEARNING_RATE, "
             "weight_decay=WEIGHT_DECAY\n    )",
    "rmsprop": "torch.optim.RMSprop(\n        model.parameters(),\n"
               "        lr=LEARNING_RATE,\n        momentum=MOMENTUM,\n"
               "        weight_decay=WEIGHT_DECAY,\n    )",
}
SCHEDULES = {
    "step": "torch.optim.lr_scheduler.StepLR(\n        optimizer, step_size=STEP_SIZE * "
            "steps_per_epoch, gamma=GAMMA\n    )",
    "cosine": "torch.optim.lr_scheduler.CosineAnnealingLR(\n        optimizer, "
              "T_max=steps_per_epoch * epochs\n    )",
    "onecycle": "torch.optim.lr_scheduler.OneCycleLR(\n        optimizer, "
                "max_lr=LEARNING_RATE, total_steps=steps_per_epoch * epochs\n    )",
}

TEMPLATE = '''"""Train @NAME@ the way Strata trains it.

Exported from Strata with @MODULE@.py (the network). Run:

    python train.py               # @EPOCHS@ epochs on @DATASET@
    python train.py --epochs 5 --device cpu

Needs PyTorch and NumPy@EXTRA_NEEDS@. With the same data and seed it follows the loss
curve Strata showed. Each epoch writes checkpoints/last.pt (and best.pt when the
validation loss improves), holding {"model": state_dict, "optimizer": ..., "epoch": ...},
and the losses so far to history.json.
"""

import argparse
@IMPORTS@import json
import math
import os
import random
from pathlib import Path

@EXTRA_IMPORTS@import numpy as np
import torch
from torch import nn

from @MODULE@ import @CLASS@

HERE = Path(__file__).resolve().parent

# The training setup, as it was set in Strata.
SEED = @SEED@
EPOCHS = @EPOCHS@
BATCH_SIZE = @BATCH_SIZE@
LEARNING_RATE = @LR@
WEIGHT_DECAY = @WEIGHT_DECAY@
@OPTIONAL_SETTINGS@VAL_FRACTION = @VAL_FRACTION@
TEST_FRACTION = @TEST_FRACTION@
TASK = @TASK@  # what the network's Output predicts
DEVICE = @DEVICE@  # auto: CUDA, then Apple MPS, then the CPU

# ---------------------------------------------------------------------------- data
@DATA@

# ---------------------------------------------------------------------------- training
def pick_device(name):
    """CUDA if available, then Apple's MPS, then the CPU (unless one is named)."""
    if name != "auto":
        return torch.device(name)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def evaluate(model, split, loss_fn, batch_size=1024):
    """Mean loss and @METRIC@ over a split, in evaluation mode."""
    *inputs, target = split
    n = len(target)
    total = torch.zeros((), device=target.device)
    outputs = []
    model.eval()
    with torch.no_grad():
        for start in range(0, n, batch_size):
            out = model(*(x[start : start + batch_size] for x in inputs))
            y = target[start : start + batch_size]
            total += loss_fn(out, y) * len(y)
            outputs.append(out)
    model.train()
    return total.item() / n, @METRIC_FN@(torch.cat(outputs), target)


@METRIC_CODE@@EXTRA_CODE@

def save(data, path):
    """Write a checkpoint atomically: a crash mid-write keeps the previous one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    torch.save(data, temporary)
    os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    parser.add_argument("--device", default=DEVICE, help="auto, cpu, cuda or mps")
    parser.add_argument("--out", type=Path, default=HERE / "checkpoints")
    parser.add_argument(
        "--test", action="store_true", help="evaluate the test split at the end"
    )
    args = parser.parse_args()
    device = pick_device(args.device)
    epochs = args.epochs

    train, val, test = load_data()
    seed_everything(SEED)  # after the data, before the model: as in Strata
    model = @CLASS@().to(device)
@EXTRA_SETUP@    train, val, test = (
        tuple(t.to(device) for t in split) for split in (train, val, test)
    )
    loss_fn = @LOSS@
    n = len(train[-1])
    steps_per_epoch = max(1, math.ceil(n / BATCH_SIZE))
    if steps_per_epoch > 1 and n - (steps_per_epoch - 1) * BATCH_SIZE == 1:
        steps_per_epoch -= 1  # a last batch of one example would break BatchNorm
    optimizer = @OPTIMIZER@
@SCHEDULER@    shuffle = torch.Generator().manual_seed(SEED)  # the order of examples

    history, best = [], math.inf
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n, generator=shuffle).to(device)
        model.train()
        total = 0.0
        for step in range(steps_per_epoch):
            batch = order[step * BATCH_SIZE : (step + 1) * BATCH_SIZE]
            *inputs, target = (t[batch] for t in train)
@AUGMENT_STEP@            loss = loss_fn(model(*inputs), target)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
@CLIP@            optimizer.step()
@SCHEDULER_STEP@            total += loss.item()
        train_loss = total / steps_per_epoch
        val_loss, val_metric = evaluate(model, val, loss_fn)
        history.append(
            {
                "epoch": epoch,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "val_@METRIC@": val_metric,
            }
        )
        print(
            f"epoch {epoch}/{epochs}  train loss {train_loss:.4f}  "
            f"val loss {val_loss:.4f}  val @METRIC@ {val_metric:.3f}",
            flush=True,
        )
        state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "epoch": epoch,
            "val_loss": val_loss,
        }
        save(state, args.out / "last.pt")
        if val_loss < best:
            best = val_loss
            save(state, args.out / "best.pt")
        (HERE / "history.json").write_text(json.dumps(history, indent=1))
    if args.test:
        test_loss, test_metric = evaluate(model, test, loss_fn)
        print(f"test loss {test_loss:.4f}  test @METRIC@ {test_metric:.3f}")


if __name__ == "__main__":
    main()
'''

METRICS = {
    "classification": ("accuracy", '''def accuracy(out, target):
    return (out.argmax(1) == target).float().mean().item()
'''),
    "binary": ("accuracy", '''def accuracy(out, target):
    return ((out > 0) == (target > 0.5)).float().mean().item()
'''),
    "regression": ("r2", '''def r2(out, target):
    """Coefficient of determination, averaged over the predicted values."""
    sse = (out - target).pow(2).sum(0)
    sst = (target - target.mean(0)).pow(2).sum(0).clamp_min(1e-12)
    return (1.0 - sse / sst).mean().item()
'''),
}


def export_training(doc, output, *, base_dir=None) -> list[Path]:
    """Write the model module, ``train.py`` and (generated datasets) the data into
    ``output`` (a folder, or the path of the script itself); returns the files written.

    Raises StrataError (SetupError, DatasetError...) for a network or setup that Strata
    itself could not train, with the same message training would give.
    """
    from ..compatibility import DatasetMismatch, check_dataset
    from ..datasets import load_dataset

    output = Path(output)
    script = output if output.suffix == ".py" else output / "train.py"
    folder = script.parent
    setup = TrainingSetup.from_document(doc)
    analysis = graph.Analyzer().analyze(doc)
    if not analysis.ok:
        raise graph.GraphError(analysis.problems)
    code = graph.generate_code(doc, analysis)
    output = trained_output(analysis)
    task = output.task
    loss = setup.resolved_loss(task)
    output_shape = output.features
    raw = load_dataset(setup.dataset, seed=setup.seed, val_fraction=setup.val_fraction,
                       test_fraction=setup.test_fraction, base_dir=base_dir)
    bundle = raw.for_task(task)
    reasons = check_dataset(analysis, bundle)
    if reasons:
        raise DatasetMismatch(reasons)

    module = snake_case(code.class_name)
    if module in ("train", "torch", "numpy", "model_data"):
        module = f"{module}_model"
    written = [write_python(doc, folder / f"{module}.py")]
    data, imports, files = data_section(raw, task, output_shape, folder, module, bundle)
    written += files
    pieces, copied, kornia = extra_pieces(setup, code, folder, base_dir,
                                          bundle.num_classes, bundle.input_shapes[0])
    written += copied
    metric, metric_code = METRICS[task]
    extra = ", and Pillow to read the images" if raw.options["name"] == "image_folder" \
        else ""
    extra += ", and Kornia for the augmentation" if kornia else ""
    optimizer = OPTIMIZERS[setup.optimizer].replace("model.parameters()",
                                                    pieces["@PARAMS@"])
    optional = []
    if setup.optimizer in ("sgd", "rmsprop"):
        optional.append(f"MOMENTUM = {setup.momentum!r}")
    if setup.schedule == "step":
        optional += [f"STEP_SIZE = {setup.step_size!r}  # epochs between decays",
                     f"GAMMA = {setup.gamma!r}"]
    if setup.grad_clip is not None:
        optional.append(f"GRAD_CLIP = {setup.grad_clip!r}  # largest gradient norm")
    scheduler = (f"    scheduler = {SCHEDULES[setup.schedule]}  # stepped every batch\n"
                 if setup.schedule != "none" else "")
    replacements = {
        # User text: prose() in the docstring, literal() (py_string) in code.
        "@NAME@": prose(doc.name) or "the network", "@MODULE@": module,
        "@CLASS@": code.class_name, "@EPOCHS@": str(setup.epochs),
        "@DATASET@": prose(raw.display_name), "@EXTRA_NEEDS@": extra,
        "@IMPORTS@": "".join(f"{i}\n" for i in imports), "@SEED@": str(setup.seed),
        "@BATCH_SIZE@": str(setup.batch_size), "@LR@": repr(setup.lr),
        "@WEIGHT_DECAY@": repr(setup.weight_decay),
        "@OPTIONAL_SETTINGS@": "".join(f"{line}\n" for line in optional),
        "@VAL_FRACTION@": repr(setup.val_fraction),
        "@TEST_FRACTION@": repr(setup.test_fraction), "@TASK@": literal(task),
        "@DEVICE@": literal(setup.device), "@DATA@": data.strip() + "\n",
        "@METRIC_FN@": metric, "@METRIC_CODE@": metric_code, "@METRIC@": metric,
        "@LOSS@": LOSSES[loss] + ("" if setup.loss != "auto" else
                                  f"  # the {task} Output's loss"),
        "@OPTIMIZER@": optimizer, "@SCHEDULER@": scheduler,
        "@CLIP@": ("            nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP)\n"
                   if setup.grad_clip is not None else ""),
        "@SCHEDULER_STEP@": "            scheduler.step()\n" if scheduler else "",
    }
    replacements.update({k: v for k, v in pieces.items() if k != "@PARAMS@"})
    if setup.schedule == "onecycle" and pieces["@PARAMS@"] != "model.parameters()":
        scheduler = scheduler.replace(  # each parameter group peaks at its own rate
            "max_lr=LEARNING_RATE", 'max_lr=[g["lr"] for g in optimizer.param_groups]')
        replacements["@SCHEDULER@"] = scheduler
    # One pass: a name holding "@DATA@" stays text, never a second substitution.
    text = re.sub(r"@[A-Z_]+@", lambda m: replacements.get(m[0], m[0]), TEMPLATE)
    write_source(script, text, "train.py")
    written.append(script)
    return written
