"""A document as plain data: the writer half of the file format.

``document_to_dict`` turns a ``Document`` into the JSON-ready dict a ``.strata`` file
holds (and the clipboard, checkpoints and run folders carry). It reads the document's
attributes and never imports ``document.py``, so the document can offer ``to_dict()``
without an import cycle. Reading (validation, migrations, building objects) is
``fileformat.document_from_dict``, which imports both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .document import Document

FORMAT = "strata"
# 2: the training setup is flat (see fileformat._flat_training); 3: block definitions
# ("blocks", graph.blocks; fileformat._blocks); 4: derived block parameters
# (fileformat._derived).
VERSION = 4


def document_to_dict(doc: Document) -> dict[str, Any]:
    data = {
        "format": FORMAT,
        "version": VERSION,
        "name": doc.name,
        "description": doc.description,
        **_graph_to_dict(doc),
        "training": jsonable(doc.training),
        # Written only when set, so files without a sweep stay as they were.
        **({"sweep": jsonable(doc.sweep)} if doc.sweep else {}),
    }
    if len(doc.blocks):  # written only when there are some, as "sweep"
        data["blocks"] = [definition_to_dict(d) for d in doc.blocks]
    return data


def definition_to_dict(d) -> dict[str, Any]:
    """A block definition (graph.blocks.Definition): name, exposed parameters, body.

    A target whose layer left the body (deleted, or grouped into a nested block) is
    left out: analysis already ignores it, and the reader refuses it, so writing it
    would make the network impossible to open again."""
    return {
        "name": d.name,
        "description": d.description,
        "exposed": [{"name": e.name, "default": jsonable(e.default),
                     "targets": [list(t) for t in e.targets if _live_target(d.body, t)],
                     "help": e.help}
                    for e in d.exposed],
        **({"derived": [{"name": x.name, "expression": x.expression,
                         "targets": [list(t) for t in x.targets if _live_target(d.body, t)],
                         "help": x.help} for x in d.derived]} if d.derived else {}),
        **_graph_to_dict(d.body),
    }


def _live_target(body, target) -> bool:
    node = body.nodes.get(target[0])
    return node is not None and any(p.name == target[1] for p in node.spec.params)


def _graph_to_dict(doc: Document) -> dict[str, Any]:
    return {
        "nodes": [
            {
                "id": n.id,
                "type": n.type,
                "label": n.label,
                "params": jsonable(n.params),
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
    }


def jsonable(value: Any) -> Any:
    """Tuples become lists and keys strings, as JSON would store them."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
