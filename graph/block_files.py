"""The user's block library on disk: a folder of small files, one block per file.

A file ``<Name>.strata-block`` is JSON ``{"format": "strata-block", "version": N,
"block": "<Name>", "blocks": [definition, ...]}``: the block's definition and every
definition it uses (nested ones first), written as a network file writes its ``blocks``
(``graph.document_data.definition_to_dict``) and read back through the network file's
reader, so the same migrations and limits apply (``graph.fileformat``). Writes are
atomic at the user's umask (``graph.atomic``).

The folder is passed in explicitly (the studio picks the platform's app-data folder);
``library_folder(default)`` lets ``STRATA_BLOCK_LIBRARY`` override it (tests, shared
team folders). ``scan`` never raises for a bad file: an unreadable one is reported as an
``UnreadableBlock`` naming the file and what is wrong, and the rest load.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_atomic
from .block_insert import dependencies
from .document import Document
from .document_data import VERSION, definition_to_dict
from .errors import DocumentError, StrataError
from .fileformat import document_from_dict
from .limits import MAX_FILE_BYTES

ENV = "STRATA_BLOCK_LIBRARY"
SUFFIX = ".strata-block"
FORMAT = "strata-block"
FIRST_VERSION = 3  # the file format version that introduced blocks


@dataclass
class LibraryEntry:
    """One readable block of the user's library."""

    name: str
    path: Path
    document: Document  # holds the definition and the ones it uses

    @property
    def description(self) -> str:
        return self.document.blocks[self.name].description


@dataclass
class UnreadableBlock:
    """A file of the library that could not be read, and why (for the user)."""

    path: Path
    message: str

    def describe(self) -> str:
        return f"{self.path.name}: {self.message}"


def library_folder(default: str | os.PathLike[str]) -> Path:
    """The folder of the user's blocks: ``$STRATA_BLOCK_LIBRARY`` or ``default``."""
    override = os.environ.get(ENV, "").strip()
    return Path(override).expanduser() if override else Path(default)


def path_for(folder: str | os.PathLike[str], name: str) -> Path:
    return Path(folder) / f"{name}{SUFFIX}"


def block_to_text(doc: Document, name: str) -> str:
    """The file text of block ``name`` of ``doc`` (with the definitions it uses)."""
    lib = doc.blocks
    data = {"format": FORMAT, "version": VERSION, "block": name,
            "blocks": [definition_to_dict(lib[n]) for n in dependencies(doc, name)]}
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


def block_from_text(text: str | bytes) -> tuple[str, Document]:
    """The block a file holds: (its name, a document holding its definitions).
    Raises DocumentError naming what is wrong."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            raise DocumentError(f"not a text file (bad UTF-8 at byte {e.start})") from None
    if not text.strip():
        raise DocumentError("the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DocumentError(f"not valid JSON: {e.msg} at line {e.lineno}, column "
                            f"{e.colno}") from None
    except (RecursionError, ValueError):
        raise DocumentError("the JSON is nested too deeply or holds a number too long "
                            "to read") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DocumentError(f"not a Strata block (missing \"format\": \"{FORMAT}\")",
                            "$.format")
    version = data.get("version")
    if not isinstance(version, int) or isinstance(version, bool) or not (
            FIRST_VERSION <= version <= VERSION):
        raise DocumentError(f"version {version!r} is not one this Strata reads "
                            f"({FIRST_VERSION} to {VERSION}); a newer Strata wrote it?",
                            "$.version")
    name = data.get("block")
    if not isinstance(name, str):
        raise DocumentError("the file does not name its block", "$.block")
    # Through the network file's reader: its migrations, checks and limits.
    doc = document_from_dict({"format": "strata", "version": version, "name": name,
                              "blocks": data.get("blocks", [])})
    if name not in doc.blocks:
        raise DocumentError(f"the file does not define the block '{name}' it names",
                            "$.block")
    return name, doc


def read_block(path: str | os.PathLike[str]) -> LibraryEntry:
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DocumentError(f"file is {size // 1_000_000} MB, larger than the "
                                f"{MAX_FILE_BYTES // 1_000_000} MB a block file may be")
        name, doc = block_from_text(path.read_bytes())
    except DocumentError as e:
        e.path = str(path)
        raise
    except OSError as e:
        raise DocumentError(f"cannot read the file: {e.strerror or e}", path=str(path)) from None
    return LibraryEntry(name, path, doc)


def scan(folder: str | os.PathLike[str]) -> tuple[list[LibraryEntry], list[UnreadableBlock]]:
    """Every block in ``folder`` (sorted by name) and the files that could not be read.
    A missing folder is an empty library."""
    folder = Path(folder)
    entries: dict[str, LibraryEntry] = {}
    bad: list[UnreadableBlock] = []
    try:
        paths = sorted(p for p in folder.iterdir()
                       if p.name.endswith(SUFFIX) and not p.name.startswith("."))
    except FileNotFoundError:
        return [], []
    except OSError as e:
        return [], [UnreadableBlock(folder, f"cannot list the folder: {e.strerror or e}")]
    for path in paths:
        try:
            entry = read_block(path)
        except DocumentError as e:
            where = f" (at {e.where})" if e.where != "$" else ""
            bad.append(UnreadableBlock(path, f"{e.message}{where}"))
            continue
        if entry.name in entries:
            bad.append(UnreadableBlock(path, f"defines '{entry.name}' again (already in "
                                             f"{entries[entry.name].path.name})"))
            continue
        entries[entry.name] = entry
    return sorted(entries.values(), key=lambda e: e.name.lower()), bad


def save_block(folder: str | os.PathLike[str], doc: Document, name: str,
               as_name: str | None = None, replace: bool = False) -> Path:
    """Write block ``name`` of ``doc`` into the library (as ``as_name``)."""
    target = as_name or name
    _check_name(target)
    path = path_for(folder, target)
    if path.exists() and not replace:
        raise StrataError(f"your library already has a block named '{target}'")
    source = doc
    if target != name:  # the library copy carries its new name
        from .block_insert import copy_block

        source = Document(target)
        copy_block(source, doc, name)
        source.rename_definition(name, target)
    text = block_to_text(source, target)
    try:  # what the library would refuse to read is not written (as fileformat.save)
        block_from_text(text)
    except DocumentError as e:
        raise StrataError(f"cannot save '{target}': it would not load again: "
                          f"{e}") from None
    write_atomic(path, text.encode("utf-8"))
    return path


def rename_block(folder: str | os.PathLike[str], old: str, new: str) -> Path:
    """Rename a block of the library (its file and the definition in it)."""
    _check_name(new)
    entry = read_block(path_for(folder, old))
    if new == old:
        return entry.path
    if path_for(folder, new).exists():
        raise StrataError(f"your library already has a block named '{new}'")
    if new in entry.document.blocks:
        raise StrataError(f"'{old}' uses a block named '{new}': pick another name")
    entry.document.rename_definition(old, new)
    path = path_for(folder, new)
    write_atomic(path, block_to_text(entry.document, new).encode("utf-8"))
    entry.path.unlink()
    return path


def delete_block(folder: str | os.PathLike[str], name: str) -> None:
    path = path_for(folder, name)
    try:
        path.unlink()
    except FileNotFoundError:
        raise StrataError(f"your library has no block named '{name}'") from None


def check_name(name: str) -> str | None:
    """Why ``name`` cannot name a block of the library (None: it can)."""
    import keyword

    if not name or not name.isidentifier() or len(name) > 60 or keyword.iskeyword(name):
        return (f"'{name}' cannot name a block: use letters, digits and _ "
                "(a Python class name, e.g. BasicBlock)")
    return None


def _check_name(name: str) -> None:
    problem = check_name(name)
    if problem is not None:
        raise StrataError(problem)


__all__ = ["ENV", "SUFFIX", "LibraryEntry", "UnreadableBlock", "block_from_text",
           "block_to_text", "check_name", "delete_block", "library_folder", "path_for", "read_block",
           "rename_block", "save_block", "scan"]
