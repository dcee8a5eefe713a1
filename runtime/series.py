"""Bounded time series for live plots: memory stays fixed however long a run lasts.

A run of hundreds of thousands of steps sends tens of thousands of samples; plots and
heatmaps need a few hundred to a few thousand points. ``Decimator`` keeps at most
``capacity`` points per channel: when it is full, neighbouring pairs merge into one
(halving the resolution of the whole history, so it stays uniform in time) and each
later point stands for twice as many raw samples. Merging averages, so a loss curve
stays smooth; store logarithms to get geometric means (gradient norms).

Plain numpy, no Qt: the run record (``runtime.run_record``) keeps its curves in these.
"""

from __future__ import annotations

import numpy as np


class Decimator:
    """``channels`` values per sample against one x, at most ``capacity`` stored points.

    ``append(x, values)`` adds one raw sample (NaN where a channel has no value);
    ``xs()`` / ``values()`` return the stored points, the partial group still being
    filled included as the last point so a plot never lags behind the data.
    """

    def __init__(self, capacity: int = 2048, channels: int = 1) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity = capacity
        self.channels = channels
        self._x = np.empty(capacity, np.float64)
        self._v = np.full((capacity, channels), np.nan, np.float64)
        self.size = 0  # stored (complete) points
        self.stride = 1  # raw samples per stored point
        self.count = 0  # raw samples seen in all
        self._px = 0.0  # partial group: sums and counts
        self._pv = np.zeros(channels, np.float64)
        self._pn = np.zeros(channels, np.int64)
        self._pk = 0

    def __len__(self) -> int:
        return self.size + (1 if self._pk else 0)

    def append(self, x: float, values) -> None:
        v = np.asarray(values, np.float64).reshape(self.channels)
        ok = np.isfinite(v)
        self._px += x
        self._pv[ok] += v[ok]
        self._pn[ok] += 1
        self._pk += 1
        self.count += 1
        if self._pk >= self.stride:
            self._commit()

    def _partial(self) -> tuple[float, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            v = np.where(self._pn > 0, self._pv / np.maximum(self._pn, 1), np.nan)
        return self._px / self._pk, v

    def _commit(self) -> None:
        if self.size == self.capacity:
            self._halve()
        x, v = self._partial()
        self._x[self.size] = x
        self._v[self.size] = v
        self.size += 1
        self._px, self._pk = 0.0, 0
        self._pv[:] = 0.0
        self._pn[:] = 0

    def _halve(self) -> None:
        half = self.capacity // 2
        self._x[:half] = 0.5 * (self._x[0::2] + self._x[1::2])
        pairs = self._v.reshape(half, 2, self.channels)
        with np.errstate(invalid="ignore"), _quiet():
            merged = np.nanmean(pairs, axis=1)
        self._v[:half] = merged
        self._v[half:] = np.nan
        self.size = half
        self.stride *= 2

    def xs(self) -> np.ndarray:
        if not self._pk:
            return self._x[:self.size].copy()
        return np.append(self._x[:self.size], self._partial()[0])

    def values(self, channel: int | None = None) -> np.ndarray:
        """All channels (points, channels), or one channel (points,)."""
        stored = self._v[:self.size]
        if self._pk:
            stored = np.vstack([stored, self._partial()[1][None, :]])
        else:
            stored = stored.copy()
        return stored if channel is None else stored[:, channel]

    def last(self) -> np.ndarray | None:
        """The most recent point (the partial one if a group is being filled)."""
        if self._pk:
            return self._partial()[1]
        return self._v[self.size - 1].copy() if self.size else None


class _quiet:
    """nanmean warns on all-NaN pairs; a missing value is normal here."""

    def __enter__(self):
        import warnings

        self._ctx = warnings.catch_warnings()
        self._ctx.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc):
        return self._ctx.__exit__(*exc)


def log10_or_nan(value: float | None) -> float:
    """log10 for positive finite values; NaN for None, zero, negatives and non-finite."""
    if value is None or not np.isfinite(value) or value <= 0:
        return float("nan")
    return float(np.log10(value))


class HistogramHistory:
    """A layer's activation histograms over time, at most ``capacity`` of them.

    Each sample's histogram has bins of its own (from that step's min to its max); they
    are kept as they came, and when full every other one goes (the whole history keeps
    a uniform spacing in time, as ``Decimator`` does). ``grid(bins)`` re-bins them onto
    one value axis for an image: rows are value bins, columns samples.
    """

    def __init__(self, capacity: int = 96) -> None:
        if capacity < 4 or capacity % 2:
            raise ValueError("capacity must be an even number >= 4")
        self.capacity = capacity
        self.steps: list[int] = []
        self.hists: list[np.ndarray] = []
        self.edges: list[np.ndarray] = []
        self.stride = 1
        self.count = 0

    def __len__(self) -> int:
        return len(self.steps)

    def append(self, step: int, hist, edges) -> None:
        if len(edges) < 2:
            return  # no histogram in this sample (a run folder's log keeps none)
        self.count += 1
        if (self.count - 1) % self.stride:
            return
        if len(self.steps) == self.capacity:
            del self.steps[1::2], self.hists[1::2], self.edges[1::2]
            self.stride *= 2
        self.steps.append(step)
        self.hists.append(np.asarray(hist, np.float32))
        self.edges.append(np.asarray(edges, np.float32))

    def grid(self, bins: int = 48) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(steps, value_edges, density[bins, samples])``: each column the share of
        that sample's values in each bin of one common value axis."""
        if not self.steps:
            return np.zeros(0), np.zeros(bins + 1), np.zeros((bins, 0))
        lo = min(float(e[0]) for e in self.edges)
        hi = max(float(e[-1]) for e in self.edges)
        if not np.isfinite(lo) or not np.isfinite(hi):
            return np.asarray(self.steps, float), np.zeros(bins + 1), np.zeros((bins, 0))
        if hi <= lo:
            hi = lo + 1.0
        common = np.linspace(lo, hi, bins + 1)
        out = np.zeros((bins, len(self.steps)), np.float32)
        for k, (hist, edges) in enumerate(zip(self.hists, self.edges)):
            centres = 0.5 * (edges[:-1] + edges[1:])
            column, _ = np.histogram(centres, bins=common, weights=hist)
            total = column.sum()
            out[:, k] = column / total if total > 0 else 0.0
        return np.asarray(self.steps, float), common, out


def block_of(node_id: str) -> str | None:
    """The top-level block instance a measured layer is inside (``n5`` for ``n5/n3``
    and for a repeated copy's ``n5:1/n3``); None for a layer of the network itself."""
    if "/" not in node_id:
        return None
    return node_id.split("/", 1)[0].split(":", 1)[0]


def fold_blocks(values: np.ndarray, ids: list[str]) -> tuple[np.ndarray, list[str]]:
    """Heatmap rows with each block instance's inner layers folded into one row (the
    mean of their log10 values: a geometric mean of the norms), named by the instance
    id; layers of the network itself stay rows of their own, in order."""
    rows: list[np.ndarray] = []
    names: list[str] = []
    groups: dict[str, int] = {}
    for k, node_id in enumerate(ids):
        block = block_of(node_id)
        if block is None:
            rows.append(values[k][None, :])
            names.append(node_id)
        elif block in groups:
            rows[groups[block]] = np.vstack([rows[groups[block]], values[k][None, :]])
        else:
            groups[block] = len(rows)
            rows.append(values[k][None, :])
            names.append(block)
    if not rows:
        return values, list(ids)
    with np.errstate(invalid="ignore"), _quiet():
        folded = np.vstack([np.nanmean(r, axis=0) for r in rows])
    return folded, names
