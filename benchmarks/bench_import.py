"""How much of the classic model zoo imports, and how fast: ``python benchmarks/bench_import.py``.

Imports every architecture of ``tests/transfer/zoo_models.py`` (ResNet basic and
bottleneck, SE-ResNet, VGG, MobileNetV2/V3, SqueezeNet, EfficientNet, DenseNet, UNet, ViT,
MLP-Mixer, a GPT, an LSTM tagger, a Siamese network) at their test sizes, then a full
ResNet-50 at 224 x 224 (``--resnet50-size`` to change it), each with verification (the
imported network's outputs compared with the original's, the user's submodules kept as
blocks), and prints one line per model (seconds, top-level nodes, block definitions or
"flat") and at the end::

    import-coverage: <imported>/<tried>
    resnet50-import: <seconds> s

Run it on a quiet machine; a figure under load is not a figure.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests" / "transfer")]


def _import(make, shapes, dtypes, task) -> tuple[float, int | str, int]:
    import torch

    from graph.errors import StrataError
    from graph.importers import import_module

    torch.manual_seed(0)
    module = make()
    start = time.perf_counter()
    try:
        result = import_module(module, shapes, dtypes, tasks=task)
    except StrataError as e:
        return time.perf_counter() - start, str(e).splitlines()[0][:120], 0
    return (time.perf_counter() - start, len(result.document.nodes),
            len(result.document.blocks))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resnet50-size", type=int, default=224,
                        help="image size of the ResNet-50 import (default 224)")
    parser.add_argument("--only", nargs="*", help="names of zoo models to import")
    args = parser.parse_args(argv)

    import torch

    torch.set_num_threads(max(1, torch.get_num_threads()))
    from zoo_models import ZOO, resnet50

    tried = imported = 0
    for name, (make, shapes, dtypes, task) in ZOO.items():
        if args.only and name not in args.only:
            continue
        seconds, outcome, blocks = _import(make, shapes, dtypes, task)
        tried += 1
        ok = isinstance(outcome, int)
        imported += ok
        kept = f", {blocks} block definitions" if blocks else ", flat"
        what = f"{outcome} nodes{kept}" if ok else f"FAILED: {outcome}"
        print(f"{name:20s} {seconds:7.2f} s  {what}", flush=True)
    size = args.resnet50_size
    seconds, outcome, blocks = _import(resnet50, [(1, 3, size, size)], None,
                                       "classification")
    tried += 1
    imported += isinstance(outcome, int)
    print(f"{'resnet50':20s} {seconds:7.2f} s  {outcome} nodes, {blocks} block "
          "definitions", flush=True)
    print(f"import-coverage: {imported}/{tried}")
    print(f"resnet50-import: {seconds:.2f} s (at {size} x {size})")
    return 0 if imported == tried else 1


if __name__ == "__main__":
    sys.exit(main())
