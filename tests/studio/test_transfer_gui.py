"""Export and import from the window: the File menu, the two dialogs, background work.

Real windows offscreen and real files in ``tmp_path``: exports are written by the
dialog's background job and then loaded (the Python executed, the weights loaded into
the compiled module, the ONNX model run); imports trace real tutorial-style files.
Dialogs are driven through their API (``set_destination``, ``set_source``...) instead
of file dialogs; the window's questions are answered by replacing ``window.ask``.
"""

from __future__ import annotations

import itertools
import shutil
import subprocess
import sys
import time

import pytest
import torch
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QMessageBox
from strata_paths import EXAMPLES

import graph
from graph.state_dicts import safetensors_available
from runtime.transfer import onnx_available, runtime_available

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise",
                                       "does not support grabbing")
Answer = QMessageBox.StandardButton
SLOW = 120_000  # ms: tracing and ONNX export on a busy 2-core machine

TUTORIAL_CNN = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallNet(nn.Module):
    """A small CIFAR-style CNN, as the PyTorch tutorials write it."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 8, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc1 = nn.Linear(16 * 4 * 4, 32)
        self.fc2 = nn.Linear(32, num_classes)

    def forward(self, x):
        x = self.pool(F.relu(self.bn1(self.conv1(x))))
        x = self.pool(F.relu(self.conv2(x)))
        x = torch.flatten(x, 1)
        x = F.relu(self.fc1(x))
        return self.fc2(x)


def helper():
    return 42
'''

UNMAPPABLE = '''
import torch.nn as nn


class Odd(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.act = nn.RReLU()
        self.fc2 = nn.Linear(16, 2)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)) % 0.5)
'''

# Building this module keeps the interpreter busy for a while, as tracing a large
# network does: the window must keep running its event loop meanwhile.
SLOW_TO_BUILD = '''
import time
import torch.nn as nn


class Slow(nn.Module):
    def __init__(self):
        super().__init__()
        end = time.perf_counter() + 2.0
        n = 0
        while time.perf_counter() < end:
            n += sum(i * i for i in range(200))
        self.fc = nn.Linear(4, 3)

    def forward(self, x):
        return self.fc(x)
'''


@pytest.fixture
def spiral(tmp_path):
    path = tmp_path / "spiral.strata"
    shutil.copy(EXAMPLES / "spiral_mlp.strata", path)
    return path


def finish(qtbot, dialog) -> None:
    """Wait for the dialog's background job to report."""
    qtbot.waitUntil(lambda: not dialog.busy, timeout=SLOW)


def listed(qtbot, dialog, path) -> list[str]:
    with qtbot.waitSignal(dialog.candidates_listed, timeout=SLOW) as blocker:
        dialog.set_source(path)
    return blocker.args[0]


def export(qtbot, window, fmt, destination, **options):
    dialog = window.files.transfer.export(fmt)
    assert dialog is not None and dialog.isVisible() and dialog.format() == fmt
    dialog.set_destination(destination)
    if "checkpoint" in options:
        dialog.set_checkpoint(options["checkpoint"])
    assert dialog.start(), dialog.status.text()
    assert dialog.busy and dialog.status.bar.isVisible()  # the busy indicator shows
    finish(qtbot, dialog)
    return dialog


# ---------------------------------------------------------------------- menu
def test_file_menu_offers_every_export_and_the_import(make_window, spiral):
    window = make_window(spiral)
    a = window.menu_actions
    assert [x.text() for x in window.export_menu.actions()] == [
        a.export_python.text(), a.export_train.text(), a.export_weights.text(),
        a.export_onnx.text()]
    # The entries are runtime.transfer's declared formats, in their order.
    from runtime.transfer import EXPORT_FORMATS

    assert [x.statusTip() for x in window.export_menu.actions()][:3] == [
        f.summary for f in EXPORT_FORMATS][:3]  # ONNX's says what to install when absent
    dialog_titles = [window.files.transfer.export("python").formats.item(i).text()
                     for i in range(len(EXPORT_FORMATS))]
    window.files.transfer.export_dialog.reject()
    assert dialog_titles == [f.title for f in EXPORT_FORMATS]
    file_menu = window.menuBar().actions()[0].menu()
    assert a.import_code in file_menu.actions()
    assert window.export_menu.menuAction() in file_menu.actions()
    assert a.export in window.toolbar.actions()
    assert a.export_python.shortcut().toString() == "Ctrl+E"
    a.export.trigger()  # the toolbar button opens the dialog on the last format
    dialog = window.files.transfer.export_dialog
    assert dialog.isVisible() and dialog.format() == "python"
    dialog.set_format("weights")
    dialog.reject()
    a.export.trigger()
    assert dialog.isVisible() and dialog.format() == "weights"
    dialog.reject()


def test_a_network_with_errors_is_refused_naming_its_first_problem(make_window, spiral):
    window = make_window(spiral)
    window.controller.add_node("Linear", (0, 300), label="stray")
    window.controller.analyze_now()
    for action in (window.menu_actions.export_python, window.menu_actions.export_weights):
        action.trigger()
        box = window.last_message
        assert box is not None and box.isVisible()
        assert "stray" in box.text() and "is not connected" in box.text()
        assert "Traceback" not in box.text()
        box.close()
    assert window.files.transfer.export_dialog is None


# ---------------------------------------------------------------------- export
def test_export_python_and_a_runnable_training_script(make_window, spiral, tmp_path,
                                                      qtbot):
    window = make_window(spiral)
    dialog = export(qtbot, window, "python", tmp_path / "out" / "spiral_net.py")
    assert dialog.status.kind == "ok", dialog.status.text()
    module = tmp_path / "out" / "spiral_net.py"
    namespace: dict = {}
    exec(compile(module.read_text("utf-8"), str(module), "exec"), namespace)  # noqa: S102
    model = namespace["SpiralMLP"]()
    assert model(torch.zeros(5, 2)).shape == (5, 2)
    assert "from spiral_net import SpiralMLP" in dialog.status.report_text()

    # The training page says where the data goes before anything is written.
    dialog.set_format("train")
    assert "spirals" in dialog.train_data.text() and "beside train.py" in \
        dialog.train_data.text()
    assert "60 epochs" in dialog.train_setup.text()
    folder = tmp_path / "trainer"
    dialog.set_destination(folder)
    assert dialog.start()
    finish(qtbot, dialog)
    assert dialog.status.kind == "ok", dialog.status.report_text()
    written = sorted(p.name for p in folder.iterdir())
    assert written == ["spiral_mlp.py", "spiral_mlp_data.npz", "sweep.py", "train.py"]
    assert "spiral_mlp_data.npz" in dialog.status.report_text()
    # It runs with only torch and numpy: one epoch on the saved data.
    done = subprocess.run([sys.executable, "train.py", "--epochs", "1", "--device", "cpu"],
                          cwd=folder, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert (folder / "checkpoints" / "last.pt").is_file()

    # Exporting again over the same files asks first; "No" writes nothing.
    before = (folder / "train.py").stat().st_mtime_ns
    window.answers = [Answer.No]
    assert not dialog.start()
    assert window.asked[-1] == "Replace the existing file?"
    assert (folder / "train.py").stat().st_mtime_ns == before
    dialog.reject()


def trained_run(doc, out_dir):
    """A real two-epoch training of ``doc`` by the engine, folded into the studio's
    run record exactly as the runner folds the worker's events."""
    from runtime.engine import EngineOptions, Trainer
    from runtime.events import FinishedEvent
    from runtime.run_record import RunRecord
    from runtime.setup import TrainingSetup

    setup = TrainingSetup.from_document(doc).replace(epochs=2)
    events: list = []
    options = EngineOptions(feature_maps=False, boundary_resolution=0,
                            train_metric=False)
    final = Trainer(doc, setup, emit=events.append, out_dir=out_dir,
                    options=options).run()
    assert isinstance(final, FinishedEvent)
    run = RunRecord(1, network=doc.name, label=f"#1 {doc.name}", setup=setup.to_dict(),
                    document=doc.to_dict())
    for event in events:
        run.apply(event)
    return run


def test_export_weights_of_the_sessions_latest_checkpoint(make_window, spiral, tmp_path,
                                                          qtbot):
    window = make_window(spiral)
    doc = window.controller.document
    # Without a training run there is nothing to pick: the dialog asks for a file.
    dialog = window.files.transfer.export("weights")
    assert dialog.weights_picker.path() is None
    dialog.set_destination(tmp_path / "w.pt")
    assert not dialog.start()
    assert "checkpoint" in dialog.status.text()
    dialog.reject()


    bench = window.training
    run = trained_run(doc, tmp_path / "run1")
    bench.runner.runs.append(run)
    latest = [c for c in run.checkpoints if c.reason != "best"][-1]

    dialog = window.files.transfer.export("weights")
    assert dialog.weights_picker.path() == latest.path
    assert "latest, epoch 2" in dialog.weights_picker.combo.currentText()
    dialog.set_destination(tmp_path / "spiral_weights.pt")
    assert dialog.start()
    finish(qtbot, dialog)
    assert dialog.status.kind == "ok", dialog.status.report_text()

    trained = torch.load(latest.path, weights_only=False)["model"]
    exported = torch.load(tmp_path / "spiral_weights.pt", weights_only=True)
    model = graph.compile(doc)
    model.load_state_dict(exported, strict=True)
    assert all(torch.equal(model.state_dict()[k], trained[k]) for k in trained)

    if safetensors_available():
        from safetensors.torch import load_file

        dialog.set_weights_format(".safetensors")
        assert dialog.destination().suffix == ".safetensors"
        assert dialog.start()
        finish(qtbot, dialog)
        assert dialog.status.kind == "ok", dialog.status.report_text()
        model.load_state_dict(load_file(dialog.destination()), strict=True)

    # A network the run did not train is not offered its checkpoint.
    window.controller.set_param(doc.find_label("fc1").id, "out_features", 7)
    dialog.reject()
    dialog = window.files.transfer.export("weights")
    assert dialog.weights_picker.path() is None
    dialog.set_checkpoint(latest.path)  # chosen anyway: the mismatch is explained
    dialog.set_destination(tmp_path / "mismatch.pt")
    assert dialog.start()
    finish(qtbot, dialog)
    assert dialog.status.kind == "error"
    assert "do not fit" in dialog.status.text() and "fc1" in dialog.status.text()
    assert not (tmp_path / "mismatch.pt").exists()
    dialog.reject()


@pytest.mark.skipif(not onnx_available(), reason="the onnx extra (onnx, onnxscript) is "
                    "not installed: pip install strata-studio[onnx]")
def test_export_onnx_in_the_background_with_the_check_report(make_window, spiral,
                                                             tmp_path, qtbot):
    import onnx

    window = make_window(spiral)
    doc = window.controller.document
    torch.manual_seed(3)
    model = graph.compile(doc).eval()
    weights = tmp_path / "weights.pt"
    torch.save(model.state_dict(), weights)
    dialog = export(qtbot, window, "onnx", tmp_path / "spiral.onnx", checkpoint=weights)
    assert dialog.status.kind == "ok", dialog.status.report_text()
    report = dialog.status.report_text()
    assert "checked" in report and "weights.pt" in report
    onnx.checker.check_model(onnx.load(tmp_path / "spiral.onnx"))
    if runtime_available():
        import onnxruntime as ort

        assert "onnxruntime matches PyTorch" in report
        session = ort.InferenceSession(str(tmp_path / "spiral.onnx"),
                                       providers=["CPUExecutionProvider"])
        x = torch.randn(7, 2)  # a batch size the export never saw
        (got,) = session.run(None, {session.get_inputs()[0].name: x.numpy()})
        with torch.no_grad():
            assert torch.allclose(torch.from_numpy(got), model(x), atol=1e-5)
    dialog.reject()


def test_without_the_onnx_extra_the_entry_explains_what_to_install(make_window, spiral,
                                                                   monkeypatch):
    import runtime.transfer.onnx as onnx_export
    from studio import window_menus

    monkeypatch.setattr(onnx_export, "missing_packages", lambda: ["onnx", "onnxscript"])
    window = make_window(spiral)
    action = window.menu_actions.export_onnx
    window_menus.describe_onnx(action)
    assert action.isVisible() and action.isEnabled()
    assert "not installed" in action.text() and "pip install" in action.toolTip()
    action.trigger()
    box = window.last_message
    assert box is not None and "onnx and onnxscript" in box.text()
    assert "pip install" in box.text()
    box.close()
    # The dialog's ONNX page says the same and cannot export.
    dialog = window.files.transfer.export("python")
    dialog.set_format("onnx")
    assert "pip install" in dialog.onnx_missing.text()
    assert not dialog.export_button.isEnabled()
    dialog.reject()


def test_without_safetensors_the_weights_page_says_what_to_install(make_window, spiral,
                                                                   tmp_path, monkeypatch):
    from graph import state_dicts

    monkeypatch.setattr(state_dicts, "safetensors_available", lambda: False)
    window = make_window(spiral)
    dialog = window.files.transfer.export("weights")
    assert not dialog.weights_format.model().item(1).isEnabled()
    assert dialog.safetensors_note.isVisibleTo(dialog)
    assert "pip install safetensors" in dialog.safetensors_note.text()
    checkpoint = tmp_path / "weights.pt"
    torch.save(graph.compile(window.controller.document).state_dict(), checkpoint)
    dialog.set_checkpoint(checkpoint)
    dialog.set_destination(tmp_path / "typed.safetensors")  # typed by hand
    assert not dialog.start()
    assert "pip install safetensors" in dialog.status.text()
    assert not (tmp_path / "typed.safetensors").exists()
    dialog.reject()


# ---------------------------------------------------------------------- import
def test_import_a_tutorial_module_opens_it_with_equal_outputs(make_window, spiral,
                                                              tmp_path, qtbot):
    source = tmp_path / "small_net.py"
    source.write_text(TUTORIAL_CNN, "utf-8")
    # The original, with weights the file provides (random, so equality means the
    # weights really came along).
    namespace: dict = {}
    exec(compile(TUTORIAL_CNN, str(source), "exec"), namespace)  # noqa: S102
    torch.manual_seed(7)
    original = namespace["SmallNet"](num_classes=5)
    with torch.no_grad():
        for p in original.parameters():
            p.add_(torch.randn_like(p) * 0.1)
        original.bn1.running_var.uniform_(0.5, 2.0)
    weights = tmp_path / "small_net.pt"
    torch.save(original.state_dict(), weights)

    window = make_window(spiral)
    window.controller.set_param(window.controller.document.find_label("fc1").id,
                                "out_features", 12)  # unsaved changes: asked first
    window.menu_actions.import_code.trigger()
    dialog = window.files.transfer.import_dialog
    assert dialog.isVisible()
    assert listed(qtbot, dialog, source) == ["SmallNet", "helper"]
    dialog.set_target("SmallNet")
    dialog.set_arguments("num_classes=5")
    dialog.set_inputs([("1,3,16,16", "float")])
    dialog.set_weights(weights)
    window.answers = [Answer.Discard]
    with qtbot.waitSignal(dialog.imported, timeout=SLOW) as blocker:
        assert dialog.start()
        assert dialog.busy and dialog.status.bar.isVisible()
    outcome = blocker.args[0]
    assert window.asked == ["Save changes?"]
    assert dialog.status.kind == "ok"
    report = dialog.status.report_text()
    assert "Its outputs equal the original module's" in report
    assert f"{outcome.result.max_abs_diff:.2g}" in report

    doc = window.controller.document
    assert doc is outcome.document and doc.name == "SmallNet"
    assert window.controller.path is None and window.isWindowModified()
    assert window.windowTitle().startswith("SmallNet")
    assert {n.type for n in doc.nodes.values()} >= {"Conv2d", "BatchNorm2d", "Linear"}
    assert not window.scene.nodes_rect().isNull()  # the canvas shows it
    # The weights saved for Strata load into the compiled network: same outputs.
    saved = torch.load(outcome.weights_saved, weights_only=True)
    assert str(outcome.weights_saved) in report
    imported = graph.compile(doc)
    imported.load_state_dict(saved, strict=True)
    imported.eval()
    original.eval()
    x = torch.randn(4, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(imported(x), original(x), atol=1e-5)
    dialog.reject()


def test_a_broken_file_and_an_unmappable_module_leave_the_document_untouched(
        make_window, spiral, tmp_path, qtbot):
    window = make_window(spiral)
    window.controller.set_param(window.controller.document.find_label("fc1").id,
                                "out_features", 12)
    before = window.controller.document.to_dict()
    dialog = window.files.transfer.import_code()

    broken = tmp_path / "broken.py"
    broken.write_text("import torch.nn as nn\n\nclass Net(nn.Module)\n    pass\n")
    assert listed(qtbot, dialog, broken) == []
    assert dialog.status.kind == "error"
    assert "broken.py" in dialog.status.text() and "syntax error at line 3" in \
        dialog.status.text()
    dialog.set_inputs([("1,8", "float")])
    assert not dialog.start()  # nothing to import from it
    assert "Choose the class or function" in dialog.status.text()

    odd = tmp_path / "odd.py"
    odd.write_text(UNMAPPABLE)
    assert listed(qtbot, dialog, odd) == ["Odd"]
    dialog.set_inputs([("1 x 8", "float")])
    with qtbot.waitSignal(dialog.failed, timeout=SLOW) as blocker:
        assert dialog.start()
    message = blocker.args[0]
    assert "2 operations cannot be mapped" in dialog.status.text()
    report = dialog.status.report_text()
    for line in message.splitlines()[1:]:  # every unmapped operation, where it is
        assert line in report
    assert "nn.RReLU at 'act'" in report and "the operator %" in report
    assert "odd.py:13" in report  # the line of the user's source
    assert "the network in the editor is unchanged" in report
    assert "Traceback" not in report

    # A shape that is not one is refused before any work starts.
    dialog.set_inputs([("batch,8", "float")])
    assert not dialog.start() and "1,3,32,32" in dialog.status.text()

    assert window.controller.document.to_dict() == before
    assert window.controller.path == spiral and window.isWindowModified()
    assert window.asked == []
    dialog.reject()


def test_the_editor_keeps_running_while_an_import_traces(make_window, tmp_path, qtbot):
    source = tmp_path / "slow.py"
    source.write_text(SLOW_TO_BUILD)
    window = make_window()
    dialog = window.files.transfer.import_code()
    assert listed(qtbot, dialog, source) == ["Slow"]
    dialog.set_inputs([("1,4", "float")])
    ticks: list[float] = []
    timer = QTimer(window)
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start()
    began = time.perf_counter()
    with qtbot.waitSignal(dialog.imported, timeout=SLOW):
        assert dialog.start()
    ended = time.perf_counter()
    timer.stop()
    during = [began] + [t for t in ticks if began <= t <= ended] + [ended]
    gaps = [b - a for a, b in itertools.pairwise(during)]
    assert ended - began >= 2.0  # the module really took its time
    assert len(during) >= 20, f"{len(during)} ticks in {ended - began:.1f} s"
    # Done on the GUI thread, the import would stall the loop for all of its >= 2 s;
    # in the background only first-time loads (holding the GIL) cause short pauses.
    assert max(gaps) < 1.0, f"the event loop stalled for {max(gaps):.2f} s"
    assert window.controller.document.name == "Slow"
    dialog.reject()


def test_closing_the_dialog_abandons_a_running_import(make_window, spiral, tmp_path,
                                                      qtbot, qapp):
    source = tmp_path / "slow.py"
    source.write_text(SLOW_TO_BUILD)
    window = make_window(spiral)
    before = window.controller.document.to_dict()
    dialog = window.files.transfer.import_code()
    listed(qtbot, dialog, source)
    dialog.set_inputs([("1,4", "float")])
    assert dialog.start()
    dialog.reject()
    assert not dialog.busy and "cancelled" in dialog.status.text()
    assert dialog.task.wait(SLOW)  # the trace ends on its own...
    qapp.processEvents()  # ...and its queued result is delivered, then dropped
    assert window.controller.document.to_dict() == before
    assert window.controller.path == spiral
