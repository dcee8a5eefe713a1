"""Python syntax highlighting for the code preview: a small QSyntaxHighlighter.

Generated code is simple (one class, no nested strings), so a handful of regular
expressions suffice: keywords, builtins, ``self``, numbers, strings, comments (which in
generated code carry the tensor shapes) and triple-quoted docstrings spanning lines.
Colours come in a light and a dark set, picked from the palette's background.
"""

from __future__ import annotations

import keyword
import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat

LIGHT = {
    "keyword": ("#8a3ab9", True), "builtin": ("#1f6fb2", False),
    "self": ("#b5472b", False), "number": ("#0f7b6c", False),
    "string": ("#2f7d32", False), "comment": ("#7a8290", False),
    "definition": ("#1d5fa8", True), "decorator": ("#9a6a00", False),
}
DARK = {
    "keyword": ("#c792ea", True), "builtin": ("#82aaff", False),
    "self": ("#f78c6c", False), "number": ("#89ddca", False),
    "string": ("#a5d6a7", False), "comment": ("#8b95a5", False),
    "definition": ("#82b1ff", True), "decorator": ("#ffcb6b", False),
}

_BUILTINS = ("int", "float", "str", "tuple", "list", "dict", "super", "range", "len",
             "print", "bool", "None", "True", "False")
RULES: list[tuple[str, re.Pattern[str]]] = [
    ("keyword", re.compile(r"\b(" + "|".join(keyword.kwlist) + r")\b")),
    ("builtin", re.compile(r"\b(" + "|".join(_BUILTINS) + r")\b")),
    ("self", re.compile(r"\bself\b")),
    ("number", re.compile(r"\b\d+(\.\d*)?([eE][-+]?\d+)?\b")),
    ("definition", re.compile(r"(?<=\bdef )\w+|(?<=\bclass )\w+")),
    ("decorator", re.compile(r"^\s*@\w+")),
    ("string", re.compile(r"'[^'\\\n]*(\\.[^'\\\n]*)*'|\"[^\"\\\n]*(\\.[^\"\\\n]*)*\"")),
    ("comment", re.compile(r"#[^\n]*")),
]
_TRIPLE = re.compile(r'"""|\'\'\'')
IN_DOCSTRING = 1


class PythonHighlighter(QSyntaxHighlighter):
    def __init__(self, document, dark: bool = False) -> None:
        super().__init__(document)
        self.formats: dict[str, QTextCharFormat] = {}
        self.set_dark(dark)

    def set_dark(self, dark: bool) -> None:
        self.formats = {}
        for name, (color, bold) in (DARK if dark else LIGHT).items():
            fmt = QTextCharFormat()
            fmt.setForeground(QColor(color))
            if bold:
                fmt.setFontWeight(QFont.Weight.DemiBold)
            if name == "comment":
                fmt.setFontItalic(True)
            self.formats[name] = fmt
        self.rehighlight()

    def highlightBlock(self, text: str) -> None:
        # Later rules win, so strings and comments override keywords inside them.
        for name, pattern in RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(), match.end() - match.start(),
                               self.formats[name])
        self._docstrings(text)

    def _docstrings(self, text: str) -> None:
        fmt = self.formats["string"]
        start = 0
        inside = self.previousBlockState() == IN_DOCSTRING
        self.setCurrentBlockState(0)
        while True:
            search_from = start  # inside a docstring opened on an earlier line
            if not inside:
                begin = _TRIPLE.search(text, start)
                if begin is None:
                    return
                # the opening quotes are part of the string
                start, search_from = begin.start(), begin.end()
            end = _TRIPLE.search(text, search_from)
            if end is None:
                self.setFormat(start, len(text) - start, fmt)
                self.setCurrentBlockState(IN_DOCSTRING)
                return
            self.setFormat(start, end.end() - start, fmt)
            start, inside = end.end(), False
