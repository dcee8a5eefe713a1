"""The network as a Python module: exactly the source Strata compiles and trains."""

from __future__ import annotations

from pathlib import Path

from graph.codegen import generate_code
from graph.pysource import write_source


def write_python(doc, path) -> Path:
    """Write ``generate_code(doc).source`` to ``path`` atomically (GraphError if the
    network has errors)."""
    return write_source(path, generate_code(doc).source, "model module")
