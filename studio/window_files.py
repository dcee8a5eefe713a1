"""File commands of the main window: new, open, save, export, recent files, examples.

Dialogs appear only when no path is given, so tests (and scripts) call ``open_path``,
``save_as(path)`` and ``export_python(path)`` directly. The Export and Import dialogs
(training script, weights, ONNX, PyTorch code) live in ``studio.transfer``, reached
through ``transfer``. A file that cannot be read is
reported in a message and the current document stays as it was. Examples open as
untitled copies, so saving never overwrites the shipped example.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMessageBox

import graph
from graph.errors import GraphError, StrataError
from graph.fileformat import SUFFIX
from graph.naming import snake_case
from studio import resources
from studio.transfer import TransferCommands

if TYPE_CHECKING:  # the window imports this module
    from studio.main_window import MainWindow

FILTER = f"Strata networks (*{SUFFIX});;All files (*)"
Answer = QMessageBox.StandardButton


def _is_example(path) -> bool:
    try:
        return Path(path).resolve().parent == resources.EXAMPLES.resolve()
    except OSError:
        return False


def examples() -> list[Path]:
    """Every example network shipped in ``resources/examples``."""
    return sorted(resources.EXAMPLES.glob(f"*{SUFFIX}"))


class FileCommands:
    def __init__(self, window: MainWindow, recent=None) -> None:
        self.window = window
        self.controller = window.controller
        self.recent = recent  # studio.files.RecentFiles
        self.transfer = TransferCommands(window)

    # ---------------------------------------------------------------- documents
    def maybe_save(self) -> bool:
        """Ask about unsaved changes; False means the user cancelled."""
        if not self.controller.is_modified:
            return True
        name = self.window.document_title()
        answer = self.window.ask(
            "Save changes?",
            f"The network \u201c{name}\u201d has unsaved changes. Save them first?",
            Answer.Save | Answer.Discard | Answer.Cancel, Answer.Save)
        if answer == Answer.Save:
            return self.save()
        return answer == Answer.Discard

    def new(self) -> None:
        if self.maybe_save():
            self.controller.new()

    def open_dialog(self) -> None:
        if not self.maybe_save():
            return
        start = str(self.controller.path.parent) if self.controller.path else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open network", start, FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path, ask: bool = False) -> bool:
        """Open ``path``; on a bad file show why and keep the current document."""
        if ask and not self.maybe_save():
            return False
        if _is_example(path):
            # A shipped example opens as a copy (``make studio`` opens one by its
            # path): Save asks where, rather than writing over the example itself.
            return self.open_example(path, ask=False)  # asked above if at all
        try:
            self.controller.open(path)
        except StrataError as e:
            self.window.show_error("Cannot open the network", str(e))
            return False
        self._remember(path)
        self.window.statusBar().showMessage(f"Opened {path}", 4000)
        return True

    def open_document(self, document) -> bool:
        """Show ``document`` (an imported network) as a new, unsaved network; False when
        the user keeps the current one (asked first if it has unsaved changes)."""
        if not self.maybe_save():
            return False
        self.controller.set_document(document)
        # Untitled and marked modified: closing or opening another file asks to save it.
        self.controller.undo_stack.resetClean()
        self.window.view.show_document()
        return True

    def open_example(self, path, ask: bool = True) -> bool:
        if ask and not self.maybe_save():
            return False
        try:
            document = graph.load(path)
        except StrataError as e:
            self.window.show_error("Cannot open the example", str(e))
            return False
        self.controller.set_document(document)  # untitled: Save asks where
        return True

    def save(self) -> bool:
        from studio.panels.widgets import commit_pending_edits

        commit_pending_edits()
        if self.controller.path is None:
            return self.save_as()
        return self._save_to(self.controller.path)

    def save_as(self, path=None) -> bool:
        if path is None:
            suggested = self.controller.path or Path.home() / (
                _file_stem(self.controller.document.name) + SUFFIX)
            path, _ = QFileDialog.getSaveFileName(self.window, "Save network as",
                                                  str(suggested), FILTER)
            if not path:
                return False
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(SUFFIX)
        return self._save_to(path)

    def _save_to(self, path: Path) -> bool:
        try:
            self.controller.save(path)
        except (OSError, StrataError) as e:
            self.window.show_error("Cannot save the network",
                                   f"{path}: {getattr(e, 'strerror', None) or e}")
            return False
        self._remember(path)
        self.window.statusBar().showMessage(f"Saved {path}", 4000)
        return True

    # ---------------------------------------------------------------- export
    def export_python(self, path=None) -> Path | None:
        """Write the generated module (what training runs) atomically, through the
        export service (``runtime.transfer``)."""
        from runtime.transfer import export_network

        doc = self.controller.document
        try:
            graph.generate_code(doc, self.controller.analysis
                                if self.controller.analysis
                                and self.controller.analysis.doc is doc else None)
        except GraphError as e:
            lines = "\n".join(f"\u2022 {p.describe(doc)}" for p in e.problems
                              if p.is_error)
            self.window.show_error("Cannot export yet",
                                   f"Fix these problems first:\n{lines}")
            return None
        if path is None:
            base = (self.controller.path.with_suffix(".py") if self.controller.path
                    else Path.home() / f"{_file_stem(doc.name)}.py")
            path, _ = QFileDialog.getSaveFileName(self.window, "Export Python", str(base),
                                                  "Python files (*.py)")
            if not path:
                return None
        try:
            outcome = export_network("python", doc, Path(path))
        except (OSError, StrataError) as e:
            self.window.show_error("Cannot export",
                                   f"{path}: {getattr(e, 'strerror', None) or e}")
            return None
        self.window.statusBar().showMessage(outcome.summary, 5000)
        return outcome.files[0]

    # ---------------------------------------------------------------- menus
    def fill_recent_menu(self) -> None:
        menu = self.window.recent_menu
        menu.clear()
        paths = self.recent.files() if self.recent is not None else []
        for path in paths:
            action = menu.addAction(Path(path).name)
            action.setToolTip(str(path))
            action.setStatusTip(str(path))
            action.triggered.connect(lambda _c=False, p=path: self.open_path(p, ask=True))
        if not paths:
            menu.addAction("No recent networks").setEnabled(False)
        elif self.recent is not None:
            menu.addSeparator()
            menu.addAction("Clear list").triggered.connect(lambda: self.recent.clear())

    def fill_examples_menu(self, menu) -> None:
        menu.clear()
        for title, path in sorted(((example_title(p), p) for p in examples()),
                                  key=lambda t: t[0].lower()):
            action = menu.addAction(title)
            action.setStatusTip(f"Open the {title} example as a new network")
            action.triggered.connect(lambda _c=False, p=path: self.open_example(p))
        if menu.isEmpty():
            menu.addAction("No examples found").setEnabled(False)

    def _remember(self, path) -> None:
        if self.recent is not None:
            self.recent.add(Path(path))


def example_title(path: Path) -> str:
    """The example's own network name ("Edge-detecting CNN"), read from its file; the
    file name when the file cannot be read."""
    import json

    try:
        name = json.loads(Path(path).read_text(encoding="utf-8")).get("name")
    except (OSError, ValueError, AttributeError):
        name = None
    return name.strip() if isinstance(name, str) and name.strip() else \
        Path(path).stem.replace("_", " ").capitalize()


def _file_stem(name: str) -> str:
    """A file name from the network's name: ``Spiral MLP`` -> ``spiral_mlp``."""
    return snake_case(name, "network")
