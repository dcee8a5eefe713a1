"""How the editor copes with a large network: ``python benchmarks/bench_editor.py``.

Builds a 1,000-layer network (32 parallel towers of 30 layers joined by a tree of Adds,
so auto-arrange gives a 40 x 32 block of cards) and measures, offscreen:

- load + layout: the controller taking the document (one analysis), the scene building
  every card and wire, then auto-arrange moving all 1,000 cards as one undo step (the
  scene following 1,000 ``node_moved`` events) and the re-analysis after it;
- repaint: the frame time of a full repaint of the view with the whole network in it
  (``viewport.repaint()``, median of several frames; card caches warm, as while panning),
  and the same after every card's cache was dropped (as after a theme switch);
- Python calls in one warm repaint: a count, not a time, so it holds on a loaded
  machine (cards and wires keep their bounds in C++; a Python ``boundingRect`` was
  ~6,000 calls a frame), and the items painted;
- one edit: a parameter changed, the re-analysis and the canvas following it;
- cold start: wall time of a fresh ``strata`` process from launch until its main window
  is shown and it has quit again (``STRATA_QUIT_AFTER_SHOW=1``), median of three.

The last line reads ``editor-1000: load+layout <ms> ms, repaint <ms> ms, cold start <ms> ms``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from graph.builder import Builder


def branching_network(layers: int = 1000, branches: int = 32):
    """Input, ``branches`` parallel towers of Linear/ReLU, a tree of Adds, Output: about
    ``layers`` layers that auto-arrange lays out as a block (40 columns by 32 rows)."""
    b = Builder("Large branching network")
    x = b.add("Input", shape=[32])
    depth = max(1, -(-(layers - 2 - (branches - 1)) // branches))  # ceil
    heads = []
    for _ in range(branches):
        steps = [("Linear", {"out_features": 32}) if i % 2 == 0 else "ReLU"
                 for i in range(depth)]
        heads.append(b.chain(x, *steps))
    while len(heads) > 1:
        merged = []
        for left, right in zip(heads[::2], heads[1::2]):
            add = b.add("Add")
            b.wire(left, add)
            b.wire(right, add)
            merged.append(add)
        heads = merged + heads[len(merged) * 2:]
    b.chain(heads[0], "Output")
    return b.done()


def ms(seconds: float) -> float:
    return seconds * 1000.0


def measure_editor(layers: int, frames: int) -> dict[str, float]:
    from PySide6.QtWidgets import QApplication

    from studio import resources
    from studio.canvas import NetworkView
    from studio.document.controller import DocumentController

    app = QApplication.instance() or QApplication([])
    resources.apply(app, "light")
    doc = branching_network(layers)
    for node in doc.nodes.values():  # start from a pile, so layout has work to do
        node.position = (0.0, 0.0)
    controller = DocumentController()
    view = NetworkView(controller)
    view.resize(1600, 900)
    view.show()
    app.processEvents()

    start = time.perf_counter()
    controller.set_document(doc)
    loaded = time.perf_counter()
    controller.auto_arrange()
    controller.analyze_now()
    # The whole network on screen, the worst case for a repaint: Fit to Window
    # (fit_all) would frame its start at a readable zoom and let the rest scroll.
    view.fit_rect(view.network_scene.nodes_rect(), min_zoom=0.0)
    app.processEvents()
    laid_out = time.perf_counter()
    assert len(view.network_scene.nodes) == len(doc.nodes) >= layers - 40
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(view.network_scene.nodes_rect())  # all of it on screen
    assert len(view.network_scene.wires) == len(doc.edges)

    view.viewport().repaint()  # first frame fills the card caches
    calls = python_calls(view.viewport().repaint)
    warm = []
    for _ in range(frames):
        t = time.perf_counter()
        view.viewport().repaint()
        warm.append(time.perf_counter() - t)
    cold = []
    for _ in range(max(3, frames // 3)):
        view.refresh_theme()  # drops every card's cached pixmap
        t = time.perf_counter()
        view.viewport().repaint()
        cold.append(time.perf_counter() - t)
    view.set_zoom(1.0)
    view.centerOn(view.network_scene.nodes_rect().center())
    view.viewport().repaint()
    close = []
    for _ in range(frames):
        t = time.perf_counter()
        view.viewport().repaint()
        close.append(time.perf_counter() - t)

    linear = next(n.id for n in doc.nodes.values() if n.type == "Linear")
    t = time.perf_counter()
    controller.set_param(linear, "out_features", 32)
    controller.analyze_now()
    app.processEvents()
    edit = time.perf_counter() - t
    result = {
        "nodes": len(doc.nodes), "edges": len(doc.edges),
        "load": ms(loaded - start), "layout": ms(laid_out - loaded),
        "repaint": ms(statistics.median(warm)), "repaint_cold": ms(statistics.median(cold)),
        "repaint_100": ms(statistics.median(close)), "edit": ms(edit),
        "python_calls": calls, "items": len(view.scene().items()),
    }
    view.close()
    view.deleteLater()
    app.processEvents()
    return result


def python_calls(action) -> int:
    """Python function calls made while ``action`` runs (C++ calling Python included)."""
    calls = 0

    def count(_frame, event, _arg):
        nonlocal calls
        calls += event == "call"

    sys.setprofile(count)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


def cold_start(runs: int) -> float:
    """Median wall time of ``strata`` from launch to its window shown (and quit).

    As after an install: the bytecode is compiled (pip compiles it; a checkout run with
    ``PYTHONDONTWRITEBYTECODE=1`` would recompile ~100 modules on every start, ~0.1 s),
    so one unmeasured start fills a private bytecode cache first.
    """
    times = []
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STRATA_QUIT_AFTER_SHOW="1",
                   HOME=home, XDG_CONFIG_HOME=str(Path(home) / "config"),
                   XDG_DATA_HOME=str(Path(home) / "data"),
                   PYTHONPYCACHEPREFIX=str(Path(home) / "pycache"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        command = [sys.executable, "-c",
                   "import sys; from studio.cli import main; sys.exit(main([]))"]
        subprocess.run(command, env=env, check=True, cwd=home,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(runs):
            t = time.perf_counter()
            subprocess.run(command, env=env, check=True, cwd=home,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times.append(time.perf_counter() - t)
    return ms(statistics.median(times))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=1000)
    parser.add_argument("--frames", type=int, default=15)
    parser.add_argument("--starts", type=int, default=3)
    args = parser.parse_args()
    r = measure_editor(args.layers, args.frames)
    start = cold_start(args.starts)
    print(f"network: {r['nodes']} layers, {r['edges']} wires")
    print(f"load (analysis + cards and wires): {r['load']:.0f} ms; "
          f"auto-arrange of every card + re-analysis: {r['layout']:.0f} ms")
    print(f"full repaint, whole network in view: {r['repaint']:.1f} ms "
          f"({r['repaint_cold']:.1f} ms with card caches dropped); "
          f"at 100% zoom: {r['repaint_100']:.1f} ms")
    print(f"Python calls in one warm repaint: {r['python_calls']} "
          f"({r['items']} scene items)")
    print(f"one parameter edit (re-analysis + canvas): {r['edit']:.0f} ms")
    print(f"editor-{args.layers}: load+layout {r['load'] + r['layout']:.0f} ms, "
          f"repaint {r['repaint']:.1f} ms, cold start {start:.0f} ms "
          f"(targets: repaint < 16 ms, cold start < 1200 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
