"""The standby worker is told what to prepare: the dataset of the network shown, once
when it starts and again when the data setting changes (not on every edit), and the
run hands it the snapshot of the document as it is at Train."""

from __future__ import annotations

from test_training_support import tiny_mlp, workbench

from runtime.standby import dataset_key


class RecordingStandby:
    """Stands in for ``runtime.standby.StandbyWorker`` (no process): records hints."""

    def __init__(self) -> None:
        self.hints: list[dict] = []

    def prepare(self, document, setup=None, options=None) -> None:
        self.hints.append(document)

    def close(self) -> None:
        pass


def test_the_standby_is_told_the_shown_networks_data_and_its_changes(qtbot, tmp_path,
                                                                     monkeypatch):
    import runtime.worker
    import studio.training.runner as runner_module

    def recording(threads=None) -> RecordingStandby:
        made = RecordingStandby()
        made.start = lambda: None  # type: ignore[attr-defined]
        return made

    # A stand-in for each runner that warms up: a window of an earlier test still
    # alive in this worker process can warm up meanwhile, with its own network.
    monkeypatch.setattr(runner_module, "PRESTART", True)
    monkeypatch.setattr(runtime.worker, "StandbyWorker", recording)
    doc = tiny_mlp(epochs=2)
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    bench.runner.warm_up()  # as when the Training panel first fills
    standby = bench.runner.standby
    assert isinstance(standby, RecordingStandby)
    assert len(standby.hints) == 1
    assert dataset_key(standby.hints[0], None) == dataset_key(doc.to_dict(), None)

    # Epochs do not change the data: nothing to prepare again (waited on the hint
    # timer itself: its timeout is when the runner would have prepared).
    with qtbot.waitSignal(bench.runner.hint_timer.timeout, timeout=5000):
        controller.set_training("epochs", 5)
    assert len(standby.hints) == 1
    # Another dataset: prepared once the setting rests.
    dataset = dict(controller.document.training["dataset"], size=96)
    controller.set_training("dataset", dataset)
    qtbot.waitUntil(lambda: len(standby.hints) == 2, timeout=5000)
    assert standby.hints[1]["training"]["dataset"] == dataset
    bench.runner.standby = None  # nothing to close
