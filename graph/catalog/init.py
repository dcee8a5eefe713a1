"""Weight initialisation: one set of parameters shared by every layer with weights.

``init`` chooses how the weights start (PyTorch's default, Kaiming/He normal or uniform,
Xavier/Glorot normal or uniform, orthogonal), ``nonlinearity`` the activation that
follows (Kaiming and Xavier scale for it) and ``bias_init`` whether biases start at
zero. The generated code states the choice in ``__init__`` with ``torch.nn.init``, so the
exported module, ``train.py`` and the studio's training all start from the same weights.
"""

from __future__ import annotations

import json
from typing import Any

from .spec import ParamSpec

INITS = ("default", "kaiming_normal", "kaiming_uniform", "xavier_normal",
         "xavier_uniform", "orthogonal")
NONLINEARITIES = ("relu", "leaky_relu", "tanh", "sigmoid", "selu", "linear")


def init_params() -> tuple[ParamSpec, ...]:
    return (
        ParamSpec("init", "choice", "default",
                  "How the weights start: PyTorch's default; Kaiming (He) keeps the "
                  "signal's size through ReLU networks; Xavier (Glorot) suits tanh and "
                  "sigmoid; orthogonal keeps deep or recurrent stacks well conditioned.",
                  choices=INITS),
        ParamSpec("nonlinearity", "choice", "relu",
                  "The activation after this layer, which Kaiming and Xavier scale for.",
                  choices=NONLINEARITIES),
        ParamSpec("bias_init", "choice", "default",
                  "default: PyTorch's small random biases; zeros: biases start at zero "
                  "(what Kaiming initialisation assumes).", choices=("default", "zeros")),
    )


def init_lines(weights: tuple[str, ...], attribute: str, params: dict[str, Any]) -> list[str]:
    """``nn.init`` statements for ``self.<attribute>``, nothing for PyTorch's default."""
    lines = []
    how = params.get("init", "default")
    nonlinearity = params.get("nonlinearity", "relu")
    gain = ("" if nonlinearity == "linear"
            else f", gain=nn.init.calculate_gain({json.dumps(nonlinearity)})")
    for name in weights:
        target = f"self.{attribute}.{name}"
        if how.startswith("kaiming"):
            lines.append(f"nn.init.{how}_({target}, nonlinearity={json.dumps(nonlinearity)})")
        elif how.startswith("xavier") or how == "orthogonal":
            lines.append(f"nn.init.{how}_({target}{gain})")
    if params.get("bias_init") == "zeros" and params.get("bias", True):
        lines.append(f"nn.init.zeros_(self.{attribute}.bias)")
    return lines

