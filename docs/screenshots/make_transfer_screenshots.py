"""Grab the Export and Import dialogs to PNG: ``python docs/screenshots/make_transfer_screenshots.py``.

Each dialog is shown on a real window offscreen, does its real work in the background
(a short real training gives the weights page its checkpoints) and is grabbed when the
work has reported, to ``transfer_<name>.png`` here. Files go to a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
EXAMPLES = ROOT / "resources" / "examples"
LENET = ROOT / "tests" / "transfer" / "fixtures" / "lenet.py"
UNMAPPABLE = ROOT / "tests" / "transfer" / "fixtures" / "unmappable.py"


def main(theme: str = "light") -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    from studio import resources
    from studio.main_window import MainWindow

    work = Path(tempfile.mkdtemp(prefix="strata-")) / "projects"
    (work / "spirals").mkdir(parents=True)
    network = work / "spirals" / "spiral_mlp.strata"
    shutil.copy(EXAMPLES / "spiral_mlp.strata", network)
    (work / "models").mkdir()
    for source in (LENET, UNMAPPABLE):
        shutil.copy(source, work / "models" / source.name)

    window = MainWindow(network, settings=QSettings(str(work / "s.ini"),
                                                    QSettings.Format.IniFormat),
                        autosave_dir=work / "recovery")
    resources.apply(app, theme)
    window.ask = lambda *args: QMessageBox.StandardButton.Yes
    window.show()
    suffix = "" if theme == "light" else f"_{theme}"

    def settle(dialog, busy=lambda: False) -> None:
        end = time.monotonic() + 300
        while (busy() or dialog.busy) and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.01)
        for _ in range(20):
            app.processEvents()

    def grab(dialog, name: str) -> None:
        settle(dialog)
        out = HERE / f"transfer_{name}{suffix}.png"
        dialog.grab().save(str(out))
        print("wrote", out.relative_to(ROOT))

    # A short real training, so the weights page lists the session's checkpoints.
    add_training_run(window, work / "runs")

    transfer = window.files.transfer
    dialog = transfer.export("train")
    dialog.set_destination(work / "spirals" / "spiral_train")
    dialog.start()
    grab(dialog, "export_train")
    dialog.reject()

    dialog = transfer.export("weights")
    dialog.set_destination(work / "spirals" / "spiral_mlp.pt")
    dialog.start()
    grab(dialog, "export_weights")
    dialog.reject()

    dialog = transfer.export("onnx")
    dialog.set_destination(work / "spirals" / "spiral_mlp.onnx")
    dialog.start()
    grab(dialog, "export_onnx")
    dialog.reject()

    dialog = transfer.import_code()
    dialog.set_source(work / "models" / "lenet.py")
    settle(dialog, lambda: dialog.lister.running)
    dialog.set_target("LeNet5")
    dialog.set_inputs([("1,1,28,28", "float")])
    dialog.start()
    grab(dialog, "import")

    dialog.set_source(work / "models" / "unmappable.py")
    settle(dialog, lambda: dialog.lister.running)
    dialog.set_target("CustomOpNet")
    dialog.set_inputs([("1,8", "float")])
    dialog.start()
    grab(dialog, "import_unmapped")
    dialog.reject()

    window.controller.undo_stack.setClean()
    window.close()
    window.deleteLater()
    app.processEvents()
    resources.apply(app, "light")


def add_training_run(window, out_dir: Path) -> None:
    from runtime.engine import EngineOptions, Trainer
    from runtime.run_record import RunRecord
    from runtime.setup import TrainingSetup

    bench = window.training
    doc = window.controller.document
    setup = TrainingSetup.from_document(doc).replace(epochs=3)
    events: list = []
    Trainer(doc, setup, emit=events.append, out_dir=out_dir,
            options=EngineOptions(feature_maps=False, boundary_resolution=0)).run()
    run = RunRecord(1, network=doc.name, label=f"#1 {doc.name}", setup=setup.to_dict(),
                    document=doc.to_dict())
    for event in events:
        run.apply(event)
    bench.runner.runs.append(run)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "light")
