"""Pictures of probed values as RGB arrays, shared by ``strata probe`` and the studio.

Feature maps become a grid of tiles (each map scaled on its own, so a faint map still
shows its pattern), vectors a strip of bars coloured by sign, sequences and attention a
heatmap, attributions a diverging heat over the input. Arrays are ``uint8`` (H, W, 3);
``save_png`` writes one through Pillow.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

# A perceptually ordered ramp (dark blue -> teal -> yellow), and a diverging one
# (blue for negative, white for zero, red for positive), sampled at a few stops.
_RAMP = np.array([[13, 8, 135], [84, 2, 163], [139, 10, 165], [185, 50, 137],
                  [219, 92, 104], [244, 136, 73], [254, 188, 43], [240, 249, 33]],
                 dtype=np.float64)
_DIVERGING = np.array([[33, 102, 172], [146, 197, 222], [247, 247, 247],
                       [244, 165, 130], [178, 24, 43]], dtype=np.float64)


def colormap(values: np.ndarray, stops: np.ndarray = _RAMP) -> np.ndarray:
    """``values`` in [0, 1] -> uint8 RGB by linear interpolation between ``stops``."""
    v = np.clip(np.nan_to_num(values, nan=0.0), 0.0, 1.0) * (len(stops) - 1)
    low = np.floor(v).astype(int)
    high = np.minimum(low + 1, len(stops) - 1)
    frac = (v - low)[..., None]
    return (stops[low] * (1 - frac) + stops[high] * frac).round().astype(np.uint8)


def scaled(values: np.ndarray) -> np.ndarray:
    v = np.asarray(values, dtype=np.float64)
    lo, hi = (float(v.min()), float(v.max())) if v.size else (0.0, 0.0)
    return (v - lo) / (hi - lo) if hi > lo else np.zeros_like(v)


def feature_grid(maps: np.ndarray, limit: int = 16, gap: int = 1) -> np.ndarray:
    """(C, H, W) maps -> an RGB grid of up to ``limit`` tiles, each scaled alone."""
    maps = np.asarray(maps)[:limit]
    count, h, w = maps.shape
    cols = math.ceil(math.sqrt(count))
    rows = math.ceil(count / cols)
    grid = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap, 3), 255, np.uint8)
    for k, m in enumerate(maps):
        r, c = divmod(k, cols)
        grid[r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = (
            colormap(scaled(m)))
    return grid


def bar_strip(vector: np.ndarray, height: int = 24, bar: int = 4,
              limit: int = 64) -> np.ndarray:
    """(F,) -> bars rising from the middle, red above zero and blue below."""
    v = np.asarray(vector, dtype=np.float64).ravel()[:limit]
    peak = float(np.abs(v).max()) if v.size else 0.0
    img = np.full((height, max(len(v), 1) * bar, 3), 255, np.uint8)
    mid = height // 2
    for i, value in enumerate(v):
        size = round(abs(value) / peak * (mid - 1)) if peak > 0 else 0
        colour = _DIVERGING[-1] if value >= 0 else _DIVERGING[0]
        top, bottom = (mid - size, mid) if value >= 0 else (mid, mid + size)
        img[top:bottom, i * bar:(i + 1) * bar - 1] = colour.astype(np.uint8)
    img[mid, :] = 160
    return img


def heatmap(values: np.ndarray) -> np.ndarray:
    """Any 2-D array -> RGB, scaled to its own range."""
    return colormap(scaled(np.asarray(values)))


def diverging(values: np.ndarray) -> np.ndarray:
    """Signed values -> blue/white/red with 0 at white, scaled by the largest |value|."""
    v = np.asarray(values, dtype=np.float64)
    peak = float(np.abs(v).max()) if v.size else 0.0
    return colormap((v / peak + 1) / 2 if peak > 0 else np.full_like(v, 0.5), _DIVERGING)


def value_image(kind: str, value: np.ndarray) -> np.ndarray | None:
    """The picture the canvas and ``strata probe`` show for one node's value."""
    if kind == "maps":
        return feature_grid(value)
    if kind == "vector":
        return bar_strip(value)
    if kind == "sequence":
        return heatmap(value.T)
    return None


def input_image(x: np.ndarray) -> np.ndarray | None:
    """An image input (C, H, W) with 1 or 3 channels as RGB; None for other inputs."""
    x = np.asarray(x)
    if x.ndim != 3 or x.shape[0] not in (1, 3):
        return None
    rgb = np.repeat(x, 3, axis=0) if x.shape[0] == 1 else x
    return (scaled(rgb).transpose(1, 2, 0) * 255).round().astype(np.uint8)


def overlay(base: np.ndarray | None, heat: np.ndarray, alpha: float = 0.55) -> np.ndarray:
    """Attribution ``heat`` (H, W) over an RGB ``base`` (same size), or alone."""
    coloured = diverging(heat).astype(np.float64)
    if base is None:
        return coloured.astype(np.uint8)
    mix = base.astype(np.float64) * (1 - alpha) + coloured * alpha
    return mix.round().astype(np.uint8)


def enlarge(img: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling so small maps stay crisp in a PNG."""
    return np.repeat(np.repeat(img, factor, axis=0), factor, axis=1) if factor > 1 else img


def save_png(img: np.ndarray, path: str | Path) -> Path:
    try:
        from PIL import Image
    except ImportError:
        from graph.errors import StrataError

        raise StrataError("Writing PNG images needs Pillow: "
                          "pip install 'strata-studio[images]'") from None
    import io

    from graph.atomic import write_atomic

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(img)).save(buffer, format="PNG")
    write_atomic(path, buffer.getvalue())
    return Path(path)
