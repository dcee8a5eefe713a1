"""``strata export`` and ``strata import``: networks out of and into Strata.

    strata export NET.strata [-o PATH] [--format python|train|weights|onnx] [--checkpoint CKPT]
    strata import model.py:ClassName --input-shape 1,3,32,32 -o NET.strata

Both call ``runtime.transfer`` (the service the Export and Import dialogs call too).
Without ``-o`` the Python module is printed on standard output. Exit codes: 0 success,
1 the network has errors or cannot be exported/imported, 2 a file cannot be read or
written, or the command line is wrong. Every failure prints one message naming the file,
never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from graph.errors import DocumentError, StrataError

OK, FAILED, UNREADABLE = 0, 1, 2
INTERRUPTED = 130  # as a shell reports Ctrl-C
RUNS_CODE = ("Importing runs the file's code, as opening a notebook does: import only "
             "files you trust. It runs in a separate process, stopped after --timeout "
             "seconds or on Ctrl-C.")


class _Stop(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("export", "import"):
        print("usage: strata export|import ...", file=sys.stderr)
        return UNREADABLE
    command, rest = argv[0], list(argv[1:])
    parser = _export_parser() if command == "export" else _import_parser()
    try:
        args = parser.parse_args(rest)
    except SystemExit as e:  # argparse exits on --help and on usage errors
        return int(e.code or 0)
    try:
        return _export(args) if command == "export" else _import(args)
    except KeyboardInterrupt:
        print(f"strata {command}: interrupted (Ctrl-C); nothing was written.",
              file=sys.stderr)
        return INTERRUPTED
    except _Stop as e:
        print(e, file=sys.stderr)
        return e.code
    except StrataError as e:
        from .isolated import IsolatedCancelled

        print(f"strata {command}: error: {e}", file=sys.stderr)
        return INTERRUPTED if isinstance(e, IsolatedCancelled) else FAILED
    except OSError as e:
        where = f"{e.filename}: " if e.filename else ""
        print(f"strata {command}: error: {where}cannot write: {e.strerror or e}",
              file=sys.stderr)
        return UNREADABLE


# ---------------------------------------------------------------------- export
def _export_parser() -> argparse.ArgumentParser:
    from .formats import EXPORT_FORMATS, EXPORT_IDS

    kinds = "; ".join(f"{f.id}: {f.title.lower()}"
                      + (f" ({', '.join(f.suffixes)})" if f.suffixes else " (a folder)")
                      for f in EXPORT_FORMATS)
    p = argparse.ArgumentParser(
        prog="strata export", description="Write a network as Python code, a training "
        f"script, weights or ONNX. Formats: {kinds}.")
    p.add_argument("file", metavar="FILE", help="the network (.strata)")
    p.add_argument("-o", "--output", help="where to write (default for python: print "
                   "to standard output)")
    p.add_argument("--format", choices=EXPORT_IDS,
                   help="what to write (default: from the output's suffix)")
    p.add_argument("--checkpoint", help="trained weights: a checkpoint or state_dict file")
    p.add_argument("--opset", type=int, help="ONNX opset version (default: torch's)")
    return p


def _export(args) -> int:
    import graph
    from graph.analysis import Analyzer
    from graph.cli import problem_lines

    from .formats import EXPORT_IDS, format_for_path
    from .service import export_network

    fmt: str | None
    if args.output is None:
        if args.format not in (None, "python"):
            raise _Stop(f"strata export: error: --format {args.format} needs -o PATH",
                        UNREADABLE)
        fmt = "python"
    else:
        guessed = format_for_path(args.output)
        fmt = args.format or (guessed.id if guessed else None)
        if fmt is None:
            raise _Stop(f"strata export: error: cannot tell the format from "
                        f"'{args.output}': give --format " + "|".join(EXPORT_IDS),
                        UNREADABLE)
    doc = _load(args.file)
    analysis = Analyzer().analyze(doc)
    if not analysis.ok:
        for line in problem_lines(args.file, doc, analysis.problems):
            print(line, file=sys.stderr)
        errors = len(analysis.errors)
        raise _Stop(f"{args.file}: cannot export: the network has {errors} "
                    f"error{'' if errors == 1 else 's'}", FAILED)
    for line in problem_lines(args.file, doc, analysis.warnings):
        print(line, file=sys.stderr)
    if args.output is None:
        sys.stdout.write(graph.generate_code(doc, analysis).source)
        return OK
    out = Path(args.output)
    if out.exists() and out.resolve() == Path(args.file).resolve():
        raise _Stop(f"{out}: refusing to overwrite the network file itself", UNREADABLE)
    if fmt == "weights" and not args.checkpoint:
        raise StrataError("exporting weights needs --checkpoint CKPT (a checkpoint "
                          "written by training, or a state_dict file)")
    if out.is_dir() and fmt != "train":
        raise _Stop(f"{out}: error: cannot write: it is a folder", UNREADABLE)
    outcome = export_network(fmt, doc, out, checkpoint=args.checkpoint,
                             base_dir=Path(args.file).parent, opset=args.opset)
    print(outcome.summary)
    print(outcome.details)
    return OK


def _load(file: str):
    import graph

    try:
        return graph.load(file)
    except DocumentError as e:
        where = f" (at {e.where})" if e.where != "$" else ""
        raise _Stop(f"{file}: error: {e.message}{where}", UNREADABLE) from None


# ---------------------------------------------------------------------- import
def _import_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="strata import", description="Bring a PyTorch module into Strata: trace it, "
        "map its layers and save a network file. " + RUNS_CODE)
    p.add_argument("target", help="FILE.py:ClassName (or a factory function)")
    p.add_argument("--input-shape", action="append", required=True, metavar="SHAPE",
                   help="batch then one example's shape, e.g. 1,3,32,32 or 1x3x32x32 "
                   "(repeat for each forward argument)")
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
    p.add_argument("--report", action="store_true",
                   help="print what each layer was in the code: the module path or "
                   "operation and its source line (and what could not be mapped)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="stop the file's code after this long (default "
                   f"{_default_timeout():g})")
    return p


def _default_timeout() -> float:
    from .isolated import IMPORT_TIMEOUT

    return IMPORT_TIMEOUT


def _import(args) -> int:
    import graph
    from graph.importers.loading import split_target
    from graph.importers.report import MappingReport

    from .parsing import parse_argument, parse_shape
    from .service import ImportRequest, import_network_isolated

    try:
        shapes = [parse_shape(s) for s in args.input_shape]
    except StrataError as e:
        raise StrataError(f"--input-shape: {e}") from None
    path, name = split_target(args.target)
    weights_out = args.weights_out or (
        str(Path(args.output).with_suffix(".pt")) if args.weights else None)
    request = ImportRequest(
        Path(path), name, shapes, args.input_dtype, task=args.task or "classification",
        weights=Path(args.weights) if args.weights else None,
        kwargs=dict(parse_argument(a) for a in args.arg),
        weights_out=Path(weights_out) if weights_out else None)
    if args.timeout is not None and args.timeout <= 0:
        raise StrataError(f"--timeout must be a positive number of seconds, got "
                          f"{args.timeout:g}")
    print(f"importing {request.target}: running its code in a separate process",
          file=sys.stderr)
    # (What cannot be mapped is listed in the error, each with its source line.)
    outcome = import_network_isolated(request, timeout=args.timeout)
    if args.report and outcome.result.report is not None:
        report = outcome.result.report
        for line in MappingReport(report.rows, report.unmapped).lines():
            print(line)
    out = graph.save(outcome.document, args.output)
    diff = outcome.result.max_abs_diff
    print(f"wrote {out}: {outcome.layers} layers; outputs equal the original's "
          f"(largest difference {diff:.2g})")
    if outcome.weights_saved is not None:
        print(f"wrote {outcome.weights_saved}: the weights, keyed for the exported module")
    for note in outcome.result.notes:
        print(f"note: {note}")
    return OK
