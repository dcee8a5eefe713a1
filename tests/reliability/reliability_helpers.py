"""Small generated inputs for the reliability suite."""

from __future__ import annotations

import itertools
import time
import tracemalloc
from contextlib import contextmanager

import graph


def chain(layers: list[tuple[str, dict]], shape: list[int], *, dtype: str = "float",
          task: str = "regression", name: str = "hostile") -> graph.Document:
    """Input(shape) -> each layer -> Output."""
    doc = graph.Document(name)
    params = {"shape": shape} if dtype == "float" else {"shape": shape, "dtype": dtype}
    ids = [doc.add_node("Input", params, "x").id]
    ids += [doc.add_node(t, p, "").id for t, p in layers]
    ids.append(doc.add_node("Output", {"task": task}, "y").id)
    for a, b in itertools.pairwise(ids):
        doc.connect(graph.Edge(a, "out", b, "in"))
    return doc


@contextmanager
def bounded(seconds: float, megabytes: float | None = None):
    """Assert the block ends within ``seconds`` and allocates at most ``megabytes`` of
    Python memory at its peak. Margins are generous (ten times what a quiet machine
    needs): a failure means the cost grew with the input, not a busy machine."""
    if megabytes is not None:
        tracemalloc.start()
    start = time.perf_counter()
    try:
        yield
    finally:
        took = time.perf_counter() - start
        peak = 0
        if megabytes is not None:
            peak = tracemalloc.get_traced_memory()[1] / 1e6
            tracemalloc.stop()
    assert took < seconds, f"took {took:.1f} s (bound {seconds} s)"
    if megabytes is not None:
        assert peak < megabytes, f"peaked at {peak:.0f} MB (bound {megabytes} MB)"
