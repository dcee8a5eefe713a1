"""Bringing networks into Strata from PyTorch code (headless, no Qt).

``import_file("model.py:LeNet", [(1, 1, 28, 28)])`` returns an ``ImportResult``: a laid
out ``Document`` plus the module's weights under the compiled Strata module's
``state_dict`` keys. Tracing is torch.fx's; the mapping is declared per module type
(``module_rules``), per function (``function_rules``) and per multi-node pattern
(``patterns``). Invariant: an import either reproduces the original module's outputs
(checked) or fails with an error naming every operation it could not map.
"""

from .loading import build_module, candidates, load_source, split_target
from .problems import ImportMismatchError, ImportSourceError, Unmapped, UnmappedError
from .torch_fx import ImportResult, import_file, import_module, load_weights

__all__ = [
    "ImportMismatchError", "ImportResult", "ImportSourceError", "Unmapped",
    "UnmappedError", "build_module", "candidates", "import_file", "import_module", "load_source",
    "load_weights", "split_target",
]
