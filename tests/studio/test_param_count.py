"""Parameter totals of large networks are counted off the GUI thread, cancellably.

``ParamCounter.request_total`` counts small networks at once; beyond ``INLINE_LAYERS``
the count runs on the studio's ``BackgroundTask``, a newer request cancels the older
count, and only the current request's total is delivered (``total_counted``). The
tests lower ``INLINE_LAYERS`` so small real networks take the background path.
"""

from __future__ import annotations

import threading

import pytest

import graph
from graph.builder import Builder
from studio.panels import param_count
from studio.panels.param_count import ParamCounter, network_param_count


def mlp(width: int, depth: int) -> graph.Document:
    b = Builder(f"MLP {width}x{depth}")
    x = b.add("Input", shape=[8])
    steps = [("Linear", {"out_features": width}), "ReLU"] * depth
    b.chain(x, *steps, ("Linear", {"out_features": 2}), ("Output", {"task": "classification"}))
    return b.done()


def expected_total(doc: graph.Document) -> int:
    return sum(p.numel() for p in graph.compile(doc).parameters())


@pytest.fixture
def counting(monkeypatch):
    """Lowers the inline limit and records on which thread each count ran and what
    it returned (None when it saw itself cancelled)."""
    monkeypatch.setattr(param_count, "INLINE_LAYERS", 3)
    calls: list[dict] = []
    real = param_count.network_param_count

    def recorded(analysis, counter, job=None, node_ids=None):
        call = {"analysis": analysis, "thread": threading.current_thread()}
        calls.append(call)
        gate = getattr(analysis, "test_gate", None)
        if gate is not None:
            analysis.test_began.set()
            assert gate.wait(10)
        call["result"] = real(analysis, counter, job, node_ids)
        return call["result"]

    monkeypatch.setattr(param_count, "network_param_count", recorded)
    return calls


def test_small_totals_are_counted_at_once(qapp):
    doc = mlp(16, 1)
    analysis = graph.analyze(doc)
    counter = ParamCounter()
    assert len(analysis.shapes) <= param_count.INLINE_LAYERS
    assert counter.request_total(analysis) == expected_total(doc)


def test_a_large_total_is_counted_in_the_background(qapp, qtbot, counting):
    doc = mlp(32, 3)
    analysis = graph.analyze(doc)
    counter = ParamCounter()
    with qtbot.waitSignal(counter.total_counted, timeout=10_000) as counted:
        assert counter.request_total(analysis) is None  # not counted on this thread
    assert counted.args == [analysis, None, expected_total(doc)]
    (call,) = counting
    assert call["thread"] is not threading.main_thread()
    # Known now: asking again answers at once, without counting again.
    assert counter.request_total(analysis) == expected_total(doc)
    assert len(counting) == 1


def test_a_newer_edit_cancels_the_older_count(qapp, qtbot, counting):
    controller_doc = mlp(32, 3)
    older = graph.analyze(controller_doc)
    older.test_gate = threading.Event()  # holds the older count until the newer is asked
    older.test_began = threading.Event()
    controller_doc.nodes[next(n.id for n in controller_doc.nodes.values()
                              if n.type == "Linear")].params["out_features"] = 48
    newer = graph.analyze(controller_doc)
    counter = ParamCounter()
    delivered = []
    counter.total_counted.connect(lambda *args: delivered.append(args))
    assert counter.request_total(older) is None
    assert older.test_began.wait(10)  # the older count runs ...
    with qtbot.waitSignal(counter.total_counted, timeout=10_000):
        assert counter.request_total(newer) is None
        older.test_gate.set()
    assert delivered == [(newer, None, expected_total(controller_doc))]
    assert [c["analysis"] for c in counting] == [older, newer]
    assert counting[0]["result"] is None  # ... and stopped: it saw itself cancelled
    qtbot.wait(50)
    assert len(delivered) == 1  # the older total never arrives


def test_cancelled_count_stops_between_chunks(qapp):
    analysis = graph.analyze(mlp(8, 300))

    class Job:
        looks = 0

        @property
        def cancelled(self) -> bool:
            self.looks += 1
            return self.looks > 1

    job = Job()
    assert network_param_count(analysis, ParamCounter(), job) is None
    assert job.looks == 2  # looked once per chunk: counted one chunk, then stopped


def test_status_bar_and_network_page_show_a_background_total(
        make_window, qtbot, counting, tmp_path):
    doc = mlp(24, 3)
    path = tmp_path / "wide.strata"
    graph.save(doc, path)
    window = make_window(path)
    expected = f"{expected_total(doc):,}"
    qtbot.waitUntil(lambda: window.status.started, timeout=5000)
    qtbot.waitUntil(lambda: expected in window.status.params.text(), timeout=10_000)
    network = window.inspector.network
    qtbot.waitUntil(lambda: network.params.text() == expected, timeout=10_000)
    large = [c for c in counting if len(c["analysis"].shapes) > param_count.INLINE_LAYERS]
    assert large and all(c["thread"] is not threading.main_thread() for c in large)
