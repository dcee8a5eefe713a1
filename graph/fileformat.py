"""Reading and writing ``*.strata`` files.

A file is JSON: ``{"format": "strata", "version": N, "name", "description", "nodes",
"edges", "training", "sweep", "blocks"}`` (``sweep`` only when one is set up);
``blocks`` lists the block definitions (``graph.blocks``), each ``{"name", "description",
"exposed", "nodes", "edges"}`` (version 3, written only when there are blocks; older
files have none and load unchanged). Loading goes file -> plain
dicts -> migrations -> checked objects,
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
from .block_derived import DerivedParam, check_expression
from .blocks import BLOCK, Definition, ExposedParam
from .catalog import canonical_type, get_spec, has_spec
from .document import Document, Edge, Node
from .document_data import FORMAT, VERSION, document_to_dict
from .errors import DocumentError, StrataError
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


def _blocks(data: dict[str, Any]) -> dict[str, Any]:
    """2 -> 3: block definitions (graph.blocks); an older network has none."""
    return {**data, "blocks": []}


MIGRATIONS[2] = _blocks


def _derived(data: dict[str, Any]) -> dict[str, Any]:
    """3 -> 4: block definitions may hold derived parameters (``graph.block_derived``,
    ``hidden_channels = in_channels * expand_ratio``); a version 3 file has none. The
    bump is what matters: a Strata that reads up to version 3 refuses a file with them
    instead of building the block with its body's default widths."""
    return data


MIGRATIONS[3] = _derived
MAX_BLOCKS = 10_000


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
    _read_blocks(data.get("blocks", []), doc)
    _read_graph(data, "$", doc)
    training = _expect(data.get("training", {}), dict, "$.training", "an object")
    _check_plain(training, "$.training")
    doc.training = training
    sweep = _expect(data.get("sweep", {}), dict, "$.sweep", "an object")
    _check_plain(sweep, "$.sweep")
    doc.sweep = sweep
    return doc


def _read_graph(data: dict[str, Any], where: str, doc: Document, nodes_only: bool = False,
                edges_only: bool = False) -> None:
    if not edges_only:
        nodes = _expect(data.get("nodes", []), list, f"{where}.nodes", "a list")
        if len(nodes) > MAX_NODES:
            raise DocumentError(f"{len(nodes)} nodes is more than {MAX_NODES}",
                                f"{where}.nodes")
        for i, raw in enumerate(nodes):
            node = _read_node(raw, f"{where}.nodes[{i}]", doc)
            if node.id in doc.nodes:
                raise DocumentError(f"node id '{node.id}' is used twice",
                                    f"{where}.nodes[{i}].id")
            doc.nodes[node.id] = node
    if nodes_only:
        return
    edges = _expect(data.get("edges", []), list, f"{where}.edges", "a list")
    seen = set()
    for i, raw in enumerate(edges):
        edge = _read_edge(raw, f"{where}.edges[{i}]", doc)
        if edge in seen:
            raise DocumentError(f"the wire {edge} appears twice", f"{where}.edges[{i}]")
        seen.add(edge)
        doc.edges.append(edge)


def _read_blocks(raw: Any, doc: Document) -> None:
    """Definitions first (all names, then every body's nodes, then their wires: a body's
    wires into a nested instance need that instance's definition)."""
    blocks = _expect(raw, list, "$.blocks", "a list")
    if len(blocks) > MAX_BLOCKS:
        raise DocumentError(f"{len(blocks)} blocks is more than {MAX_BLOCKS}", "$.blocks")
    lib = doc.blocks
    found: list[tuple[dict, str, Definition]] = []
    for i, item in enumerate(blocks):
        where = f"$.blocks[{i}]"
        item = _expect(item, dict, where, "an object")
        name = _text(item.get("name"), f"{where}.name", 60)
        if not name.isidentifier():
            raise DocumentError(f"{_shown(name)} cannot name a block (a Python class name)",
                                f"{where}.name")
        if name in lib:
            raise DocumentError(f"the block {_shown(name)} is defined twice", f"{where}.name")
        body = Document(name, library=lib, block=name)
        definition = Definition(name, body, [],
                                _text(item.get("description", ""), f"{where}.description",
                                      100_000))
        lib.attach(definition)
        found.append((item, where, definition))
    for item, where, definition in _dependencies_first(found):
        _read_graph(item, where, definition.body, nodes_only=True)
        definition.exposed = _read_exposed(item.get("exposed", []), f"{where}.exposed",
                                           definition)
        definition.derived = _read_derived(item.get("derived", []), f"{where}.derived",
                                           definition)
        lib._specs.clear()  # instances read later see this block's parameters
    for item, where, definition in found:
        _read_graph(item, where, definition.body, edges_only=True)
        definition.body.revision = 0


def _dependencies_first(found: list[tuple[dict, str, Definition]]):
    """Definitions ordered so that each comes after the blocks its body instantiates."""
    by_name = {d.name: (item, where, d) for item, where, d in found}
    uses: dict[str, list[str]] = {}
    for item, where, d in found:
        nodes = item.get("nodes", [])
        uses[d.name] = [n["params"]["block"] for n in nodes if isinstance(n, dict)
                        and n.get("type") == BLOCK and isinstance(n.get("params"), dict)
                        and n["params"].get("block") in by_name] if isinstance(nodes,
                                                                              list) else []
    order: list[tuple[dict, str, Definition]] = []
    state: dict[str, int] = {}  # 1: being visited, 2: done

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            raise DocumentError(f"the block '{name}' contains itself",
                                f"{by_name[name][1]}.nodes")
        state[name] = 1
        for used in uses[name]:
            visit(used)
        state[name] = 2
        order.append(by_name[name])

    for _item, _where, d in found:
        visit(d.name)
    return order


def _block_param_name(item: dict, at: str) -> str:
    """The ``name`` of an exposed or derived block parameter: an identifier that is
    not one of the instance's own keys."""
    name = _text(item.get("name"), f"{at}.name", 200)
    if not name.isidentifier() or name in ("block", "repeat", "self"):
        raise DocumentError(f"{_shown(name)} cannot name a block parameter", f"{at}.name")
    return name


def _read_exposed(raw: Any, where: str, definition: Definition) -> list[ExposedParam]:
    out = []
    for i, item in enumerate(_expect(raw, list, where, "a list")):
        at = f"{where}[{i}]"
        item = _expect(item, dict, at, "an object")
        name = _block_param_name(item, at)
        default = item.get("default")
        _check_plain(default, f"{at}.default")
        targets = []
        for k, t in enumerate(_expect(item.get("targets", []), list, f"{at}.targets",
                                      "a list")):
            t = _expect(t, list, f"{at}.targets[{k}]", "[node id, parameter]")
            if len(t) != 2 or not all(isinstance(v, str) for v in t):
                raise DocumentError("a target is [node id, parameter]", f"{at}.targets[{k}]")
            node = definition.body.nodes.get(t[0])
            if node is None:
                raise DocumentError(f"the block has no node {_shown(t[0])}",
                                    f"{at}.targets[{k}]")
            if t[1] not in {p.name for p in node.spec.params}:
                raise DocumentError(f"{node.describe()} has no parameter {_shown(t[1])}",
                                    f"{at}.targets[{k}]")
            targets.append((t[0], t[1]))
        out.append(ExposedParam(name, default, targets,
                                _text(item.get("help", ""), f"{at}.help", 10_000)))
    return out


def _read_derived(raw: Any, where: str, definition: Definition) -> list[DerivedParam]:
    """Derived parameters (graph.block_derived): name, expression, targets."""
    out: list[DerivedParam] = []
    for i, item in enumerate(_expect(raw, list, where, "a list")):
        at = f"{where}[{i}]"
        item = _expect(item, dict, at, "an object")
        name = _block_param_name(item, at)
        expression = _text(item.get("expression"), f"{at}.expression", 500)
        try:
            check_expression(expression, [e.name for e in definition.exposed]
                             + [d.name for d in out])
        except StrataError as error:
            raise DocumentError(str(error), f"{at}.expression") from None
        # The same target checks as an exposed parameter's.
        (checked,) = _read_exposed([{"name": name, "targets": item.get("targets", [])}],
                                   where, definition)
        out.append(DerivedParam(name, expression, checked.targets,
                                _text(item.get("help", ""), f"{at}.help", 10_000)))
    return out


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


def _read_node(raw: Any, where: str, doc: Document) -> Node:
    raw = _expect(raw, dict, where, "an object")
    node_id = _text(raw.get("id"), f"{where}.id", MAX_ID)
    if not node_id:
        raise DocumentError(f"a node id must be 1 to {MAX_ID} characters", f"{where}.id")
    type_name = _text(raw.get("type"), f"{where}.type", MAX_ID)
    label = _text(raw.get("label", ""), f"{where}.label", MAX_LABEL)
    params = _expect(raw.get("params", {}), dict, f"{where}.params", "an object")
    if type_name == BLOCK:
        block = params.get("block")
        if block not in doc.blocks:
            raise DocumentError(f"the instance uses a block {_shown(str(block))} that the "
                                "file does not define", f"{where}.params.block")
        spec = doc.blocks.spec(block)
    elif not has_spec(type_name):
        raise DocumentError(f"unknown layer type {_shown(type_name)}", f"{where}.type")
    else:
        spec = get_spec(type_name)
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
    return Node(node_id, canonical_type(type_name), merged, label,
                (float(pos[0]), float(pos[1])), doc.blocks)


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
