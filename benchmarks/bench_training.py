"""How much the Strata engine costs over a plain PyTorch loop: ``python benchmarks/bench_training.py``.

For an MLP on two spirals and a CNN on the shapes images (the shipped examples, with
their own training setups), it times the training steps of

- the Strata engine (``runtime.engine.Trainer``) with instrumentation on, at its default
  sampling rate (every ``sample_every`` steps, at most 20 samples a second and 1% of the
  training time; see ``SamplingPolicy``), events delivered to a callback; and
- a hand-written loop a careful person would write for in-memory data: the same model
  (the network's generated code, same seed), optimizer, loss, batch size, one
  ``randperm`` per epoch and tensor slicing, no host reads at all.

Both run on the CPU with one thread, in paired rounds (plain, Strata, Strata without
limits, plain); the figure per model is the median over rounds of (Strata time per step)
/ (plain time per step), with its quartiles. Time is the thread's CPU time in training
steps: on a machine shared with other work, wall time mostly measures the neighbours
(the wall-time ratio is printed too). Validation between epochs is not counted.
"looking" is the engine's own account of the share of its step time spent on
statistics and step events.
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

CASES = {"mlp": ("spiral_mlp.strata", 60), "cnn": ("shapes_cnn.strata", 3)}
LOOKING: list[float] = []  # the engine's own account: share of step time spent looking


def plain_loop(doc, setup: TrainingSetup, bundle, epochs: int
               ) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and steps of a hand-written training loop's steps.

    Like any real loop it validates after each epoch; that pass is not timed (the
    engine's epoch-end work is not timed either).
    """
    torch.manual_seed(setup.seed)
    model = graph.compile(doc)
    output = next(n for n in doc.nodes.values() if n.type == "Output")
    loss_fn = setup.make_loss(output.params["task"])
    optimizer = setup.make_optimizer(model.parameters())
    x, y = bundle.tensors("train")
    vx, vy = bundle.tensors("val")
    n, bs = len(y), setup.batch_size
    g = torch.Generator().manual_seed(setup.seed)
    steps, wall, cpu = 0, 0.0, 0.0
    for _ in range(epochs):
        model.train()
        start, start_cpu = time.perf_counter(), time.thread_time()
        perm = torch.randperm(n, generator=g)
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            xb, yb = x[idx], y[idx]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            steps += 1
        wall += time.perf_counter() - start
        cpu += time.thread_time() - start_cpu
        model.eval()
        with torch.no_grad():
            out = model(vx)
            float(loss_fn(out, vy)), float((out.argmax(1) == vy).float().mean())
    return wall, cpu, steps


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
    LOOKING.append(summary["looking_seconds"] / summary["train_seconds"])
    return summary["train_seconds"], summary["train_cpu_seconds"], summary["steps"]


def measure(name: str, rounds: int) -> dict[str, float]:
    file, epochs = CASES[name]
    doc = graph.load(ROOT / "resources" / "examples" / file)
    setup = TrainingSetup.from_document(doc)
    bundle = prepare_dataset(graph.analyze(doc), setup)
    # Warm up both (first calls import and allocate lazily).
    plain_loop(doc, setup, bundle, 1)
    strata(doc, setup, bundle, 1, True)
    ratios, unlimited, walls, plain_rates, strata_rates, looking = [], [], [], [], [], []
    for _ in range(rounds):
        # Paired and symmetric (plain, Strata, Strata without limits, plain), so that
        # what the machine's other work does to the timings mostly cancels out.
        p1_wall, p1_cpu, p_steps = plain_loop(doc, setup, bundle, epochs)
        s_wall, s_cpu, s_steps = strata(doc, setup, bundle, epochs, True)
        looking.append(LOOKING[-1])
        _, u_cpu, u_steps = strata(doc, setup, bundle, epochs, False)
        p2_wall, p2_cpu, _ = plain_loop(doc, setup, bundle, epochs)
        p = (p1_cpu + p2_cpu) / 2 / p_steps
        ratios.append(s_cpu / s_steps / p)
        unlimited.append(u_cpu / u_steps / p)
        walls.append(s_wall / s_steps / ((p1_wall + p2_wall) / 2 / p_steps))
        plain_rates.append(1 / p)
        strata_rates.append(s_steps / s_cpu)
    quartiles = statistics.quantiles(ratios, n=4) if rounds > 1 else [ratios[0]] * 3
    return {"ratio": statistics.median(ratios), "low": quartiles[0],
            "high": quartiles[2], "unlimited": statistics.median(unlimited),
            "wall": statistics.median(walls), "plain": statistics.median(plain_rates),
            "strata": statistics.median(strata_rates), "steps": s_steps,
            "looking": statistics.median(looking),
            "sample_every": setup.sample_every}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    results = {name: measure(name, args.rounds) for name in CASES}
    print(f"{'model':<6}{'plain steps/s':>14}{'strata steps/s':>16}{'ratio':>7}"
          f"{'quartiles':>15}{'no limits':>11}{'wall ratio':>12}{'looking':>9}")
    for name, r in results.items():
        print(f"{name:<6}{r['plain']:>14.0f}{r['strata']:>16.0f}{r['ratio']:>7.3f}"
              f"{r['low']:>8.3f}-{r['high']:.3f}{r['unlimited']:>11.3f}{r['wall']:>12.3f}"
              f"{r['looking']:>9.1%}   ({r['steps']} steps a round, a sample every "
              f"{r['sample_every']})")
    print(f"training-overhead: mlp {results['mlp']['ratio']:.3f} "
          f"cnn {results['cnn']['ratio']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
