"""The problems panel: every validation problem, where it is, and a fix when obvious.

Rebuilt from ``controller.analysis`` whenever it changes (the controller coalesces edits
into one analysis per event-loop turn, so typing stays fluid). Clicking a row selects the
nodes concerned through the controller and emits ``node_activated(node_id)`` so the
canvas can centre on it. Fixes come from ``graph.fixes``; each is recomputed
from the current analysis when clicked and applied as one undo step.
"""

from __future__ import annotations

import weakref
from functools import partial
from html import escape
from typing import TYPE_CHECKING

from PySide6.QtCore import QRect, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QStyledItemDelegate,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from graph import Problem
from graph.fixes import Fix, fix_for
from graph.training_fixes import diagnosis_fixes

from ..theme_colors import severity_color
from .widgets import muted, severity_icon

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

MAX_FIXES = 200  # fixes are looked for in the first rows only: huge broken files stay fast
PROBLEM_ROLE = Qt.ItemDataRole.UserRole + 1
DIAGNOSIS = "training:"  # kind prefix of a training run's diagnoses
# The panel listing each controller's problems (the node menu asks it for fixes).
PANELS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


TEXT_COLUMN = 1


def hover_text(text: str, fix: Fix | None) -> str:
    """A problem's tooltip: its whole text and fix, as rich text so Qt wraps it."""
    lines = [escape(text)] + ([f"\u2192 Fix: {escape(fix.title)}"] if fix else [])
    return "<qt>" + "<br>".join(lines) + "</qt>"


class _WrappingDelegate(QStyledItemDelegate):
    """Rows as tall as their wrapped text at the column's width now: a problem is
    never cut to "..." however narrow the panel (the list scrolls instead)."""

    def __init__(self, tree: QTreeWidget) -> None:
        super().__init__(tree)
        self.tree = tree

    def sizeHint(self, option, index) -> QSize:
        hint = super().sizeHint(option, index)
        if index.column() != TEXT_COLUMN:
            return hint
        # The text's room: the column less the item's padding (the style's frame).
        width = max(40, self.tree.header().sectionSize(TEXT_COLUMN) - 12)
        text = str(index.data() or "")
        needed = option.fontMetrics.boundingRect(
            QRect(0, 0, width, 100_000), int(Qt.TextFlag.TextWordWrap), text).height()
        return QSize(hint.width(), max(hint.height(), needed + 8))


class ProblemsPanel(QWidget):
    node_activated = Signal(str)  # the user picked a problem about this node
    # ...about a layer inside a block: its node path (``n5:1/n3``), for the canvas to
    # open the blocks down to it (``BlockLevels.reveal``).
    path_activated = Signal(str)
    count_changed = Signal(int)  # how many rows the list shows now
    # Every problem listed (the analysis's, the dataset check's, the run's diagnoses):
    # the status bar and the inspector's summary count these, so neither says "valid"
    # while Problems shows an error.
    listed = Signal(list)

    def __init__(self, controller: DocumentController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ProblemsPanel")
        self.controller = controller
        PANELS[controller] = self
        self.problems: list[Problem] = []
        self.fixes: list[Fix | None] = []
        self.diagnoses: list[Problem] = []  # what the last training run found
        # Problems other checks found (the dataset check), by source, with their fixes.
        self.extras: dict[str, tuple[list[Problem], dict[Problem, Fix]]] = {}

        self.summary = QLabel(self)
        self.summary.setObjectName("problems_summary")
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels(["Layer", "Problem", ""])
        self.tree.setRootIsDecorated(False)
        self.tree.setWordWrap(True)
        self.tree.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.tree.setItemDelegate(_WrappingDelegate(self.tree))
        self.tree.setAlternatingRowColors(True)
        self.tree.setIconSize(QSize(14, 14))
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(0, 170)
        header.resizeSection(2, 64)
        # Wrapped rows change height with the column's width: lay them out again.
        self._relayout = QTimer(self)
        self._relayout.setSingleShot(True)
        self._relayout.setInterval(0)
        self._relayout.timeout.connect(self.tree.doItemsLayout)
        header.sectionResized.connect(lambda *_: self._relayout.start())
        self.tree.itemClicked.connect(self._clicked)
        self.tree.itemActivated.connect(self._clicked)
        self.tree.customContextMenuRequested.connect(self._menu)

        self.empty = muted(QLabel("Nothing to fix. Problems appear here as you edit, "
                                  "with a one-click fix where the fix is obvious.", self))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setContentsMargins(16, 16, 16, 16)
        self.empty.hide()

        top = QHBoxLayout()
        top.setContentsMargins(8, 6, 8, 0)
        top.addWidget(self.summary, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.empty, 1)

        controller.analysis_changed.connect(self.refresh)
        if controller.analysis is not None:
            self.refresh(controller.analysis)

    # ------------------------------------------------------------------ analysis -> list
    def refresh(self, analysis=None) -> None:
        analysis = analysis or self.controller.analysis
        doc = self.controller.document
        if analysis is None:
            return
        problems = sorted(analysis.problems, key=lambda p: not p.is_error)
        extra_fixes: dict[Problem, Fix] = {}
        for found, fixes in self.extras.values():
            problems += [p for p in found if all(i in doc.nodes for i in p.node_ids)]
            extra_fixes.update(fixes)
        problems += [d for d in self.diagnoses
                     if all(i in doc.nodes for i in d.node_ids)]  # still this network
        self.problems = problems
        self.fixes = [self._fix_of(p, doc, analysis, extra_fixes) if i < MAX_FIXES
                      else None for i, p in enumerate(problems)]
        scroll = self.tree.verticalScrollBar().value()
        self.tree.setUpdatesEnabled(False)
        self.tree.clear()
        for row, (problem, fix) in enumerate(zip(problems, self.fixes)):
            item = QTreeWidgetItem(self.tree)
            item.setData(0, PROBLEM_ROLE, row)
            item.setIcon(0, severity_icon(problem.severity))
            item.setText(0, self._where(problem))
            lines = [problem.message]
            if fix is not None:  # says exactly what the Fix button will do
                lines.append(f"\u2192 Fix: {fix.title}")
            elif problem.hint:
                lines.append(f"\u2192 {problem.hint}")
            item.setText(1, "\n".join(lines))
            # The whole text one hover away too, with where it is.
            full = hover_text(problem.describe(doc), fix)
            item.setToolTip(1, full)
            item.setToolTip(0, full)
            item.setTextAlignment(0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            item.setTextAlignment(1, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            if fix is not None:
                self.tree.setItemWidget(item, 2, self._fix_button(row, fix))
            if problem == self._kept:  # the row the user picked stays picked
                self.tree.setCurrentItem(item)
        self.tree.setUpdatesEnabled(True)
        self.tree.verticalScrollBar().setValue(scroll)
        self._show_summary(problems)
        self.count_changed.emit(len(problems))
        self.listed.emit(list(problems))

    _kept: Problem | None = None

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        # A narrow panel (beside the training plots) gives the text the room: the
        # layer's name is short, and the whole of it is in the tooltip.
        width = event.size().width()  # the tree's own size may not follow yet
        self.tree.header().resizeSection(0, max(64, min(170, int(width * 0.28))))

    def _fix_of(self, problem: Problem, doc, analysis, extra: dict) -> Fix | None:
        if problem in extra:
            return extra[problem]
        if problem.kind.startswith(DIAGNOSIS):
            found = self.diagnosis_fixes(problem)
            return found[0] if found else None
        return fix_for(problem, doc, analysis)

    def diagnosis_fixes(self, problem: Problem) -> list[Fix]:
        """The fixes of a training diagnosis (Sigmoid to ReLU, BatchNorm, Dropout, a
        lower learning rate), for the next run."""
        if not problem.kind.startswith(DIAGNOSIS):
            return []
        return diagnosis_fixes(problem.kind[len(DIAGNOSIS):], problem.node_ids,
                               self.controller.document)

    def node_diagnosis_fixes(self, node_id: str) -> list[Fix]:
        return [f for p in self.problems if p.kind.startswith(DIAGNOSIS)
                and node_id in p.node_ids for f in self.diagnosis_fixes(p)]

    def path_diagnosis_fixes(self, key: str) -> list[Fix]:
        """The fixes of the diagnoses about the inner layer at setup path ``key``
        (``n5/n3``: every copy of a repeated instance)."""
        return [f for p in self.problems if p.kind.startswith(DIAGNOSIS)
                and key in {_without_copies(x) for x in p.path}
                for f in self.diagnosis_fixes(p)]

    def set_extra(self, source: str, problems: list[Problem],
                  fixes: dict[Problem, Fix]) -> None:
        """Problems another check found (``source``: "dataset"), with their fixes."""
        self.extras[source] = (list(problems), dict(fixes))
        self.refresh()

    def set_diagnoses(self, diagnoses) -> None:
        """Show a training run's diagnoses (``runtime.events.DiagnosisEvent``s) after the
        validation problems, with their explanation and fix; ``[]`` clears them."""
        self.diagnoses = [Problem(d.severity, _top_level(d.node_ids),
                                  f"{d.title}: {d.explanation}", d.fix,
                                  f"training:{d.kind}",
                                  path=tuple(n for n in d.node_ids if "/" in n))
                          for d in diagnoses]
        self.refresh()

    def _where(self, problem: Problem) -> str:
        doc = self.controller.document
        ids = [i for i in problem.node_ids if i in doc.nodes]
        if not ids:
            return "Network"
        inner = inner_path(problem)
        names = label_path(doc, inner) if inner is not None else None
        if names:  # the layer inside its block, as the message names it
            return names
        title = doc.nodes[ids[0]].title
        return title if len(ids) == 1 else f"{title} +{len(ids) - 1}"

    def _fix_button(self, row: int, fix: Fix) -> QWidget:
        holder = QWidget()
        box = QHBoxLayout(holder)
        box.setContentsMargins(4, 2, 4, 2)
        button = QPushButton("Fix", holder)
        button.setObjectName(f"fix_{row}")
        button.setToolTip(fix.title + " (one undo step)")
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        button.clicked.connect(lambda _=False, r=row: self.apply_fix(r))
        box.addWidget(button, 0, Qt.AlignmentFlag.AlignVCenter)
        return holder

    def _show_summary(self, problems: list[Problem]) -> None:
        errors = sum(p.is_error for p in problems)
        warnings = len(problems) - errors
        self.tree.setVisible(bool(problems))
        self.empty.setVisible(not problems)
        if not problems:
            ok = severity_color("ok").name()
            self.summary.setText(f"<span style='color:{ok}'>\u2714</span> No problems: "
                                 "the network is valid.")
            muted(self.summary)
            return
        self.summary.setPalette(self.palette())
        parts = []
        if errors:
            parts.append(f"<b style='color:{severity_color('error').name()}'>"
                         f"{errors} error{'s' if errors != 1 else ''}</b>")
        if warnings:
            parts.append(f"<b style='color:{severity_color('warning').name()}'>"
                         f"{warnings} warning{'s' if warnings != 1 else ''}</b>")
        fixable = sum(f is not None for f in self.fixes)
        tail = f" \u00b7 {fixable} with a one-click fix" if fixable else ""
        self.summary.setText(" \u00b7 ".join(parts) + tail)

    # ------------------------------------------------------------------ intents
    def _clicked(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        row = item.data(0, PROBLEM_ROLE)
        if row is None or row >= len(self.problems):
            return
        self._kept = self.problems[row]
        self.activate(row)

    def activate(self, row: int) -> None:
        """Select the nodes of problem ``row`` and ask the canvas to show them: a
        problem about a layer inside a block opens the block at that layer."""
        problem = self.problems[row]
        ids = [i for i in problem.node_ids if i in self.controller.document.nodes]
        if not ids:
            return
        self.controller.select(ids)
        inner = inner_path(problem)
        if inner is not None:
            self.path_activated.emit(inner)
        else:
            self.node_activated.emit(ids[0])

    def apply_fix(self, row: int) -> bool:
        """Apply the fix of problem ``row`` as one undo step; False if none applies now."""
        if row >= len(self.problems):
            return False
        analysis = self.controller.analysis
        problem = self.problems[row]
        extra = {k: v for _, f in self.extras.values() for k, v in f.items()}
        fix = self._fix_of(problem, self.controller.document, analysis, extra)
        if fix is None:
            return False
        self.controller.apply_fix(fix)
        return True

    def _menu(self, pos) -> None:
        item = self.tree.itemAt(pos)
        if item is None:
            return
        row = item.data(0, PROBLEM_ROLE)
        menu = QMenu(self)
        menu.addAction("Show layer", lambda: self.activate(row))
        fix = self.fixes[row] if row < len(self.fixes) else None
        if fix is not None:
            menu.addAction(f"Fix: {fix.title}", lambda: self.apply_fix(row))
        for other in self.diagnosis_fixes(self.problems[row])[1:]:
            menu.addAction(f"Fix: {other.title}", partial(self.controller.apply_fix, other))
        menu.exec(self.tree.viewport().mapToGlobal(pos))


def inner_path(problem: Problem) -> str | None:
    """The node path of the layer inside a block a problem is about (None: a layer of
    the network). A validation problem names its instance and the inner ids below it;
    a diagnosis whose layers are all inside blocks, the run's path of the first."""
    if problem.kind.startswith(DIAGNOSIS):
        heads = {p.split("/", 1)[0].split(":", 1)[0] for p in problem.path}
        if problem.path and all(i in heads for i in problem.node_ids):
            return problem.path[0]
        return None
    if problem.path and problem.node_ids:
        return "/".join((problem.node_ids[0], *problem.path))
    return None


def label_path(doc, path: str) -> str | None:
    """``n5:1/n3`` by labels: "layer1[1] > relu" (None when it names nothing)."""
    names = []
    for part in path.split("/"):
        node_id, _, copy = part.partition(":")
        node = doc.nodes.get(node_id)
        if node is None:
            return None
        names.append(f"{node.title}[{copy}]" if copy else node.title)
        block = node.params.get("block") if node.is_block else None
        if isinstance(block, str) and block in doc.blocks:
            doc = doc.blocks[block].body
    return " > ".join(names)


def _without_copies(path: str) -> str:
    """``n5:1/n3`` -> ``n5/n3``: a run's path as the training setup names it."""
    return "/".join(part.split(":", 1)[0] for part in path.split("/"))


def _top_level(node_ids) -> tuple[str, ...]:
    """The network's nodes a diagnosis concerns: a layer inside a block (``n5:1/n3``)
    is shown, selected and listed as its instance (``n5``); the text names the layer."""
    return tuple(dict.fromkeys(n.split("/", 1)[0].split(":", 1)[0] for n in node_ids))
