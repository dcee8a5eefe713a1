"""Time to 95% validation accuracy on digits: the Strata engine against a hand-written
script with the same settings (figure 3 of ``bench_training.py``, which prints it)."""

from __future__ import annotations

import gc
import statistics
import time

import torch
from ratios import summary
from torch import nn

import graph
from runtime.engine import EngineOptions, Trainer
from runtime.events import EpochEvent
from runtime.setup import TrainingSetup

DIGITS_SETUP = {"dataset": {"name": "digits"}, "batch_size": 32, "epochs": 60,
                "lr": 0.003, "optimizer": "adam"}
TARGET_ACCURACY = 0.95


def digits_document():
    """A small MLP for scikit-learn's 8x8 digits."""
    from graph.builder import Builder

    b = Builder("Digits MLP")
    x = b.add("Input", shape=[1, 8, 8])
    b.chain(x, "Flatten", ("Linear", {"out_features": 64}), "ReLU",
            ("Linear", {"out_features": 10}), ("Output", {"task": "classification"}))
    return b.done(DIGITS_SETUP)


class HandDigitsMLP(nn.Module):
    """The digits MLP as a person writes it. Its layers are created in the generated
    code's order, so the same seed gives the same starting weights (``digits_check``
    makes sure)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(64, 64), nn.Linear(64, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(torch.flatten(x, 1))))


class Clock:
    """Process CPU and wall seconds of the sections a side ran (``add``)."""

    def __init__(self) -> None:
        self.cpu = self.wall = 0.0
        self.epoch = 0

    def add(self, cpu: float, wall: float) -> None:
        self.cpu += cpu
        self.wall += wall


def now() -> tuple[float, float]:
    return time.process_time(), time.perf_counter()


def plain_script(setup, log: list[str]):
    """The script a careful person writes: the same data split (Strata's loader, which
    reads scikit-learn's file like any script), the network written by hand, the same
    seed, optimizer, batch size and shuffling; after every epoch it reports what the
    engine reports too (the epoch's mean training loss, validation loss and accuracy).

    A generator: it stops after each epoch (``yield``) so it can run in lockstep with
    the engine; it returns the epoch that reached the target (0: none did).
    """
    from runtime.datasets import load_dataset

    bundle = load_dataset(setup.dataset, seed=setup.seed,
                          val_fraction=setup.val_fraction,
                          test_fraction=setup.test_fraction)
    torch.manual_seed(setup.seed)
    model = HandDigitsMLP()
    optimizer = torch.optim.Adam(model.parameters(), lr=setup.lr)
    loss_fn = nn.CrossEntropyLoss()
    x, y = bundle.tensors("train")
    vx, vy = bundle.tensors("val")
    g = torch.Generator().manual_seed(setup.seed)
    n, bs = len(y), setup.batch_size
    for epoch in range(1, setup.epochs + 1):
        model.train()
        perm = torch.randperm(n, generator=g)
        total, count = 0.0, 0
        for i in range(0, n, bs):
            idx = perm[i:i + bs]
            loss = loss_fn(model(x[idx]), y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            total += loss.item()
            count += 1
        model.eval()
        with torch.no_grad():
            out = model(vx)
            val_loss = loss_fn(out, vy).item()
            accuracy = (out.argmax(1) == vy).float().mean().item()
        log.append(f"epoch {epoch}: loss {total / count:.4f}, validation loss "
                   f"{val_loss:.4f}, accuracy {accuracy:.1%}")
        if accuracy >= TARGET_ACCURACY:
            return epoch
        yield
    return 0


class PlainSide:
    """The plain script, advanced one epoch at a time, its own time counted."""

    def __init__(self, setup) -> None:
        self.log: list[str] = []
        self.script = plain_script(setup, self.log)
        self.clock = Clock()
        self.done = False

    def advance(self) -> tuple[float, float]:
        """Run the script's next epoch (its start with the first); the time it took."""
        if self.done:
            return 0.0, 0.0
        cpu, wall = now()
        try:
            next(self.script)
        except StopIteration as end:
            self.done = True
            self.clock.epoch = end.value
        cpu, wall = now()[0] - cpu, now()[1] - wall
        self.clock.add(cpu, wall)
        return cpu, wall


def race(doc, setup, plain_first: bool) -> tuple[Clock, Clock]:
    """Both sides to the target in lockstep: an epoch of one, then an epoch of the
    other (the script's epochs run inside the engine's epoch events). Each side's
    clocks count only its own sections, so a change of the machine's speed falls on
    both within milliseconds. The engine is run as the studio runs it (in-process here;
    the worker process's start is what the standby worker hides, not this figure):
    every check, instrumentation at its defaults, the training metric, validation,
    events. Its wall-clock sampling limits are shifted by the time the script took,
    so it samples as often as it would alone."""
    plain = PlainSide(setup)
    strata = Clock()
    inside = [0.0, 0.0]  # the script's time spent inside the engine's run
    trainer: Trainer

    def emit(event) -> None:
        if not isinstance(event, EpochEvent):
            return
        if not strata.epoch and event.val_metric is not None and \
                event.val_metric >= TARGET_ACCURACY:
            cpu, wall = now()
            strata.add(cpu - inside[0], wall - inside[1])
            strata.epoch = event.epoch
            trainer.control.stop()
        cpu, wall = plain.advance()
        inside[0] += cpu
        inside[1] += wall
        for policy in (trainer._reports, trainer._samples):
            policy._last += wall
        trainer._boundary_at += wall

    if plain_first:
        plain.advance()
    cpu, wall = now()
    strata.add(-cpu, -wall)
    trainer = Trainer(doc, setup, emit=emit, options=EngineOptions())
    trainer.run()
    if not strata.epoch:
        strata.add(*now())  # never reached: clocks read as a failure below
        strata.epoch = 0
    while not plain.done:
        plain.advance()
    return plain.clock, strata


def digits_check(doc, setup) -> None:
    """Refuse an unfair comparison: the hand-written network must start from the very
    weights the engine's does (same seed, same creation order)."""
    from runtime.engine import _seed_everything

    _seed_everything(setup.seed)
    ours = list(graph.compile(doc).parameters())
    torch.manual_seed(setup.seed)
    theirs = list(HandDigitsMLP().parameters())
    if len(ours) != len(theirs) or any(a.shape != b.shape or not torch.equal(a, b)
                                       for a, b in zip(ours, theirs)):
        raise SystemExit("digits: the hand-written network does not start from the "
                         "engine's weights; the comparison would not be fair")


def measure_accuracy(rounds: int) -> dict:
    """Rounds alternate which side starts; garbage is collected before each race."""
    doc = digits_document()
    setup = TrainingSetup.from_document(doc)
    digits_check(doc, setup)
    for r in range(2):  # warm up both (lazy imports, allocator, scikit-learn's file)
        race(doc, setup, plain_first=r == 1)
    cpu, wall, plain_s, strata_s, epochs = [], [], [], [], set()
    for r in range(rounds):
        gc.collect()
        p, s = race(doc, setup, plain_first=r % 2 == 1)
        if not p.epoch or not s.epoch:
            raise SystemExit(f"digits: {TARGET_ACCURACY:.0%} validation accuracy not "
                             f"reached in {setup.epochs} epochs (plain: epoch {p.epoch}, "
                             f"strata: epoch {s.epoch}; 0 is never)")
        cpu.append(s.cpu / p.cpu)
        wall.append(s.wall / p.wall)
        plain_s.append(p.cpu)
        strata_s.append(s.cpu)
        epochs.add((p.epoch, s.epoch))
    return {"ratio": summary(cpu), "wall": summary(wall),
            "plain": statistics.median(plain_s), "strata": statistics.median(strata_s),
            "epochs": sorted(epochs)}
