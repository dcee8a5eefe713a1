"""Starting from trained weights: loading them by layer name, freezing, learning-rate groups.

``load_weights`` reads a ``.pt`` file (a bare state_dict, a Strata checkpoint, or any
dict holding a ``state_dict``/``model`` entry) or a ``.safetensors`` file and copies
every tensor whose name and shape match the model's. Names are the generated code's
attribute names (``fc1.weight``, ``classifier.bias``), which come from the layers'
labels, so a second network built from the first keeps its names; a new head of another
size under the same name is reported as "other shape" and keeps its fresh weights
(the "replace the classifier head" case). The ``WeightReport`` says what matched, what
the model has that the file does not (missing), what had another shape, and what the
file has that the model does not (unused).

``parameter_groups`` applies a setup's ``frozen`` node ids (their parameters get
``requires_grad=False``: no gradients, no updates, no optimizer state) and its
``lr_scale`` factors per node, giving the optimizer one group per distinct factor.

Inside blocks a setup names a layer by its node path (``setup_modules``): ``n5/n3`` is
inner layer ``n3`` of instance ``n5`` only, not of the other instances of the same
definition (fine-tuning freezes *this* backbone's layer); in a repeated instance the
path without copy numbers (``n5/n3``) means that layer in every copy, ``n5:1/n3`` in
the second copy only. Freezing or scaling an instance covers all its inner layers; a
factor set on an inner layer overrides its instance's.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from graph.errors import StrataError


class WeightsError(StrataError):
    """A weights file could not be read or does not fit; the message names the file."""


@dataclass
class WeightReport:
    path: str
    matched: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # in the model, not in the file
    other_shape: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = field(
        default_factory=list)  # (name, file's shape, model's shape)
    unused: list[str] = field(default_factory=list)  # in the file, not in the model

    def describe(self) -> str:
        total = len(self.matched) + len(self.missing) + len(self.other_shape)
        parts = [(f"Loaded {len(self.matched)} of {total} weight tensors from "
                 f"{Path(self.path).name}")]
        if self.other_shape:
            parts.append("kept fresh (other shape): " + ", ".join(
                f"{n} {tuple(f)} in the file, {tuple(m)} here"
                for n, f, m in self.other_shape[:5]))
        if self.missing:
            parts.append("not in the file: " + ", ".join(self.missing[:8]))
        if self.unused:
            parts.append(f"{len(self.unused)} tensors of the file unused")
        return "; ".join(parts)


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """The tensors of a .pt/.pth or .safetensors file, by name."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise WeightsError(f"The weights file '{path}' was not found")
    try:
        if path.suffix.lower() == ".safetensors":
            from safetensors.torch import load_file

            return dict(load_file(str(path)))
        data = torch.load(path, map_location="cpu", weights_only=True)
    except ImportError:
        raise WeightsError("Reading .safetensors needs the safetensors package: pip "
                           "install safetensors") from None
    except Exception as e:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise WeightsError(f"The weights file '{path.name}' cannot be read "
                           f"({str(e).splitlines()[0][:200]})") from None
    for key in ("model", "state_dict", "model_state_dict"):
        if isinstance(data, dict) and isinstance(data.get(key), dict):
            data = data[key]
            break
    if not isinstance(data, dict) or not all(
            isinstance(v, torch.Tensor) for v in data.values()):
        raise WeightsError(f"'{path.name}' holds no state_dict (a mapping of names to "
                           "tensors), nor a checkpoint with one")
    # Weights saved from DistributedDataParallel or torch.compile carry a prefix.
    for prefix in ("module.", "_orig_mod."):
        if data and all(k.startswith(prefix) for k in data):
            data = {k[len(prefix):]: v for k, v in data.items()}
    return data


def load_weights(model: torch.nn.Module, path: str | Path) -> WeightReport:
    """Copy the file's tensors into ``model`` where name and shape match."""
    source = read_state_dict(path)
    own = model.state_dict()
    report = WeightReport(str(path))
    fitting = {}
    for name, tensor in own.items():
        theirs = source.get(name)
        if theirs is None:
            report.missing.append(name)
        elif tuple(theirs.shape) != tuple(tensor.shape):
            report.other_shape.append((name, tuple(theirs.shape), tuple(tensor.shape)))
        else:
            fitting[name] = theirs.to(dtype=tensor.dtype)
            report.matched.append(name)
    report.unused = sorted(set(source) - set(own))
    if not fitting:
        raise WeightsError(f"No weights of '{Path(path).name}' fit this network: none of "
                           f"its {len(source)} names matches a layer here with the same "
                           f"shape (its names: {', '.join(list(source)[:5])}...)")
    model.load_state_dict(fitting, strict=False)
    return report


_COPY = re.compile(r":\d+(?=/|$)")


def setup_modules(code) -> dict[str, list[str]]:
    """What a setup's node ids and node paths stand for: id or path -> the dotted
    submodule names (``GeneratedCode.module_paths``), a repeated instance's inner layer
    without copy numbers standing for its module in every copy (``n5/n3`` ->
    ``layer1.0.conv1``, ``layer1.1.conv1``)."""
    out = {path: [attribute] for path, attribute in code.module_paths.items()}
    out.update({node_id: [attribute] for node_id, attribute in code.attributes.items()})
    copies: dict[str, list[str]] = {}
    for path, attribute in code.module_paths.items():
        plain = _COPY.sub("", path)
        if plain != path:
            copies.setdefault(plain, []).append(attribute)
    for plain, attributes in copies.items():
        out.setdefault(plain, attributes)
    return out


def node_parameters(model: torch.nn.Module, attributes: Mapping[str, str | list[str]]
                    ) -> dict[str, list[torch.nn.Parameter]]:
    """The parameters of each node, by node id or path (``attributes``: id -> its
    submodule's dotted name, or the names of all its copies)."""
    out = {}
    for node_id, names in attributes.items():
        params: list[torch.nn.Parameter] = []
        try:
            for name in [names] if isinstance(names, str) else names:
                params += list(model.get_submodule(name).parameters())
        except AttributeError:
            continue
        out[node_id] = params
    return out


def depth_order(keys) -> list[str]:
    """Node ids and paths outermost first: an inner layer's setting, applied later,
    overrides its block's."""
    return sorted(keys, key=lambda k: (k.count("/"), k))


def unknown_names(model: torch.nn.Module, attributes: Mapping[str, str | list[str]],
                  names) -> list[str]:
    """Those of ``names`` (node ids or paths of a training setup) that are no layer with
    weights of ``model``: a layer frozen or scaled, then deleted or moved."""
    return sorted(set(names) - set(node_parameters(model, attributes)))


def parameter_groups(model: torch.nn.Module, attributes: Mapping[str, str | list[str]],
                     frozen: tuple[str, ...] | list[str], lr_scale: dict[str, float],
                     lr: float) -> list[dict]:
    """Freeze ``frozen`` nodes and group the rest by learning-rate factor.

    ``attributes`` maps node ids (and paths, see ``setup_modules``) to submodule names.
    Returns optimizer parameter groups (``{"params": [...], "lr": ..., "lr_scale": f}``),
    one per factor, in a stable order; frozen parameters are in none of them.
    """
    by_node = node_parameters(model, attributes)
    unknown = sorted((set(frozen) | set(lr_scale)) - set(by_node))
    if unknown:
        where = ("the layer at path '{}' inside a block" if "/" in unknown[0]
                 else "node '{}'").format(unknown[0])
        raise WeightsError(f"The training setup freezes or scales {where}, which is not "
                           "a layer with weights in this network (it was removed or "
                           "moved: clear it in the layer's Training box or the file's "
                           "training section)")
    frozen_ids = {id(p) for n in frozen for p in by_node[n]}
    factor = {id(p): lr_scale[n] for n in depth_order(lr_scale) for p in by_node[n]}
    groups: dict[float, list] = {}
    for p in model.parameters():
        if id(p) in frozen_ids:
            p.requires_grad_(False)
            continue
        p.requires_grad_(True)
        groups.setdefault(factor.get(id(p), 1.0), []).append(p)
    return [{"params": ps, "lr": lr * f, "lr_scale": f}
            for f, ps in sorted(groups.items(), key=lambda kv: -kv[0]) if ps]
