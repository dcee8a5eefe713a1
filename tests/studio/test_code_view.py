"""The code panel: shows the generated source, follows edits (debounced), explains why
there is no code while the network has errors, copies, highlights the selection."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QApplication

import graph
from studio.panels.code_view import CodePanel


@pytest.fixture
def panel(qtbot, controller):
    p = CodePanel(controller)
    qtbot.addWidget(p)
    return p


def test_shows_the_generated_source(panel, controller):
    expected = graph.generate_code(controller.document).source
    assert panel.editor.toPlainText() == expected
    assert panel.stack.currentWidget() is panel.editor
    assert panel.editor.isReadOnly()
    # Columns line up: every character is as wide as every other. (Not
    # QFontInfo.fixedPitch(): fontconfig may pick a monospace face, such as Noto Sans
    # Mono, that it does not flag as fixed pitch, and offscreen has few fonts.)
    metrics = QFontMetricsF(panel.editor.font())
    widths = {metrics.horizontalAdvance(c * 8) for c in "iW0.m_ "}
    assert len(widths) == 1, widths


def test_follows_edits_once_per_burst(panel, controller, qtbot):
    fc1 = controller.document.find_label("fc1").id
    updates = []
    panel.code_updated.connect(lambda: updates.append(panel.source))
    with qtbot.waitSignal(panel.code_updated, timeout=3000):
        for width in (10, 20, 32):  # a burst of edits, as while typing
            controller.set_param(fc1, "out_features", width)
            controller.analyze_now()
    assert len(updates) == 1
    assert "nn.Linear(784, 32)" in panel.editor.toPlainText()
    assert panel.editor.toPlainText() == graph.generate_code(controller.document).source


def test_errors_replace_the_code(panel, controller, qtbot):
    doc = controller.document
    flatten = next(n.id for n in doc.nodes.values() if n.type == "Flatten")
    with qtbot.waitSignal(panel.code_updated, timeout=3000):
        controller.disconnect(doc.edges_into(flatten)[0])
    assert panel.stack.currentWidget() is panel.errors
    text = panel.errors.text()
    assert "The network has errors" in text
    assert "is not connected" in text  # the first errors, in the user's terms
    assert not panel.copy_button.isEnabled()
    assert panel.source is None
    with qtbot.waitSignal(panel.code_updated, timeout=3000):
        controller.undo_stack.undo()
    assert panel.stack.currentWidget() is panel.editor
    assert panel.copy_button.isEnabled()


def test_copy_puts_the_source_on_the_clipboard(panel, qtbot):
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == panel.source


def test_syntax_highlighting(panel):
    doc = panel.editor.document()
    lines = panel.source.splitlines()

    def formats(prefix):
        n = next(i for i, line in enumerate(lines) if line.lstrip().startswith(prefix))
        return doc.findBlockByNumber(n).layout().formats()

    keyword = formats("class ")
    assert keyword and keyword[0].start == 0  # "class" is coloured
    colours = {f.format.foreground().color().name() for f in formats("x = self.conv1(x)")}
    assert len(colours) == 2  # self, and the comment with the shape
    comment = [f for f in formats("x = self.conv1(x)") if f.format.fontItalic()]
    line = next(line for line in lines if "self.conv1(x)" in line)
    assert comment and line[comment[0].start] == "#"


def test_selected_layer_lines_are_highlighted(panel, controller):
    conv1 = controller.document.find_label("conv1").id
    controller.select([conv1])
    marked = panel.editor.extraSelections()
    expected = [n for n, node in panel.code.line_nodes.items() if node == conv1]
    assert len(marked) == len(expected) == 2  # constructor and forward lines
    assert {s.cursor.blockNumber() + 1 for s in marked} == set(expected)
    controller.select([])
    assert panel.editor.extraSelections() == []


def test_double_click_on_a_line_selects_its_layer(panel, controller):
    fc1 = controller.document.find_label("fc1").id
    line = next(n for n, node in panel.code.line_nodes.items() if node == fc1)
    panel.editor.line_double_clicked.emit(line)
    assert controller.selected == [fc1]


@pytest.mark.qt_log_ignore("does not support propagateSizeHints")  # offscreen platform
def test_hidden_panel_waits_until_shown(qtbot, controller):
    """Behind another dock tab the panel does no work; it catches up when shown."""
    from PySide6.QtWidgets import QLabel, QTabWidget

    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    panel = CodePanel(controller)
    tabs.addTab(QLabel("other"), "Other")
    tabs.addTab(panel, "Code")
    tabs.setCurrentIndex(0)
    tabs.show()
    qtbot.waitExposed(tabs)
    fc1 = controller.document.find_label("fc1").id
    with qtbot.assertNotEmitted(panel.code_updated, wait=400):
        controller.set_param(fc1, "out_features", 7)
        controller.analyze_now()
    assert "nn.Linear(784, 7)" not in panel.editor.toPlainText()
    with qtbot.waitSignal(panel.code_updated, timeout=3000):
        tabs.setCurrentIndex(1)
    assert "nn.Linear(784, 7)" in panel.editor.toPlainText()


def test_docstrings_are_coloured_as_strings_across_lines(qapp):
    from PySide6.QtGui import QTextDocument

    from studio.panels.python_highlighter import PythonHighlighter

    source = ('x = 1  """one line"""\n'
              'def f():\n'
              '    """Opens here\n'
              '    still inside\n'
              '    closes here""" + y\n'
              'z = 2\n')
    doc = QTextDocument(source)
    highlighter = PythonHighlighter(doc)
    highlighter.rehighlight()
    string = highlighter.formats["string"].foreground().color()

    def coloured(line: int, text: str) -> bool:
        block = doc.findBlockByNumber(line)
        at = block.text().index(text)
        return any(f.start <= at < f.start + f.length
                   and f.format.foreground().color() == string
                   for f in block.layout().formats())

    assert coloured(0, '"""one') and not coloured(0, "x =")
    assert coloured(2, '"""Opens') and coloured(3, "still inside")
    assert coloured(4, 'closes here"""') and not coloured(4, "+ y")
    assert not coloured(5, "z = 2")
