"""What the training benchmarks share: the median of per-round ratios with its
confidence interval, and a process set up so rounds compare (``quiet_process``)."""

from __future__ import annotations

import gc
import math
import os
import statistics

import torch


def summary(ratios: list[float]) -> dict[str, float]:
    """Median, its 95% confidence interval (order statistics) and the quartiles."""
    r = sorted(ratios)
    n = len(r)
    med = statistics.median(r)
    if n < 3:
        return {"median": med, "ci_low": r[0], "ci_high": r[-1], "q1": r[0],
                "q3": r[-1], "n": n}
    half = 1.96 * math.sqrt(n) / 2  # ranks of the median's CI (normal approximation)
    lo = max(0, math.floor(n / 2 - half))
    hi = min(n - 1, math.ceil(n / 2 + half) - 1)
    q = statistics.quantiles(r, n=4)
    return {"median": med, "ci_low": r[lo], "ci_high": r[hi], "q1": q[0], "q3": q[2],
            "n": n}


def width(s: dict[str, float]) -> float:
    """The 95% CI of the median, as a share of the median: below 0.03, the figure tells
    a 3% overhead from none."""
    return (s["ci_high"] - s["ci_low"]) / s["median"]


def spread(s: dict[str, float]) -> str:
    return (f"{s['median']:.3f} (95% CI {s['ci_low']:.3f}-{s['ci_high']:.3f}, width "
            f"{width(s):.1%}; quartiles {s['q1']:.3f}-{s['q3']:.3f}, {s['n']} rounds)")


def quiet_process() -> None:
    """What keeps the rounds comparable: one thread for torch, the process pinned to
    one CPU (no migrations between cores, whose caches differ), and the heap the
    benchmark itself holds (torch, the datasets: some 400,000 objects) moved out of the
    garbage collector's sight, so a full collection (0.2 s) never lands inside one
    side's run; each run still collects what it makes."""
    torch.set_num_threads(1)
    if hasattr(os, "sched_setaffinity"):
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
    gc.collect()
    gc.freeze()
