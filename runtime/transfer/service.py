"""Export and import, one implementation for the CLI and the studio's dialogs.

``export_network(fmt, doc, destination, ...)`` writes one of ``formats.EXPORT_FORMATS``
and returns an ``ExportOutcome`` saying what was written, how it was checked and how to
use it. ``import_network(request)`` traces a PyTorch module into a document (and saves
its weights keyed for Strata's module when asked). Both may run on a worker thread: they
take a document the caller no longer edits (or a plain request) and touch nothing else.
Errors are ``StrataError``s in the user's terms. Nothing here imports torch at module
level (the studio starts without it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from graph.errors import StrataError

from .formats import export_format

if TYPE_CHECKING:  # graph.importers imports torch; only the import path needs it
    from graph.importers import ImportResult

FILE_DATASET_KINDS = {"csv": ("CSV file", "DATA_FILE"), "npz": ("NumPy archive", "DATA_FILE"),
                      "image_folder": ("image folder", "DATA_FOLDER")}


# ---------------------------------------------------------------------- export
@dataclass
class ExportOutcome:
    fmt: str
    files: list[Path]
    summary: str  # one line: the status bar, the dialog's status, the CLI's first line
    details: str  # what was written, how it was checked and how to use it


def export_network(fmt: str, doc, destination, *, checkpoint=None, base_dir=None,
                   opset: int | None = None) -> ExportOutcome:
    """Write ``doc`` (a copy nobody edits meanwhile) as ``fmt`` to ``destination``.

    ``checkpoint``: trained weights (a checkpoint, state_dict or safetensors file), needed
    by "weights", optional for "onnx"; ``base_dir``: the folder the network file is in
    (relative dataset paths are read from there).
    """
    import graph

    spec = export_format(fmt)
    missing = spec.missing()
    if missing:
        raise StrataError(missing)
    destination = Path(destination)
    code = graph.generate_code(doc)
    if fmt == "python":
        from .python import write_python

        path = write_python(doc, destination)
        return ExportOutcome(fmt, [path], f"Exported {code.class_name} to {path}", (
            f"{path.name} holds class {code.class_name}(nn.Module): the code Strata "
            f"compiles and trains, needing only PyTorch.\n\nUse it:\n"
            f"    from {path.stem} import {code.class_name}\n"
            f"    model = {code.class_name}()"))
    if fmt == "train":
        from .train_script import export_training

        files = export_training(doc, destination, base_dir=base_dir)
        script = next(p for p in files if p.name == "train.py")
        listing = "\n".join(f"    {p.name}" for p in files)
        return ExportOutcome(fmt, files, f"Exported a training script to {script.parent}", (
            f"Wrote into {script.parent}:\n{listing}\n\n"
            f"{data_note(doc, base_dir, files)}\n\n"
            f"Run it:\n    cd {script.parent}\n    python train.py\n"
            f"    torchrun --standalone --nproc_per_node=2 train.py  # 2 processes"
            + ("\n    python sweep.py --trials 20  # an Optuna sweep"
               if any(p.name == "sweep.py" for p in files) else "")))
    if fmt == "weights":
        from .weights import export_weights

        if checkpoint is None:
            raise StrataError("Exporting weights needs trained weights: choose a "
                              "checkpoint of a training run, or a weights file")
        path = export_weights(doc, checkpoint, destination)
        if path.suffix == ".safetensors":
            use = (f"    from safetensors.torch import load_file\n"
                   f"    model = {code.class_name}()\n"
                   f'    model.load_state_dict(load_file("{path.name}"))')
        else:
            use = (f"    model = {code.class_name}()\n"
                   f'    model.load_state_dict(torch.load("{path.name}", '
                   f"weights_only=True))")
        return ExportOutcome(fmt, [path], f"Exported the weights to {path}", (
            f"{path.name} holds the state_dict of {code.class_name}, taken from "
            f"{Path(checkpoint).name}. It was read back and loads strictly into the "
            f"exported module.\n\nUse it with the exported module:\n{use}"))
    from .onnx import export_onnx

    report = export_onnx(doc, destination, state_dict=checkpoint, opset=opset)
    weights = (f"with the weights of {Path(checkpoint).name}" if checkpoint is not None
               else "with freshly initialised weights (no checkpoint chosen)")
    described = report.describe()
    return ExportOutcome(fmt, [report.path], f"Exported ONNX to {report.path}", (
        f"{described[:1].upper()}{described[1:]}.\n\nThe model was exported "
        f"{weights}; its batch size is dynamic."))


def data_note(doc, base_dir=None, files=()) -> str:
    """Where the exported ``train.py`` gets its data, in one or two sentences."""
    from ..setup import TrainingSetup

    try:
        dataset = dict(TrainingSetup.from_document(doc).dataset)
    except StrataError as e:
        return f"The training setup needs attention first: {e}"
    name = str(dataset.get("name", ""))
    if name in FILE_DATASET_KINDS:
        kind, constant = FILE_DATASET_KINDS[name]
        path = Path(str(dataset.get("path", "")))
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        return (f"Data: train.py reads the {kind} {path} where it is now; move it and "
                f"change {constant} at the top of train.py.")
    saved = next((p.name for p in files if p.suffix == ".npz"), None)
    where = f"as {saved}" if saved else "as a .npz file"
    return (f"Data: the {name.replace('_', ' ')} examples Strata generates are saved "
            f"beside train.py {where}, split exactly as Strata splits them.")


# ---------------------------------------------------------------------- import
@dataclass
class ImportRequest:
    path: Path
    name: str  # the module class or factory function
    shapes: list[tuple[int, ...]]
    dtypes: list[str] | None = None  # "float" (default) or "long", per input
    task: str | list[str] = "classification"  # per output, or one for all
    weights: Path | None = None  # a state_dict or checkpoint loaded into the module first
    kwargs: dict = field(default_factory=dict)
    weights_out: Path | None = None  # where the imported weights go (default: beside)

    @property
    def target(self) -> str:
        return f"{self.path.name}:{self.name}"

    def weights_copy(self) -> Path | None:
        """Where the imported weights are saved, keyed for Strata's module."""
        if self.weights_out is not None:
            return self.weights_out
        if self.weights is None:
            return None
        return self.weights.with_name(f"{self.weights.stem}_strata.pt")


@dataclass
class ImportOutcome:
    request: ImportRequest
    result: ImportResult
    weights_saved: Path | None = None

    @property
    def document(self):
        return self.result.document

    @property
    def layers(self) -> int:
        """Layers of the network, those inside its blocks included (each use)."""
        report = self.result.report
        if report is not None and report.rows:
            return sum(1 for r in report.rows if r.layer not in ("Input", "Output"))
        return sum(1 for n in self.document.nodes.values()
                   if n.type not in ("Input", "Output"))

    def describe(self) -> str:
        doc = self.result.document
        diff = self.result.max_abs_diff
        blocks = len(doc.blocks)
        kept = (f", in {blocks} block definition{'s' if blocks != 1 else ''} made from "
                "its submodules" if blocks else "")
        lines = [f"Imported {self.request.target} as \u201c{doc.name}\u201d: "
                 + f"{self.layers} layers{kept}."]
        if diff is not None:
            lines.append(f"Its outputs equal the original module's (largest difference "
                         f"{diff:.2g}, eval mode, same weights).")
        if self.weights_saved is not None:
            source = (f"The weights of {self.request.weights.name}"
                      if self.request.weights is not None else "The weights")
            lines.append(f"{source} are saved for the imported network as "
                         f"{self.weights_saved} (export them with "
                         f"File \u25b8 Export \u25b8 Weights).")
        lines += [f"Note: {note}" for note in self.result.notes]
        return "\n".join(lines)


def import_network(request: ImportRequest) -> ImportOutcome:
    """Trace ``request``'s module into a document; save its weights when asked."""
    from graph.importers import import_file

    result = import_file(request.path, request.shapes, request.dtypes, name=request.name,
                         tasks=request.task, weights=request.weights,
                         kwargs=request.kwargs)
    outcome = ImportOutcome(request, result)
    target = request.weights_copy()
    if target is not None:
        from graph.fileformat import write_atomic

        from .weights import state_dict_bytes

        try:
            write_atomic(target, state_dict_bytes(result.state_dict))
        except OSError as e:
            raise StrataError(f"{target}: cannot save the imported weights "
                              f"({e.strerror or e})") from None
        outcome.weights_saved = target
    return outcome


def import_network_isolated(request: ImportRequest, *, timeout: float | None = None,
                            cancel=None) -> ImportOutcome:
    """``import_network`` in a separate process (``isolated``): the file's code runs
    there, stopped after ``timeout`` seconds, when ``cancel`` (a threading.Event) is
    set, or on Ctrl-C, each with a message saying nothing was imported."""
    from graph.fileformat import document_from_dict

    from .isolated import IMPORT_TIMEOUT, run_isolated

    outcome, data = run_isolated(_import_as_data, request, cancel=cancel,
                                 timeout=IMPORT_TIMEOUT if timeout is None else timeout,
                                 what=f"Importing {request.target}")
    outcome.result.document = document_from_dict(data)
    return outcome


def _import_as_data(request: ImportRequest) -> tuple[ImportOutcome, dict]:
    """``import_network`` with the document as plain data: a document with blocks holds
    its library's event hooks, which do not pickle across the process boundary."""
    from dataclasses import replace

    from graph.document import Document

    outcome = import_network(request)
    data = outcome.result.document.to_dict()
    # An empty document stands in until the caller rebuilds the real one from ``data``.
    outcome.result = replace(outcome.result, document=Document())
    return outcome, data


def import_candidates(path) -> list[str]:
    """The classes and factory functions ``path`` defines, read without running it."""
    from graph.importers.loading import static_candidates

    names = static_candidates(path)
    if not names:
        raise StrataError(f"{path}: defines no torch.nn.Module class and no function "
                          "to import")
    return names
