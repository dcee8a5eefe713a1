"""Networks out of and into Strata: the one export/import service (headless, no Qt).

``formats`` declares every format once (Python module, training script, weights
``.pt``/``.safetensors``, ONNX, and the import from PyTorch code); ``service`` exports
each and imports; ``parsing`` reads input shapes and arguments with one rule. The
``strata export``/``strata import`` commands (``cli``) and the studio's Export and
Import dialogs call this package and nothing below it. The writers (``python``,
``weights``, ``onnx``, ``train_script`` with ``train_data``) check what they wrote
and write atomically. Importing this package does not import torch.
"""

from .formats import (
    EXPORT_FORMATS,
    EXPORT_IDS,
    IMPORT_FORMAT,
    FormatSpec,
    export_format,
)
from .onnx import OnnxReport, OnnxUnavailableError, onnx_available, runtime_available
from .parsing import parse_argument, parse_arguments, parse_shape
from .service import (
    ExportOutcome,
    ImportOutcome,
    ImportRequest,
    data_note,
    export_network,
    import_candidates,
    import_network,
    import_network_isolated,
)

__all__ = [
    "EXPORT_FORMATS", "EXPORT_IDS", "IMPORT_FORMAT", "ExportOutcome", "FormatSpec",
    "ImportOutcome", "ImportRequest", "OnnxReport", "OnnxUnavailableError", "data_note",
    "export_format", "export_network", "import_candidates", "import_network",
    "import_network_isolated",
    "onnx_available", "parse_argument", "parse_arguments", "parse_shape",
    "runtime_available",
]
