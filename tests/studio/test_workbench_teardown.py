"""A test's training workbench ends with its test (``test_training_support.workbench``).

It outlived it: owned by Python alone, it sat in a reference cycle through Qt's signal
connections (lambdas on the controller's signals, the controller's on its panels) that
the collector cannot see, and pytest-qt's ``deleteLater`` of its window, posted outside
any event loop, waited for the end of the session. A second after a run ended its
runner warmed up a standby worker during whatever test ran then (the standby-hint test
counted a stranger's hint). Now the window owns the workbench and its controller, the
workbench is shut down before the window closes, and the conftest deletes what a
teardown closed at once.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent
from pytestqt.qtbot import _close_widgets
from test_training_support import tiny_mlp, wait_ended, workbench


def teardown_as_pytest_qt(request) -> None:
    """What the end of a test does: pytest-qt closes the registered widgets (calling
    their ``before_close_func``) and gives them to ``deleteLater``; the conftest's
    ``closed_widgets_deleted`` runs the deletions."""
    _close_widgets(request.node)
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def test_a_finished_workbench_is_gone_and_warms_nothing_up_later(qtbot, tmp_path,
                                                                  request, monkeypatch):
    import runtime.worker
    import studio.training.runner as runner_module

    controller, _view, bench = workbench(qtbot, tiny_mlp(epochs=1), tmp_path)
    runner, window = bench.runner, bench.window
    bench.train()
    wait_ended(qtbot, bench)  # the runner warms the next run's worker a second later
    made = []
    monkeypatch.setattr(runner_module, "PRESTART", True)
    monkeypatch.setattr(runtime.worker, "StandbyWorker",
                        lambda threads=None: made.append(threads))
    teardown_as_pytest_qt(request)
    for obj in (window, bench, runner, controller):
        assert not shiboken6.isValid(obj), f"{type(obj).__name__} outlived its test"
    assert runner.standby is None and runner.session is None
    qtbot.wait(1300)  # the warm-up a run's end schedules is due by now
    assert made == [], "a finished test's runner started a standby worker"
