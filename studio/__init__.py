"""Strata Studio: the Qt application (PySide6 + pyqtgraph).

The only package that imports Qt. It renders and edits a ``graph.Document`` through undo
commands and listens to ``runtime`` events. Importing ``studio`` itself stays cheap: Qt
and torch load only when the window is built.
"""
