"""Bringing networks into Strata from PyTorch code (headless, no Qt).

``import_file("model.py:LeNet", [(1, 1, 28, 28)])`` returns an ``ImportResult``: a laid
out ``Document`` plus the module's weights under the compiled Strata module's
``state_dict`` keys. Tracing is torch.fx's; the mapping is declared per module type
(``module_rules``), per function (``function_rules``) and per multi-node pattern
(``patterns``). Invariant: an import either reproduces the original module's outputs
(checked) or fails with an error naming every operation it could not map.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .loading import build_module, candidates, load_source, split_target
from .problems import ImportMismatchError, ImportSourceError, Unmapped, UnmappedError

if TYPE_CHECKING:
    from .torch_fx import ImportResult, import_file, import_module, load_weights

# The tracer imports torch (seconds): loaded on first use of one of its names, so the
# studio, whose import dialog needs only the error types above, starts without torch
# (tests/studio/test_main_window.py::test_the_window_opens_and_exits_cleanly_without_torch).
_TRACER = ("ImportResult", "import_file", "import_module", "load_weights")


def __getattr__(name: str) -> Any:
    if name in _TRACER:
        from . import torch_fx

        return getattr(torch_fx, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ImportMismatchError", "ImportResult", "ImportSourceError", "Unmapped",
    "UnmappedError", "build_module", "candidates", "import_file", "import_module", "load_source",
    "load_weights", "split_target",
]
