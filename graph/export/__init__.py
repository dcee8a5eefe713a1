"""Taking networks out of Strata: weights files and ONNX (headless, no Qt).

The Python module itself is ``graph.generate_code(doc).source``; this package adds what
travels with it. Every writer checks what it wrote (the state_dict loads strictly into the
generated module, the ONNX model passes the checker and, when onnxruntime is installed,
reproduces PyTorch's outputs) and writes atomically.
"""

from .onnx import (
    OnnxReport,
    OnnxUnavailableError,
    export_onnx,
    onnx_available,
    runtime_available,
    unavailable_message,
)
from .python import write_python
from .weights import export_weights, read_state_dict, safetensors_available

__all__ = [
    "OnnxReport", "OnnxUnavailableError", "export_onnx", "export_weights",
    "onnx_available", "read_state_dict", "runtime_available", "safetensors_available",
    "unavailable_message", "write_python",
]
