"""The studio's background facility: one result per current job, on the GUI thread;
progress, latest-wins replacement, cancellation and failures in the user's terms."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QApplication

from graph.errors import StrataError
from studio.background import BackgroundTask


@pytest.fixture
def task(qapp):
    t = BackgroundTask()
    yield t
    t.cancel()
    assert t.wait(10_000)


def test_result_arrives_on_the_gui_thread(task, qtbot):
    seen = []
    task.succeeded.connect(lambda v: seen.append((v, QThread.currentThread())))
    with qtbot.waitSignal(task.succeeded, timeout=10_000):
        job = task.start(lambda: threading.current_thread().name)
    assert job.number == 1 and not task.running
    value, thread = seen[0]
    assert value != threading.main_thread().name  # it ran elsewhere ...
    assert thread is QApplication.instance().thread()  # ... and reported here


def test_failures_become_one_line_messages(task, qtbot):
    with qtbot.waitSignal(task.failed, timeout=10_000) as failed:
        task.start(lambda: 1 / 0, what="Dividing")
    assert failed.args[0] == "Dividing failed unexpectedly: ZeroDivisionError: division by zero"
    assert isinstance(failed.args[1], ZeroDivisionError)

    def refuse():
        raise StrataError("the file is empty")

    with qtbot.waitSignal(task.failed, timeout=10_000) as failed:
        task.start(refuse, what="Reading")
    assert failed.args[0] == "the file is empty"


def test_latest_wins_and_a_replaced_job_never_reports(task, qtbot):
    gate, began = threading.Event(), threading.Event()
    ran = []
    results = []
    task.succeeded.connect(results.append)

    def first():
        began.set()
        gate.wait(10)
        ran.append("first")
        return "first"

    task.start(first)
    assert began.wait(10)
    task.start(lambda: ran.append("second") or "second", latest=True)
    task.start(lambda: ran.append("third") or "third", latest=True)
    gate.set()
    qtbot.waitUntil(lambda: results == ["third"], timeout=10_000)
    assert task.wait(10_000)
    QApplication.processEvents()
    assert results == ["third"]
    assert ran == ["first", "third"]  # the second was cancelled before it began
    with pytest.raises(RuntimeError, match="already running"):
        task.start(gate.wait)
        task.start(gate.wait)


def test_progress_and_cancel(task, qtbot):
    release = threading.Event()
    progress, results = [], []
    task.progress.connect(progress.append)
    task.succeeded.connect(results.append)

    def work(job):
        for i in range(3):
            job.report(i)
        release.wait(10)
        return "ignored" if job.cancelled else "done"

    job = task.start(work, handle=True)
    qtbot.waitUntil(lambda: len(progress) == 3, timeout=10_000)
    assert progress == [0, 1, 2]
    with qtbot.waitSignal(task.running_changed, timeout=1_000) as changed:
        task.cancel()
    assert changed.args == [False] and job.cancelled
    release.set()
    assert task.wait(10_000)
    QApplication.processEvents()
    assert results == []  # a cancelled job's result is dropped
