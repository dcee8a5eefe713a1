"""The network as a Python module: exactly the source Strata compiles and trains."""

from __future__ import annotations

from pathlib import Path

from graph.codegen import generate_code
from graph.fileformat import write_atomic


def write_python(doc, path) -> Path:
    """Write ``generate_code(doc).source`` to ``path`` atomically (GraphError if the
    network has errors)."""
    path = Path(path)
    write_atomic(path, generate_code(doc).source.encode("utf-8"))
    return path
