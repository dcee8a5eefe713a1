"""How much the Strata engine costs over a plain PyTorch loop: ``python benchmarks/bench_training.py``.

For an MLP on two spirals and a CNN on the shapes images (the shipped examples, with
their own training setups), it times the training steps of

- the Strata engine (``runtime.engine.Trainer``) with instrumentation on, at its default
  sampling rate (every ``sample_every`` steps, at most 20 samples a second and 2% of the
  training time; see ``SamplingPolicy``), events delivered to a callback; and
- a hand-written loop a careful person would write for in-memory data: the same model
  (the network's generated code, same seed), optimizer, loss, batch size, one
  ``randperm`` per epoch and tensor slicing, no host reads at all.

Both run on the CPU with one thread, interleaved over several rounds; the figure per
model is (Strata time per step) / (plain time per step), each loop's time per step
being its fastest round. Time is the thread's CPU time: on a machine shared with other
work, wall time mostly measures the neighbours. The median of the per-round ratios and
the wall-time ratio are printed beside it.
Validation and checkpoints happen between epochs and are not counted for either.
The "no limits" column repeats the measure with the rate limit and the budget off (a
sample strictly every ``sample_every`` steps). The last line reads ``training-overhead: mlp <ratio> cnn <ratio>``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import graph
from runtime.compatibility import prepare_dataset
from runtime.engine import EngineOptions, Trainer
from runtime.setup import TrainingSetup

CASES = {"mlp": ("spiral_mlp.strata", 30), "cnn": ("shapes_cnn.strata", 3)}


def plain_loop(doc, setup: TrainingSetup, bundle, epochs: int
               ) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and steps of a hand-written training loop."""
    torch.manual_seed(setup.seed)
    model = graph.compile(doc)
    model.train()
    output = next(n for n in doc.nodes.values() if n.type == "Output")
    task = output.params["task"]
    loss_fn = setup.make_loss(task)
    optimizer = setup.make_optimizer(model.parameters())
    x, y = bundle.tensors("train")
    n, bs = len(y), setup.batch_size
    g = torch.Generator().manual_seed(setup.seed)
    steps = 0
    start, cpu = time.perf_counter(), time.thread_time()
    for _ in range(epochs):
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            xb, yb = x[idx], y[idx]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            steps += 1
    return time.perf_counter() - start, time.thread_time() - cpu, steps


def strata(doc, setup: TrainingSetup, bundle, epochs: int, limits: bool
           ) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and steps the engine spent in training steps.

    ``limits`` False turns the sampling rate limit and time budget off.
    """
    options = EngineOptions() if limits else EngineOptions(max_sample_rate=None,
                                                           sample_budget=None)
    events = []
    trainer = Trainer(doc, setup.replace(epochs=epochs), emit=events.append,
                      bundle=bundle, options=options)
    result = trainer.run()
    if not hasattr(result, "summary"):
        raise SystemExit(f"the engine failed: {result.reason}")
    summary = result.summary
    return summary["train_seconds"], summary["train_cpu_seconds"], summary["steps"]


def measure(name: str, rounds: int) -> dict[str, float]:
    file, epochs = CASES[name]
    doc = graph.load(ROOT / "resources" / "examples" / file)
    setup = TrainingSetup.from_document(doc)
    bundle = prepare_dataset(graph.analyze(doc), setup)
    # Warm up both (first calls import and allocate lazily).
    plain_loop(doc, setup, bundle, 1)
    strata(doc, setup, bundle, 1, True)
    plain, capped, uncapped, walls = [], [], [], []
    for _ in range(rounds):
        p_wall, p_cpu, p_steps = plain_loop(doc, setup, bundle, epochs)
        s_wall, s_cpu, s_steps = strata(doc, setup, bundle, epochs, True)
        _, u_cpu, u_steps = strata(doc, setup, bundle, epochs, False)
        plain.append(p_cpu / p_steps)
        capped.append(s_cpu / s_steps)
        uncapped.append(u_cpu / u_steps)
        walls.append((s_wall / s_steps) / (p_wall / p_steps))
    # Interference from other processes only ever adds time, so each loop's fastest
    # round is its truest figure (as timeit advises); the median ratio is shown beside.
    return {"ratio": min(capped) / min(plain), "uncapped": min(uncapped) / min(plain),
            "median": statistics.median(c / p for c, p in zip(capped, plain)),
            "wall": statistics.median(walls), "plain": 1 / min(plain),
            "strata": 1 / min(capped), "steps": s_steps,
            "sample_every": setup.sample_every}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = {name: measure(name, args.rounds) for name in CASES}
    print(f"{'model':<6}{'plain steps/s':>14}{'strata steps/s':>16}{'ratio':>7}"
          f"{'no limits':>15}{'median ratio':>14}{'wall ratio':>12}")
    for name, r in results.items():
        print(f"{name:<6}{r['plain']:>14.0f}{r['strata']:>16.0f}{r['ratio']:>7.3f}"
              f"{r['uncapped']:>15.3f}{r['median']:>14.3f}{r['wall']:>12.3f}"
              f"   ({r['steps']} steps a round, a sample every {r['sample_every']})")
    print(f"training-overhead: mlp {results['mlp']['ratio']:.3f} "
          f"cnn {results['cnn']['ratio']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
