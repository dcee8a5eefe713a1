"""Reading trained weights: the ``state_dict`` inside a checkpoint, weights or safetensors file.

Input is a training checkpoint (a dict whose ``"model"`` entry is the state_dict, as the
runtime writes it), a plain state_dict file, a safetensors file or a dict in memory.
Files are read with ``weights_only=True`` (loading never runs code). The importer uses
this to load a module's weights before tracing; the exporters in ``runtime.transfer``
use it to read the weights they write out. ``fit_state_dict`` loads strictly and names
every mismatch.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from .errors import StrataError


def safetensors_available() -> bool:
    return importlib.util.find_spec("safetensors") is not None


def need_safetensors() -> None:
    if not safetensors_available():
        raise StrataError("safetensors is not installed; install it with "
                          "`pip install safetensors`, or export a .pt file")


def read_state_dict(source) -> dict[str, Any]:
    """The state_dict held by a checkpoint, state_dict or safetensors file (or dict)."""
    import torch

    if isinstance(source, dict):
        data, where = source, "the weights"
    else:
        path = Path(source)
        where = str(path)
        if not path.is_file():
            raise StrataError(f"{path}: no such weights file")
        if path.suffix == ".safetensors":
            need_safetensors()
            from safetensors.torch import load_file

            try:
                return dict(load_file(str(path)))
            except Exception as e:  # noqa: BLE001 - any unreadable file, one answer
                raise StrataError(f"{path}: not a readable safetensors file "
                                  f"({_first_line(e)})") from None
        try:
            # TorchVersion is a str subclass some checkpoints record (torch.__version__);
            # allowing it keeps loading free of code execution.
            with torch.serialization.safe_globals([torch.torch_version.TorchVersion]):
                data = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001
            raise StrataError(
                f"{path}: not a PyTorch weights file, or it holds objects other than "
                f"tensors and plain values ({_first_line(e)})") from None
    state = _find_state_dict(data)
    if state is None:
        keys = ", ".join(map(str, list(data)[:8])) if isinstance(data, dict) else \
            type(data).__name__
        raise StrataError(f"{where}: holds no state_dict (found: {keys})",)
    if state and all(k.startswith("module.") for k in state):  # saved from DataParallel
        state = {k[len("module."):]: v for k, v in state.items()}
    return state


def _find_state_dict(data) -> dict[str, Any] | None:
    if not isinstance(data, dict):
        return None
    for key in ("model", "state_dict", "model_state_dict"):
        inner = data.get(key)
        if isinstance(inner, dict) and _is_state_dict(inner):
            return dict(inner)
    if data and _is_state_dict(data):
        return dict(data)
    return None


def _is_state_dict(d: dict) -> bool:
    import torch

    return bool(d) and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                           for k, v in d.items())


def fit_state_dict(module, state: dict[str, Any], what: str) -> None:
    """Load ``state`` into ``module`` strictly; the error lists every mismatch."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k} is {tuple(state[k].shape)}, expected {tuple(v.shape)}"
             for k, v in expected.items() if k in state and state[k].shape != v.shape]
    problems = []
    if missing:
        problems.append("missing " + _some(missing))
    if unexpected:
        problems.append("unexpected " + _some(unexpected))
    if wrong:
        problems.append("wrong shapes: " + _some(wrong))
    if problems:
        raise StrataError(
            f"the weights do not fit {what}: " + "; ".join(problems)
            + " (were they trained with this version of the network?)")
    module.load_state_dict(state, strict=True)


def _some(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0][:200] if lines else type(e).__name__
