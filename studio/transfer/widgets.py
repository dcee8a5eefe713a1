"""Pieces both transfer dialogs use: a path field with Browse, and a status strip.

``PathField`` opens a file dialog only from its Browse button; code (and tests) call
``set_path``. ``StatusStrip`` shows a busy bar while a background job runs, a one-line
status coloured by kind (the style sheet's ``StatusError``/``StatusOk``) and, below it,
a selectable report that stays hidden while empty. Reports are plain text by
convention: lines indented four spaces or more are code (shown in a fixed font),
``  - `` starts a list item, the rest is prose.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

KIND_NAMES = {"error": "StatusError", "ok": "StatusOk", "info": "", "busy": "Muted"}
MARKS = {"error": "\u2716 ", "ok": "\u2714 ", "info": "", "busy": ""}


class PathField(QWidget):
    changed = Signal(str)

    def __init__(self, mode: str = "save", title: str = "", file_filter: str = "",
                 placeholder: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mode, self.title, self.file_filter = mode, title, file_filter
        self.edit = QLineEdit(self)
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.edit.textChanged.connect(self.changed)
        self.browse_button = QPushButton("Browse\u2026", self)
        self.browse_button.clicked.connect(self.browse)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.edit, 1)
        row.addWidget(self.browse_button)

    def path(self) -> Path | None:
        text = self.edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_path(self, path) -> None:
        self.edit.setText("" if path is None else str(path))

    def browse(self) -> None:
        start = str(self.path() or "")
        if self.mode == "folder":
            chosen = QFileDialog.getExistingDirectory(self, self.title, start)
        elif self.mode == "open":
            chosen, _ = QFileDialog.getOpenFileName(self, self.title, start,
                                                    self.file_filter)
        else:
            chosen, _ = QFileDialog.getSaveFileName(self, self.title, start,
                                                    self.file_filter)
        if chosen:
            self.set_path(chosen)


class StatusStrip(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.bar = QProgressBar(self)
        self.bar.setRange(0, 0)  # indeterminate: the work has no measurable steps
        self.bar.setTextVisible(False)
        self.bar.setFixedSize(90, 8)
        self.bar.hide()
        self.label = QLabel(self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.report = QTextBrowser(self)
        self.report.setOpenLinks(False)
        self.report.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.report.setMinimumHeight(90)
        self.report.document().setDocumentMargin(8)
        self._report = ""
        self.report.hide()
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.setSpacing(8)
        top.addWidget(self.bar, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.label, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(top)
        layout.addWidget(self.report, 1)
        self.kind = "info"

    def show_busy(self, text: str) -> None:
        self.set_status(text, "busy")
        self.bar.show()
        self.set_report("")

    def set_status(self, text: str, kind: str = "info", report: str | None = None) -> None:
        self.kind = kind
        self.bar.setVisible(kind == "busy")
        self.label.setObjectName(KIND_NAMES.get(kind, ""))
        self.label.setText(MARKS.get(kind, "") + text if text else "")
        # The object name picks the colour: re-polish so the style sheet applies it now.
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)
        if report is not None:
            self.set_report(report)

    def set_report(self, text: str) -> None:
        self._report = text
        self.report.setHtml(report_html(text))
        self.report.setVisible(bool(text))

    def text(self) -> str:
        return self.label.text()

    def report_text(self) -> str:
        """The report as given (plain text)."""
        return self._report


def report_html(text: str) -> str:
    """Prose in the interface font, code lines in a fixed font, list items bulleted."""
    mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).family()
    parts = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped:
            parts.append('<div style="margin-top: 6px;"></div>')
        elif line.startswith("    "):
            parts.append(f'<div style="font-family: \'{mono}\'; margin-left: 18px; '
                         f'white-space: pre-wrap;">'
                         f"{html.escape(stripped)}</div>")
        elif stripped.startswith("- "):
            parts.append(f'<div style="margin-left: 4px; margin-top: 4px;">\u2022 '
                         f"{html.escape(stripped[2:])}</div>")
        else:
            parts.append(f"<div>{html.escape(stripped)}</div>")
    return "".join(parts)
