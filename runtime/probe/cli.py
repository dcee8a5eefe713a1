"""``strata probe FILE [--checkpoint CKPT] --index N [--split val] [--attribution M]
[--layer NODE] [--gallery K] -o OUT_DIR``.

Follows one example of the network's dataset through the network and writes, into
OUT_DIR: ``prediction.json`` (the answer, the true label, the loss, and per layer the
activation's shape, statistics and this example's gradient norm), ``input.png`` for
image inputs, ``activation_<layer>.png`` per layer that has a picture (feature maps,
vectors, sequences), ``attribution_<method>.png`` (and ``.npy``) when asked, and with
``--gallery K`` ``gallery.json``: the K examples of the split with the highest loss.

Bad input is one clear line on stderr and exit status 2 (command line) or 1 (a file
that cannot be read, a network that does not compile, weights that do not fit).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from ..cli_args import ArgumentError, Parser

PROG = "strata probe"




def _parser() -> argparse.ArgumentParser:
    from .attribution import METHODS

    p = Parser(prog=PROG, description="Follow one example through the network: "
                "prediction, every layer's activation, attribution.")
    p.add_argument("file", help="the network (.strata file)")
    p.add_argument("--checkpoint", help="weights to probe (a checkpoint of this "
                   "network); without it, the freshly initialised network")
    p.add_argument("--index", type=int, required=True, help="the example's index")
    p.add_argument("--split", default="val", choices=("train", "val", "test"))
    p.add_argument("--attribution", choices=tuple(METHODS),
                   help="also write an attribution map: " + "; ".join(
                       f"{k}: {v}" for k, v in METHODS.items()))
    p.add_argument("--target", type=int, help="the class to attribute (default: the "
                   "predicted one)")
    p.add_argument("--layer", help="Grad-CAM's convolution layer (label or node id; "
                   "default: the last convolution)")
    p.add_argument("--gallery", type=int, metavar="K",
                   help="also list the K examples of the split with the highest loss")
    p.add_argument("-o", "--out", required=True, help="folder to write into")
    return p


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "probe":
        argv = argv[1:]
    try:
        args = _parser().parse_args(argv)
        if args.gallery is not None and args.gallery < 1:
            raise ArgumentError(f"--gallery must be at least 1, got {args.gallery}")
    except ArgumentError as e:
        print(f"{PROG}: {e} (see: {PROG} --help)", file=sys.stderr)
        return 2
    from graph.errors import StrataError

    try:
        return probe(args, out or sys.stdout)
    except StrataError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130


def probe(args: argparse.Namespace, out: TextIO) -> int:
    import numpy as np

    import graph
    from graph.naming import snake_case

    from . import images
    from .attribution import attribute
    from .session import open_session

    path = Path(args.file)
    doc = graph.load(path)
    session = open_session(doc, checkpoint=args.checkpoint, base_dir=path.parent)
    inputs, target = session.example(args.split, args.index)
    result = session.prober.probe(inputs, target)
    folder = Path(args.out)
    folder.mkdir(parents=True, exist_ok=True)
    labels = {node_id: node.label or node_id for node_id, node in doc.nodes.items()}
    report = result.to_json(labels)
    report.update(split=args.split, index=args.index)
    written = []
    picture = images.input_image(np.asarray(inputs)) if not isinstance(
        inputs, tuple) else None
    if picture is not None:
        written.append(images.save_png(images.enlarge(picture, 4), folder / "input.png"))
    used: set[str] = set()
    for node_id, value in result.nodes.items():
        img = images.value_image(value.kind, value.value)
        if img is None:
            continue
        name = _unique(snake_case(labels.get(node_id, node_id)) or node_id, used)
        written.append(images.save_png(images.enlarge(img, 4),
                                       folder / f"activation_{name}.png"))
    if args.attribution:
        layer = _node_id(doc, args.layer) if args.layer else None
        found = attribute(session.prober, inputs, args.attribution, args.target, layer)
        np.save(folder / f"attribution_{found.method}.npy", found.values)
        heat = found.normalised()
        heat2d = heat.mean(axis=0) if heat.ndim == 3 else heat
        if heat2d.ndim == 1:
            heat2d = heat2d[None, :]
        written.append(images.save_png(
            images.enlarge(images.overlay(picture, heat2d), 4),
            folder / f"attribution_{found.method}.png"))
        report["attribution"] = {"method": found.method, "target": found.target,
                                 "layer": found.layer}
    if args.gallery:
        report["gallery"] = [vars(item) | {"correct": item.correct}
                             for item in session.gallery(args.split, args.gallery)]
    from graph.atomic import write_atomic

    write_atomic(folder / "prediction.json",
                 (json.dumps(report, indent=2, default=_json_default) + "\n").encode())
    print(f"{doc.name}, {args.split} example {args.index}: {result.describe()}", file=out)
    print(f"wrote prediction.json and {len(written)} image(s) to {folder}", file=out)
    return 0


def _node_id(doc, name: str) -> str:
    from graph.errors import StrataError

    if name in doc.nodes:
        return name
    node = doc.find_label(name)
    if node is None:
        raise StrataError(f"--layer: no layer is called {name!r}")
    return node.id


def _unique(name: str, used: set[str]) -> str:
    base, k = name, 2
    while name in used:
        name, k = f"{base}_{k}", k + 1
    used.add(name)
    return name


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(type(value).__name__)
