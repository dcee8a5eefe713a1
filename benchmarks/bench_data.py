"""Streaming data speed and memory: ``python benchmarks/bench_data.py``.

Generates an image folder (by default 10,000 PNG files, 64x64 RGB, 10 classes; kept in
``--dir`` between runs), then trains the same small CNN for one epoch of its training
split, with the same augmentation (flip, random resized crop, rotation; Kornia, batch-wise
after transfer), the same number of DataLoader workers and the same batch size:

- through Strata's streaming path (``runtime.engine.Trainer`` with ``data_path`` "stream",
  instrumentation on at its default sampling), and
- through a hand-written script: a ``Dataset`` that opens each PNG with Pillow, converts
  and resizes it, a shuffled ``DataLoader``, the Kornia pipeline, the same network
  (Strata's generated module, same seed), Adam and cross-entropy.

Rounds alternate (Strata, plain, plain, Strata, ...); the figure is the median over rounds
of (Strata examples/s) / (plain examples/s), wall time of the training steps (data loading
happens in other processes, so the thread's CPU time would not see it). Validation is not
timed. ``peak-rss`` is this process's peak resident memory after the first Strata round,
before any plain round: it must not grow with the number of files (run with ``--files
40000`` to compare). The last line reads ``data-throughput: ratio <strata/plain>
peak-rss <MB>``.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

AUGMENT = [{"op": "flip"}, {"op": "resized_crop", "min_scale": 0.7},
           {"op": "rotation", "degrees": 10.0}]


def make_folder(root: Path, files: int, size: int, classes: int = 10) -> Path:
    """``files`` PNGs in ``classes`` subfolders (reused when already there)."""
    from PIL import Image

    marker = root / f".made-{files}-{size}"
    if marker.exists():
        return root
    rng = np.random.default_rng(0)
    per_class = files // classes
    started = time.perf_counter()
    for c in range(classes):
        folder = root / f"class_{c}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            pixels = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
            pixels[: size // (c + 2)] //= 2  # a class signal
            Image.fromarray(pixels).save(folder / f"{i:06d}.png", compress_level=1)
    marker.touch()
    print(f"generated {per_class * classes} files in {time.perf_counter() - started:.0f} s")
    return root


def network(size: int):
    from graph.builder import Builder

    b = Builder("Bench CNN")
    x = b.add("Input", shape=[3, size, size])
    b.chain(x, ("Conv2d", {"out_channels": 16, "kernel_size": [3, 3], "padding": [1, 1]}),
            "ReLU", ("MaxPool2d", {"kernel_size": [2, 2]}),
            ("Conv2d", {"out_channels": 32, "kernel_size": [3, 3], "padding": [1, 1]}),
            "ReLU", ("AdaptiveAvgPool2d", {"output_size": [4, 4]}), "Flatten",
            ("Linear", {"out_features": 10}), ("Output", {"task": "classification"}))
    return b.done()


def setup_for(root: Path, size: int, args):
    from runtime.setup import TrainingSetup

    return TrainingSetup.from_dict({
        "dataset": {"name": "image_folder", "path": str(root), "image_size": size,
                    "color": "rgb"},
        "batch_size": args.batch_size, "epochs": 1, "workers": args.workers,
        "data_path": "stream", "val_fraction": 0.02, "test_fraction": 0.0,
        "lr": 1e-3, "augment": AUGMENT})


def strata(doc, setup) -> tuple[int, float]:
    """Examples and wall seconds of the engine's training steps."""
    from runtime.engine import Trainer

    result = Trainer(doc, setup).run()
    if not hasattr(result, "summary"):
        raise SystemExit(f"the engine failed: {result.reason}")
    s = result.summary
    return s["steps"] * setup.batch_size, s["train_seconds"]


class PngFolder(torch.utils.data.Dataset):
    """What a careful person writes: list the files, decode one per item."""

    def __init__(self, root: Path, size: int):
        self.classes = sorted(p.name for p in root.iterdir() if p.is_dir())
        self.items = [(f, c) for c, name in enumerate(self.classes)
                      for f in sorted((root / name).glob("*.png"))]
        self.size = size

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int):
        from PIL import Image

        path, label = self.items[i]
        with Image.open(path) as im:
            im = im.convert("RGB").resize((self.size, self.size), Image.Resampling.BILINEAR)
            x = torch.from_numpy(np.asarray(im, dtype=np.float32) / 255.0).permute(2, 0, 1)
        return x, label


def plain(doc, setup, root: Path, size: int, examples: int) -> tuple[int, float]:
    """Examples and wall seconds of a hand-written DataLoader training loop."""
    import kornia.augmentation as K

    import graph

    torch.manual_seed(setup.seed)
    model = graph.compile(doc)
    optimizer = torch.optim.Adam(model.parameters(), lr=setup.lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    augment = K.AugmentationSequential(
        K.RandomHorizontalFlip(p=0.5), K.RandomResizedCrop((size, size), scale=(0.7, 1.0)),
        K.RandomRotation(10.0, p=0.5))
    data = PngFolder(root, size)
    subset = torch.utils.data.Subset(data, torch.randperm(len(data))[:examples].tolist())
    loader = torch.utils.data.DataLoader(subset, batch_size=setup.batch_size, shuffle=True,
                                         num_workers=setup.workers,
                                         persistent_workers=setup.workers > 0)
    model.train()
    seen = 0
    started = time.perf_counter()
    for x, y in loader:
        x = augment(x)
        optimizer.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        optimizer.step()
        seen += len(y)
    return seen, time.perf_counter() - started


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None,
                        help="where the image folder is generated (and kept)")
    parser.add_argument("--compare", type=int, nargs="+", default=None,
                        metavar="FILES", help="run once per folder size, each in its own "
                        "process (peak memory is per process), e.g. --compare 10000 "
                        "40000, and compare their peak memory")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(args, argv if argv is not None else sys.argv[1:])
    torch.set_num_threads(1)
    base = args.dir or Path(tempfile.gettempdir()) / "strata-bench-data"
    root = make_folder(base / f"{args.files}-{args.size}", args.files, args.size)
    doc = network(args.size)
    setup = setup_for(root, args.size, args)

    ratios, peak = [], None
    for r in range(args.rounds):
        order = ("s", "p") if r % 2 == 0 else ("p", "s")
        rates = {}
        for who in order:
            if who == "s":
                n, seconds = strata(doc, setup)
                if peak is None:
                    peak = peak_rss_mb()
            else:
                n, seconds = plain(doc, setup, root, args.size,
                                   examples=int(args.files * 0.98))
            rates[who] = n / seconds
        ratios.append(rates["s"] / rates["p"])
        print(f"round {r + 1}: strata {rates['s']:.0f} examples/s, plain "
              f"{rates['p']:.0f} examples/s, ratio {ratios[-1]:.3f}")
    print(f"{args.files} files {args.size}x{args.size}, {args.workers} workers, batch "
          f"{args.batch_size}: median ratio {statistics.median(ratios):.3f} over "
          f"{args.rounds} rounds (min {min(ratios):.3f}, max {max(ratios):.3f})")
    print(f"data-throughput: ratio {statistics.median(ratios):.3f} peak-rss {peak:.0f}")
    return 0


def compare(args, argv: list[str]) -> int:
    """One child process per folder size; each prints its own data-throughput line."""
    import subprocess

    rest, skip = [], False
    for a in argv:  # the same options without --compare and its values
        if a == "--compare":
            skip = True
            continue
        if skip and a.lstrip("-").isdigit():
            continue
        skip = False
        rest.append(a)
    peaks = {}
    for files in args.compare:
        done = subprocess.run([sys.executable, __file__, "--files", str(files), *rest],
                              capture_output=True, text=True, check=False)
        print(done.stdout, end="")
        if done.returncode:
            print(done.stderr[-2000:], file=sys.stderr)
            return done.returncode
        last = done.stdout.strip().splitlines()[-1]  # data-throughput: ratio r peak-rss m
        peaks[files] = float(last.split()[-1])
    low, high = min(peaks.values()), max(peaks.values())
    print("data-peak-rss: " + ", ".join(f"{f} files {m:.0f} MB" for f, m in peaks.items())
          + f"; spread {100 * (high - low) / max(low, 1):.1f}% (target: within 10%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
