"""Shared pieces of the training GUI tests: small networks and a workbench on a canvas.

(Named like the tests so it sits with them; it holds no tests itself.)
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QSplitter
from strata_paths import EXAMPLES

from graph.builder import Builder
from studio.canvas import NetworkView
from studio.document.controller import DocumentController
from studio.panels.problems import ProblemsPanel
from studio.training.runner import TrainingRunner
from studio.training.workbench import TrainingWorkbench

WAIT_MS = 120_000  # a spawned worker imports torch first; shared CI machines are slow


def tiny_mlp(epochs: int = 3, activation: str = "ReLU", depth: int = 2, **training):
    b = Builder("Tiny MLP")
    h = b.add("Input", shape=[2])
    for i in range(1, depth + 1):
        h = b.chain(h, ("Linear", {"out_features": 16}, f"fc{i}"), (activation, {}, f"act{i}"))
    b.chain(h, ("Linear", {"out_features": 2}, "head"), "Output")
    setup = {"dataset": {"name": "moons", "size": 300}, "epochs": epochs,
             "batch_size": 32, "lr": 0.01, "sample_every": 1}
    setup.update(training)
    return b.done(setup)


def trained_record(epochs: int = 1):
    """The record of ``tiny_mlp`` trained by the real engine, built from its events
    (what the studio keeps of a finished run)."""
    from runtime.engine import Trainer
    from runtime.run_record import RunRecord

    doc = tiny_mlp(epochs=epochs)
    events: list = []
    Trainer(doc, emit=events.append).run()
    run = RunRecord(1, network=doc.name, label="#1 test")
    for event in events:
        run.apply(event)
    return run


def tiny_cnn(epochs: int = 1):
    b = Builder("Tiny CNN")
    x = b.add("Input", shape=[1, 16, 16])
    b.chain(x, ("Conv2d", {"out_channels": 4, "kernel_size": [3, 3]}, "conv1"), "ReLU",
            ("MaxPool2d", {}, "pool"), "Flatten",
            ("Linear", {"out_features": 4}, "classifier"), "Output")
    return b.done({"dataset": {"name": "shapes", "size": 200, "image_size": 16},
                   "epochs": epochs, "batch_size": 32, "lr": 0.01, "sample_every": 1})


def workbench(qtbot, doc, tmp_path, problems: bool = False):
    """A controller, a canvas and a workbench around them (and a Problems panel if
    asked), shown offscreen."""
    controller = DocumentController()
    controller.set_document(doc)
    view = NetworkView(controller)
    runner = TrainingRunner(out_root=tmp_path / "runs", threads=1)
    panel = ProblemsPanel(controller) if problems else None
    bench = TrainingWorkbench(controller, view.network_scene, view, runner=runner,
                              problems=panel)
    runner.setParent(bench)
    window = QSplitter()
    window.addWidget(bench.panel)
    window.addWidget(view)
    window.addWidget(bench.view)
    if panel is not None:
        window.addWidget(panel)
    window.resize(1900, 800)
    window.setSizes([300, 560, 1040])  # the plots wide enough for three columns
    # The window owns the lot, so its deletion at teardown ends them all: a workbench
    # owned by Python alone outlived its test (lambdas connected to the controller's
    # signals and the controller's to its, a cycle through Qt's connections that the
    # collector cannot see), and its runner's warm-up, due a second after a run ended,
    # spawned a standby during a later test.
    bench.setParent(window)
    controller.setParent(window)
    qtbot.addWidget(window, before_close_func=lambda _w: bench.shutdown())
    window.show()
    bench.window = window
    return controller, view, bench


def node_id(doc, label: str) -> str:
    return next(n.id for n in doc.nodes.values() if n.label == label)


def wait_ended(qtbot, bench, timeout: int = WAIT_MS):
    """Wait (on Qt events, no sleeping) until the current run has ended."""
    qtbot.waitUntil(lambda: bench.runner.current is not None
                    and not bench.runner.active, timeout=timeout)
    qtbot.waitUntil(lambda: bench.view.settled)  # the last plots drawn
    return bench.runner.current


def wait_status(qtbot, bench, status: str, timeout: int = WAIT_MS):
    qtbot.waitUntil(lambda: bench.runner.current is not None
                    and bench.runner.current.status == status, timeout=timeout)


def settle(qtbot, ms: int = 30) -> None:
    """Posted events and layouts done, then ``ms`` of the event loop."""
    for _ in range(5):
        QApplication.processEvents()
    qtbot.wait(ms)


def in_train_workspace(make_window, qtbot, example: str, size=(1280, 720)):
    """An example's window at ``size``, in the Train workspace, with its workbench."""
    window = make_window(EXAMPLES / f"{example}.strata")
    window.resize(*size)
    bench = window.training.workbench()
    window.workspaces.switch("train")
    settle(qtbot)
    return window, bench
