"""The formats networks travel in, declared once.

Each ``FormatSpec`` says what a format is called, what it writes (a file or a folder,
with which suffixes), whether it needs trained weights, and which optional packages it
needs. The CLI's ``--format`` choices and suffix guessing, the Export dialog's list and
pages, and the File menu read this table; ``service.export_network`` writes each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from graph import state_dicts
from graph.errors import StrataError

from . import onnx


@dataclass(frozen=True)
class FormatSpec:
    id: str
    title: str  # the list entry: "Python module"
    heading: str  # the page heading: "Python module"
    description: str  # what it is, one or two sentences
    summary: str  # one line for menus and tooltips: "Write the network as ..."
    suffixes: tuple[str, ...] = ()  # output suffixes that name this format; first: default
    folder: bool = False  # writes into a folder (the training script and its data)
    weights: str = "none"  # trained weights: "none", "optional" or "required"

    def missing(self) -> str | None:
        """Why this format cannot be written here (an extra is not installed), or None."""
        if self.id == "onnx" and not onnx.onnx_available():
            return onnx.unavailable_message()
        return None

    def suffix_missing(self, suffix: str) -> str | None:
        """Why a file with ``suffix`` cannot be written here, or None."""
        if suffix == ".safetensors" and not state_dicts.safetensors_available():
            return ("safetensors is not installed: run \u201cpip install safetensors\u201d, "
                    "or export a .pt file.")
        return None


EXPORT_FORMATS: tuple[FormatSpec, ...] = (
    FormatSpec(
        "python", "Python module", "Python module",
        "The network as a PyTorch module: exactly the code Strata compiles and trains, "
        "readable and needing only PyTorch.", "Write the network as a PyTorch module",
        suffixes=(".py",)),
    FormatSpec(
        "train", "Training script", "Training script",
        "A standalone train.py beside the network's module that trains it the way Strata "
        "does: same data split, seed, optimizer, schedule, loss and epochs. It writes "
        "checkpoints and a loss history as it goes, runs under torchrun on several GPUs "
        "or machines, and comes with sweep.py, an Optuna search over its settings.",
        "Write train.py that trains the network as Strata does", folder=True),
    FormatSpec(
        "weights", "Weights", "Trained weights",
        "The weights of a training checkpoint as a state_dict that the exported module "
        "loads with load_state_dict.", "Write trained weights the exported module loads",
        suffixes=(".pt", ".pth", ".safetensors"), weights="required"),
    FormatSpec(
        "onnx", "ONNX", "ONNX model",
        "The network for other runtimes (ONNX Runtime, TensorRT, browsers), with a "
        "dynamic batch size. The written file is checked, and compared with PyTorch when "
        "onnxruntime is installed.", "Write the network as an ONNX model",
        suffixes=(".onnx",), weights="optional"),
)

# What comes in: a PyTorch module from Python source, traced by ``graph.importers``.
IMPORT_FORMAT = FormatSpec(
    "pytorch", "PyTorch code", "PyTorch module",
    "A torch.nn.Module class or factory function from a Python file, traced with "
    "torch.fx and mapped to Strata's layers; its weights can come along.",
    "Bring in a network written in PyTorch (a .py file)", suffixes=(".py",),
    weights="optional")

EXPORT_IDS: tuple[str, ...] = tuple(f.id for f in EXPORT_FORMATS)


def export_format(fmt: str) -> FormatSpec:
    """The export format called ``fmt``; StrataError lists the known ones."""
    for spec in EXPORT_FORMATS:
        if spec.id == fmt:
            return spec
    raise StrataError(f"unknown export format {fmt!r}; expected one of "
                      + ", ".join(EXPORT_IDS))


def format_for_path(path) -> FormatSpec | None:
    """The export format a destination's suffix names, or None (a folder, or unknown)."""
    suffix = Path(path).suffix.lower()
    return next((f for f in EXPORT_FORMATS if suffix in f.suffixes), None)
