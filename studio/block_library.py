"""Blocks from the palette into the network, and the user's block library on disk.

``BlockLibrary`` acts on the palette's block intents: it inserts an instance of a block
(this network's, a built-in or one of the user's) into the level shown (the network or
an open block), as one undo step: the definitions copied into the network
(``graph.block_insert.copy_block``) and the instance placed after the selected layer and
wired, like a layer from the palette. It saves a block of this network to the user's
library, renames and deletes library blocks (``graph.block_files``: the folder is the
platform's app-data ``blocks`` folder, or ``$STRATA_BLOCK_LIBRARY``), and accepts
blocks dragged onto the canvas.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QPointF, QStandardPaths
from PySide6.QtWidgets import QInputDialog, QLineEdit, QMessageBox

from graph.block_files import (
    LibraryEntry,
    UnreadableBlock,
    check_name,
    delete_block,
    library_folder,
    path_for,
    rename_block,
    save_block,
    scan,
)
from graph.block_insert import copy_block, fit_values
from graph.block_library import builtin, builtin_document
from graph.blocks import BLOCK
from graph.document import Document, Edge
from graph.errors import StrataError
from studio.document.commands import CompoundEditCommand
from studio.panels.palette_blocks import BLOCK_MIME, BUILTIN, NETWORK, USER, split_key

if TYPE_CHECKING:
    from studio.document.controller import DocumentController
    from studio.main_window import MainWindow

Answer = QMessageBox.StandardButton


def default_folder() -> Path:
    """The user's block library: ``<app data>/blocks`` unless the environment says."""
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return library_folder(Path(base or Path.home() / ".strata") / "blocks")


class BlockLibrary(QObject):
    """The window's block library actions (created by ``attach_block_library``)."""

    def __init__(self, window: MainWindow, folder: Path | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.palette = window.palette_panel
        self.levels = window.levels
        self.folder = folder if folder is not None else default_folder()
        self.entries: dict[str, LibraryEntry] = {}
        self.unreadable: list[UnreadableBlock] = []
        self.palette.block_requested.connect(self.insert)
        self.palette.save_block_requested.connect(self.save_to_library_as)
        self.palette.rename_block_requested.connect(self.rename)
        self.palette.delete_block_requested.connect(self.delete)
        self.levels.changed.connect(self._level_changed)
        window.view.viewport().installEventFilter(self)
        self.refresh()

    # ------------------------------------------------------------------ the library
    def refresh(self) -> None:
        entries, self.unreadable = scan(self.folder)
        self.entries = {e.name: e for e in entries}
        self.palette.set_user_blocks(entries, self.unreadable)
        if self.unreadable:
            self._say("Skipped unreadable blocks in your library: "
                      + "; ".join(b.describe() for b in self.unreadable))

    def save_to_library(self, name: str, as_name: str | None = None) -> Path | None:
        """Save block ``name`` of this network (and the blocks it uses) to the library."""
        target = as_name or name
        replace = False
        if path_for(self.folder, target).exists():
            answer = self.window.ask(
                "Save Block to Library",
                f"Your library already has a block named '{target}'. Replace it?",
                Answer.Save | Answer.Cancel, Answer.Cancel)
            if answer != Answer.Save:
                return None
            replace = True
        return self._save(name, target, replace)

    def save_to_library_as(self, name: str) -> Path | None:
        """Save to Library...: ask for the name the block gets in the library (its
        definition's name by default); a name that cannot name a block is asked again
        with the reason, a taken one asks before replacing (or asks another name)."""
        default, note = name, ""
        while True:
            target = self.ask_name(
                "Save Block to Library",
                f"{note}Name of '{name}' in your block library:", default)
            if not target:
                return None
            problem = check_name(target)
            if problem is not None:
                default, note = target, f"{problem}.\n\n"
                continue
            if path_for(self.folder, target).exists():
                answer = self.window.ask(
                    "Save Block to Library",
                    f"Your library already has a block named '{target}'. Replace it? "
                    "(Cancel to pick another name.)", Answer.Save | Answer.Cancel,
                    Answer.Cancel)
                if answer != Answer.Save:
                    default, note = target, f"'{target}' is taken.\n\n"
                    continue
                return self._save(name, target, replace=True)
            return self._save(name, target, replace=False)

    def _save(self, name: str, target: str, replace: bool) -> Path | None:
        try:
            path = save_block(self.folder, self.window.controller.document, name,
                              target if target != name else None, replace=replace)
        except (StrataError, OSError) as error:
            self._say(f"Save to Library: {error}")
            return None
        self.refresh()
        self._say(f"Saved '{target}' to your block library ({path})")
        return path

    def rename(self, old: str, new: str | None = None) -> bool:
        if new is None:
            new = self.ask_name("Rename Block", f"New name for '{old}':", old)
            if not new or new == old:
                return False
        try:
            rename_block(self.folder, old, new)
        except (StrataError, OSError) as error:
            self._say(f"Rename Block: {error}")
            return False
        self.refresh()
        return True

    def delete(self, name: str, confirm: bool = True) -> bool:
        if confirm and self.window.ask(
                "Delete Block", f"Delete '{name}' from your block library? Networks that "
                "use it keep their own copy.", Answer.Yes | Answer.Cancel,
                Answer.Cancel) != Answer.Yes:
            return False
        try:
            delete_block(self.folder, name)
        except (StrataError, OSError) as error:
            self._say(f"Delete Block: {error}")
            return False
        self.refresh()
        return True

    def ask_name(self, title: str, label: str, default: str) -> str | None:
        """A name from the user (tests replace this)."""
        text, ok = QInputDialog.getText(self.window, title, label, QLineEdit.EchoMode.Normal,
                                        default)
        return text.strip() if ok else None

    # ------------------------------------------------------------------ insertion
    def insert(self, key: str, scene_pos: QPointF | None = None,
               edge: Edge | None = None) -> str:
        """Add an instance of block ``key`` to the level shown, as one undo step: after
        the selected layer (wired), on ``edge``, or at ``scene_pos``. Returns its id."""
        c = self.levels.current
        if c._refused():
            return ""
        kind, name = split_key(key)
        doc = c.document
        try:
            source = self._source(kind, name)
        except StrataError as error:
            self._say(f"Add block: {error}")
            return ""
        anchor = None
        if scene_pos is None and edge is None:
            ids = self.window.view.selected_node_ids()
            anchor = ids[0] if len(ids) == 1 and ids[0] in doc.nodes else None
        params = self._fitted(kind, name, c, anchor or (edge.source if edge else None),
                              edge.source_port if edge else None)
        stack = c.undo_stack
        stack.beginMacro(f"Add {name}")
        try:
            block = name
            if source is not None:
                edit = copy_block(doc, source, name)
                block = edit.result["definition"]
                if doc.block_name and doc.blocks.depends_on(block, doc.block_name):
                    edit.undo()
                    raise StrataError("a block cannot contain itself")
                if edit.steps:
                    stack.push(CompoundEditCommand(edit, f"Copy {name}"))
            elif doc.block_name and doc.blocks.depends_on(block, doc.block_name):
                raise StrataError(f"'{block}' is open: a block cannot contain itself")
            new = self._place(c, {**params, "block": block}, anchor, edge, scene_pos)
        except StrataError as error:
            self._say(f"Add block: {error}")
            new = ""
        finally:
            stack.endMacro()
        if new:
            c.select([new])
        return new

    def _source(self, kind: str, name: str) -> Document | None:
        if kind == NETWORK:
            self.window.controller.document.blocks[name]  # refuses a stale entry
            return None
        if kind == BUILTIN:
            return builtin_document(name)
        if kind == USER and name in self.entries:
            return self.entries[name].document
        raise StrataError(f"there is no block '{name}' in the library")

    def _fitted(self, kind: str, name: str, c: DocumentController, source: str | None,
                port: str | None = None) -> dict:
        """Exposed parameters the block takes from the tensor it will receive (a
        residual block after 64 channels gets 64), built-in or not."""
        if source is None:
            return {}
        shapes = c.analyze_now().shapes.get(source)
        outputs = shapes.outputs if shapes else {}
        tensor = outputs.get(port) if port is not None else None
        if tensor is None:
            tensor = next(iter(outputs.values()), None)
        try:
            holder = self._source(kind, name) or c.document
            return fit_values(holder, name, tensor,
                              builtin(name).fit if kind == BUILTIN else ())
        except StrataError:
            return {}

    def _place(self, c: DocumentController, params: dict, anchor: str | None,
               edge: Edge | None, scene_pos: QPointF | None) -> str:
        doc = c.document
        spec = doc.blocks.spec(params["block"])
        ins, outs = spec.input_names(params), spec.output_names(params)
        fits_wire = bool(ins) and outs[:1] == ["out"]  # insert_on_edge wires "out"
        if edge is not None and fits_wire:
            return c.insert_on_edge(edge, BLOCK, params)
        if anchor is not None:
            node = doc.nodes[anchor]
            node_outs = node.spec.output_names(node.params) if node.spec.outputs else []
            if node_outs and ins:
                wires = [e for e in doc.edges_from(anchor) if e.source_port == node_outs[0]]
                if len(wires) == 1 and fits_wire:
                    return c.insert_on_edge(wires[0], BLOCK, params)
                x, y = node.position
                new = c.add_node(BLOCK, (x + 240.0, y), params)
                if new:
                    c.connect(anchor, node_outs[0], new, ins[0])
                return new
        view = self.window.view
        at = scene_pos if scene_pos is not None else view.visible_center()
        return c.add_node(BLOCK, view.card_position(at), params)

    # ------------------------------------------------------------------ drops, levels
    def eventFilter(self, watched, event) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and \
                event.mimeData().hasFormat(BLOCK_MIME):
            event.acceptProposedAction()
            return True
        if kind == QEvent.Type.Drop and event.mimeData().hasFormat(BLOCK_MIME):
            key = bytes(event.mimeData().data(BLOCK_MIME)).decode("utf-8")
            view = self.window.view
            point = event.position().toPoint()
            self.insert(key, view.mapToScene(point), view.wire_at(point))
            event.acceptProposedAction()
            return True
        return super().eventFilter(watched, event)

    def _level_changed(self, path: list[str]) -> None:
        self.palette.set_block_open(bool(path))

    def _say(self, text: str) -> None:
        self.window.statusBar().showMessage(text, 10_000)


def attach_block_library(window: MainWindow) -> BlockLibrary:
    return BlockLibrary(window)


__all__ = ["BlockLibrary", "attach_block_library", "default_folder"]
