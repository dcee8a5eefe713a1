"""Strata Studio: the Qt application (PySide6 + pyqtgraph).

The only package that imports Qt. It renders and edits a ``graph.Document`` through undo
commands and listens to ``runtime`` events. It holds no logic the CLI would need: rules
(wiring, fixes, which Output trains), settings, evaluation, run records and export all
live in ``graph`` or ``runtime`` and the studio asks them. Importing ``studio`` itself
stays cheap: Qt and torch load only when the window is built.
"""
