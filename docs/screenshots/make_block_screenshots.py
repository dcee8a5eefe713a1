"""Grab the blocks example: ``python docs/screenshots/make_block_screenshots.py``.

Opens ``resources/examples/blocks_resnet.strata`` in a real window offscreen at 1280x720
and 1920x1080 (``""`` and ``_1080p`` suffixes) and writes, here:

- ``blocks_resnet[_1080p].png``: the ResNet of blocks on the canvas, the repeated stage
  ``layer1`` selected (the inspector shows the block), the palette's Blocks sections
  (this network's blocks on top; "built-in" searched for, so the library shows too);
- ``blocks_open[_1080p].png``: the BasicBlock opened from ``layer1`` (breadcrumb
  "Network > BasicBlock"), its inner ``conv1`` selected, the palette listing the block
  ports that only exist inside a block.

The user's block library is an empty temporary folder, so the shots do not depend on
what the machine's user saved.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QCoreApplication, QEvent, QSettings
from PySide6.QtWidgets import QApplication

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(ROOT))
EXAMPLE = ROOT / "resources" / "examples" / "blocks_resnet.strata"
SIZES = ((1280, 720, ""), (1920, 1080, "_1080p"))


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="strata-blocks-"))
    os.environ["STRATA_BLOCK_LIBRARY"] = str(work / "library")
    app = QApplication.instance() or QApplication(sys.argv)
    from studio.main_window import MainWindow

    path = work / EXAMPLE.name
    shutil.copy(EXAMPLE, path)
    for width, height, suffix in SIZES:
        for shot in ("blocks_resnet", "blocks_open"):
            window = MainWindow(path, settings=QSettings(
                str(work / f"s{suffix}_{shot}.ini"), QSettings.Format.IniFormat),
                autosave_dir=work / "recovery")
            window.resize(width, height)
            window.show()
            _settle(app)
            doc = window.controller.document
            layer1 = next(n.id for n in doc.nodes.values() if n.label == "layer1")
            if shot == "blocks_resnet":
                window.palette_panel.search.setText("block")
                window.controller.select([layer1])
            else:
                window.levels.open_block(layer1)
                _settle(app)
                inner = window.levels.current
                conv1 = next(n.id for n in inner.document.nodes.values()
                             if n.label == "conv1")
                inner.select([conv1])
            _settle(app)
            out = HERE / f"{shot}{suffix}.png"
            window.grab().save(str(out))
            print("wrote", out)
            window.controller.undo_stack.setClean()
            window.close()
            window.deleteLater()
            app.processEvents()
    shutil.rmtree(work, ignore_errors=True)


def _settle(app) -> None:
    for _ in range(40):
        app.processEvents()
        # Widgets replaced with deleteLater (the breadcrumb's) go now, as they would
        # in the event loop, instead of lingering under their successors.
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        time.sleep(0.02)


if __name__ == "__main__":
    main()
