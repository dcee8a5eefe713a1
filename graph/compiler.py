"""Compilation: execute the generated source and instantiate the module.

The module that trains is built from exactly the text ``generate_code`` returns. The text
is registered in ``linecache`` (as torch.fx does), so a traceback from inside the model
shows the generated line, and ``node_at_line`` maps it back to the node on the canvas.
"""

from __future__ import annotations

import builtins
import hashlib
import linecache
from dataclasses import dataclass
from types import CodeType
from typing import TYPE_CHECKING

from .analysis import Analysis, Analyzer
from .codegen import GeneratedCode, generate_code
from .document import Document

if TYPE_CHECKING:  # torch is imported when compiling, not when graph is imported
    import torch


@dataclass
class CompiledNetwork:
    module: torch.nn.Module
    code: GeneratedCode
    analysis: Analysis
    filename: str

    def submodule(self, node_id: str):
        name = self.code.attributes.get(node_id)
        return getattr(self.module, name) if name else None

    def node_at_line(self, lineno: int) -> str | None:
        return self.code.line_nodes.get(lineno)


def compile_network(doc: Document, analysis: Analysis | None = None,
                    device=None) -> CompiledNetwork:
    """Build the network's module from its generated code (raises GraphError)."""
    analysis = analysis or Analyzer().analyze(doc)
    code = generate_code(doc, analysis)
    if device is None or str(device) == "cpu":
        # Refuse, naming the layer, what torch would fail to allocate (a raw
        # RuntimeError) or would allocate until the machine swaps.
        from .memory import available_memory, check_fits

        check_fits(analysis, available_memory())
    cls, filename = load_class(code.source, code.class_name)
    if device is not None:
        import torch

        with torch.device(device):
            module = cls()
    else:
        module = cls()
    return CompiledNetwork(module, code, analysis, filename)


def load_class(source: str, class_name: str):
    """Execute generated source as its own module and return the class."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    filename = f"<strata-generated {class_name} {digest}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": f"strata_generated_{digest}"}
    code = _CODE.get((filename, source))
    if code is None:  # a network is compiled again for every run of it
        if len(_CODE) >= _CODE_KEPT:
            _CODE.pop(next(iter(_CODE)))
        code = _CODE[filename, source] = builtins.compile(source, filename, "exec")
    exec(code, namespace)  # noqa: S102 - our own codegen
    return namespace[class_name], filename


# Code objects of the last generated sources, by file name and text.
_CODE: dict[tuple[str, str], CodeType] = {}
_CODE_KEPT = 32


def compile(doc: Document):
    """The network as a ready ``torch.nn.Module``."""
    return compile_network(doc).module
