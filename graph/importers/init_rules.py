"""Weight initialisation written in a module's ``__init__``, read back into the layers'
``init`` / ``nonlinearity`` / ``bias_init`` parameters.

Tracing sees ``forward`` only, so the statements are read from the source:
``nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")``,
``nn.init.xavier_uniform_(self.fc.weight, gain=nn.init.calculate_gain("tanh"))``,
``nn.init.zeros_(self.fc.bias)`` - the form Strata writes and careful people write.
Loops over ``self.modules()`` set every layer of a kind at once and are not read (the
weights themselves travel anyway; only the recorded choice is missing).
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap

_WEIGHT_INITS = {"kaiming_normal_", "kaiming_uniform_", "xavier_normal_",
                 "xavier_uniform_", "orthogonal_"}


def read_inits(root) -> dict[str, dict]:
    """Attribute path of a submodule -> the init parameters its ``__init__`` code set."""
    found: dict[str, dict] = {}
    for prefix, module in root.named_modules():
        cls: type = type(module)  # a class is hashable: the cache's key
        if cls.__module__.startswith("torch."):
            continue
        for path, params in _from_class(cls).items():
            full = f"{prefix}.{path}" if prefix else path
            found.setdefault(full, {}).update(dict(params))
    return found


@functools.lru_cache(maxsize=256)  # a ResNet builds 16 blocks of one class
def _from_class(cls) -> dict[str, dict]:
    try:
        source = textwrap.dedent(inspect.getsource(cls.__init__))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, IndentationError):
        return {}
    found: dict[str, dict] = {}
    for call in ast.walk(tree):
        if not isinstance(call, ast.Call) or not call.args:
            continue
        name = _dotted(call.func)
        if not name or not name.startswith(("nn.init.", "init.", "torch.nn.init.")):
            continue
        fn = name.rsplit(".", 1)[1]
        target = _dotted(call.args[0])
        if not target or not target.startswith("self.") or "." not in target[5:]:
            continue
        path, _, tensor = target[5:].rpartition(".")
        kwargs = {k.arg: k.value for k in call.keywords}
        if tensor == "bias" and fn == "zeros_":
            found.setdefault(path, {})["bias_init"] = "zeros"
        elif tensor == "weight" and fn in _WEIGHT_INITS:
            params = {"init": fn[:-1]}
            nonlinearity = _nonlinearity(kwargs)
            if nonlinearity:
                params["nonlinearity"] = nonlinearity
            elif fn.startswith(("xavier", "orthogonal")):
                params["nonlinearity"] = "linear"  # no gain: the plain form
            found.setdefault(path, {}).update(params)
    return found


def _nonlinearity(kwargs: dict) -> str | None:
    value = kwargs.get("nonlinearity")
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return value.value
    gain = kwargs.get("gain")
    if (isinstance(gain, ast.Call) and (_dotted(gain.func) or "").endswith("calculate_gain")
            and gain.args and isinstance(gain.args[0], ast.Constant)
            and isinstance(gain.args[0].value, str)):
        return gain.args[0].value
    return None


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None
