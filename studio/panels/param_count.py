"""Parameter counts of layers for the inspector, from the layer catalog.

Each layer declaration's ``param_count`` rule is plain arithmetic on the layer's
parameters and inferred values (``graph.memory``), so a count costs microseconds, needs
no torch and allocates nothing. Counts used to come from modules built on torch's
``meta`` device: a file with 10^6 stacked LSTM layers froze the GUI thread here for
minutes. ``ParamCounter`` keeps its former shape (``count``, ``available``, ``ready``)
for the panels.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, Signal

from graph.catalog import get_spec
from graph.errors import StrataError
from graph.memory import layer_params


class ParamCounter(QObject):
    ready = Signal()  # kept for the panels; counts are always available now

    @property
    def available(self) -> bool:
        return True

    def warm_up(self) -> None:
        """Nothing to prepare: counts need no torch."""

    def count(self, type_name: str, params: dict[str, Any],
              values: dict[str, Any]) -> int | None:
        """Trainable parameters of one layer; None when its values are not all known
        (its shapes could not be inferred)."""
        if type_name == "Block":  # an instance: its analysis counted its inner layers
            return int(values.get("params", 0))
        try:
            return layer_params(get_spec(type_name), {**params, **values})
        except (KeyError, TypeError, ValueError, StrataError):
            return None


def countable(spec, shapes) -> bool:
    """Whether analysis knows enough about a node to count it: its shape rule ran
    (outputs known, or it is an Output, which has none)."""
    return shapes is not None and shapes.ok and bool(shapes.outputs or spec.is_sink) \
        and (bool(shapes.inputs) or not spec.inputs)


def format_count(n: int | None) -> str:
    """``1,234,567`` with a short form: ``1.23 M``."""
    if n is None:
        return "\u2026"
    if n >= 1_000_000:
        return f"{n:,} ({n / 1e6:.2f} M)"
    if n >= 10_000:
        return f"{n:,} ({n / 1e3:.1f} k)"
    return f"{n:,}"


def network_param_count(analysis, counter: ParamCounter) -> int | None:
    """Total of every layer whose shapes are known."""
    total = 0
    for node_id, shapes in analysis.shapes.items():
        node = analysis.doc.nodes.get(node_id)
        if node is None or not countable(node.spec, shapes):
            continue
        total += counter.count(node.type, shapes.params, shapes.values) or 0
    return total
