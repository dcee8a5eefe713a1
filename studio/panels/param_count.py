"""Parameter counts of layers for the inspector, from the layer catalog.

Each layer declaration's ``param_count`` rule is plain arithmetic on the layer's
parameters and inferred values (``graph.memory``), so a count costs microseconds, needs
no torch and allocates nothing. Counts used to come from modules built on torch's
``meta`` device: a file with 10^6 stacked LSTM layers froze the GUI thread here for
minutes. ``ParamCounter`` keeps its former shape (``count``, ``available``, ``ready``)
for the panels.

A network's total is a loop over every layer, a few microseconds each: up to
``INLINE_LAYERS`` it is counted at once, beyond that on the studio's background facility
(``request_total``), so even a 100,000-layer network never holds the GUI thread. A newer
request (the next edit's analysis) cancels the older count, which stops at its next look
at ``job.cancelled``; only the current request's total is ever delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from graph.catalog import get_spec
from graph.errors import StrataError
from graph.memory import layer_params
from studio.background import BackgroundTask, Job

INLINE_LAYERS = 2000  # totals of up to this many layers are counted on the spot (~5 ms)
CHUNK = 256  # layers counted between two looks at the cancel flag


class ParamCounter(QObject):
    ready = Signal()  # kept for the panels; counts are always available now
    # (analysis, node ids or None for all, total or None when counting failed)
    total_counted = Signal(object, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # One task for whole-network totals (the status bar, the network page), one
        # for selections, so neither cancels the other's count.
        self._tasks = (BackgroundTask(self), BackgroundTask(self))
        self._asked: list[tuple[Any, tuple[str, ...] | None] | None] = [None, None]
        for kind, task in enumerate(self._tasks):
            task.succeeded.connect(lambda total, kind=kind: self._counted(kind, total))
            task.failed.connect(lambda _message, _error, kind=kind:
                                self._counted(kind, None))
        self._last: tuple[Any, tuple[str, ...] | None, int | None] | None = None

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

    def request_total(self, analysis, node_ids: Sequence[str] | None = None
                      ) -> int | None:
        """The total of ``node_ids`` (every layer by default) of ``analysis``.

        Returned at once when it is small or already known; otherwise None is returned,
        the count runs in the background (cancelling any older one) and
        ``total_counted`` brings it. Asking again for the count under way starts
        nothing new."""
        key = tuple(node_ids) if node_ids is not None else None
        last = self._last
        if last is not None and last[0] is analysis and last[1] == key:
            return last[2]
        kind = int(key is not None)
        task = self._tasks[kind]
        size = len(key) if key is not None else len(analysis.shapes)
        if size <= INLINE_LAYERS:
            task.cancel()  # an older, larger count is of no use now
            self._asked[kind] = None
            return network_param_count(analysis, self, node_ids=key)
        asked = self._asked[kind]
        if asked is not None and asked[0] is analysis and asked[1] == key and task.running:
            return None
        self._asked[kind] = (analysis, key)
        task.start(lambda job: network_param_count(analysis, self, job, key),
                   what="Counting the parameters", latest=True, handle=True)
        return None

    def _counted(self, kind: int, total: int | None) -> None:
        asked, self._asked[kind] = self._asked[kind], None
        if asked is None:
            return
        analysis, key = asked
        self._last = (analysis, key, total)
        self.total_counted.emit(analysis, key, total)


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


def network_param_count(analysis, counter: ParamCounter, job: Job | None = None,
                        node_ids: Sequence[str] | None = None) -> int | None:
    """Total of every layer (or of ``node_ids``) whose shapes are known; None when
    ``job`` was cancelled meanwhile (it is looked at every ``CHUNK`` layers)."""
    total = 0
    shapes_of = analysis.shapes
    ids = list(shapes_of) if node_ids is None else node_ids
    for i, node_id in enumerate(ids):
        if job is not None and not i % CHUNK and job.cancelled:
            return None
        shapes = shapes_of.get(node_id)
        node = analysis.doc.nodes.get(node_id)
        if node is None or not countable(node.spec, shapes):
            continue
        total += counter.count(node.type, shapes.params, shapes.values) or 0
    return total
