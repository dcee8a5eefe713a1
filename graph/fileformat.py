"""Reading and writing ``*.strata`` files.

A file is JSON: ``{"format": "strata", "version": N, "name", "description", "nodes",
"edges", "training", "sweep"}`` (``sweep`` only when one is set up). Loading goes file -> plain dicts -> migrations -> checked objects,
and any defect (truncated, wrong version, wrong types, unknown layer, dangling wire,
hostile sizes) raises ``DocumentError`` naming the JSON path. Saving is atomic
(``graph.atomic.write_atomic``: files at the user's umask, an overwrite keeps its mode).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .atomic import write_atomic
from .catalog import canonical_type, get_spec, has_spec
from .document import Document, Edge, Node
from .errors import DocumentError

FORMAT = "strata"
VERSION = 2  # 2: the training setup is flat (see _flat_training)
SUFFIX = ".strata"
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_NODES = 100_000
MAX_INT = 2**63  # larger numbers are no network's sizes: a corrupt or hostile file


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
def document_to_dict(doc: Document) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "name": doc.name,
        "description": doc.description,
        "nodes": [
            {
                "id": n.id,
                "type": n.type,
                "label": n.label,
                "params": _jsonable(n.params),
                "position": [round(n.position[0], 2), round(n.position[1], 2)],
            }
            for n in doc.nodes.values()
        ],
        "edges": [
            {
                "source": e.source,
                "source_port": e.source_port,
                "target": e.target,
                "target_port": e.target_port,
            }
            for e in doc.edges
        ],
        "training": _jsonable(doc.training),
        # Written only when set, so files without a sweep stay as they were.
        **({"sweep": _jsonable(doc.sweep)} if doc.sweep else {}),
    }


def dumps(doc: Document) -> str:
    return json.dumps(document_to_dict(doc), indent=2, sort_keys=True) + "\n"


def save(doc: Document, path: str | os.PathLike[str]) -> Path:
    """Write ``doc`` atomically: a crash mid-save leaves the old file intact."""
    path = Path(path)
    write_atomic(path, dumps(doc).encode("utf-8"))
    return path


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


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
        name=_text(data.get("name", "Untitled"), "$.name", 1_000),
        description=_text(data.get("description", ""), "$.description", 100_000),
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
    node_id = _text(raw.get("id"), f"{where}.id", 200)
    if not node_id:
        raise DocumentError("a node id must be 1 to 200 characters", f"{where}.id")
    type_name = _text(raw.get("type"), f"{where}.type", 200)
    if not has_spec(type_name):
        raise DocumentError(f"unknown layer type {_shown(type_name)}", f"{where}.type")
    spec = get_spec(type_name)
    label = _text(raw.get("label", ""), f"{where}.label", 200)
    params = _expect(raw.get("params", {}), dict, f"{where}.params", "an object")
    known = {p.name for p in spec.params}
    for name, value in params.items():
        _check_plain(name, f"{where}.params", limit=200)
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
    if len(pos) != 2 or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and abs(v) < 1e12
        for v in pos
    ):
        raise DocumentError("a position must be two finite numbers [x, y] (canvas "
                            "coordinates)",
                            f"{where}.position")
    return Node(node_id, canonical_type(type_name), merged, label, (float(pos[0]), float(pos[1])))


def _read_edge(raw: Any, where: str, doc: Document) -> Edge:
    raw = _expect(raw, dict, where, "an object")
    fields = {}
    for key in ("source", "source_port", "target", "target_port"):
        fields[key] = _text(raw.get(key), f"{where}.{key}", 200)
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
    """File text as a message may show it: one line, at most 80 characters."""
    text = text[:80]
    if text.isprintable() and "'" not in text:
        return f"'{text}'" if quote else text
    return repr(text)


def _text(value: Any, where: str, limit: int) -> str:
    value = _expect(value, str, where, "text")
    _check_plain(value, where, limit=limit)
    return value


def _check_plain(value: Any, where: str, depth: int = 0, limit: int = 10_000) -> None:
    """Parameters and training settings hold only small JSON values."""
    if depth > 8:
        raise DocumentError("value is nested too deeply", where)
    if isinstance(value, float) and not math.isfinite(value):
        raise DocumentError("numbers must be finite", where)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        raise DocumentError("number is too large", where)
    if isinstance(value, str):
        if len(value) > limit:
            raise DocumentError(f"text is longer than {limit:,} characters", where)
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # JSON "\ud800": half a character
            raise DocumentError("text is not valid Unicode", where) from None
    if isinstance(value, list):
        if len(value) > 10_000:
            raise DocumentError("list is too long", where)
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]", depth + 1)
    elif isinstance(value, dict):
        if len(value) > 10_000:
            raise DocumentError("object has too many entries", where)
        for key, item in value.items():
            _check_plain(key, where, depth + 1, limit=200)
            _check_plain(item, f"{where}.{_shown(key, quote=False)}", depth + 1)
    elif value is not None and not isinstance(value, (bool, int, float, str)):
        raise DocumentError(f"unexpected value of type {type(value).__name__}", where)
