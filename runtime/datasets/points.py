"""Generated point data: 2-D classification sets, a noisy sine and a two-input set.

Points lie roughly in [-1, 1] so no standardisation is needed and decision boundaries are
drawn over a familiar square. ``noise`` is always a Gaussian standard deviation in those
units.
"""

from __future__ import annotations

import numpy as np

from graph.catalog import ParamSpec

from .registry import DatasetSpec, Raw, register


def _size(default: int = 1000) -> ParamSpec:
    return ParamSpec("size", "int", default, "Number of examples, all splits together.",
                     min=20, max=200_000)


def _noise(default: float) -> ParamSpec:
    return ParamSpec("noise", "float", default, "Standard deviation of the Gaussian "
                     "noise added to each coordinate (the points span about -1 to 1).",
                     min=0.0, max=2.0)


def _classes(default: int, high: int) -> ParamSpec:
    return ParamSpec("classes", "int", default, "Number of classes.", min=2, max=high)


def _balanced_labels(n: int, k: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(np.arange(n) % k)


def _points(xy: np.ndarray, labels: np.ndarray, k: int, noise: float,
            rng: np.random.Generator) -> Raw:
    xy = xy + rng.normal(0.0, noise, xy.shape) if noise else xy
    return Raw([xy.astype(np.float32)], labels.astype(np.int64), "classification",
               [f"class {i}" for i in range(k)])


def make_spirals(o, rng) -> Raw:
    n, k = o["size"], o["classes"]
    labels = _balanced_labels(n, k, rng)
    t = np.sqrt(rng.uniform(0.0, 1.0, n)) * 0.95 + 0.05  # denser towards the rim
    angle = t * 1.5 * 2 * np.pi + labels * 2 * np.pi / k
    xy = np.stack([t * np.cos(angle), t * np.sin(angle)], axis=1)
    return _points(xy, labels, k, o["noise"], rng)


def make_moons(o, rng) -> Raw:
    n = o["size"]
    labels = _balanced_labels(n, 2, rng)
    a = rng.uniform(0.0, np.pi, n)
    upper = np.stack([np.cos(a), np.sin(a)], axis=1)
    lower = np.stack([1.0 - np.cos(a), 0.5 - np.sin(a)], axis=1)
    xy = np.where(labels[:, None] == 0, upper, lower)
    xy = (xy - [0.5, 0.25]) / 1.5  # centre on the origin, span about [-1, 1]
    return _points(xy, labels, 2, o["noise"], rng)


def make_circles(o, rng) -> Raw:
    n, k = o["size"], o["classes"]
    labels = _balanced_labels(n, k, rng)
    radius = (labels + 1) / k  # ring i has radius (i + 1) / k, the outermost 1
    a = rng.uniform(0.0, 2 * np.pi, n)
    xy = radius[:, None] * np.stack([np.cos(a), np.sin(a)], axis=1)
    return _points(xy, labels, k, o["noise"], rng)


def make_xor(o, rng) -> Raw:
    n = o["size"]
    xy = rng.uniform(-1.0, 1.0, (n, 2))
    # Keep the points off the axes, where the label flips and noise makes it a coin toss.
    xy = np.sign(xy) * (0.05 + 0.95 * np.abs(xy))
    labels = ((xy[:, 0] > 0) ^ (xy[:, 1] > 0)).astype(np.int64)
    return _points(xy, labels, 2, o["noise"], rng)


def make_blobs(o, rng) -> Raw:
    n, k = o["size"], o["classes"]
    labels = _balanced_labels(n, k, rng)
    angles = 2 * np.pi * np.arange(k) / k + np.pi / 4
    centres = 0.7 * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return _points(centres[labels], labels, k, o["noise"], rng)


def make_sine(o, rng) -> Raw:
    n = o["size"]
    x = rng.uniform(-1.0, 1.0, (n, 1))
    y = np.sin(np.pi * o["periods"] * x) + rng.normal(0.0, o["noise"], (n, 1))
    return Raw([x.astype(np.float32)], y.astype(np.float32), "regression",
               feature_names=["x"])


def make_two_inputs(o, rng) -> Raw:
    """Three classes that neither input separates alone: input ``a`` (2 numbers) tells
    class 2 apart, input ``b`` (4 numbers) tells class 0 apart, together all three."""
    n = o["size"]
    labels = _balanced_labels(n, 3, rng)
    a_centres = np.array([[-0.5, 0.0], [-0.5, 0.0], [0.5, 0.0]])
    b_centres = np.array([[0.6, 0.6, -0.6, -0.6], [-0.6, -0.6, 0.6, 0.6],
                          [-0.6, -0.6, 0.6, 0.6]])
    noise = o["noise"]
    a = a_centres[labels] + rng.normal(0.0, noise, (n, 2))
    b = b_centres[labels] + rng.normal(0.0, noise, (n, 4))
    return Raw([a.astype(np.float32), b.astype(np.float32)], labels.astype(np.int64),
               "classification", ["class 0", "class 1", "class 2"])


_TWO_D = "2-D points"

register(DatasetSpec(
    "spirals", "Two spirals", "Generated",
    "Interleaved spiral arms, one per class: the classic test that a network can learn a "
    "curved boundary.", make_spirals,
    (_size(), _noise(0.05), _classes(2, 6)), input_summary=_TWO_D))
register(DatasetSpec(
    "moons", "Moons", "Generated", "Two interlocking half circles.", make_moons,
    (_size(), _noise(0.1)), input_summary=_TWO_D))
register(DatasetSpec(
    "circles", "Circles", "Generated",
    "Concentric rings, one per class: separable only by a round boundary.", make_circles,
    (_size(), _noise(0.05), _classes(2, 6)), input_summary=_TWO_D))
register(DatasetSpec(
    "xor", "XOR", "Generated",
    "Points in four quadrants; opposite quadrants share a class. No straight line "
    "separates them.", make_xor, (_size(), _noise(0.05)), input_summary=_TWO_D))
register(DatasetSpec(
    "blobs", "Gaussian blobs", "Generated",
    "Round clusters around centres on a circle, one per class.", make_blobs,
    (_size(), _noise(0.2), _classes(3, 12)), input_summary=_TWO_D))
register(DatasetSpec(
    "sine", "Noisy sine (regression)", "Generated",
    "Predict y = sin(pi * periods * x) from x in [-1, 1], with noise on y.", make_sine,
    (_size(500), _noise(0.1),
     ParamSpec("periods", "float", 1.0, "Half-periods of the sine over [-1, 1].",
               min=0.1, max=20.0)),
    task="regression", input_summary="1 number"))
register(DatasetSpec(
    "two_inputs", "Two inputs, three classes", "Generated",
    "For networks with two Inputs, shaped (2,) and (4,): each input alone tells only one "
    "class apart, both together tell all three.", make_two_inputs,
    (_size(), _noise(0.3)), input_summary="two inputs: 2 numbers and 4 numbers"))
