"""Compilation: execute the generated source and instantiate the module.

The module that trains is built from exactly the text ``generate_code`` returns. The text
is registered in ``linecache`` (as torch.fx does), so a traceback from inside the model
shows the generated line, and ``node_at_line`` maps it back to the node on the canvas.

Observing: the exported text calls parameter-free activations as functions
(``torch.relu(x)``), which no forward hook can see. So the compiled module also carries
the observable text of the same network (``generate_code(..., observable=True)``: the
same attributes and arithmetic, those activations as submodules): each generated class
gets that text's ``forward`` as ``_observed_forward``, and each activation written as a
function gets a stand-in module (``nn.ReLU()``) under its attribute name, held outside
the module tree (no state_dict key, not in ``modules()``, as in the exported class).
Inside ``observe(module)`` the stand-ins run and hooks on them fire; the runtime
observes the steps it measures that way, and every other step runs the exported code.
"""

from __future__ import annotations

import builtins
import hashlib
import linecache
from collections.abc import Callable
from dataclasses import dataclass, field
from types import CodeType, MethodType
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
    # The observable text's file name and line map (None: nothing is a function call).
    observed_lines: tuple[str, dict[int, str]] | None = field(default=None)

    def submodule(self, node_id: str):
        name = self.code.attributes.get(node_id)
        return getattr(self.module, name) if name else None

    def node_at_line(self, lineno: int, filename: str | None = None) -> str | None:
        """The node a line of the generated text belongs to; ``filename`` names the
        text (a line of the observable text, run on measured steps, maps by its own)."""
        if filename is None or filename == self.filename:
            return self.code.line_nodes.get(lineno)
        if self.observed_lines is not None and filename == self.observed_lines[0]:
            return self.observed_lines[1].get(lineno)
        return None  # another text


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
    cls, filename, namespace = _load(code.source, code.class_name)
    if device is not None:
        import torch

        with torch.device(device):
            module = cls()
    else:
        module = cls()
    observed = None
    if any(m.function for m in code.modules):
        twin = generate_code(doc, analysis, observable=True)
        _, twin_file, twin_space = _load(twin.source, twin.class_name, " observable")
        _attach_observable(module, namespace, twin_space, code)
        observed = (twin_file, twin.line_nodes)
    return CompiledNetwork(module, code, analysis, filename, observed)


def load_class(source: str, class_name: str):
    """Execute generated source as its own module and return the class."""
    cls, filename, _ = _load(source, class_name)
    return cls, filename


def _load(source: str, class_name: str, kind: str = ""):
    """Execute generated source as its own module: the class, the file name, and the
    module's namespace (the block classes are there too)."""
    digest = hashlib.sha1(source.encode()).hexdigest()[:12]
    filename = f"<strata-generated {class_name} {digest}{kind}>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict = {"__name__": f"strata_generated_{digest}"}
    code = _CODE.get((filename, source))
    if code is None:  # a network is compiled again for every run of it
        if len(_CODE) >= _CODE_KEPT:
            _CODE.pop(next(iter(_CODE)))
        code = _CODE[filename, source] = builtins.compile(source, filename, "exec")
    exec(code, namespace)  # noqa: S102 - our own codegen
    return namespace[class_name], filename, namespace


def _attach_observable(module, namespace: dict, twin: dict, code: GeneratedCode) -> None:
    """Give each generated class its observable ``forward`` and each activation written
    as a function its stand-in module (see the module docstring)."""
    from torch import nn

    for name, cls in namespace.items():
        other = twin.get(name)
        if isinstance(cls, type) and issubclass(cls, nn.Module) \
                and isinstance(other, type) and "forward" in vars(other):
            setattr(cls, "_observed_forward", vars(other)["forward"])  # noqa: B010
    from .catalog import get_spec

    for m in code.modules:
        if m.function:
            parent, _, attribute = m.attribute.rpartition(".")
            owner = module.get_submodule(parent) if parent else module
            constructor = getattr(nn, (get_spec(m.type).module or "").removeprefix("nn."))
            # Outside the module tree: object.__setattr__ skips nn.Module's registry.
            object.__setattr__(owner, attribute, constructor())


def observe(module) -> Callable[[], None]:
    """Run ``module`` (a compiled network, or any module holding one) as its
    observable text until the returned function is called: forward hooks on the
    stand-ins of activations written as functions fire. Cheap (one attribute per
    generated class instance); nothing to do for other modules, nor for an instance
    whose ``forward`` someone replaced (that one stays as it is)."""
    swapped = []
    for m in module.modules():
        forward = getattr(type(m), "_observed_forward", None)
        if forward is not None and "forward" not in m.__dict__:
            m.__dict__["forward"] = MethodType(forward, m)
            swapped.append(m)

    def restore() -> None:
        for m in swapped:
            m.__dict__.pop("forward", None)
    return restore


# Code objects of the last generated sources, by file name and text.
_CODE: dict[tuple[str, str], CodeType] = {}
_CODE_KEPT = 32


def compile(doc: Document):
    """The network as a ready ``torch.nn.Module``."""
    return compile_network(doc).module
