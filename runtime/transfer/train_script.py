"""Export a standalone ``train.py`` that trains the network as Strata does.

``export_training(doc, "out/")`` writes, into one folder, the network's module (exactly
``graph.generate_code``'s source), ``train.py`` and, for generated datasets, the data
Strata trained on. The script needs only torch and numpy (plus Pillow for image
folders) and repeats the engine's run step for step: the same splits, seed order
(data, then ``torch.manual_seed`` before the model is built), shuffling generator,
batches (a last batch of one example is dropped), optimizer, per-step schedule,
gradient clipping, loss and evaluation. So on the same machine its loss per epoch follows
the curve Strata showed; the export tests hold it to that. The same script runs under
torchrun (distributed data parallel); its text is ``train_template``, with the
augmentation and fine-tuning pieces of ``train_extras``.
"""

from __future__ import annotations

import math
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
from .train_stream import streaming_script
from .train_template import METRICS, OPTIMIZERS, SCHEDULES, script_template

LOSSES = {"cross_entropy": "nn.CrossEntropyLoss()", "bce_with_logits":
          "nn.BCEWithLogitsLoss()", "mse": "nn.MSELoss()"}

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
    # As the engine loads it: data that streams is listed, not decoded, and the
    # script streams it too (train_stream).
    raw = load_dataset(setup.dataset, seed=setup.seed, val_fraction=setup.val_fraction,
                       test_fraction=setup.test_fraction, base_dir=base_dir,
                       data_path=setup.data_path, strict_files=setup.strict_files)
    streaming = raw.streaming and raw.options["name"] in ("image_folder", "csv")
    if raw.streaming and not streaming:  # the script reads the data whole
        raw = load_dataset(setup.dataset, seed=setup.seed,
                           val_fraction=setup.val_fraction,
                           test_fraction=setup.test_fraction, base_dir=base_dir,
                           strict_files=setup.strict_files)
    bundle = raw.for_task(task)
    reasons = check_dataset(analysis, bundle)
    if reasons:
        raise DatasetMismatch(reasons)

    module = snake_case(code.class_name)
    if module in ("train", "torch", "numpy", "model_data"):
        module = f"{module}_model"
    # Layer parameters the document's sweep searches become the class's arguments, or
    # pick a network module per structure (sweeps.structures).
    plan = _network_plan(doc, module) if script.name == "train.py" else None
    arguments = plan.arguments if plan is not None else None
    structures = plan.structures if plan is not None else None
    if arguments is None:
        written = [write_python(doc, folder / f"{module}.py")]
    else:
        written = [write_source(folder / f"{module}.py", arguments.code.source,
                                "model module")]
    data, imports, files = data_section(raw, task, output_shape, folder, module, bundle)
    written += files
    pieces, copied, kornia = extra_pieces(setup, code, folder, base_dir,
                                          bundle.num_classes, bundle.input_shapes[0])
    written += copied
    metric, metric_size, metric_code = METRICS[task]
    metric_code = metric_code.replace("@OUTPUTS@", str(math.prod(output_shape) or 1))
    extra = ", and Pillow to read the images" if raw.options["name"] == "image_folder" \
        else ""
    extra += ", and Kornia for the augmentation" if kornia else ""
    optimizer = OPTIMIZERS[setup.optimizer].replace("model.parameters()",
                                                    pieces["@PARAMS@"])
    optional, fields = [], []
    if setup.optimizer in ("sgd", "rmsprop"):
        optional.append(f"MOMENTUM = {setup.momentum!r}")
        fields.append("momentum: float = MOMENTUM")
    if setup.schedule == "step":
        optional += [f"STEP_SIZE = {setup.step_size!r}  # epochs between decays",
                     f"GAMMA = {setup.gamma!r}"]
        fields += ["step_size: int = STEP_SIZE", "gamma: float = GAMMA"]
    if setup.grad_clip is not None:
        optional.append(f"GRAD_CLIP = {setup.grad_clip!r}  # largest gradient norm")
        fields.append("grad_clip: float = GRAD_CLIP")
    if arguments is not None or structures is not None:
        fields.append(f"model_args: dict = field(default_factory=dict)  # "
                      f"{code.class_name}(**model_args)")
    if structures is not None:
        fields.append("network: str | None = None  # a module of sweep_networks/ "
                      "(sweep.py)")
        from ..sweeps.structures import FOLDER

        (folder / FOLDER).mkdir(exist_ok=True)
        for name, source in structures.sources.items():
            written.append(write_source(folder / FOLDER / name, source, "model module"))
    schedule = setup.schedule != "none"
    scheduler = (f"    scheduler = {SCHEDULES[setup.schedule]}  # stepped every batch\n"
                 if schedule else "")
    replacements = {
        # User text: prose() in the docstring, literal() (py_string) in code.
        "@NAME@": prose(doc.name) or "the network", "@MODULE@": module,
        "@CLASS@": code.class_name, "@EPOCHS@": str(setup.epochs),
        "@FIELD_IMPORT@": ", field" if arguments or structures else "",
        "@MODEL_ARGS@": "**config.model_args" if arguments or structures else "",
        "@IMPORTLIB@": "from importlib import import_module\n" if structures else "",
        "@NETWORK_PICK@": (
            "    # A sweep trains other structures of the network (sweep.py).\n"
            f"    network = {code.class_name}\n    if config.network is not None:\n"
            f"        network = import_module(config.network).{code.class_name}\n"
            if structures else ""),
        "@NETWORK_CLASS@": "network" if structures else code.class_name,
        "@DATASET@": prose(raw.display_name), "@EXTRA_NEEDS@": extra,
        "@IMPORTS@": "".join(f"{i}\n" for i in imports), "@SEED@": str(setup.seed),
        "@BATCH_SIZE@": str(setup.batch_size), "@LR@": repr(setup.lr),
        "@WEIGHT_DECAY@": repr(setup.weight_decay),
        "@OPTIONAL_SETTINGS@": "".join(f"{line}\n" for line in optional),
        "@VAL_FRACTION@": repr(setup.val_fraction),
        "@TEST_FRACTION@": repr(setup.test_fraction), "@TASK@": literal(task),
        "@DEVICE@": literal(setup.device),
        "@EXPERIMENT@": literal(doc.name or "Strata"),
        "@DATA@": (f"WORKERS = {setup.workers}  # processes decoding files (--workers)\n"
                   if streaming else "") + data.strip() + "\n",
        "@CONFIG_FIELDS@": "".join(f"    {line}\n" for line in fields),
        "@METRIC_CODE@": metric_code, "@METRIC_SIZE@": str(metric_size),
        "@METRIC@": metric,
        "@LOSS@": LOSSES[loss] + ("" if setup.loss != "auto" else
                                  f"  # the {task} Output's loss"),
        "@OPTIMIZER@": optimizer, "@SCHEDULER@": scheduler,
        "@SCHEDULER_LOAD@": ('        scheduler.load_state_dict(state["scheduler"])\n'
                             if schedule else ""),
        "@SCHEDULER_SAVE@": ('                "scheduler": scheduler.state_dict(),\n'
                             if schedule else ""),
        "@CLIP@": ("            scaler.unscale_(optimizer)  # clip the true gradients\n"
                   "            nn.utils.clip_grad_norm_(model.parameters(), "
                   "config.grad_clip)\n" if setup.grad_clip is not None else ""),
        "@SCHEDULER_STEP@": "            scheduler.step()\n" if schedule else "",
    }
    replacements.update({k: v for k, v in pieces.items() if k != "@PARAMS@"})
    if setup.schedule == "onecycle" and pieces["@PARAMS@"] != "model.parameters()":
        scheduler = scheduler.replace(  # each parameter group peaks at its own rate
            "max_lr=config.lr", 'max_lr=[g["lr"] for g in optimizer.param_groups]')
        replacements["@SCHEDULER@"] = scheduler
    # One pass: a name holding "@DATA@" stays text, never a second substitution.
    text = re.sub(r"@[A-Z_]+@", lambda m: replacements.get(m[0], m[0]),
                  script_template())
    if streaming:
        text = streaming_script(text)
    write_source(script, text, "train.py")
    written.append(script)
    sweep = _sweep_script(doc, metric, plan, code.class_name)
    if sweep is not None and script.name == "train.py":  # sweep.py imports `train`
        write_source(folder / "sweep.py", sweep, "sweep.py")
        written.append(folder / "sweep.py")
    return written


def _network_plan(doc, module: str):
    """Where the layer parameters the document's sweep searches go
    (``sweeps.structures``); None when the sweep setup is one ``strata sweep`` would
    refuse (no sweep.py then)."""
    from ..sweeps import SweepError, SweepSpec
    from ..sweeps.structures import network_plan

    try:
        return network_plan(doc, SweepSpec.from_document(doc), module)
    except SweepError:
        return None


def _sweep_script(doc, metric: str, plan, class_name: str) -> str | None:
    """``sweep.py`` (Optuna over train()), or None when the document's sweep setup is
    one ``strata sweep`` would refuse too (that command says why)."""
    from ..sweeps import SweepError
    from ..sweeps.export import sweep_script

    if plan is None:
        return None
    try:
        return sweep_script(doc, metric, plan, class_name)
    except SweepError:
        return None
