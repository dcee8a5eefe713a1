"""The work the export and import dialogs hand to a background thread, and its outcome.

Everything here runs on a worker thread, so it touches no widget and no live document:
export jobs get a copy of the document, import jobs a plain request. Errors are
``StrataError``s from the headless exporters and importers, already in the user's terms.
Nothing here imports torch at module level (the studio starts without it).
"""

from __future__ import annotations

import ast
import io
from dataclasses import dataclass, field
from pathlib import Path

from graph.errors import StrataError

FORMATS = ("python", "train", "weights", "onnx")
FILE_DATASET_KINDS = {"csv": ("CSV file", "DATA_FILE"), "npz": ("NumPy archive", "DATA_FILE"),
                      "image_folder": ("image folder", "DATA_FOLDER")}


# ---------------------------------------------------------------------- export
@dataclass
class ExportOutcome:
    fmt: str
    files: list[Path]
    summary: str  # one line: the status bar and the dialog's status
    details: str  # what was written, how it was checked and how to use it


def export_job(fmt: str, doc, destination, *, checkpoint=None, base_dir=None) -> ExportOutcome:
    """Write ``doc`` (a copy the GUI no longer edits) as ``fmt`` to ``destination``."""
    import graph

    destination = Path(destination)
    code = graph.generate_code(doc)
    if fmt == "python":
        from graph.export import write_python

        path = write_python(doc, destination)
        return ExportOutcome(fmt, [path], f"Exported {code.class_name} to {path}", (
            f"{path.name} holds class {code.class_name}(nn.Module): the code Strata "
            f"compiles and trains, needing only PyTorch.\n\nUse it:\n"
            f"    from {path.stem} import {code.class_name}\n"
            f"    model = {code.class_name}()"))
    if fmt == "train":
        from runtime.export_train import export_training

        files = export_training(doc, destination, base_dir=base_dir)
        script = next(p for p in files if p.name == "train.py")
        listing = "\n".join(f"    {p.name}" for p in files)
        return ExportOutcome(fmt, files, f"Exported a training script to {script.parent}", (
            f"Wrote into {script.parent}:\n{listing}\n\n"
            f"{data_note(doc, base_dir, files)}\n\n"
            f"Run it:\n    cd {script.parent}\n    python train.py"))
    if fmt == "weights":
        from graph.export import export_weights

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
    if fmt == "onnx":
        from graph.export import export_onnx

        report = export_onnx(doc, destination, state_dict=checkpoint)
        weights = (f"with the weights of {Path(checkpoint).name}" if checkpoint is not None
                   else "with freshly initialised weights (no checkpoint chosen)")
        described = report.describe()
        return ExportOutcome(fmt, [report.path], f"Exported ONNX to {report.path}", (
            f"{described[:1].upper()}{described[1:]}.\n\nThe model was exported "
            f"{weights}; its batch size is dynamic."))
    raise StrataError(f"unknown export format {fmt!r}; expected one of "
                      + ", ".join(FORMATS))


def data_note(doc, base_dir=None, files=()) -> str:
    """Where the exported ``train.py`` gets its data, in one or two sentences."""
    from runtime.setup import TrainingSetup

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
    dtypes: list[str]
    task: str = "classification"
    weights: Path | None = None
    kwargs: dict = field(default_factory=dict)

    @property
    def target(self) -> str:
        return f"{self.path.name}:{self.name}"

    def weights_copy(self) -> Path | None:
        """Where the imported weights are saved, keyed for Strata's module."""
        if self.weights is None:
            return None
        return self.weights.with_name(f"{self.weights.stem}_strata.pt")


@dataclass
class ImportOutcome:
    request: ImportRequest
    result: object  # graph.importers.ImportResult
    weights_saved: Path | None = None

    @property
    def document(self):
        return self.result.document

    def describe(self) -> str:
        doc = self.result.document
        layers = sum(1 for n in doc.nodes.values() if n.type not in ("Input", "Output"))
        diff = self.result.max_abs_diff
        lines = [f"Imported {self.request.target} as \u201c{doc.name}\u201d: "
                 + f"{layers} layers."]
        if diff is not None:
            lines.append(f"Its outputs equal the original module's (largest difference "
                         f"{diff:.2g}, eval mode, same weights).")
        if self.weights_saved is not None:
            lines.append(f"The weights of {self.request.weights.name} are saved for the "
                         f"imported network as {self.weights_saved} (export them with "
                         f"File \u25b8 Export \u25b8 Weights).")
        lines += [f"Note: {note}" for note in self.result.notes]
        return "\n".join(lines)


def import_job(request: ImportRequest) -> ImportOutcome:
    from graph.importers import import_file

    result = import_file(request.path, request.shapes, request.dtypes, name=request.name,
                         tasks=request.task, weights=request.weights,
                         kwargs=request.kwargs)
    outcome = ImportOutcome(request, result)
    target = request.weights_copy()
    if target is not None:
        import torch

        from graph.fileformat import write_atomic

        buffer = io.BytesIO()
        torch.save(result.state_dict, buffer)
        try:
            write_atomic(target, buffer.getvalue())
        except OSError as e:
            raise StrataError(f"{target}: cannot save the imported weights "
                              f"({e.strerror or e})") from None
        outcome.weights_saved = target
    return outcome


def candidates_job(path) -> list[str]:
    """The module classes and factory functions ``path`` defines."""
    from graph.importers import candidates

    names = candidates(path)
    if not names:
        raise StrataError(f"{path}: defines no torch.nn.Module class and no function "
                          "to import")
    return names


# ---------------------------------------------------------------------- parsing
def parse_shape(text: str) -> tuple[int, ...]:
    """``1,3,32,32`` (or ``1x3x32x32``, ``(1, 3, 32, 32)``) -> a shape, batch first."""
    cleaned = text.strip().strip("()[]").replace("x", ",").replace("\u00d7", ",")
    try:
        dims = tuple(int(part) for part in cleaned.replace(" ", ",").split(",") if part)
    except ValueError:
        dims = ()
    if len(dims) < 2 or min(dims) < 1:
        raise StrataError(f"An input shape is the batch size then one example's shape, "
                          f"positive whole numbers like 1,3,32,32; got \u201c{text}\u201d")
    return dims


def parse_arguments(text: str) -> dict:
    """``hidden=32, classes=10`` -> keyword arguments (Python literals; bare words are
    strings)."""
    text = text.strip()
    if not text:
        return {}
    try:
        call = ast.parse(f"f({text})", mode="eval").body
    except SyntaxError:
        call = None
    if not isinstance(call, ast.Call) or call.args or any(k.arg is None
                                                         for k in call.keywords):
        raise StrataError(f"Arguments are NAME=VALUE pairs separated by commas, like "
                          f"hidden=32, classes=10; got \u201c{text}\u201d")
    out = {}
    for keyword in call.keywords:
        try:
            out[keyword.arg] = ast.literal_eval(keyword.value)
        except ValueError:
            if isinstance(keyword.value, ast.Name):
                out[keyword.arg] = keyword.value.id  # a bare word is a string
            else:
                raise StrataError(f"The argument {keyword.arg} must be a plain value "
                                  f"(number, string, list...), got "
                                  f"\u201c{ast.unparse(keyword.value)}\u201d") from None
    return out
