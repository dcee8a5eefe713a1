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
VERSION = 2  # 2: the training setup is flat (see fileformat._flat_training)


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
        "training": jsonable(doc.training),
        # Written only when set, so files without a sweep stay as they were.
        **({"sweep": jsonable(doc.sweep)} if doc.sweep else {}),
    }


def jsonable(value: Any) -> Any:
    """Tuples become lists and keys strings, as JSON would store them."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value
