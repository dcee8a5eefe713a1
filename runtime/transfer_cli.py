"""``strata export`` and ``strata import``: networks out of and into Strata.

    strata export NET.strata --format python|train|onnx|weights -o PATH [--checkpoint CKPT]
    strata import model.py:ClassName --input-shape 1,3,32,32 -o NET.strata

Every user mistake (a bad file, an unmappable module, a missing extra) prints one
message naming the file and exits with status 1; usage errors exit with 2.
"""

from __future__ import annotations

import argparse
import ast
import io
import sys
from pathlib import Path

FORMATS = ("python", "train", "onnx", "weights")
_SUFFIXES = {".py": "python", ".onnx": "onnx", ".pt": "weights", ".pth": "weights",
             ".safetensors": "weights"}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("export", "import"):
        print("usage: strata export|import ...", file=sys.stderr)
        return 2
    command, rest = argv[0], list(argv[1:])
    parser = _export_parser() if command == "export" else _import_parser()
    try:
        args = parser.parse_args(rest)
    except SystemExit as e:  # argparse exits on --help and on usage errors
        return int(e.code or 0)
    from graph.errors import StrataError

    try:
        return _export(args) if command == "export" else _import(args)
    except StrataError as e:
        print(f"strata {command}: error: {e}", file=sys.stderr)
        return 1


# ---------------------------------------------------------------------- export
def _export_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="strata export", description="Write a network as Python code, a training "
        "script, ONNX or a weights file.")
    p.add_argument("file", help="the network (.strata)")
    p.add_argument("-o", "--output", required=True, help="where to write")
    p.add_argument("--format", choices=FORMATS,
                   help="what to write (default: from the output's suffix)")
    p.add_argument("--checkpoint", help="trained weights: a checkpoint or state_dict file")
    p.add_argument("--opset", type=int, help="ONNX opset version (default: torch's)")
    return p


def _export(args) -> int:
    import graph
    from graph.errors import StrataError

    fmt = args.format or _SUFFIXES.get(Path(args.output).suffix)
    if fmt is None:
        raise StrataError(f"cannot tell the format from '{args.output}': give --format "
                          + "|".join(FORMATS))
    doc = graph.load(args.file)
    if fmt == "python":
        from graph.export import write_python

        path = write_python(doc, args.output)
        print(f"wrote {path} (class {graph.generate_code(doc).class_name})")
    elif fmt == "weights":
        if not args.checkpoint:
            raise StrataError("exporting weights needs --checkpoint CKPT (a checkpoint "
                              "written by training, or a state_dict file)")
        from graph.export import export_weights

        path = export_weights(doc, args.checkpoint, args.output)
        print(f"wrote {path}: load it with model.load_state_dict(torch.load(...))")
    elif fmt == "onnx":
        from graph.export import export_onnx

        print(export_onnx(doc, args.output, state_dict=args.checkpoint,
                          opset=args.opset).describe())
    else:
        try:
            from runtime.export_train import export_training
        except ImportError:
            raise StrataError("exporting a training script is not available in this "
                              "version yet") from None
        written = export_training(doc, args.output, base_dir=Path(args.file).parent)
        for path in written:
            print(f"wrote {path}")
    return 0


# ---------------------------------------------------------------------- import
def _import_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="strata import", description="Bring a PyTorch module into Strata: trace it, "
        "map its layers and save a network file.")
    p.add_argument("target", help="FILE.py:ClassName (or a factory function)")
    p.add_argument("--input-shape", action="append", required=True, metavar="SHAPE",
                   help="batch then one example's shape, e.g. 1,3,32,32 (repeat for "
                   "each forward argument)")
    p.add_argument("--input-dtype", action="append", choices=("auto", "float", "long"),
                   help="float, long for integer token ids, or auto (default: long for "
                   "an input an Embedding reads, else float); repeat per input")
    p.add_argument("--task", action="append",
                   choices=("classification", "binary", "regression"),
                   help="what each output predicts (default classification)")
    p.add_argument("--weights", help="a state_dict or checkpoint file to load first")
    p.add_argument("--arg", action="append", default=[], metavar="NAME=VALUE",
                   help="constructor/factory argument (Python literal), repeatable")
    p.add_argument("-o", "--output", required=True, help="the network file to write")
    p.add_argument("--weights-out", help="also write the weights for the imported "
                   "network here (default with --weights: beside the network, .pt)")
    return p


def _import(args) -> int:
    import graph
    from graph.fileformat import write_atomic
    from graph.importers import import_file

    shapes = [_shape(s) for s in args.input_shape]
    kwargs = dict(_kwarg(a) for a in args.arg)
    result = import_file(args.target, shapes, args.input_dtype, kwargs=kwargs,
                         tasks=args.task or "classification", weights=args.weights)
    out = graph.save(result.document, args.output)
    layers = sum(1 for n in result.document.nodes.values()
                 if n.type not in ("Input", "Output"))
    print(f"wrote {out}: {layers} layers; outputs equal the original's "
          f"(largest difference {result.max_abs_diff:.2g})")
    weights_out = args.weights_out or (
        str(Path(args.output).with_suffix(".pt")) if args.weights else None)
    if weights_out:
        import torch

        buffer = io.BytesIO()
        torch.save(result.state_dict, buffer)
        write_atomic(Path(weights_out), buffer.getvalue())
        print(f"wrote {weights_out}: the weights, keyed for the exported module")
    for note in result.notes:
        print(f"note: {note}")
    return 0


def _shape(text: str) -> tuple[int, ...]:
    from graph.errors import StrataError

    try:
        dims = tuple(int(part) for part in text.replace("x", ",").split(",") if part)
    except ValueError:
        dims = ()
    if len(dims) < 2 or min(dims) < 1:
        raise StrataError(f"--input-shape expects the batch then one example's shape, "
                          f"positive integers like 1,3,32,32; got {text!r}")
    return dims


def _kwarg(text: str) -> tuple[str, object]:
    from graph.errors import StrataError

    name, sep, value = text.partition("=")
    if not sep or not name.isidentifier():
        raise StrataError(f"--arg expects NAME=VALUE, got {text!r}")
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value  # a bare word is a string
