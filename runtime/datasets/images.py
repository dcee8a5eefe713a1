"""Generated images ("shapes") and scikit-learn's handwritten digits.

Shapes are drawn for all images at once with numpy broadcasting over a pixel grid (no
drawing library, no loop over images), so 2,000 images take a few milliseconds. Each
image holds one filled shape at a random centre, size and brightness on a dark
background with Gaussian noise; pixels are clipped to [0, 1].
"""

from __future__ import annotations

import numpy as np

from graph.catalog import ParamSpec

from .registry import DatasetError, DatasetSpec, Raw, register

SHAPES = ("circle", "square", "triangle", "cross")


def draw_shapes(labels: np.ndarray, size: int, noise: float,
                rng: np.random.Generator) -> np.ndarray:
    """Images shaped (len(labels), 1, size, size), one shape (``SHAPES[label]``) each."""
    n = len(labels)
    radius = rng.uniform(0.18, 0.4, n) * size  # half the shape's extent, in pixels
    margin = radius + 1.0
    cx = rng.uniform(margin, size - 1 - margin)
    cy = rng.uniform(margin, size - 1 - margin)
    brightness = rng.uniform(0.6, 1.0, n)

    grid = np.arange(size, dtype=np.float32)
    # (n, size, size) offsets of every pixel from its image's centre, in radii
    dx = (grid[None, None, :] - cx[:, None, None]) / radius[:, None, None]
    dy = (grid[None, :, None] - cy[:, None, None]) / radius[:, None, None]
    kind = labels[:, None, None]
    circle = dx * dx + dy * dy <= 1.0
    square = (np.abs(dx) <= 0.8) & (np.abs(dy) <= 0.8)  # about the circle's area
    # Upward triangle: apex at dy = -1, base at dy = +0.8, half-width growing to 1.
    triangle = (dy >= -1.0) & (dy <= 0.8) & (np.abs(dx) <= (dy + 1.0) / 1.8)
    bar = np.maximum(0.25, 1.2 / radius)[:, None, None]  # at least ~1 pixel wide
    cross = ((np.abs(dx) <= bar) & (np.abs(dy) <= 1.0)) | (
        (np.abs(dy) <= bar) & (np.abs(dx) <= 1.0))
    mask = np.select([kind == 0, kind == 1, kind == 2], [circle, square, triangle], cross)
    images = mask * brightness[:, None, None].astype(np.float32)
    if noise:
        images = images + rng.normal(0.0, noise, images.shape).astype(np.float32)
    return np.clip(images, 0.0, 1.0, out=images)[:, None].astype(np.float32)


def make_shapes(o, rng) -> Raw:
    n = o["size"]
    labels = rng.permutation(np.arange(n) % len(SHAPES))
    images = draw_shapes(labels, o["image_size"], o["noise"], rng)
    return Raw([images], labels.astype(np.int64), "classification", list(SHAPES))


def make_digits(o, rng) -> Raw:
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # registry checks first; this is the race with uninstall
        raise DatasetError(f"scikit-learn could not be imported ({e}); install it with: "
                           "pip install scikit-learn") from None
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[:, None]  # (1797, 1, 8, 8)
    return Raw([images], digits.target.astype(np.int64), "classification",
               [str(i) for i in range(10)])


register(DatasetSpec(
    "shapes", "Shapes (28x28 images)", "Generated",
    "Grayscale images of a circle, square, triangle or cross at a random position, "
    "size and brightness, with pixel noise.", make_shapes,
    (ParamSpec("size", "int", 2000, "Number of images, all splits together.", min=20,
               max=100_000),
     ParamSpec("noise", "float", 0.1, "Standard deviation of the pixel noise (pixels "
               "range from 0 to 1).", min=0.0, max=1.0),
     ParamSpec("image_size", "int", 28, "Width and height of each image in pixels.",
               min=16, max=128)),
    input_summary="1x28x28 grayscale images"))
register(DatasetSpec(
    "digits", "Handwritten digits (8x8)", "Real",
    "The 1,797 handwritten digits scikit-learn ships: 8x8 grayscale images, classes "
    "0 to 9.", make_digits, needs=("scikit-learn",),
    input_summary="1x8x8 grayscale images"))
