"""Grab the editor's side panels to PNG: ``python docs/screenshots/make_panel_screenshots.py``.

Each panel is built standalone on an example network with a layer selected (and the
four together in a plain window), then grabbed offscreen to ``panel_<name>.png`` here.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QMainWindow, QSplitter

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
EXAMPLES = ROOT / "resources" / "examples"


def main(theme: str = "light") -> None:
    app = QApplication.instance() or QApplication(sys.argv)
    from studio import resources

    resources.apply(app, theme)  # the look of the real window
    suffix = "" if theme == "light" else f"_{theme}"
    from graph import Edge
    from studio.document.controller import DocumentController
    from studio.panels import CodePanel, InspectorPanel, PalettePanel, ProblemsPanel

    def loaded(name: str) -> DocumentController:
        c = DocumentController()
        c.open(EXAMPLES / f"{name}.strata")
        return c

    def label(c, text):
        return c.document.find_label(text).id

    def settle(widget, size):
        widget.resize(*size)
        widget.show()
        for _ in range(5):
            app.processEvents()

    shots = {}
    c = loaded("shapes_cnn")
    palette = PalettePanel(c)
    settle(palette, (260, 640))
    shots["palette"] = palette
    palette_search = PalettePanel(c)
    palette_search.search.setText("conv")
    settle(palette_search, (260, 300))
    shots["palette_search"] = palette_search

    c = loaded("shapes_cnn")
    c.analyze_now()
    c.select([label(c, "conv2")])
    inspector = InspectorPanel(c)
    settle(inspector, (340, 760))
    shots["inspector"] = inspector

    c2 = loaded("shapes_cnn")
    c2.select([label(c2, "fc1")])
    inspector_error = InspectorPanel(c2)
    settle(inspector_error, (340, 560))
    editor = inspector_error.form.editors["out_features"]
    editor.field.lineEdit().setText("0")
    editor.field.interpretText()
    app.processEvents()
    shots["inspector_refused"] = inspector_error

    c3 = loaded("spiral_mlp")
    c3.analyze_now()
    network = InspectorPanel(c3)
    settle(network, (340, 620))
    shots["inspector_network"] = network

    # A broken residual network: Flatten removed before the classifier, and a block
    # whose channels no longer match the skip connection.
    c4 = loaded("residual_cnn")
    doc = c4.document
    flatten = next(n.id for n in doc.nodes.values() if n.type == "Flatten")
    (inward,) = doc.edges_into(flatten)
    (outward,) = doc.edges_from(flatten)
    # bypass the Flatten (it is left dangling: a warning)
    c4.connect(inward.source, inward.source_port, outward.target, outward.target_port)
    c4.set_param(label(c4, "block2_conv2"), "out_channels", 32)
    c4.analyze_now()
    problems = ProblemsPanel(c4)
    settle(problems, (760, 240))
    shots["problems"] = problems
    assert Edge

    c5 = loaded("residual_cnn")
    c5.select([label(c5, "skip1")])
    code = CodePanel(c5)
    settle(code, (640, 560))
    code.regenerate()
    c5.select([label(c5, "skip1")])
    app.processEvents()
    shots["code"] = code

    broken = CodePanel(c4)
    settle(broken, (640, 220))
    broken.regenerate()
    shots["code_errors"] = broken

    # all four together
    c6 = loaded("shapes_cnn")
    window = QMainWindow()
    split = QSplitter()
    split.addWidget(PalettePanel(c6))
    middle = QSplitter()
    from PySide6.QtCore import Qt
    middle.setOrientation(Qt.Orientation.Vertical)
    middle.addWidget(CodePanel(c6))
    middle.addWidget(ProblemsPanel(c6))
    split.addWidget(middle)
    split.addWidget(InspectorPanel(c6))
    split.setSizes([240, 640, 340])
    window.setCentralWidget(split)
    c6.select([label(c6, "conv1")])
    settle(window, (1240, 760))
    shots["all"] = window

    for name, widget in shots.items():
        app.processEvents()
        out = HERE / f"panel_{name}{suffix}.png"
        widget.grab().save(str(out))
        print("wrote", out.relative_to(ROOT))
    for widget in shots.values():
        widget.close()
        widget.deleteLater()
    app.processEvents()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "light")
