"""Why this prediction: attribution maps from Captum for one probed example.

Saliency and Integrated Gradients attribute the chosen class's score to the input
(per pixel, per feature); Grad-CAM does it on a chosen convolution layer and is
upsampled to the input's size. Token inputs cannot be differentiated, so for them the
same methods run on the first Embedding layer's output and are summed per token.
Captum (``pip install 'strata-studio[attribution]'``) does the work; nothing here
reimplements it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from graph.errors import StrataError

from .core import Prober

METHODS = {
    "saliency": "Saliency (|gradient| of the class score)",
    "integrated_gradients": "Integrated Gradients (from a zero baseline)",
    "grad_cam": "Grad-CAM on a convolution layer",
}


class AttributionError(StrataError):
    """An attribution that cannot be computed for this network or input, said why."""


@dataclass(frozen=True)
class Attribution:
    method: str
    target: int
    values: np.ndarray  # shaped like one input example (tokens: one value per token)
    layer: str | None = None  # the node id Grad-CAM ran on

    def normalised(self) -> np.ndarray:
        """Values scaled to [-1, 1] (0 stays 0) for display."""
        peak = float(np.abs(self.values).max()) if self.values.size else 0.0
        return self.values / peak if peak > 0 else self.values


def _captum():
    try:
        from captum import attr
    except ImportError:
        raise AttributionError(
            "Attribution needs Captum: pip install 'strata-studio[attribution]'"
        ) from None
    return attr


def conv_layers(prober: Prober) -> list[str]:
    """Node ids whose module is a convolution (Grad-CAM's choices), in forward order."""
    doc = prober.compiled.analysis.doc
    order = prober.compiled.analysis.order or list(doc.nodes)
    return [n for n in order if isinstance(prober.compiled.submodule(n),
                                           torch.nn.modules.conv._ConvNd)]


def attribute(prober: Prober, inputs, method: str = "integrated_gradients",
              target: int | None = None, layer: str | None = None,
              steps: int = 32) -> Attribution:
    """Attribute class ``target`` (default: the predicted one) for one example."""
    if method not in METHODS:
        raise AttributionError(f"Unknown attribution {method!r}; expected one of "
                               + ", ".join(METHODS))
    if len(prober.input_ids) != 1:
        raise AttributionError("Attribution is shown for networks with one input; this "
                               f"one has {len(prober.input_ids)}")
    attr = _captum()
    module = prober.module
    x = torch.as_tensor(inputs).detach().clone().unsqueeze(0)
    if target is None:
        result = prober.probe(inputs, with_gradients=False)
        target = result.predicted if result.predicted is not None else 0
    out_width = int(prober.predict(x).reshape(1, -1).shape[1])
    if not 0 <= target < out_width:
        raise AttributionError(f"class {target} is not one of the network's {out_width}"
                               " outputs")

    def forward(*xs):
        return module(*xs).reshape(xs[0].shape[0], -1)

    was_training = module.training
    module.eval()
    try:
        if method == "grad_cam":
            return _grad_cam(attr, prober, forward, x, target, layer)
        if not x.is_floating_point():
            return _token_attribution(attr, prober, forward, x, target, method, steps)
        x.requires_grad_(True)
        if method == "saliency":
            values = attr.Saliency(forward).attribute(x, target=target, abs=True)
        else:
            values = attr.IntegratedGradients(forward).attribute(
                x, baselines=torch.zeros_like(x), target=target, n_steps=steps)
        return Attribution(method, target, values[0].detach().numpy())
    finally:
        module.train(was_training)
        module.zero_grad(set_to_none=True)


def _grad_cam(attr, prober: Prober, forward, x, target: int,
              layer: str | None) -> Attribution:
    choices = conv_layers(prober)
    if not choices:
        raise AttributionError("Grad-CAM needs a convolution layer; this network has "
                               "none (use saliency or integrated_gradients)")
    layer = layer or choices[-1]
    if layer not in choices:
        doc = prober.compiled.analysis.doc
        name = doc.nodes[layer].describe() if layer in doc.nodes else repr(layer)
        raise AttributionError(f"Grad-CAM runs on a convolution layer; {name} is not one")
    cam = attr.LayerGradCam(forward, prober.compiled.submodule(layer))
    maps = cam.attribute(x, target=target, relu_attributions=True)
    if x.dim() == 4:  # images: bring the map up to the input's size
        maps = attr.LayerAttribution.interpolate(maps, tuple(x.shape[-2:]),
                                                 interpolate_mode="bilinear")
        values = maps[0, 0].detach().numpy()
        values = np.broadcast_to(values, tuple(x.shape[1:])).copy()
    else:
        values = maps[0].detach().numpy()
    return Attribution("grad_cam", target, values, layer)


def _token_attribution(attr, prober: Prober, forward, x, target: int, method: str,
                       steps: int) -> Attribution:
    embedding = next((m for m in prober.module.modules()
                      if isinstance(m, torch.nn.Embedding)), None)
    if embedding is None:
        raise AttributionError("Integer inputs can only be attributed through an "
                               "Embedding layer, and this network has none")
    if method == "saliency":
        algo = attr.LayerGradientXActivation(forward, embedding)
        values = algo.attribute(x, target=target)
    else:
        algo = attr.LayerIntegratedGradients(forward, embedding)
        values = algo.attribute(x, target=target, n_steps=steps)
    return Attribution(method, target, values[0].sum(dim=-1).detach().numpy())
