"""ONNX export with a dynamic batch size, checked after writing.

Needs the optional ``onnx`` extra: ``onnx`` and ``onnxscript`` (torch's exporter builds
the model with it); ``onnxruntime`` is used, when installed, to run the written model
and compare its outputs with PyTorch's at two batch sizes. Without the extra, the export
raises ``OnnxUnavailableError`` naming what to install.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

from graph.atomic import temporary_for
from graph.errors import StrataError
from graph.naming import Namespace

from .onnx_scopes import scope_node_names

EXTRA = "pip install strata-studio[onnx]"
NEEDED = ("onnx", "onnxscript")
# The exported graph computes the same operations in another runtime: small float
# differences are expected, anything larger is a defect.
RTOL, ATOL = 1e-4, 1e-5


class OnnxUnavailableError(StrataError):
    """The optional ONNX packages are not installed."""


@dataclass
class OnnxReport:
    path: Path
    opset: int
    checked: bool  # onnx.checker accepted the model
    max_abs_diff: float | None  # vs PyTorch, None when onnxruntime is not installed
    compared_batches: tuple[int, ...]
    note: str = ""

    def describe(self) -> str:
        if self.max_abs_diff is None:
            return f"wrote {self.path} (opset {self.opset}, checked); {self.note}"
        return (f"wrote {self.path} (opset {self.opset}, checked); onnxruntime matches "
                f"PyTorch within {self.max_abs_diff:.2g} at batch sizes "
                + ", ".join(map(str, self.compared_batches)))


def missing_packages() -> list[str]:
    return [name for name in NEEDED if importlib.util.find_spec(name) is None]


def onnx_available() -> bool:
    return not missing_packages()


def runtime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def unavailable_message() -> str:
    missing = missing_packages()
    return (f"ONNX export needs {' and '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed: run `{EXTRA}` "
            "(installs onnx, onnxscript and onnxruntime)")


def export_onnx(doc, path, state_dict=None, opset: int | None = None,
                compare: bool = True) -> OnnxReport:
    """Write ``doc`` (with ``state_dict``: a dict or a weights/checkpoint file) as ONNX."""
    if not onnx_available():
        raise OnnxUnavailableError(unavailable_message())
    import onnx
    import torch

    from graph.compiler import compile_network
    from graph.state_dicts import fit_state_dict, read_state_dict

    path = Path(path)
    net = compile_network(doc)
    module = net.module
    if state_dict is not None:
        fit_state_dict(module, read_state_dict(state_dict), f"'{doc.name}'")
    module.eval()
    inputs = _example_inputs(doc, net, 2, seed=0)
    names = Namespace(set(net.code.input_names))
    output_names = [names.take(doc.nodes[i].label or "output") for i in net.code.outputs]
    batch = torch.export.Dim("batch")
    dynamic = tuple({0: batch} for _ in inputs)
    try:
        with temporary_for(path) as tmp:
            kwargs = {"opset_version": opset} if opset else {}
            with _quiet():
                program = torch.onnx.export(
                    module, tuple(inputs), tmp, input_names=net.code.input_names,
                    output_names=output_names, dynamic_shapes=dynamic, dynamo=True,
                    external_data=False, verbose=False, **kwargs)
            del program
            model = onnx.load(tmp)
            # Node names after the module nesting (/layer1/layer1.0/conv1/Conv), so
            # viewers show a network of blocks as its blocks.
            if scope_node_names(model):
                onnx.save(model, tmp)
            onnx.checker.check_model(model, full_check=True)
            os.replace(tmp, path)
    except StrataError:
        raise
    except Exception as e:  # noqa: BLE001 - the exporter raises many kinds
        raise StrataError(f"ONNX export of '{doc.name}' failed: {type(e).__name__}: "
                          f"{_first_line(e)}") from None
    used_opset = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")),
                      0)
    report = OnnxReport(path, used_opset, True, None, ())
    if not compare:
        report.note = "outputs not compared (compare=False)"
    elif not runtime_available():
        report.note = "onnxruntime is not installed, so outputs were not compared"
    else:
        report.max_abs_diff, report.compared_batches = _compare(doc, net, path)
    return report


def _example_inputs(doc, net, batch: int, seed: int):
    import torch

    generator = torch.Generator().manual_seed(seed)
    vocab = [m.num_embeddings for m in net.module.modules()
             if isinstance(m, torch.nn.Embedding)]
    high = max(2, min(vocab)) if vocab else 2
    out = []
    for node_id in net.code.inputs:
        info = net.analysis.shapes[node_id].outputs["out"]
        shape = (batch, *info.shape[1:])
        if info.dtype == "long":
            out.append(torch.randint(0, high, shape, generator=generator))
        else:
            out.append(torch.randn(shape, generator=generator))
    return out


def _compare(doc, net, path: Path) -> tuple[float, tuple[int, ...]]:
    import onnxruntime as ort
    import torch

    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    worst = 0.0
    batches = (1, 3)
    for i, batch in enumerate(batches):
        inputs = _example_inputs(doc, net, batch, seed=10 + i)
        feed = {name: x.numpy() for name, x in zip(net.code.input_names, inputs)}
        got = session.run(None, feed)
        with torch.no_grad():
            expected = net.module(*inputs)
        expected = list(expected) if isinstance(expected, tuple) else [expected]
        for a, b in zip(expected, got):
            b = torch.from_numpy(b)
            if tuple(a.shape) != tuple(b.shape):
                raise StrataError(f"{path}: onnxruntime returns {tuple(b.shape)} for batch "
                                  f"{batch}, PyTorch {tuple(a.shape)}")
            worst = max(worst, (a - b).abs().max().item())
            if not torch.allclose(a, b, rtol=RTOL, atol=ATOL):
                raise StrataError(f"{path}: onnxruntime's outputs differ from PyTorch's "
                                  f"by up to {worst:.3g} at batch {batch}")
    return worst, batches


@contextlib.contextmanager
def _quiet():
    """The exporter narrates its steps on stdout and logs about internals (missing
    torchvision operators) that say nothing about the user's network."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _first_line(e: BaseException) -> str:
    lines = str(e).strip().splitlines()
    return lines[0][:300] if lines else type(e).__name__
