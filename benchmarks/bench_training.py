"""How much the Strata engine costs over plain PyTorch: ``python benchmarks/bench_training.py``.

Three figures, each Strata against what a careful person writes by hand:

1. **Training steps** (``training-overhead``). For an MLP on two spirals and a CNN on the
   shapes images (the shipped examples, with their own setups) it times the training
   steps of the Strata engine (``runtime.engine.Trainer``, instrumentation on at its
   default sampling: every ``sample_every`` steps, at most 20 samples a second and 1% of
   the training time; events delivered to a callback) and of a hand-written loop for
   in-memory data (the same model from the same seed, optimizer, loss, batch size, one
   ``randperm`` per epoch, tensor slicing, no host reads at all).
   ``--decompose`` also times the engine without sampling, and without sampling nor
   the epoch-end extras, to show where an overhead lives: an ordinary step executes the
   same instructions as the plain loop's (callgrind: 2.418 M against 2.420 M per MLP
   step; the CNN's engine step against its plain step, interleaved step by step: a
   median of 0.99 on a loaded machine), so what remains is sampling: the first sample
   (step 0), the layer statistics within their budget (1% of the training time after
   the first sample) and the step events.
2. **The compiled module** (``module-overhead``): forward + backward of the network
   Strata generates against the same network written by hand as an ``nn.Module``
   (activations as ``torch.relu`` calls, as Strata writes them now), and against the
   same hand-written network with its activations, pooling and Flatten as modules (how
   Strata wrote it before parameter-free activations became function calls): the gap
   between the two references is the price of module calls. All three have the same
   weights and are built afresh every round (memory placement varies instead of
   favouring one network); single calls rotate through every order. Instruction
   counts (callgrind, spiral MLP, one forward+backward at batch 64, the mean of 300
   calls after 20 warm-up calls, a process making none subtracted): the generated
   module 1.168 M, the functional reference 1.193 M, the modules reference 1.249 M:
   each ``nn.ReLU`` module call costs about 28 k instructions more than ``torch.relu``
   (``Module.__getattr__`` and ``__call__``), +4.7% on this small network, which the
   generated code paid until its parameter-free activations became function calls
   (it measured 1.241 M then).
3. **Time to 95% validation accuracy on digits** (``time-to-accuracy``): the engine
   (everything it does per run: checks, instrumentation, the training metric,
   validation, events) against a hand-written training script with the same data split,
   the network written by hand (checked to start from the engine's very weights), the
   same seed, optimizer, batch size and shuffling; both read every step's loss and
   validate (loss and accuracy) after every epoch. Process CPU time (wall time printed
   beside it) from the call, the digits file read included, until the epoch that
   reached 95% is validated. Both reach it at the same epoch (printed).

How the timings resolve a few percent on a shared machine: one CPU thread, the process
pinned to one CPU (no migrations), the benchmark's own heap frozen out of the garbage
collector (a full collection of the ~400,000 objects torch brings costs 0.2 s: it must
not land in one side's run) and garbage collected before each run; CPU time rather
than wall time (wall time mostly measures the neighbours); rounds interleaved so that
drifts cancel. In (1) each engine run (Strata, and the variants of ``--unlimited`` and
``--decompose``) runs in lockstep with its own plain loop, an epoch of one then an
epoch of the other (``lockstep``): a change of the machine's speed (a neighbour, the
hypervisor's steal time, which a VM's CPU clock counts, the clock frequency) hits both
sides of that run's ratio within milliseconds, where separate runs put it on one side;
arms rotate and the plain loop goes first every other round; two warm-up rounds are
not counted. In (3) the sides alternate which goes first. Each figure is the median
over rounds of the per-round ratio, printed with the 95% confidence interval of that
median (order statistics), the interval's width as a share of the median (below 3%:
the figure resolves 3%) and the quartiles. Validation and checkpoints between epochs
are not counted in (1). ``--only steps`` (or module, accuracy) measures one figure.

The last lines read ``training-overhead: mlp <ratio> cnn <ratio>``,
``module-overhead: mlp <ratio> cnn <ratio>`` and ``time-to-accuracy: digits <ratio>``.
"""

from __future__ import annotations

import argparse
import gc
import itertools
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ratios import quiet_process, spread, summary
from time_to_accuracy import TARGET_ACCURACY, measure_accuracy

import graph
from runtime.compatibility import prepare_dataset
from runtime.engine import EngineOptions, Trainer
from runtime.events import EpochEvent, LayerStatsEvent, StepEvent
from runtime.setup import TrainingSetup

# example file, epochs per round (short rounds: many of them resolve small differences)
# The CNN's runs are 6 epochs (132 steps): with 2 (44 steps, two lockstep turns) its
# rounds spread 10% and the interval was 7% wide on a quiet machine; with 6, 3%.
CASES = {"mlp": ("spiral_mlp.strata", 30), "cnn": ("shapes_cnn.strata", 6)}
# Rounds of the training-steps figure: the MLP's runs are short and its rounds spread
# more, so it gets more of them.
ROUNDS = {"mlp": 41, "cnn": 25}


# ---------------------------------------------------------------- 1. training steps
class PlainLoop:
    """A hand-written training loop for in-memory data, one epoch per call.

    Like any real loop it validates after each epoch; that pass is not timed (the
    engine's epoch-end work is not timed either).
    """

    def __init__(self, doc, setup: TrainingSetup, bundle) -> None:
        torch.manual_seed(setup.seed)
        self.model = graph.compile(doc)
        output = next(n for n in doc.nodes.values() if n.type == "Output")
        self.loss_fn = setup.make_loss(output.params["task"])
        self.optimizer = setup.make_optimizer(self.model.parameters())
        self.x, self.y = bundle.tensors("train")
        self.vx, self.vy = bundle.tensors("val")
        self.bs = setup.batch_size
        self.g = torch.Generator().manual_seed(setup.seed)
        self.cpu, self.steps, self.epochs = 0.0, 0, 0

    def epoch(self) -> None:
        model, loss_fn, optimizer = self.model, self.loss_fn, self.optimizer
        x, y, bs = self.x, self.y, self.bs
        model.train()
        start_cpu = time.thread_time()
        perm = torch.randperm(len(y), generator=self.g)
        for i in range(0, len(y), bs):
            idx = perm[i:i + bs]
            xb, yb = x[idx], y[idx]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            self.steps += 1
        self.cpu += time.thread_time() - start_cpu
        self.epochs += 1
        model.eval()
        with torch.no_grad():
            out = model(self.vx)
            float(loss_fn(out, self.vy)), float((out.argmax(1) == self.vy).float().mean())


def lockstep(doc, setup: TrainingSetup, bundle, epochs: int, options: EngineOptions,
             plain_first: bool) -> dict:
    """One engine run and one plain run in lockstep: an epoch of one, then an epoch of
    the other (the plain loop's epochs run inside the engine's epoch events, outside
    its timed steps). Both see the same moments of the machine, so a drift of its
    speed (a neighbour, the hypervisor, the clock frequency) lands on both sides of
    the ratio instead of on one run. The engine's wall-clock limits (sampling at most
    20 times a second, decision boundaries at most 5) are shifted by the time the plain
    loop took, so the engine samples as often as it would alone."""
    plain = PlainLoop(doc, setup, bundle)
    samples = reports = 0
    trainer: Trainer

    def emit(event) -> None:
        nonlocal samples, reports
        if isinstance(event, LayerStatsEvent):
            samples += 1
        elif isinstance(event, StepEvent):
            reports += 1
        elif isinstance(event, EpochEvent) and plain.epochs < epochs:
            started = time.perf_counter()
            plain.epoch()
            spent = time.perf_counter() - started
            for policy in (trainer._reports, trainer._samples):
                policy._last += spent
            trainer._boundary_at += spent

    trainer = Trainer(doc, setup.replace(epochs=epochs), emit=emit, bundle=bundle,
                      options=options)
    if plain_first:
        plain.epoch()
    result = trainer.run()
    if not hasattr(result, "summary"):
        raise SystemExit(f"the engine failed: {result.reason}")
    s = result.summary
    return {"cpu": s["train_cpu_seconds"], "steps": s["steps"], "plain_cpu": plain.cpu,
            "plain_steps": plain.steps, "looking": s["looking_seconds"] / s["train_seconds"],
            "samples": samples, "reports": reports}


# Engine variants: "strata" as the studio runs it, the others for ``--unlimited`` and
# ``--decompose`` (which part of the engine's work costs what).
ARMS = {
    "strata": {},
    # the sampling rate limit and time budget off: every ``sample_every`` steps
    "no limits": {"max_sample_rate": None, "sample_budget": None},
    # no step events, no layer statistics (one sample at step 0 only)
    "no sampling": {"instrument": False, "max_sample_rate": 1e-6, "sample_burst": 0},
    # also no extras: the training metric (a list append per step, counted at the
    # epoch's end), decision boundaries (at most 5 a second) and feature maps. The
    # epoch-end work is not timed, but it runs between two epochs' steps (caches).
    "no sampling, no epoch extras": {
        "instrument": False, "max_sample_rate": 1e-6, "sample_burst": 0,
        "feature_maps": False, "train_metric": False, "boundary_resolution": 0},
}
DECOMPOSE = {k: ARMS[k] for k in ("no sampling", "no sampling, no epoch extras")}
WARM_UP_ROUNDS = 2  # run, not counted: allocator, caches and lazy imports settle


def measure_steps(name: str, rounds: int, unlimited: bool, decompose: bool = False
                  ) -> dict:
    """Each round runs every engine arm once, each in lockstep with its own plain loop
    (``lockstep``): the per-step ratio of that pair is the round's figure for the arm.
    The arms' order rotates each round and the plain loop goes first every other time,
    so no arm keeps a position. The first rounds are warm-up, not counted."""
    file, epochs = CASES[name]
    doc = graph.load(ROOT / "resources" / "examples" / file)
    setup = TrainingSetup.from_document(doc)
    bundle = prepare_dataset(graph.analyze(doc), setup)
    arms = ["strata"] + (["no limits"] if unlimited else []) + \
        (list(DECOMPOSE) if decompose else [])
    ratios: dict[str, list[float]] = {arm: [] for arm in arms}
    looking, plain_rates, strata_rates = [], [], []
    counts: list[tuple[int, int]] = []  # (layer samples, step events) of each run
    steps_per_run = 0
    for r in range(-WARM_UP_ROUNDS, rounds):
        k = r % len(arms)
        for arm in arms[k:] + arms[:k]:
            gc.collect()  # neither side pays for the other's garbage
            run = lockstep(doc, setup, bundle, epochs, EngineOptions(**ARMS[arm]),
                           plain_first=r % 2 == 1)
            if r < 0:
                continue
            per_step = run["cpu"] / run["steps"]
            plain_step = run["plain_cpu"] / run["plain_steps"]
            ratios[arm].append(per_step / plain_step)
            if arm == "strata":
                looking.append(run["looking"])
                counts.append((run["samples"], run["reports"]))
                steps_per_run = run["steps"]
                plain_rates.append(1 / plain_step)
                strata_rates.append(1 / per_step)
    return {"ratio": summary(ratios["strata"]), "plain": statistics.median(plain_rates),
            "parts": {label: summary(ratios[label]) for label in arms[1:]},
            "strata": statistics.median(strata_rates),
            "looking": statistics.median(looking), "steps": steps_per_run,
            "samples": statistics.median(c[0] for c in counts),
            "reports": statistics.median(c[1] for c in counts),
            "sample_every": setup.sample_every}


def measure_step_pairs(name: str, rounds: int, batches: int = 4) -> dict:
    """The engine's step against the plain loop's step, interleaved every few batches
    in one process (same batches, same machine moment): per-step cost without what a
    run does once (its first sample, its start, its validation).

    The engine is driven through its own step loop (``Trainer._steps``) with sampling
    off, on the batches of its own data path.
    """
    from runtime.instrumentation import SamplingPolicy
    from runtime.loop import LossReader, Stopwatch, Window

    file, _ = CASES[name]
    doc = graph.load(ROOT / "resources" / "examples" / file)
    setup = TrainingSetup.from_document(doc)
    bundle = prepare_dataset(graph.analyze(doc), setup)
    trainer = Trainer(doc, setup, bundle=bundle, options=EngineOptions(
        **DECOMPOSE["no sampling, no epoch extras"]))
    trainer._prepare()
    trainer.train_seconds = trainer.looking_seconds = 0.0
    trainer._reports = SamplingPolicy(1 << 62)  # no step is due after step 0...
    trainer._samples = SamplingPolicy(1 << 62)
    trainer.step = 1  # ...and there is none
    source = trainer.source

    torch.manual_seed(setup.seed)
    model = graph.compile(doc)
    loss_fn = setup.make_loss(trainer.task)
    optimizer = setup.make_optimizer(model.parameters())
    x, y = bundle.tensors("train")
    bs = setup.batch_size
    shuffle = torch.Generator().manual_seed(setup.seed)

    def nonfinite(_xs, step):
        return RuntimeError(f"non-finite loss at step {step}")

    def engine(order) -> float:
        start = time.thread_time()
        trainer._steps(itertools.islice(source.epoch(order, 0), batches),
                       LossReader(True, nonfinite), Window(0.0), 1, Stopwatch())
        return time.thread_time() - start

    def plain(order) -> float:
        start = time.thread_time()
        for i in range(0, batches * bs, bs):
            idx = order[i:i + bs]
            xb, yb = x[idx], y[idx]
            optimizer.zero_grad(set_to_none=True)
            loss_fn(model(xb), yb).backward()
            optimizer.step()
        return time.thread_time() - start

    for _ in range(3):  # warm up both
        order = torch.randperm(source.examples, generator=shuffle)
        engine(order), plain(order)
    ratios = []
    for r in range(rounds):
        order = torch.randperm(source.examples, generator=shuffle)
        if r % 2:
            e, p = engine(order), plain(order)
        else:
            p, e = plain(order), engine(order)
        ratios.append(e / p)
    return summary(ratios)


# ---------------------------------------------------------------- 2. the module
class HandMLP(nn.Module):
    """spiral_mlp written by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(2, 64), nn.Linear(64, 64), nn.Linear(64, 2)

    def forward(self, x):
        return self.fc3(torch.relu(self.fc2(torch.relu(self.fc1(x)))))


class HandCNN(nn.Module):
    """shapes_cnn written by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 64)
        self.fc2 = nn.Linear(64, 4)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.fc2(torch.relu(self.fc1(torch.flatten(x, 1))))


class HandMLPModules(nn.Module):
    """spiral_mlp written by hand with its activations as modules (``nn.Sequential``
    style): the price of module calls, against ``HandMLP``."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2, self.fc3 = nn.Linear(2, 64), nn.Linear(64, 64), nn.Linear(64, 2)
        self.relu1, self.relu2 = nn.ReLU(), nn.ReLU()

    def forward(self, x):
        return self.fc3(self.relu2(self.fc2(self.relu1(self.fc1(x)))))


class HandCNNModules(nn.Module):
    """shapes_cnn written by hand with ReLU, max pooling and Flatten as modules."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 7 * 7, 64)
        self.fc2 = nn.Linear(64, 4)
        self.relu1, self.relu2, self.relu3 = nn.ReLU(), nn.ReLU(), nn.ReLU()
        self.pool1, self.pool2 = nn.MaxPool2d(2), nn.MaxPool2d(2)
        self.flatten = nn.Flatten()

    def forward(self, x):
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        return self.fc2(self.relu3(self.fc1(self.flatten(x))))


HAND = {"mlp": HandMLP, "cnn": HandCNN}
HAND_MODULES = {"mlp": HandMLPModules, "cnn": HandCNNModules}


def same_weights(source: nn.Module, *others: nn.Module) -> None:
    """Give ``others`` the weights of ``source`` (parameters in declaration order), so
    all compute the very same numbers."""
    for other in others:
        pairs = list(zip(source.parameters(), other.parameters(), strict=True))
        with torch.no_grad():
            for p, q in pairs:
                q.copy_(p.reshape(q.shape))


ORDERS = list(itertools.permutations(range(3)))  # every call order, in turn


def measure_module(name: str, rounds: int, calls: int) -> dict:
    file, _ = CASES[name]
    doc = graph.load(ROOT / "resources" / "examples" / file)
    setup = TrainingSetup.from_document(doc)
    bundle = prepare_dataset(graph.analyze(doc), setup)
    x, y = (t[:setup.batch_size] for t in bundle.tensors("train"))
    loss_fn = nn.CrossEntropyLoss()

    def networks() -> list[nn.Module]:
        """Fresh instances (where they land in memory varies from round to round, so
        no network keeps a lucky or unlucky placement), with the same weights."""
        nets = [graph.compile(doc), HAND[name](), HAND_MODULES[name]()]
        counts = [sum(p.numel() for p in m.parameters()) for m in nets]
        if len(set(counts)) != 1:
            raise SystemExit(f"{name}: the hand-written networks have {counts[1:]} "
                             f"parameters, the example {counts[0]}: they are not the "
                             "same network")
        same_weights(*nets)
        return nets

    def call(model) -> float:
        start = time.thread_time()
        model.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        return time.thread_time() - start

    ratios, to_modules, module_calls = [], [], []
    for _ in range(rounds):
        nets = networks()
        for _ in range(3):  # warm up this round's instances
            for model in nets:
                call(model)
        # Single calls, each network in every position in turn, so all three see the
        # same machine.
        spent = [0.0, 0.0, 0.0]
        for i in range(calls):
            for k in ORDERS[i % len(ORDERS)]:
                spent[k] += call(nets[k])
        c, h, m = spent
        ratios.append(c / h)
        to_modules.append(c / m)
        module_calls.append(m / h)
    return {"ratio": summary(ratios), "modules": summary(to_modules),
            "module_calls": summary(module_calls)}


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int,
                        help="rounds per training-steps figure, each engine arm run once "
                             "a round in lockstep with a plain loop (default: mlp 41, "
                             "cnn 25)")
    parser.add_argument("--module-rounds", type=int, default=61)
    parser.add_argument("--module-calls", type=int, default=42,
                        help="forward+backward calls per module round")
    parser.add_argument("--accuracy-rounds", type=int, default=41,
                        help="rounds of the time-to-accuracy figure (default 41)")
    parser.add_argument("--unlimited", action="store_true",
                        help="also time the engine with the sampling limits off")
    parser.add_argument("--decompose", action="store_true",
                        help="also time the engine without sampling, and without "
                             "sampling and epoch-end extras, and its step against the "
                             "plain step (where the overhead is)")
    parser.add_argument("--step-rounds", type=int, default=101,
                        help="with --decompose: interleaved 4-step rounds of the engine's "
                             "step against the plain step (default 101)")
    parser.add_argument("--epochs", type=int, nargs=2, metavar=("MLP", "CNN"),
                        help="epochs per run (smoke runs; default 30 and 6)")
    parser.add_argument("--only", choices=PARTS, nargs="+", default=list(PARTS),
                        help="the figures to measure (default all: steps module accuracy)")
    args = parser.parse_args(argv)
    quiet_process()

    if args.epochs:
        for name, epochs in zip(CASES, args.epochs):
            CASES[name] = (CASES[name][0], epochs)
    last: list[str] = []
    took = time.perf_counter()
    if "steps" in args.only:
        steps = {name: measure_steps(name, args.rounds or ROUNDS[name], args.unlimited,
                                     args.decompose) for name in CASES}
        pairs = {name: measure_step_pairs(name, args.step_rounds) for name in CASES} \
            if args.decompose else {}
        print("1. training steps: Strata engine (instrumented) / plain loop, thread CPU "
              "time per step; each engine run in lockstep with its own plain loop (an "
              "epoch of one, then of the other), the round's ratio from that pair")
        for name, r in steps.items():
            print(f"  {name}: {spread(r['ratio'])}; plain {r['plain']:.0f} steps/s, "
                  f"strata {r['strata']:.0f} steps/s, looking {r['looking']:.1%} "
                  f"({r['steps']} steps a run, a sample due every {r['sample_every']}; "
                  f"taken a run: {r['samples']:.0f} layer samples, {r['reports']:.0f} "
                  "step events)")
            for label, part in r["parts"].items():
                print(f"    engine with {label}: {spread(part)}")
            if name in pairs:
                print(f"    an engine step against a plain step, interleaved every 4 "
                      f"steps (sampling off): {spread(pairs[name])}")
        last.append(f"training-overhead: mlp {steps['mlp']['ratio']['median']:.3f} "
                    f"cnn {steps['cnn']['ratio']['median']:.3f}")
        took = lap(took)
    if "module" in args.only:
        modules = {name: measure_module(name, args.module_rounds, args.module_calls)
                   for name in CASES}
        print("2. forward+backward: compiled module / the same network by hand")
        for name, r in modules.items():
            print(f"  {name}: {spread(r['ratio'])}")
            print(f"    against the same network with its activations, pooling and "
                  f"Flatten as modules: {spread(r['modules'])}")
            print(f"    (that network against the first, the price of those module "
                  f"calls: {spread(r['module_calls'])})")
        last.append(f"module-overhead: mlp {modules['mlp']['ratio']['median']:.3f} "
                    f"cnn {modules['cnn']['ratio']['median']:.3f}")
        took = lap(took)
    if "accuracy" in args.only:
        acc = measure_accuracy(args.accuracy_rounds)
        print(f"3. time to {TARGET_ACCURACY:.0%} validation accuracy on digits: Strata / "
              f"hand-written script, process CPU time")
        print(f"  digits: {spread(acc['ratio'])}; plain {acc['plain']:.3f} s, strata "
              f"{acc['strata']:.3f} s")
        print(f"    wall time: {spread(acc['wall'])} (on a quiet machine it agrees with "
              "the CPU figure; far above it means one side waited)")
        reached = ", ".join(f"plain {p}, strata {s}" for p, s in acc["epochs"])
        print(f"    epochs to {TARGET_ACCURACY:.0%}: {reached} (the same seed gives the "
              "same curve on both sides)")
        print("    each side's clocks run from its start (the digits file read and "
              "split included) until the epoch that reached the target is validated, "
              "and count only its own sections: the two run in lockstep, an epoch of "
              "one then an epoch of the other, the first side alternating by round; "
              "both train on the same split, from the same weights, with the same "
              "optimizer, batch size and shuffling, read every step's loss and validate "
              "after every epoch (loss and accuracy); the engine also checks the "
              "network and data, samples layer statistics, counts the training "
              "accuracy and sends its events")
        last.append(f"time-to-accuracy: digits {acc['ratio']['median']:.3f}")
        took = lap(took)
    for line in last:
        print(line)
    return 0


PARTS = ("steps", "module", "accuracy")


def lap(since: float) -> float:
    now = time.perf_counter()
    print(f"  ({now - since:.0f} s)")
    return now


if __name__ == "__main__":
    sys.exit(main())
