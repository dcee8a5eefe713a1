"""How fast the graph core is on big networks: ``python benchmarks/bench_graph.py``.

For generated networks of 100, 1,000 and 5,000 nodes, of two kinds,

- ``chain``: Input, then Linear/ReLU pairs, then Output;
- ``residual``: blocks of four parallel Linear+ReLU branches added to the block's input
  by one five-input Add (a wide residual network),
- ``blocks``: the chain's layers organised in block instances (one definition of ten
  Linear/ReLU layers with an exposed width, instantiated n / 10 times): analysis must
  cost no more than the flat chain's, and an edit of one instance's width stays within
  a frame (identical uses of a block share one inner analysis),

it times validation (structure and parameters), shape inference and code generation,
each the median of several runs with a fresh ``Analyzer`` (a full pass). Then, on the
1,000-node networks, the editor's path: a persistent ``Analyzer`` re-validates after one
parameter edit in the middle of the network (``out_features`` of the middle Linear, a new
value each time, as when typing), which should fit in one frame (16 ms); it re-checks the
edited layer and re-infers only the layers whose inputs changed.

Times are the thread's CPU time (on a machine shared with other work, wall time mostly
measures the neighbours); wall times are printed beside them. The last line reads
``graph-1000: validate+infer+codegen <ms> ms, edit revalidate <ms> ms`` for the slower
of the two 1,000-node networks. The exit status is 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph import Analyzer, Document, Edge, generate_code

SIZES = (100, 1_000, 5_000)
FEATURES = 32
# Targets (CPU milliseconds) for the 1,000-node networks.
TARGET_FULL_MS = 250.0  # validate + infer + codegen: "well under a second"
TARGET_EDIT_MS = 16.0  # one frame


def _node(doc: Document, type_name: str, params: dict | None = None) -> str:
    # Explicit labels: the benchmark measures analysis, not label picking.
    node_id = doc.new_id()
    return doc.add_node(type_name, params, f"{type_name.lower()}_{node_id}", node_id=node_id).id


def _wire(doc: Document, source: str, target: str, port: str = "in") -> None:
    doc.connect(Edge(source, "out", target, port))


def chain(n: int) -> Document:
    doc = Document(f"Chain {n}")
    current = _node(doc, "Input", {"shape": [FEATURES]})
    while len(doc.nodes) < n - 1:
        kind = "Linear" if len(doc.nodes) % 2 else "ReLU"
        params = {"out_features": FEATURES} if kind == "Linear" else {}
        node = _node(doc, kind, params)
        _wire(doc, current, node)
        current = node
    _wire(doc, current, _node(doc, "Output", {"task": "regression"}))
    return doc


def residual(n: int, width: int = 4) -> Document:
    doc = Document(f"Wide residual {n}")
    current = _node(doc, "Input", {"shape": [FEATURES]})
    while len(doc.nodes) + 2 * width + 2 <= n:
        add = _node(doc, "Add", {"inputs": width + 1})
        for i in range(width):
            fc = _node(doc, "Linear", {"out_features": FEATURES})
            relu = _node(doc, "ReLU")
            _wire(doc, current, fc)
            _wire(doc, fc, relu)
            _wire(doc, relu, add, f"in{i + 1}")
        _wire(doc, current, add, f"in{width + 1}")
        current = add
    while len(doc.nodes) < n - 1:
        relu = _node(doc, "ReLU")
        _wire(doc, current, relu)
        current = relu
    _wire(doc, current, _node(doc, "Output", {"task": "regression"}))
    return doc


def blocks(n: int, per_block: int = 10) -> Document:
    """The chain's layers organised in blocks: one definition of ``per_block``
    Linear/ReLU layers (``width`` exposed), and n / per_block instances of it."""
    from graph import Definition, ExposedParam

    doc = Document(f"Blocks {n}")
    body = Document("Layers", library=doc.blocks, block="Layers")
    current = body.add_node("BlockInput", {}, "in").id
    linears = []
    for i in range(per_block):
        kind = "Linear" if i % 2 == 0 else "ReLU"
        node = _node(body, kind, {"out_features": FEATURES} if kind == "Linear" else None)
        if kind == "Linear":
            linears.append(node)
        _wire(body, current, node)
        current = node
    _wire(body, current, body.add_node("BlockOutput", {}, "out").id)
    doc.add_definition(Definition("Layers", body, [
        ExposedParam("width", FEATURES, [(i, "out_features") for i in linears])]))
    current = _node(doc, "Input", {"shape": [FEATURES]})
    for _ in range(max(1, (n - 2) // per_block)):
        node = doc.new_id()
        doc.add_node("Block", {"block": "Layers"}, f"block_{node}", node_id=node)
        _wire(doc, current, node)
        current = node
    _wire(doc, current, _node(doc, "Output", {"task": "regression"}))
    return doc


KINDS: dict[str, Callable[[int], Document]] = {"chain": chain, "residual": residual,
                                                "blocks": blocks}


def _median(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median CPU and wall milliseconds of ``run``."""
    cpu, wall = [], []
    for _ in range(repeat):
        c, w = time.thread_time(), time.perf_counter()
        run()
        cpu.append((time.thread_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def measure(doc: Document, repeat: int) -> dict[str, tuple[float, float]]:
    timings: dict[str, list[tuple[float, float]]] = {"validate": [], "infer": []}

    def analyze():
        analysis = Analyzer().analyze(doc)
        assert analysis.ok, analysis.errors[:3]
        for key, values in timings.items():
            values.append(analysis.timings[key] * 1000)
        return analysis

    full = _median(analyze, repeat)
    # The split comes from the analysis itself (wall clock inside one thread).
    split = {k: statistics.median(v) for k, v in timings.items()}
    analysis = Analyzer().analyze(doc)
    codegen = _median(lambda: generate_code(doc, analysis), repeat)
    share = full[0] / max(full[1], 1e-9)  # CPU share of the analysis' wall time
    return {
        "validate": (split["validate"] * share, split["validate"]),
        "infer": (split["infer"] * share, split["infer"]),
        "analysis": full,
        "codegen": codegen,
    }


def edit_revalidate(doc: Document, repeat: int) -> tuple[float, float]:
    """A persistent Analyzer re-validating after one edit in the middle of ``doc``.

    As in the editor, the analyzer has analysed the document before (it follows a
    document's edits from its second analysis on)."""
    analyzer = Analyzer()
    analyzer.analyze(doc)
    analyzer.analyze(doc)
    # A Linear's width, or the exposed width of a block instance (networks of blocks).
    name = "out_features"
    editable = [n.id for n in doc.nodes.values() if n.type == "Linear"]
    if not editable:
        name = "width"
        editable = [n.id for n in doc.nodes.values() if n.is_block]
    middle = editable[len(editable) // 2]
    values = iter(range(FEATURES + 1, FEATURES + 1 + 10 * repeat))

    def edit_and_analyze():
        doc.set_param(middle, name, next(values))
        return analyzer.analyze(doc)

    result = _median(edit_and_analyze, repeat)
    doc.set_param(middle, name, FEATURES)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per measurement")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, one run each: check the script runs (no figures)")
    args = parser.parse_args(argv)
    sizes = SIZES
    if args.smoke:
        sizes, args.repeat = (100, 1_000), 1

    header = (f"{'network':<10}{'nodes':>7}{'wires':>7}  {'validate':>9}{'infer':>9}"
              f"{'codegen':>9}{'total':>9}  {'total wall':>10}   (ms, CPU)")
    print(header)
    print("-" * len(header))
    totals: dict[str, float] = {}
    docs: dict[str, Document] = {}
    for size in sizes:
        for kind, make in KINDS.items():
            doc = make(size)
            repeat = args.repeat if size < 5_000 else max(3, args.repeat // 2)
            m = measure(doc, repeat)
            total = m["analysis"][0] + m["codegen"][0]
            wall = m["analysis"][1] + m["codegen"][1]
            print(f"{kind:<10}{len(doc.nodes):>7}{len(doc.edges):>7}  "
                  f"{m['validate'][0]:>9.1f}{m['infer'][0]:>9.1f}{m['codegen'][0]:>9.1f}"
                  f"{total:>9.1f}  {wall:>10.1f}")
            if size == 1_000:
                totals[kind] = total
                docs[kind] = doc
    print()
    edits = {}
    for kind, doc in docs.items():
        cpu, wall = edit_revalidate(doc, max(args.repeat, 15))
        edits[kind] = cpu
        print(f"edit revalidate, {kind} 1000: {cpu:.2f} ms CPU ({wall:.2f} ms wall)")
    worst = max(totals, key=lambda k: totals[k] + edits[k])
    missed = [f"{kind} 1000 validate+infer+codegen {totals[kind]:.0f} ms > "
              f"{TARGET_FULL_MS:.0f} ms" for kind in totals if totals[kind] > TARGET_FULL_MS]
    missed += [f"{kind} 1000 edit revalidate {edits[kind]:.1f} ms > {TARGET_EDIT_MS:.0f} ms"
               for kind in edits if edits[kind] > TARGET_EDIT_MS]
    print("targets:", "met" if not missed else "MISSED: " + "; ".join(missed))
    print(f"graph-1000: validate+infer+codegen {totals[worst]:.1f} ms, "
          f"edit revalidate {edits[worst]:.2f} ms")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
