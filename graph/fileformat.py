"""Reading and writing ``*.strata`` files.

A file is JSON: ``{"format": "strata", "version": N, "name", "description", "nodes",
"edges", "training", "sweep"}`` (``sweep`` only when one is set up). Loading goes file -> plain dicts -> migrations -> checked objects,
and any defect (truncated, wrong version, wrong types, unknown layer, dangling wire,
hostile sizes) raises ``DocumentError`` naming the JSON path. Saving is atomic
(``graph.atomic.write_atomic``: files at the user's umask, an overwrite keeps its mode).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .catalog import canonical_type, get_spec, has_spec
from .document import Document, Edge, Node
from .document_data import FORMAT, VERSION, document_to_dict
from .errors import DocumentError
from .limits import (
    MAX_DESCRIPTION,
    MAX_FILE_BYTES,
    MAX_ID,
    MAX_INT,
    MAX_KEY,
    MAX_LABEL,
    MAX_NAME,
    MAX_NODES,
    check_text,
    check_value,
    position_problem,
    shown,
)

SUFFIX = ".strata"
# The limits (MAX_FILE_BYTES, MAX_NODES, MAX_INT...) are declared in graph.limits.
__all__ = ["FORMAT", "MAX_FILE_BYTES", "MAX_INT", "MAX_NODES", "SUFFIX", "VERSION",
           "document_from_dict", "document_to_dict", "dumps", "load", "loads", "save",
           "write_atomic"]


# ---------------------------------------------------------------------- migrations
def _flat_training(data: dict[str, Any]) -> dict[str, Any]:
    """1 -> 2: version 1 files may nest the optimizer and the schedule in the training
    setup (``{"optimizer": {"name": "sgd", "lr": 0.1}}``); version 2 holds every setting
    at the top level (``{"optimizer": "sgd", "lr": 0.1}``)."""
    training = data.get("training")
    if not isinstance(training, dict):
        return data  # reading reports the wrong type with its path
    flat = dict(training)
    for group, default in (("optimizer", "adam"), ("schedule", "none")):
        nested = flat.get(group)
        if not isinstance(nested, dict):
            continue
        nested = dict(nested)
        flat[group] = nested.pop("name", default)
        for key, value in nested.items():
            if key in flat:
                raise DocumentError(f"the training setting `{key}` is given twice: inside "
                                    f"`{group}` and at the top level",
                                    f"$.training.{group}.{key}")
            flat[key] = value
    return {**data, "training": flat}


# version -> function upgrading a dict of that version to version + 1. Each takes and
# returns plain JSON data (never objects), and leaves what it does not know alone.
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _flat_training,
}


# ---------------------------------------------------------------------- writing
def dumps(doc: Document) -> str:
    return json.dumps(document_to_dict(doc), indent=2, sort_keys=True) + "\n"


def save(doc: Document, path: str | os.PathLike[str]) -> Path:
    """Write ``doc`` atomically: a crash mid-save leaves the old file intact.

    What is written is first read back through ``loads``: a document that File > Open
    would refuse (a value edited in behind the document's checks) raises DocumentError
    here, and no file is written. Autosave goes through here too, so a recovery file
    can always be restored.
    """
    path = Path(path)
    text = dumps(doc)
    try:
        loads(text)
    except DocumentError as e:
        e.message = f"cannot save: the file would not open again: {e.message}"
        e.path = str(path)
        raise
    write_atomic(path, text.encode("utf-8"))
    return path


# ---------------------------------------------------------------------- reading
def load(path: str | os.PathLike[str]) -> Document:
    """Read a network file; raise DocumentError (with the file name) if it is bad."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise DocumentError(
                f"file is {size // 1_000_000} MB, larger than the "
                f"{MAX_FILE_BYTES // 1_000_000} MB a network file may be"
            )
        raw = path.read_bytes()
    except DocumentError as e:
        e.path = str(path)
        raise
    except OSError as e:
        raise DocumentError(f"cannot read the file: {e.strerror or e}", path=str(path)) from None
    try:
        return loads(raw)
    except DocumentError as e:
        e.path = str(path)
        raise


def loads(text: str | bytes) -> Document:
    """Parse a network from JSON text; DocumentError names what is wrong and where."""
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8-sig")  # editors on Windows may add a BOM
        except UnicodeDecodeError as e:
            raise DocumentError(f"not a text file (bad UTF-8 at byte {e.start})") from None
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise DocumentError("the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DocumentError(
            f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
            + (" (the file looks truncated)" if e.pos >= len(text.rstrip()) else "")
        ) from None
    except RecursionError:
        raise DocumentError("the JSON is nested too deeply") from None
    except ValueError:  # Python refuses integers of more than 4,300 digits
        raise DocumentError("the file holds a number too long to read") from None
    return document_from_dict(data)


def document_from_dict(data: Any) -> Document:
    data = _migrate(_expect(data, dict, "$", "an object"))
    doc = Document(
        name=_text(data.get("name", "Untitled"), "$.name", MAX_NAME),
        description=_text(data.get("description", ""), "$.description", MAX_DESCRIPTION),
    )
    nodes = _expect(data.get("nodes", []), list, "$.nodes", "a list")
    if len(nodes) > MAX_NODES:
        raise DocumentError(f"{len(nodes)} nodes is more than {MAX_NODES}", "$.nodes")
    for i, raw in enumerate(nodes):
        node = _read_node(raw, f"$.nodes[{i}]")
        if node.id in doc.nodes:
            raise DocumentError(f"node id '{node.id}' is used twice", f"$.nodes[{i}].id")
        doc.nodes[node.id] = node
    edges = _expect(data.get("edges", []), list, "$.edges", "a list")
    seen = set()
    for i, raw in enumerate(edges):
        edge = _read_edge(raw, f"$.edges[{i}]", doc)
        if edge in seen:
            raise DocumentError(f"the wire {edge} appears twice", f"$.edges[{i}]")
        seen.add(edge)
        doc.edges.append(edge)
    training = _expect(data.get("training", {}), dict, "$.training", "an object")
    _check_plain(training, "$.training")
    doc.training = training
    sweep = _expect(data.get("sweep", {}), dict, "$.sweep", "an object")
    _check_plain(sweep, "$.sweep")
    doc.sweep = sweep
    return doc


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    if data.get("format") != FORMAT:
        raise DocumentError("not a Strata network (missing \"format\": \"strata\")",
                            "$.format")
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise DocumentError(f"the format version must be a positive integer, got {version!r}",
                            "$.version")
    if version > VERSION:
        raise DocumentError(
            f"the file was written by a newer Strata (format version {version}); "
            f"this version reads up to {VERSION}: please update Strata",
            "$.version",
        )
    while version < VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data


def _read_node(raw: Any, where: str) -> Node:
    raw = _expect(raw, dict, where, "an object")
    node_id = _text(raw.get("id"), f"{where}.id", MAX_ID)
    if not node_id:
        raise DocumentError(f"a node id must be 1 to {MAX_ID} characters", f"{where}.id")
    type_name = _text(raw.get("type"), f"{where}.type", MAX_ID)
    if not has_spec(type_name):
        raise DocumentError(f"unknown layer type {_shown(type_name)}", f"{where}.type")
    spec = get_spec(type_name)
    label = _text(raw.get("label", ""), f"{where}.label", MAX_LABEL)
    params = _expect(raw.get("params", {}), dict, f"{where}.params", "an object")
    known = {p.name for p in spec.params}
    for name, value in params.items():
        _check_plain(name, f"{where}.params", limit=MAX_KEY)
        if name not in known:
            raise DocumentError(
                f"{spec.display_name} has no parameter {_shown(name)} (it has: "
                f"{', '.join(sorted(known)) or 'none'})",
                f"{where}.params.{_shown(name, quote=False)}",
            )
        _check_plain(value, f"{where}.params.{name}")
    merged = spec.default_params()
    merged.update(params)
    pos = _expect(raw.get("position", [0, 0]), list, f"{where}.position", "[x, y]")
    problem = position_problem(pos)
    if problem is not None:
        raise DocumentError(problem, f"{where}.position")
    return Node(node_id, canonical_type(type_name), merged, label, (float(pos[0]), float(pos[1])))


def _read_edge(raw: Any, where: str, doc: Document) -> Edge:
    raw = _expect(raw, dict, where, "an object")
    fields = {}
    for key in ("source", "source_port", "target", "target_port"):
        fields[key] = _text(raw.get(key), f"{where}.{key}", MAX_ID)
    edge = Edge(**fields)
    for end, port, kind in ((edge.source, edge.source_port, "output"),
                            (edge.target, edge.target_port, "input")):
        node = doc.nodes.get(end)
        if node is None:
            side = "source" if kind == "output" else "target"
            raise DocumentError(f"the wire refers to a missing node {_shown(end)}",
                                f"{where}.{side}")
        names = (node.spec.output_names(node.params) if kind == "output"
                 else node.spec.input_names(node.params))
        if port not in names:
            side = "source_port" if kind == "output" else "target_port"
            raise DocumentError(
                f"{node.describe()} has no {kind} port {_shown(port)} (it has: "
                f"{', '.join(names) or 'none'})", f"{where}.{side}"
            )
    return edge


def _expect(value: Any, kind: type, where: str, words: str) -> Any:
    if value is None or not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        got = "nothing" if value is None else type(value).__name__
        raise DocumentError(f"expected {words}, found {got}", where)
    return value


def _shown(text: str, quote: bool = True) -> str:
    return shown(text, quote)


def _text(value: Any, where: str, limit: int) -> str:
    value = _expect(value, str, where, "text")
    return check_text(value, where, limit)


def _check_plain(value: Any, where: str, depth: int = 0, limit: int = 10_000) -> None:
    """Parameters and training settings hold only small JSON values (graph.limits)."""
    check_value(value, where, depth, limit)
