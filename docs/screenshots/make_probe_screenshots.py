"""Grab the Probe on trained examples: ``python docs/screenshots/make_probe_screenshots.py``.

Each example is trained for a few epochs in this process (the real engine), opened in a
real window offscreen at 1280x720 and 1920x1080, probed on a validation example with the
run's weights, and grabbed to ``probe_<example>[_1080p].png`` here:

- ``edges_cnn``: the first convolution's maps (edges) and the second's (parts), with
  Grad-CAM over the input;
- ``deep_sigmoid_mlp``: this example's gradient shrinking layer by layer to the input;
- ``spiral_mlp``: a point of the plane (2-D input);
- ``transformer_classifier``: a token sequence with Integrated Gradients per token.
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
from PySide6.QtWidgets import QApplication

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
EXAMPLES = ROOT / "resources" / "examples"

SHOTS = (  # example, epochs, attribution, node type to select
    ("edges_cnn", 4, "grad_cam", "Conv2d"),
    ("deep_sigmoid_mlp", 3, None, "Linear"),
    ("spiral_mlp", 60, None, "Linear"),
    ("transformer_classifier", 4, "integrated_gradients", None),
)
SIZES = ((1280, 720, ""), (1920, 1080, "_1080p"))


def train(path: Path, epochs: int, out: Path) -> Path:
    import graph
    from runtime.engine import Trainer
    from runtime.setup import TrainingSetup

    doc = graph.load(path)
    setup = TrainingSetup.from_document(doc).replace(epochs=epochs)
    Trainer(doc, setup, emit=lambda _e: None, out_dir=out, base_dir=path.parent).run()
    return out / "last.pt"


def main() -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    from studio.main_window import MainWindow

    work = Path(tempfile.mkdtemp(prefix="strata-probe-"))
    for name, epochs, attribution, select in SHOTS:
        path = work / f"{name}.strata"
        shutil.copy(EXAMPLES / f"{name}.strata", path)
        checkpoint = train(path, epochs, work / f"run_{name}")
        for width, height, suffix in SIZES:
            window = MainWindow(path, settings=QSettings(
                str(work / f"s{suffix}.ini"), QSettings.Format.IniFormat),
                autosave_dir=work / "recovery")
            window.resize(width, height)
            window.show()
            window.probe.show()
            panel = window.probe.panel
            panel.probe_example("val", 3)
            _settle(app, panel)
            panel.use_checkpoint(str(checkpoint))
            _settle(app, panel)
            if attribution:
                panel.attribution.setCurrentIndex(panel.attribution.findData(attribution))
                panel.probe()
                _settle(app, panel)
            doc = window.controller.document
            if select:
                nodes = [n for n in (panel.answer.result.nodes if panel.answer else ())
                         if doc.nodes.get(n) is not None and doc.nodes[n].type == select]
                if nodes:
                    window.controller.select([nodes[0]])
            window.probe.dock.raise_()
            _settle(app, panel)
            out = HERE / f"probe_{name}{suffix}.png"
            window.grab().save(str(out))
            print("wrote", out)
            window.controller.undo_stack.setClean()
            window.close()
            window.deleteLater()
            app.processEvents()


def _settle(app, panel) -> None:
    end = time.monotonic() + 300
    app.processEvents()
    while panel.service.task.running and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)
    for _ in range(30):
        app.processEvents()
        time.sleep(0.01)


if __name__ == "__main__":
    main()
