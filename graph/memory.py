"""Parameter counts and memory estimates from the layer catalog, before any allocation.

Each layer declaration's ``param_count`` rule gives its trainable parameters from its
checked parameters and inferred values, so counting a 100,000-layer network is arithmetic
(no torch, no module built). ``estimate`` adds activation sizes from the inferred
shapes. ``check_fits`` refuses, naming the largest layer and the sizes, a network whose
weights (to build it) or training state (to train it) would not fit the memory a device
has free: a layer of 4 TB used to reach torch and fail there with a raw RuntimeError.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from . import sharing
from .analysis import Analysis
from .errors import StrataError

BYTES_PER_VALUE = 4  # float32
# Training keeps, per parameter, the weight, its gradient and up to two optimizer
# moments (Adam); per activation, the value and its gradient.
TRAINING_COPIES_PER_PARAM = 4
TRAINING_COPIES_PER_ACTIVATION = 2


class MemoryLimitError(StrataError):
    """The network would need more memory than the device has; ``node_id`` is the
    largest layer, for the canvas to mark."""

    def __init__(self, message: str, node_id: str | None = None):
        self.node_id = node_id
        super().__init__(message)


@dataclass(frozen=True)
class LayerMemory:
    node_id: str
    params: int
    activations: int  # values of its outputs per example


@dataclass(frozen=True)
class MemoryEstimate:
    layers: dict[str, LayerMemory]

    @property
    def params(self) -> int:
        return sum(layer.params for layer in self.layers.values())

    @property
    def activations_per_example(self) -> int:
        return sum(layer.activations for layer in self.layers.values())

    def weight_bytes(self) -> int:
        return self.params * BYTES_PER_VALUE

    def training_bytes(self, batch_size: int) -> int:
        return BYTES_PER_VALUE * (
            TRAINING_COPIES_PER_PARAM * self.params
            + TRAINING_COPIES_PER_ACTIVATION * batch_size * self.activations_per_example)

    def largest(self) -> LayerMemory | None:
        return max(self.layers.values(), key=lambda layer: (layer.params, layer.activations),
                   default=None)


def layer_params(type_spec, values: dict) -> int:
    """Trainable parameters of one layer from its checked parameters and inferred
    values (``shapes.params`` merged with ``shapes.values``)."""
    rule = type_spec.param_count
    return int(rule(values)) if rule is not None else 0


def param_counts(analysis: Analysis) -> dict[str, int]:
    """Parameters of every node whose shape rule ran (the others count as unknown)."""
    counts = {}
    for node_id, shapes in analysis.shapes.items():
        node = analysis.doc.nodes.get(node_id)
        if node is None or not shapes.ok:
            continue
        if node.spec.inputs and not shapes.inputs:
            continue
        values = {**shapes.params, **shapes.values}
        counts[node_id] = sharing.own_params(analysis.doc, node,
                                             layer_params(node.spec, values), values)
    return counts


def estimate(analysis: Analysis) -> MemoryEstimate:
    layers = {}
    counts = param_counts(analysis)
    for node_id, params in counts.items():
        outputs = analysis.shapes[node_id].outputs.values()
        values = sum(math.prod(d for d in t.features if isinstance(d, int))
                     for t in outputs)
        layers[node_id] = LayerMemory(node_id, params, values)
    return MemoryEstimate(layers)


def size_text(nbytes: float) -> str:
    """``4.0 TB``, ``312.5 MB``: sizes in a message."""
    for unit, size in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if nbytes >= size:
            return f"{nbytes / size:.1f} {unit}"
    return f"{int(nbytes)} bytes"


def check_fits(analysis: Analysis, available: int | None, *, batch_size: int | None = None,
               where: str = "this computer") -> MemoryEstimate:
    """Refuse (MemoryLimitError) a network that would not fit in ``available`` bytes:
    its weights, or with ``batch_size`` its training state. ``None``: unknown, no check.
    """
    found = estimate(analysis)
    if available is None:
        return found
    needed = (found.weight_bytes() if batch_size is None
              else found.training_bytes(batch_size))
    if needed <= available:
        return found
    largest = found.largest()
    node = analysis.doc.nodes[largest.node_id] if largest else None
    what = "its weights" if batch_size is None else (
        f"training with a batch size of {batch_size} (weights, gradients, optimizer "
        "state and activations)")
    layer = ""
    if node is not None and largest is not None and largest.params:
        layer = (f"; the largest layer, {node.describe()}, has {largest.params:,} "
                 f"parameters ({size_text(largest.params * BYTES_PER_VALUE)})")
    elif node is not None and largest is not None:
        layer = (f"; the largest output, of {node.describe()}, holds "
                 f"{largest.activations:,} values per example")
    raise MemoryLimitError(
        f"The network needs about {size_text(needed)} for {what}, more than the "
        f"{size_text(available)} {where} has free{layer}. Make that layer smaller.",
        largest.node_id if largest else None)


def available_memory() -> int | None:
    """Bytes of main memory free for a new allocation (Linux MemAvailable, else the
    physical size), or None when the system does not say."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None
