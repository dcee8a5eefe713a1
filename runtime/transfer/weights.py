"""Weights export: a ``state_dict`` the exported module loads with ``load_state_dict``.

Input is anything ``graph.state_dicts.read_state_dict`` reads (a training checkpoint, a
plain state_dict file, a safetensors file or a dict). Output is ``.pt`` (``torch.save``
of the state_dict) or ``.safetensors`` when the ``safetensors`` package is installed.
Files are written atomically; the written file is read back and must load strictly into
the network's module.
"""

from __future__ import annotations

import io
from pathlib import Path

from graph.errors import StrataError
from graph.fileformat import write_atomic
from graph.state_dicts import fit_state_dict, need_safetensors, read_state_dict

FORMATS = ("pt", "safetensors")


def export_weights(doc, source, path, fmt: str | None = None) -> Path:
    """Write the network's weights from ``source`` (checkpoint, state_dict file or dict)
    to ``path``: ``.pt`` state_dict or ``.safetensors``; returns the path."""

    from graph.compiler import compile_network

    path = Path(path)
    fmt = fmt or ("safetensors" if path.suffix == ".safetensors" else "pt")
    if fmt not in FORMATS:
        raise StrataError(f"unknown weights format {fmt!r}; expected one of "
                          + ", ".join(FORMATS))
    if fmt == "safetensors":
        need_safetensors()
    net = compile_network(doc)
    what = f"'{doc.name}'"
    fit_state_dict(net.module, read_state_dict(source), what)
    state = {k: v.detach().cpu().contiguous() for k, v in net.module.state_dict().items()}
    if fmt == "safetensors":
        from safetensors.torch import save

        data = save(state, metadata={"format": "pt", "network": doc.name})
    else:
        data = state_dict_bytes(state)
    write_atomic(path, data)
    # Read back: what we wrote must load into a freshly compiled module.
    fit_state_dict(compile_network(doc).module, read_state_dict(path), what)
    return path


def state_dict_bytes(state) -> bytes:
    """``torch.save(state)`` as bytes, for ``write_atomic``."""
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()
