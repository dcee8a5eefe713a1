"""``strata evaluate FILE --checkpoint CKPT [--split val|test]``: a checkpoint's metrics.

Loads the network and the checkpoint, checks that the checkpoint was trained from this
network, prepares the dataset the network's training setup names (relative data paths
are read from the network file's folder) and prints the loss and the metric, plus the
confusion matrix for classifiers: the numbers the studio's Evaluate button shows
(``runtime.evaluation``). Exit status: 0 evaluated, 1 the evaluation failed (the message
says why), 2 the network file cannot be read or the command line is wrong.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .evaluation import SPLITS

PROG = "strata evaluate"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="Evaluate a training checkpoint "
                                "of a network on its validation or test split.")
    p.add_argument("file", metavar="FILE", help="the network (.strata file)")
    p.add_argument("--checkpoint", required=True, metavar="CKPT",
                   help="a checkpoint written by training (e.g. runs/NET/best.pt)")
    p.add_argument("--split", choices=SPLITS, default="val",
                   help="which held-out split to evaluate on (default: val)")
    return p


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "evaluate":
        argv = argv[1:]
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:  # argparse: --help (0) or a usage error (2)
        return int(e.code or 0)
    import graph
    from graph.errors import DocumentError, StrataError
    from graph.fileformat import document_to_dict

    from .evaluation import evaluate_checkpoint

    try:
        doc = graph.load(args.file)
    except DocumentError as e:
        where = f" (at {e.where})" if e.where != "$" else ""
        print(f"{args.file}: error: {e.message}{where}", file=sys.stderr)
        return 2
    try:
        result = evaluate_checkpoint(args.checkpoint, document_to_dict(doc), args.split,
                                     base_dir=Path(args.file).resolve().parent)
    except StrataError as e:
        print(f"{PROG}: error: {' '.join(str(e).splitlines())}", file=sys.stderr)
        return 1
    print(f"{args.file}: {result.describe()}")
    if result.confusion is not None:
        print(confusion_table(result.confusion))
    return 0


def confusion_table(confusion) -> str:
    """Rows: the true class; columns: the predicted class."""
    rows = [[int(v) for v in row] for row in confusion]
    width = max(len(str(v)) for row in rows for v in row)
    width = max(width, len(str(len(rows) - 1)))
    head = " " * (width + 6) + " ".join(f"{c:>{width}}" for c in range(len(rows)))
    lines = ["confusion (rows: true class, columns: predicted)", head]
    lines += [f"true {t:>{width}} " + " ".join(f"{v:>{width}}" for v in row)
              for t, row in enumerate(rows)]
    return "\n".join(lines)
