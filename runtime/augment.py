"""Data augmentation for the training split, batch-wise on the training device.

A pipeline is plain data in the training setup (``setup.augment``), a list of steps::

    [{"op": "flip", "p": 0.5}, {"op": "rotation", "degrees": 15.0}, {"op": "mixup"}]

Each op is one ``AugmentSpec`` (its parameters are ``ParamSpec``s, like layer
parameters), so the training panel's pipeline editor and the checks are built from the
same declaration. ``build_pipeline`` turns the list into an ``Augmenter``: a callable on
a batch ``(inputs, target) -> (inputs, target)`` applied to training batches after they
reach the device (the device-resident path keeps its tensors on the GPU; the streaming
path runs the same pipeline after transfer). Validation and test batches are never
augmented.

Image ops are Kornia's (``kornia.augmentation``, the ``augment`` extra); the ops for
tables and sequences (noise, masking) are one line of torch each. Randomness comes from
torch's global generator, which the engine seeds: same seed, same augmented batches.
Mixup and CutMix turn class ids into class probabilities (soft targets), which
``CrossEntropyLoss`` accepts. For 0/1 targets (multi-label, binary) they mix the target
rows of each pair with the same weights as the inputs (a multi-hot row becomes a
weighted mix of two, which ``BCEWithLogitsLoss`` accepts): Kornia is handed each
example's position as its "class", so the pairs it draws index the target rows.
Regression targets are not mixed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from graph.catalog import ParamSpec
from graph.errors import ParamError, StrataError


class AugmentError(StrataError):
    """An augmentation step was refused; the message names the step and the value."""


@dataclass(frozen=True)
class AugmentSpec:
    name: str
    display_name: str
    kind: str  # "image" (needs (N, C, H, W)) or "any" (tables, sequences, images)
    help: str
    params: tuple[ParamSpec, ...]
    build: Callable[[dict[str, Any], tuple[int, ...]], Any]  # (params, shape) -> module
    mixes: bool = False  # mixes examples and their targets (mixup, cutmix)


def _p(default: float = 0.5) -> ParamSpec:
    return ParamSpec("p", "float", default, "Probability of applying the step to each "
                     "example.", min=0.0, max=1.0)


def _kornia():
    try:
        import kornia.augmentation as K
    except ImportError:
        raise AugmentError("Image augmentation needs the kornia package, which is not "
                           "installed. Install it with: pip install kornia  (or: pip "
                           "install 'strata-studio[augment]')") from None
    return K


def _crop(o, shape):
    return _kornia().RandomResizedCrop(tuple(shape[-2:]), scale=(o["min_scale"], 1.0),
                                       p=o["p"])


def _jitter(o, shape):
    color = shape[0] == 3  # saturation and hue only mean something for RGB
    return _kornia().ColorJiggle(o["brightness"], o["contrast"],
                                 o["saturation"] if color else 0.0,
                                 o["hue"] if color else 0.0, p=o["p"])


class _Noise(torch.nn.Module):
    def __init__(self, std: float, p: float) -> None:
        super().__init__()
        self.std, self.p = std, p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        keep = (torch.rand(len(x), device=x.device) < self.p).to(x.dtype)
        return x + torch.randn_like(x) * self.std * keep.reshape(-1, *[1] * (x.dim() - 1))


class _Mask(torch.nn.Module):
    """Zeroes a random share of the features (table columns, sequence positions)."""

    def __init__(self, fraction: float, p: float) -> None:
        super().__init__()
        self.fraction, self.p = fraction, p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        apply = torch.rand(len(x), device=x.device) < self.p
        drop = torch.rand(x.shape[:2], device=x.device) < self.fraction
        drop &= apply[:, None]
        return x.masked_fill(drop.reshape(*drop.shape, *[1] * (x.dim() - 2)), 0)


SPECS: dict[str, AugmentSpec] = {s.name: s for s in (
    AugmentSpec("resized_crop", "Random resized crop", "image",
                "Crops a random part of the image and resizes it back.",
                (ParamSpec("min_scale", "float", 0.6, "Smallest share of the image area "
                           "kept.", min=0.05, max=1.0), _p(1.0)), _crop),
    AugmentSpec("flip", "Horizontal flip", "image", "Mirrors the image left to right.",
                (_p(),), lambda o, s: _kornia().RandomHorizontalFlip(p=o["p"])),
    AugmentSpec("vflip", "Vertical flip", "image", "Mirrors the image top to bottom.",
                (_p(),), lambda o, s: _kornia().RandomVerticalFlip(p=o["p"])),
    AugmentSpec("rotation", "Rotation", "image", "Rotates by a random angle.",
                (ParamSpec("degrees", "float", 15.0, "Largest angle, either way.",
                           min=0.0, max=180.0), _p()),
                lambda o, s: _kornia().RandomRotation(o["degrees"], p=o["p"])),
    AugmentSpec("color_jitter", "Colour jitter", "image",
                "Random brightness, contrast, saturation and hue (the last two for RGB).",
                (ParamSpec("brightness", "float", 0.2, "", min=0.0, max=1.0),
                 ParamSpec("contrast", "float", 0.2, "", min=0.0, max=1.0),
                 ParamSpec("saturation", "float", 0.2, "", min=0.0, max=1.0),
                 ParamSpec("hue", "float", 0.05, "", min=0.0, max=0.5), _p()), _jitter),
    AugmentSpec("image_noise", "Gaussian noise", "image", "Adds Gaussian pixel noise.",
                (ParamSpec("std", "float", 0.05, "Standard deviation of the noise.",
                           min=0.0), _p()),
                lambda o, s: _kornia().RandomGaussianNoise(std=o["std"], p=o["p"])),
    AugmentSpec("erasing", "Random erasing", "image",
                "Blanks a random rectangle (cutout).",
                (ParamSpec("max_area", "float", 0.2, "Largest share of the image erased.",
                           min=0.02, max=0.9), _p()),
                lambda o, s: _kornia().RandomErasing(scale=(0.02, o["max_area"]),
                                                     p=o["p"])),
    AugmentSpec("mixup", "Mixup", "image", "Blends pairs of images and their classes.",
                (_p(1.0),), lambda o, s: _kornia().RandomMixUpV2(
                    p=o["p"], data_keys=["input", "class"]), mixes=True),
    AugmentSpec("cutmix", "CutMix", "image",
                "Pastes a patch of one image into another; classes mix by area.",
                (_p(1.0),), lambda o, s: _kornia().RandomCutMixV2(
                    p=o["p"], data_keys=["input", "class"], use_correct_lambda=True),
                mixes=True),
    AugmentSpec("noise", "Noise", "any", "Adds Gaussian noise to the features (tables, "
                "sequences).", (ParamSpec("std", "float", 0.05, "Standard deviation.",
                                          min=0.0), _p(1.0)),
                lambda o, s: _Noise(o["std"], o["p"])),
    AugmentSpec("masking", "Masking", "any", "Sets a random share of the features (or "
                "sequence positions) to zero.",
                (ParamSpec("fraction", "float", 0.1, "Share of features masked.",
                           min=0.0, max=1.0), _p(1.0)),
                lambda o, s: _Mask(o["fraction"], o["p"])),
)}


def check_pipeline(steps: Any) -> list[dict[str, Any]]:
    """The pipeline with every step checked and its defaults filled in."""
    if steps is None:
        return []
    if not isinstance(steps, (list, tuple)):
        raise AugmentError(f"The augmentation pipeline is a list of steps such as "
                           f'[{{"op": "flip"}}]; received {steps!r}')
    out = []
    for i, step in enumerate(steps, 1):
        if isinstance(step, str):
            step = {"op": step}
        if not isinstance(step, dict) or step.get("op") not in SPECS:
            raise AugmentError(f"Augmentation step {i}: unknown op "
                               f"{step.get('op') if isinstance(step, dict) else step!r}; "
                               f"available: {', '.join(SPECS)}")
        spec = SPECS[step["op"]]
        unknown = sorted(set(step) - {"op"} - {p.name for p in spec.params})
        if unknown:
            raise AugmentError(f"Augmentation step {i} ({spec.display_name}) has no "
                               f"parameter `{unknown[0]}` (its parameters: "
                               f"{', '.join(p.name for p in spec.params)})")
        checked: dict[str, Any] = {"op": spec.name}
        for p in spec.params:
            try:
                checked[p.name] = p.check(step.get(p.name, p.default))
            except ParamError as e:
                raise AugmentError(f"Augmentation step {i} ({spec.display_name}): "
                                   f"{e}") from None
        out.append(checked)
    return out


class Augmenter:
    """A checked pipeline bound to one input shape; call it on training batches."""

    def __init__(self, steps: list[dict[str, Any]], shape: tuple[int, ...], task: str,
                 num_classes: int | None) -> None:
        self.steps = steps
        self.num_classes = num_classes
        self.rows = task in ("multilabel", "binary")  # 0/1 target rows are mixed
        image = len(shape) == 3 and shape[0] in (1, 3)
        self.plain: list[Any] = []
        self.mixers: list[Any] = []  # the steps that mix examples (spec.mixes)
        for i, step in enumerate(steps, 1):
            spec = SPECS[step["op"]]
            if spec.kind == "image" and not image:
                raise AugmentError(
                    f"Augmentation step {i} ({spec.display_name}) works on images "
                    f"shaped (1 or 3, height, width); this input is shaped "
                    f"{tuple(shape)}. Use Noise or Masking for tables and sequences.")
            if spec.mixes and task not in ("classification", "multilabel", "binary"):
                raise AugmentError(f"Augmentation step {i} ({spec.display_name}) mixes "
                                   f"classes or labels; the Output's task is {task}")
            module = spec.build(step, tuple(shape))
            (self.mixers if spec.mixes else self.plain).append(module)

    def to(self, device) -> Augmenter:
        for m in (*self.plain, *self.mixers):
            m.to(device)
        return self

    def images(self, x: torch.Tensor) -> torch.Tensor:
        """The input-only steps (what a preview shows)."""
        with torch.no_grad():
            for module in self.plain:
                x = module(x)
        return x

    def __call__(self, xs: tuple[torch.Tensor, ...], y: torch.Tensor
                 ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        x = self.images(xs[0])
        for module in self.mixers:
            cutmix = isinstance(module, _kornia().RandomCutMixV2)
            if self.rows:  # pairs by position: mix the target rows themselves
                x, mixed = module(x, torch.arange(len(x), device=x.device))
                y = mix_rows(mixed.reshape(-1, len(x), 3)[-1], y, cutmix)
                continue
            if y.dim() > 1:  # already soft from an earlier mixer: mix the hard argmax
                y = y.argmax(1)
            x, mixed = module(x, y)
            y = _soft_targets(mixed.reshape(-1, len(x), 3)[-1], self.num_classes, cutmix)
        return (x, *xs[1:]), y


def _soft_targets(rows: torch.Tensor, classes: int | None, cutmix: bool) -> torch.Tensor:
    """Kornia's (label, other label, lambda) rows as class probabilities."""
    n = int(classes or int(rows[:, :2].max()) + 1)
    a = torch.nn.functional.one_hot(rows[:, 0].long(), n).float()
    b = torch.nn.functional.one_hot(rows[:, 1].long(), n).float()
    lam = rows[:, 2:3].float()
    # Mixup: x = (1 - lam) x_a + lam x_b. CutMix (correct lambda): lam is a's share.
    return lam * a + (1 - lam) * b if cutmix else (1 - lam) * a + lam * b


def mix_rows(rows: torch.Tensor, y: torch.Tensor, cutmix: bool) -> torch.Tensor:
    """Kornia's (position, other position, lambda) rows applied to target rows ``y``
    (multi-hot or 0/1): each example's target becomes the weighted mix of its pair's."""
    a, b = y[rows[:, 0].long()].float(), y[rows[:, 1].long()].float()
    lam = rows[:, 2].float().reshape(-1, *[1] * (y.dim() - 1))
    return lam * a + (1 - lam) * b if cutmix else (1 - lam) * a + lam * b


def build_pipeline(steps: Any, shape: tuple[int, ...], task: str,
                   num_classes: int | None, device=None) -> Augmenter | None:
    """The augmenter for a setup's pipeline, or None when it is empty."""
    checked = check_pipeline(steps)
    if not checked:
        return None
    augmenter = Augmenter(checked, shape, task, num_classes)
    return augmenter.to(device) if device is not None else augmenter


def describe_step(step: dict) -> str:
    """"Rotation (degrees 15, p 0.5)": a step in words, for the editor and messages."""
    spec = SPECS[step["op"]]
    params = ", ".join(f"{p.name.replace('_', ' ')} {step[p.name]:g}"
                       if isinstance(step[p.name], float) else f"{p.name} {step[p.name]}"
                       for p in spec.params)
    return f"{spec.display_name} ({params})" if params else spec.display_name


def preview_grid(samples: np.ndarray, steps: list[dict], rows: int = 2,
                 cell: int = 40) -> np.ndarray:
    """What the pipeline does to some images, as one RGB uint8 grid: ``samples``
    (N, C, H, W in 0..1) in the first row, then ``rows`` augmented draws of them, each
    image scaled to ``cell`` pixels."""
    x = torch.from_numpy(np.ascontiguousarray(samples))
    drawn = [x]
    augmenter = build_pipeline(steps, tuple(x.shape[1:]), "classification", None) \
        if steps else None
    for _ in range(rows):
        drawn.append(augmenter.images(x) if augmenter is not None else x)
    cells = []
    for row in drawn:
        images = row.clamp(0, 1)
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        resized = torch.nn.functional.interpolate(images, size=(cell, cell), mode="nearest")
        padded = torch.nn.functional.pad(resized, (2, 2, 2, 2), value=1.0)
        cells.append(torch.cat(list(padded), dim=2))  # side by side
    grid = torch.cat(cells, dim=1)  # rows stacked
    return (grid.permute(1, 2, 0).numpy() * 255).astype(np.uint8)
