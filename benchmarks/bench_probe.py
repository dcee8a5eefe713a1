"""How fast the probe answers: ``python benchmarks/bench_probe.py``.

The probe (``runtime.probe``) runs one example through the network with every node's
value recorded and one backward pass of that example's loss. Target: within 100 ms of
CPU work per probe for the shipped examples, and for a 100-layer network (an MLP of 50
Linear+ReLU pairs). Each figure is the median over several probes after a warm-up, in
process CPU time (all of torch's threads; wall time beside it), and the same network's
plain forward+backward on one example is measured in the same run as the baseline.
The last line reads ``probe-100-layers: <ms> ms cpu (plain forward+backward <ms> ms)``.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch

import graph
from graph.builder import Builder
from runtime.probe import open_session

EXAMPLES = ROOT / "resources" / "examples"
ROUNDS = 15
TARGET_MS = 100.0


def _timed(fn) -> tuple[float, float]:
    cpu, wall = [], []
    fn()  # warm-up
    for _ in range(ROUNDS):
        c, w = time.process_time(), time.perf_counter()
        fn()
        cpu.append((time.process_time() - c) * 1000)
        wall.append((time.perf_counter() - w) * 1000)
    return statistics.median(cpu), statistics.median(wall)


def _plain(session, inputs, target):
    module = session.prober.module
    module.eval()  # as the probe runs it (BatchNorm on running statistics)
    xs = tuple(t.unsqueeze(0) for t in (inputs if isinstance(inputs, tuple) else (inputs,)))

    def run():
        out = module(*xs)
        loss = session.prober.loss(out, torch.as_tensor(target).reshape(1).long()
                                   if session.prober.task == "classification"
                                   else torch.as_tensor(target).reshape(out.shape).float())
        loss.backward()
        module.zero_grad(set_to_none=True)

    return run


def _deep_mlp() -> graph.Document:
    b = Builder("100-layer MLP")
    x = b.add("Input", shape=[2])
    steps = []
    for _ in range(50):
        steps += [("Linear", {"out_features": 64}), "ReLU"]
    b.chain(x, *steps, ("Linear", {"out_features": 2}),
            ("Output", {"task": "classification"}))
    return b.done({"dataset": {"name": "spirals"}})


def measure(name: str, doc: graph.Document, base_dir=None) -> tuple[float, float]:
    session = open_session(doc, base_dir=base_dir)
    inputs, target = session.example("val", 0)
    cpu, wall = _timed(lambda: session.prober.probe(inputs, target))
    plain_cpu, _ = _timed(_plain(session, inputs, target))
    layers = len(session.prober.compiled.analysis.order or doc.nodes)
    verdict = "ok" if cpu <= TARGET_MS else "SLOW"
    print(f"probe {name:<24} {layers:>4} nodes: {cpu:7.1f} ms cpu ({wall:6.1f} ms wall), "
          f"plain forward+backward {plain_cpu:6.1f} ms cpu  [{verdict}]")
    return cpu, plain_cpu


def main() -> int:
    torch.set_num_threads(1)
    worst = 0.0
    for path in sorted(EXAMPLES.glob("*.strata")):
        cpu, _ = measure(path.stem, graph.load(path), EXAMPLES)
        worst = max(worst, cpu)
    cpu, plain = measure("mlp_100_layers", _deep_mlp())
    print(f"probe-100-layers: {cpu:.1f} ms cpu (plain forward+backward {plain:.1f} ms)")
    return 0 if max(worst, cpu) <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
