"""Parameter counts of layers, from the very modules the generated code would build.

A layer's count is read from its module built on torch's ``meta`` device (no memory, no
initialisation cost), so it is exact for every catalog type without a formula per layer.
torch is slow to import and the window must open without it, so the first request starts
the import on a background thread and answers ``None`` ("counting..."); ``ready`` fires
once counts can be given. Counts are cached per (type, parameters, inferred values).
"""

from __future__ import annotations

import sys
import threading
from typing import Any

from PySide6.QtCore import QObject, Signal

from graph.catalog import get_spec


def _freeze(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    return value


class ParamCounter(QObject):
    ready = Signal()  # torch is imported: counts asked for earlier can now be given

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cache: dict[Any, int | None] = {}
        self._loading = False

    @property
    def available(self) -> bool:
        return "torch" in sys.modules and not self._loading

    def warm_up(self) -> None:
        """Import torch off the GUI thread, once; ``ready`` follows."""
        if self.available or self._loading:
            return
        self._loading = True
        # Not a daemon: an interpreter shutting down mid-import of torch can crash.
        threading.Thread(target=self._import, name="strata-import-torch").start()

    def _import(self) -> None:
        import torch  # noqa: F401 - the point is the import itself

        self._loading = False
        try:
            self.ready.emit()  # queued to the GUI thread: this object lives there
        except RuntimeError:  # the panel was closed while torch loaded
            pass

    def count(self, type_name: str, params: dict[str, Any],
              values: dict[str, Any]) -> int | None:
        """Trainable parameters of one layer; None while torch is still loading or
        when the layer cannot be built (its shapes are not known yet)."""
        spec = get_spec(type_name)
        if not spec.module:
            return 0
        key = (spec.type, _freeze(params), _freeze(values))
        if key in self._cache:
            return self._cache[key]
        if not self.available:
            self.warm_up()
            return None
        self._cache[key] = result = _count(spec, {**params, **values})
        return result


def _count(spec, values: dict[str, Any]) -> int | None:
    import torch
    from torch import nn

    try:
        kwargs = spec.module_args(values) if spec.module_args else {}
        constructor = eval(spec.module, {"nn": nn, "torch": torch})
        with torch.device("meta"):
            module = constructor(**kwargs)
    except Exception:  # noqa: BLE001 - an unbuildable layer simply has no count
        return None
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def countable(spec, shapes) -> bool:
    """Whether analysis knows enough about a node to build its module: its shape rule
    ran (outputs known, or it is an Output, which has none)."""
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
    """Total of every layer whose shapes are known; None while torch is loading."""
    total = 0
    for node_id, shapes in analysis.shapes.items():
        node = analysis.doc.nodes.get(node_id)
        if node is None or not countable(node.spec, shapes):
            continue
        n = counter.count(node.type, shapes.params, shapes.values)
        if n is None and not counter.available:
            return None
        total += n or 0
    return total
