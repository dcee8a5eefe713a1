"""A fresh window gets its first Train ready on its own (``studio.training.prestart``):
the standby worker process is started soon after the window shows, in the Design
workspace, without the Training panel ever shown, and told the network's dataset; the
training views are built unseen after it; and the GUI thread imports no torch for it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from PySide6.QtWidgets import QApplication

import studio
from runtime.standby import dataset_key
from studio.resources import EXAMPLES

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise")


def on_screen(dock) -> bool:
    """Shown, and not behind another dock's tab."""
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


class RecordingStandby:
    """Stands in for ``runtime.standby.StandbyWorker`` (no process): records what the
    studio looked like when it was started, and its hints."""

    made: ClassVar[list[RecordingStandby]] = []

    def __init__(self, threads=None) -> None:
        self.hints: list[dict] = []
        self.started_while: dict | None = None
        self.closed = False
        RecordingStandby.made.append(self)

    def start(self) -> None:
        window = next(w for w in QApplication.topLevelWidgets()
                      if getattr(w, "training", None) is not None and w.isVisible())
        self.started_while = {
            "workspace": window.workspaces.current,
            "training panel shown": on_screen(window.docks["training"]),
            "workbench built": window.training.built,
        }

    def prepare(self, document, setup=None, options=None) -> None:
        self.hints.append(document)

    def hand_over(self, payload):
        return None  # the run spawns its own worker (not wanted here)

    def close(self) -> None:
        self.closed = True


def test_a_fresh_window_starts_its_standby_in_design_without_the_training_panel(
        make_window, qtbot, monkeypatch):
    import runtime.worker
    import studio.training.runner as runner_module
    from studio.training import ahead, prestart

    monkeypatch.setenv("STRATA_PRESTART", "1")
    monkeypatch.setattr(runner_module, "PRESTART", True)
    monkeypatch.setattr(prestart, "VIEWS_MS", 50)
    monkeypatch.setattr(ahead, "IDLE_MS", 50)
    monkeypatch.setattr(RecordingStandby, "made", [])
    monkeypatch.setattr(runtime.worker, "StandbyWorker", RecordingStandby)
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    docks = window.training
    # Nobody touches the training: the standby starts by itself, in Design.
    qtbot.waitUntil(lambda: len(RecordingStandby.made) == 1 and
                    len(RecordingStandby.made[0].hints) == 1, timeout=20_000)
    standby = RecordingStandby.made[0]
    assert standby.started_while == {"workspace": "design", "training panel shown": False,
                                     "workbench built": False}
    assert docks.runner.standby is standby
    document = window.controller.document.to_dict()
    assert dataset_key(standby.hints[0], None) == dataset_key(document, None)
    # Then the training views are built and the monitor laid out, unseen.
    qtbot.waitUntil(lambda: docks.prestart.step == "done", timeout=20_000)
    assert docks.built and not on_screen(window.docks["training"])
    qtbot.waitUntil(lambda: docks.monitor_ahead is not None and docks.monitor_ahead.done,
                    timeout=20_000)
    assert window.workspaces.current == "design"
    # Another dataset: the standby hears of it once the setting rests.
    dataset = dict(window.controller.document.training["dataset"], size=96)
    window.controller.set_training("dataset", dataset)
    qtbot.waitUntil(lambda: len(standby.hints) == 2, timeout=5000)
    assert standby.hints[1]["training"]["dataset"] == dataset
    docks.runner.shutdown()
    assert standby.closed and docks.runner.standby is None


def test_nothing_starts_ahead_when_prestart_is_off(make_window, qtbot, monkeypatch):
    monkeypatch.setenv("STRATA_PRESTART", "0")
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    qtbot.wait(400)
    assert window.training.prestart is None and not window.training.has_runner


# A fresh studio in a process of its own (the test process has torch loaded): which
# thread imports torch first, and whether a real standby process is up before the
# Training panel was ever shown.
STUDIO = """
import sys, threading, time

gui_imports = []


class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "torch" and threading.current_thread() is threading.main_thread():
            gui_imports.append(name)
        return None


sys.meta_path.insert(0, Watch())
from studio.app import _import_headless_first, create_application, shutdown

_import_headless_first()
app = create_application()
from PySide6.QtCore import QTimer
from studio.main_window import MainWindow

window = MainWindow(sys.argv[1])
window.show()
at_show = "torch" in sys.modules
deadline = time.monotonic() + 60  # a loaded machine spawns slowly


def check():
    docks = window.training
    standby = docks.runner.standby if docks.has_runner else None
    if (standby is not None and standby.ready) or time.monotonic() > deadline:
        pid = standby._process.pid if standby is not None and standby.ready else None
        print("torch at show", at_show)
        print("standby process", pid)
        dock = window.docks["training"]
        print("training panel shown", dock.isVisible() and not dock.visibleRegion().isEmpty())
        print("torch imported on the GUI thread", bool(gui_imports))
        app.quit()


timer = QTimer()
timer.timeout.connect(check)
timer.start(20)
app.exec()
shutdown(app, window)
"""


def test_a_fresh_studio_spawns_its_standby_and_never_imports_torch_on_the_gui_thread(
        tmp_path):
    root = str(Path(studio.__file__).resolve().parents[1])  # this tree's studio
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STRATA_PRESTART="1",
               PYTHONPATH=os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    done = subprocess.run([sys.executable, "-c", STUDIO,
                           str(EXAMPLES / "spiral_mlp.strata")],
                          capture_output=True, text=True, timeout=120, env=env,
                          cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    said = dict(line.rsplit(" ", 1) for line in done.stdout.strip().splitlines())
    assert said["torch at show"] == "False"
    assert said["standby process"] != "None"
    assert said["training panel shown"] == "False"
    assert said["torch imported on the GUI thread"] == "False"
    # The standby went with the studio.
    with pytest.raises(ProcessLookupError):
        os.kill(int(said["standby process"]), 0)


def test_train_pressed_while_the_prestart_imports_waits_for_them_off_the_gui_thread(
        make_window, qtbot, monkeypatch):
    import threading

    from studio.training import prestart
    from studio.training.workbench import TrainingWorkbench

    monkeypatch.setenv("STRATA_PRESTART", "1")  # (the runner's own switch stays off)
    monkeypatch.setattr(prestart, "VIEWS_MS", 60_000)  # the views: only for Train
    release = threading.Event()
    imported: list[tuple[str, ...]] = []
    import_modules = prestart.import_modules

    def slow_import(names) -> None:  # a loaded machine: the imports take a while
        release.wait(20)
        import_modules(names)
        imported.append(names)

    monkeypatch.setattr(prestart, "import_modules", slow_import)
    trained: list[TrainingWorkbench] = []
    monkeypatch.setattr(TrainingWorkbench, "train", lambda bench: trained.append(bench))
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    docks = window.training
    qtbot.waitUntil(lambda: docks.prestart is not None and docks.prestart.importing,
                    timeout=5000)
    docks.actions.train.trigger()  # returns at once: nothing waits on the GUI thread
    assert not trained and not docks.built
    release.set()
    # The run's modules, the data's, then the views' (at once, not VIEWS_MS later),
    # then the workbench and its Train.
    qtbot.waitUntil(lambda: len(trained) == 1, timeout=20_000)
    assert trained == [docks.workbench()]
    assert imported == [prestart.RUN_MODULES, prestart.DATA_MODULES, prestart.VIEW_MODULES]
    assert docks.prestart.step == "done"
