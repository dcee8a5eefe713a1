"""Regenerate the editor screenshots: ``python docs/screenshots/make_screenshots.py``
(or only some: ``... make_screenshots.py spiral_mlp residual_cnn``).

Opens the main window offscreen with each example network, waits until the generated
code, the analysis and the parameter count are shown, and saves the window as
``editor_<example>.png`` (and ``editor_<example>_dark.png`` for a few, in the dark theme).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HERE = Path(__file__).resolve().parent
# A layer to select in each picture, so the inspector shows a layer's form.
SELECT = {"shapes_cnn": "conv2", "residual_cnn": "skip1", "transformer_classifier": "encoder",
          "two_input_concat": "join"}
DARK = ("residual_cnn", "transformer_classifier", "two_input_concat")


def settle(app, ready, timeout: float = 30.0) -> None:
    """Let the window finish its deferred work (code preview, parameter count, device
    probe): process events until ``ready()`` holds, then a little longer."""
    import time

    deadline = time.monotonic() + timeout
    while not ready() and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.02)
    end = time.monotonic() + 0.6
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def shape_error(window, app) -> None:
    """The shapes CNN without its Flatten: a red wire, a badge, a one-click fix."""
    from studio.window_files import examples

    window.files.open_example(next(p for p in examples() if p.stem == "shapes_cnn"))
    doc = window.controller.document
    window.controller.delete([doc.find_label("flatten").id])
    pool2, fc1 = doc.find_label("pool2").id, doc.find_label("fc1").id
    window.controller.connect(pool2, "out", fc1, "in")
    window.controller.auto_arrange()  # close the gap
    window.controller.select([fc1])
    window.view.center_on_node(pool2)
    status = window.status
    settle(app, lambda: "\u2026" not in status.params.text() + status.device.text())
    window.grab().save(str(HERE / "editor_shape_error.png"))
    print(f"wrote {HERE / 'editor_shape_error.png'}")


def main(names: list[str] | None = None) -> int:
    from PySide6.QtCore import QSettings

    from studio.app import create_application
    from studio.main_window import MainWindow
    from studio.window_files import examples

    app = create_application()
    with tempfile.TemporaryDirectory() as tmp:
        for size, dark in (((1920, 1080), False), ((1920, 1080), True),
                           ((1280, 720), False)):
            suffix = "" if size == (1920, 1080) else "_720p"
            settings = QSettings(str(Path(tmp) / f"settings_{dark}{suffix}.ini"),
                                 QSettings.Format.IniFormat)
            settings.setValue("view/theme", "dark" if dark else "light")
            window = MainWindow(settings=settings, autosave_dir=Path(tmp) / "recovery")
            window.resize(*size)
            window.show()
            for path in examples():
                if (dark and path.stem not in DARK) or (names and path.stem not in names):
                    continue
                window.files.open_example(path)
                doc = window.controller.document
                label = SELECT.get(path.stem)
                node = doc.find_label(label) if label else None
                window.controller.select([node.id] if node else [])
                window.view.show_document()
                view = window.view
                visible = view.mapToScene(view.viewport().rect()).boundingRect()
                if node is not None and not visible.contains(view.network_scene.nodes_rect()):
                    view.center_on_node(node.id)  # too long to fit: show the chosen layer
                status = window.status
                settle(app, lambda s=status: "\u2026" not in s.params.text() + s.device.text())
                name = f"editor_{path.stem}{'_dark' if dark else ''}{suffix}.png"
                window.grab().save(str(HERE / name))
                print(f"wrote {HERE / name}")
            if not dark and not suffix and not names:
                shape_error(window, app)
            window.controller.undo_stack.setClean()
            window.close()
            window.deleteLater()
            app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
