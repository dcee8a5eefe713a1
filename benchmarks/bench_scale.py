"""Big documents stay near-linear: ``python benchmarks/bench_scale.py [--sizes ...]``.

For documents of 10,000 and 100,000 nodes (100,000 is the file format's limit), of two
kinds, every layer labelled ``fc`` (the name allocator's worst case):

- ``chain``: Input, then Linear/ReLU pairs, then Output;
- ``unconnected``: the same nodes with no wires (every node a problem to report),

it times ``check`` (validation and shapes, ``strata check``), ``summary``
(``graph.summarize`` with its table) and ``export`` (``graph.generate_code``; for the
unconnected kind, refusing the export with every error listed, as ``strata export``
does). Each used to grow with the square of the size (an 8,000-layer chain took 33 s
to export, a 20,000-node summary 110 s). Times are wall seconds of one run each; the
last line reads ``scale-100k: check <s> s, summary <s> s, export <s> s`` (the slower
kind for each), and each target is 10 s. The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph import Analyzer, Document, Edge, GraphError, generate_code, summarize

TARGET_S = 10.0


def build(n: int, wired: bool) -> Document:
    doc = Document(f"Scale {n}")
    ids = [doc.add_node("Input", {"shape": [8]}, "fc").id]
    for i in range(n - 2):
        kind = "Linear" if i % 2 == 0 else "ReLU"
        ids.append(doc.add_node(kind, {"out_features": 8} if kind == "Linear" else {},
                                "fc").id)
    ids.append(doc.add_node("Output", {"task": "regression"}, "fc").id)
    if wired:
        for a, b in itertools.pairwise(ids):
            doc.connect(Edge(a, "out", b, "in"))
    return doc


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _export(doc: Document) -> None:
    try:
        generate_code(doc)
    except GraphError as e:
        str(e)  # the refusal lists every error


def measure(n: int, wired: bool) -> dict[str, float]:
    doc = build(n, wired)
    return {
        "check": _timed(lambda: Analyzer().analyze(doc)),
        "summary": _timed(lambda: summarize(doc).table()),
        "export": _timed(lambda: _export(doc)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args(argv)
    worst: dict[str, float] = {}
    for n in args.sizes:
        for kind, wired in (("chain", True), ("unconnected", False)):
            times = measure(n, wired)
            print(f"{n:>7,} nodes {kind:<11}  " + "  ".join(
                f"{k} {v:6.2f} s" for k, v in times.items()), flush=True)
            if n == max(args.sizes):
                for k, v in times.items():
                    worst[k] = max(worst.get(k, 0.0), v)
    label = f"{max(args.sizes) // 1000}k" if max(args.sizes) >= 1000 else \
        str(max(args.sizes))
    print(f"scale-{label}: check {worst['check']:.2f} s, summary {worst['summary']:.2f} s, "
          f"export {worst['export']:.2f} s")
    return 0 if all(v < TARGET_S for v in worst.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
