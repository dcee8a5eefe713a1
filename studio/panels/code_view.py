"""Live, read-only preview of the generated PyTorch code.

The text is ``graph.generate_code(doc, analysis).source``: exactly what Export writes and
what training compiles. Regeneration is debounced (``DEBOUNCE_MS`` after the last
analysis) and skipped while the panel is hidden, so typing in the inspector or dragging
on the canvas never waits for it. While the network has errors the panel says so and
lists the first few instead of showing stale code. The lines of the selected layers are
highlighted; double-clicking a line selects its layer.

Blocks: with a block instance selected, or a block open on the canvas (``show_block``),
the panel scrolls to the ``class <Block>(nn.Module)`` written for that definition and
shades it; inside an open block, the selected inner layers' lines in that class are
highlighted too.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QFontDatabase,
    QGuiApplication,
    QPainter,
    QPalette,
    QTextCursor,
    QTextFormat,
)
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

import graph
from graph.errors import StrataError

from ..theme_colors import severity_color
from .python_highlighter import PythonHighlighter
from .widgets import hidden_in_window, muted

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

DEBOUNCE_MS = 250
SHOWN_ERRORS = 5


class _Gutter(QWidget):
    """Line numbers left of the code (Qt's code editor example, trimmed)."""

    def __init__(self, editor: _CodeEdit) -> None:
        super().__init__(editor)
        self.editor = editor

    def sizeHint(self) -> QSize:
        return QSize(self.editor.gutter_width(), 0)

    def paintEvent(self, event) -> None:
        self.editor.paint_gutter(event)


class _CodeEdit(QPlainTextEdit):
    line_double_clicked = Signal(int)  # 1-based line number

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gutter = _Gutter(self)
        self.blockCountChanged.connect(self._fit_gutter)
        self.updateRequest.connect(self._scroll_gutter)
        self._fit_gutter()

    def gutter_width(self) -> int:
        digits = max(3, len(str(self.blockCount())))
        return 14 + self.fontMetrics().horizontalAdvance("9") * digits

    def _fit_gutter(self, *_args) -> None:
        self.setViewportMargins(self.gutter_width(), 0, 0, 0)

    def _scroll_gutter(self, rect, dy: int) -> None:
        if dy:
            self.gutter.scroll(0, dy)
        else:
            self.gutter.update(0, rect.y(), self.gutter.width(), rect.height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        r = self.contentsRect()
        self.gutter.setGeometry(QRect(r.left(), r.top(), self.gutter_width(), r.height()))

    def paint_gutter(self, event) -> None:
        painter = QPainter(self.gutter)
        palette = self.palette()
        painter.fillRect(event.rect(), palette.color(QPalette.ColorRole.AlternateBase))
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.setFont(self.font())
        block = self.firstVisibleBlock()
        top = round(self.blockBoundingGeometry(block).translated(self.contentOffset()).top())
        height = self.fontMetrics().height()
        width = self.gutter.width() - 8
        while block.isValid() and top <= event.rect().bottom():
            if block.isVisible() and top + height >= event.rect().top():
                painter.drawText(0, top, width, height, Qt.AlignmentFlag.AlignRight,
                                 str(block.blockNumber() + 1))
            top += round(self.blockBoundingRect(block).height())
            block = block.next()
        painter.end()

    def mouseDoubleClickEvent(self, event) -> None:
        super().mouseDoubleClickEvent(event)
        self.line_double_clicked.emit(self.cursorForPosition(event.position().toPoint())
                                      .blockNumber() + 1)


class CodePanel(QWidget):
    code_updated = Signal()  # the preview shows the current network (code or errors)

    def __init__(self, controller: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CodePanel")
        self.controller = controller
        self.code: graph.GeneratedCode | None = None
        self._stale = True
        self.block: str | None = None  # the definition open on the canvas
        self.level: DocumentController | None = None  # its controller
        self._scroll_pending = False  # a selection to scroll to once shown
        # A selected block whose class the code shown does not have yet (just grouped:
        # the code regenerates after the selection): scrolled to once it appears.
        self._awaiting_class = False

        self.title = muted(QLabel("Generated PyTorch \u00b7 read-only", self))
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setToolTip("Copy the whole module to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        top = QHBoxLayout()
        top.setContentsMargins(8, 6, 8, 0)
        top.addWidget(self.title, 1)
        top.addWidget(self.copy_button)

        self.editor = _CodeEdit(self)
        self.editor.setObjectName("code")
        self.editor.setReadOnly(True)
        self.editor.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setStyleHint(font.StyleHint.TypeWriter)
        font.setFixedPitch(True)
        font.setPointSizeF(max(font.pointSizeF(), 9.5))
        self.editor.setFont(font)
        self.editor.setTabStopDistance(self.editor.fontMetrics().horizontalAdvance(" ") * 4)
        self.editor.document().setDocumentMargin(6)
        self.editor._fit_gutter()
        self.editor.line_double_clicked.connect(self._select_line)
        self.highlighter = PythonHighlighter(self.editor.document(), self._is_dark())

        self.errors = QLabel(self)
        self.errors.setObjectName("code_errors")
        self.errors.setWordWrap(True)
        self.errors.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.errors.setContentsMargins(12, 12, 12, 12)
        self.errors.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.editor)
        self.stack.addWidget(self.errors)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DEBOUNCE_MS)
        self.timer.timeout.connect(self.regenerate)
        controller.analysis_changed.connect(self._schedule)
        controller.selection_changed.connect(self._highlight_selection)
        self.regenerate()

    # ------------------------------------------------------------------ regeneration
    def _schedule(self, *_args) -> None:
        self._stale = True
        self.timer.start()  # restarts: a burst of edits regenerates once

    def regenerate(self) -> None:
        """Show the code of the current network now (or why there is none)."""
        if hidden_in_window(self):
            return  # showEvent catches up
        self._stale = False
        doc, analysis = self.controller.document, self.controller.analysis
        try:
            code = graph.generate_code(doc, analysis if analysis and analysis.doc is doc
                                       else None)
        except StrataError:
            self.code = None
            self._show_errors()
        else:
            self.code = code
            self._show_source(code.source)
        self.code_updated.emit()

    def _show_source(self, source: str) -> None:
        if self.editor.toPlainText() != source:
            bar = self.editor.verticalScrollBar()
            hbar = self.editor.horizontalScrollBar()
            top, left = bar.value(), hbar.value()
            self.editor.setPlainText(source)
            bar.setValue(top)
            hbar.setValue(left)
        self.copy_button.setEnabled(True)
        self.stack.setCurrentWidget(self.editor)
        awaiting = self._awaiting_class
        self._highlight_selection(self.controller.selected,
                                  scroll=self._scroll_pending or awaiting)
        if awaiting:  # one chance: a block that writes no class must not pin the view
            self._awaiting_class = False

    def _show_errors(self) -> None:
        doc, analysis = self.controller.document, self.controller.analysis
        errors = analysis.errors if analysis is not None else []
        red = severity_color("error").name()
        muted_color = self.palette().color(QPalette.ColorRole.PlaceholderText).name()
        items = "".join(
            f"<li><b>{_escape(_where(doc, p))}</b>: {_escape(p.message)}"
            + (f"<br><span style='color:{muted_color}'>\u2192 {_escape(p.hint)}</span>"
               if p.hint else "") + "</li>"
            for p in errors[:SHOWN_ERRORS])
        more = len(errors) - SHOWN_ERRORS
        tail = f"<p>\u2026 and {more} more.</p>" if more > 0 else ""
        self.errors.setText(
            f"<p><b style='color:{red}'>The network has errors</b>, so there is no code "
            f"to show yet. Fix them (see the Problems panel) and the code appears here."
            f"</p><ul style='margin-left:-16px'>{items}</ul>{tail}")
        self.copy_button.setEnabled(False)
        self.stack.setCurrentWidget(self.errors)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale:
            self.timer.start(0)
        elif self._scroll_pending:
            QTimer.singleShot(0, self, self._scroll_to_selection)

    def _scroll_to_selection(self) -> None:
        self._highlight_selection(self.controller.selected)

    def changeEvent(self, event) -> None:
        super().changeEvent(event)
        if event.type() == event.Type.PaletteChange and hasattr(self, "highlighter"):
            self.highlighter.set_dark(self._is_dark())

    def _is_dark(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Base).lightness() < 128

    @property
    def source(self) -> str | None:
        return self.code.source if self.code is not None else None

    # ------------------------------------------------------------------ blocks
    def show_block(self, name: str | None,
                   controller: DocumentController | None = None) -> None:
        """A block is open on the canvas (``name``; None: the network is shown): show
        its class, and the lines of what is selected inside (``controller``'s)."""
        if self.level is not None:
            self.level.selection_changed.disconnect(self._on_level_selection)
        self.block = name
        self.level = controller if name is not None else None
        if self.level is not None:
            self.level.selection_changed.connect(self._on_level_selection)
        self._highlight_selection(self.controller.selected)

    def _on_level_selection(self, _node_ids) -> None:
        self._scroll_to_selection()

    def class_range(self, definition: str) -> tuple[int, int] | None:
        """First and last line (1-based) of the first class written for block
        ``definition`` in the code shown."""
        if self.code is None:
            return None
        names = self.code.block_classes.get(definition, [])
        lines = self.code.source.split("\n")
        for name in names[:1]:
            header = f"class {name}("
            for i, line in enumerate(lines):
                if line.startswith(header):
                    end = i + 1
                    while end < len(lines) and (not lines[end] or lines[end][0].isspace()):
                        end += 1
                    end -= 1
                    while end > i and not lines[end].strip():
                        end -= 1
                    return i + 1, end + 1
        return None

    def _block_lines(self, node_ids) -> tuple[set[int], set[int], int | None]:
        """Lines of the block classes to shade, lines of inner layers to highlight, and
        the line to scroll to."""
        code = self.code
        assert code is not None
        doc = self.controller.document
        definitions: list[object]  # block names; a malformed node's may be anything
        if self.block is not None:
            definitions = [self.block]
        else:
            definitions = [doc.nodes[i].params.get("block") for i in node_ids
                           if i in doc.nodes and doc.nodes[i].is_block]
        shaded: set[int] = set()
        inner: set[int] = set()
        target = None
        missing = False
        for definition in dict.fromkeys(d for d in definitions if isinstance(d, str)):
            span = self.class_range(definition)
            if span is None:
                missing = missing or definition in doc.blocks
                continue
            shaded.update(range(span[0], span[1] + 1))
            target = target or span[0]
            if self.block is None or self.level is None:
                continue
            attributes = code.class_attributes.get(code.block_classes[definition][0], {})
            wanted = [attributes[i] for i in self.level.selected if i in attributes]
            if not wanted:
                continue
            pattern = re.compile(r"self\.(" + "|".join(map(re.escape, wanted)) + r")\b")
            lines = code.source.split("\n")
            for n in range(span[0], span[1] + 1):
                if pattern.search(lines[n - 1]):
                    inner.add(n)
            target = min(inner) if inner else target
        if self.block is not None and self.level is not None:
            # A block instance selected inside the open block: its own class.
            level = self.level.document
            for node_id in self.level.selected:
                node = level.nodes.get(node_id)
                name = node.params.get("block") if node is not None and node.is_block \
                    else None
                span = self.class_range(name) if isinstance(name, str) else None
                missing = missing or (span is None and isinstance(name, str)
                                      and name in doc.blocks)
                if span is not None:
                    shaded.update(range(span[0], span[1] + 1))
                    target = span[0]
                    inner.clear()  # scroll to the class, not to the line using it
        self._awaiting_class = missing
        return shaded, inner, target

    # ------------------------------------------------------------------ selection
    def _highlight_selection(self, node_ids, scroll: bool = True) -> None:
        if self.code is None or hidden_in_window(self):
            # Scrolled to when shown (a hidden editor has no geometry to scroll).
            self._scroll_pending = self._scroll_pending or scroll
            return
        self._scroll_pending = False
        chosen = set(node_ids) if self.block is None else set()
        color = self.palette().color(QPalette.ColorRole.Highlight)
        color.setAlpha(48)
        shade = self.palette().color(QPalette.ColorRole.Highlight)
        shade.setAlpha(26)
        shaded, inner, target = self._block_lines(node_ids)
        lines = {lineno for lineno, node_id in self.code.line_nodes.items()
                 if node_id in chosen} | inner
        selections = []
        first = None
        for lineno in sorted(lines | shaded):
            block = self.editor.document().findBlockByNumber(lineno - 1)
            if not block.isValid():
                continue
            sel = QTextEdit.ExtraSelection()
            sel.format.setBackground(color if lineno in lines else shade)
            sel.format.setProperty(QTextFormat.Property.FullWidthSelection, True)
            sel.cursor = QTextCursor(block)
            selections.append(sel)
            if lineno in lines:
                first = first or block
        self.editor.setExtraSelections(selections)
        if not scroll:
            return
        if target is not None and not inner:
            # The class from its first line, under a line of context.
            self.editor.setTextCursor(QTextCursor(
                self.editor.document().findBlockByNumber(target - 1)))
            self.editor.verticalScrollBar().setValue(max(0, target - 2))
        elif first is not None:
            cursor = QTextCursor(first)
            self.editor.setTextCursor(cursor)
            self.editor.centerCursor()

    def _select_line(self, lineno: int) -> None:
        if self.code is None:
            return
        node_id = self.code.line_nodes.get(lineno)
        if node_id is not None:
            self.controller.select([node_id])

    # ------------------------------------------------------------------ actions
    def copy(self) -> None:
        if self.code is not None:
            QGuiApplication.clipboard().setText(self.code.source)


def _where(doc, problem) -> str:
    ids = [i for i in problem.node_ids if i in doc.nodes]
    return doc.nodes[ids[0]].title if ids else "Network"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
