"""Why a training run could not go on, in the user's words.

``TrainingError`` carries a reason a person can act on and, when known, the node the
canvas should mark. Two failures need detective work:

- a non-finite loss: ``locate_nonfinite`` looks, in this order, at the batch (bad data),
  at the weights (an update made them NaN: the gradient overflowed in the previous step,
  and the layer nearest the output is where it started, since backpropagation spreads
  it towards the input), then replays the forward pass with hooks to find the first
  layer whose output is not finite. If every output is finite, the loss itself is to
  blame (usually the targets).
- running out of memory: ``out_of_memory_message`` suggests a smaller batch.
"""

from __future__ import annotations

import torch

from graph.compiler import observe
from graph.errors import StrataError
from graph.memory import available_memory

from .instrumentation import first_tensor
from .layers import LayerInfo, predecessors


class TrainingError(StrataError):
    """Training cannot go on; ``reason`` says why in plain words."""

    def __init__(self, reason: str, node_id: str | None = None, kind: str = "error"):
        self.reason = reason
        self.node_id = node_id
        self.kind = kind  # "nonfinite", "oom", "data", "network", "setup", "checkpoint"
        super().__init__(reason)


# ---------------------------------------------------------------- out of memory
def is_out_of_memory(exc: BaseException) -> bool:
    if isinstance(exc, (torch.OutOfMemoryError, MemoryError)):
        return True
    text = str(exc).lower()
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text)


def out_of_memory_message(exc: BaseException, device: torch.device, batch_size: int,
                          phase: str = "training") -> str:
    """What to tell the user when ``exc`` (an out-of-memory error) ended the run."""
    where = {"cuda": "The GPU", "mps": "The GPU (MPS)"}.get(device.type, "The computer")
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    smaller = max(1, batch_size // 2)
    tip = (f"Lower the batch size (try {smaller}) or make the network smaller"
           if batch_size > 1 else "Make the network smaller")
    return (f"{where} ran out of memory during {phase} with a batch size of {batch_size}. "
            f"{tip}. (PyTorch said: {first[:200]})")


def free_memory(device: torch.device) -> int | None:
    """Bytes the device can still allocate, or None when it does not say."""
    if device.type == "cuda":
        try:
            return torch.cuda.mem_get_info(device)[0]
        except RuntimeError:
            return None
    if device.type == "cpu":
        return available_memory()
    return None


def device_words(device: torch.device) -> str:
    return {"cuda": "the GPU", "mps": "the GPU (MPS)"}.get(device.type, "this computer")


def release_memory(device: torch.device) -> None:
    """Give cached blocks back after an out-of-memory error, so the editor can go on."""
    if device.type == "cuda":
        torch.cuda.empty_cache()
    elif device.type == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()


# ---------------------------------------------------------------- non-finite
def _what(t: torch.Tensor) -> str:
    return "NaN" if bool(torch.isnan(t).any()) else "infinite"


def _finite(t) -> bool:
    if isinstance(t, torch.Tensor):
        return not t.is_floating_point() or bool(torch.isfinite(t).all())
    if isinstance(t, (tuple, list)):
        return all(_finite(x) for x in t)
    return True


def locate_nonfinite(model: torch.nn.Module, layers: list[LayerInfo], doc,
                     inputs: tuple[torch.Tensor, ...], *, step: int, epoch: int,
                     lr: float, input_ids: list[str], output_id: str) -> TrainingError:
    """Explain a non-finite loss at ``step``; ``inputs`` is the batch that produced it."""
    when = f"at step {step} (epoch {epoch})"
    for node_id, x in zip(input_ids, inputs):
        if not _finite(x):
            name = doc.nodes[node_id].title
            return TrainingError(
                f"The loss became NaN {when} because the training data fed to Input "
                f"'{name}' contain {_what(x)} values. Clean the data file (empty cells "
                "and overflowing numbers become NaN or infinity).", node_id, "nonfinite")

    modules = {info.node_id: model.get_submodule(info.attribute) for info in layers}
    broken = [info for info in layers if not all(
        _finite(p) for p in modules[info.node_id].parameters())]
    if broken:
        origin = broken[-1]  # nearest the output: where the overflowing gradient began
        others = (f" ({len(broken) - 1} earlier layer{'s' if len(broken) > 2 else ''} "
                  "too)") if len(broken) > 1 else ""
        return TrainingError(
            f"Training stopped {when}: the weights of {origin.describe} became NaN or "
            f"infinite{others} because its gradient overflowed in the previous update. "
            f"Lower the learning rate (now {lr:g}) or set gradient clipping.",
            origin.node_id, "nonfinite")

    found: list[tuple[LayerInfo, bool, torch.Tensor]] = []

    def watch(info: LayerInfo):
        def hook(_module, args, output):
            if found:
                return
            out = first_tensor(output)
            if out is not None and not _finite(out):
                found.append((info, _finite(args), out.detach()))
        return hook

    handles = [modules[i.node_id].register_forward_hook(watch(i)) for i in layers]
    restore = observe(model)  # the activations written as functions are hooked too
    largest = 0.0
    try:
        with torch.no_grad():
            result = first_tensor(model(*inputs))
            if result is not None and result.is_floating_point() and result.numel():
                largest = float(result.abs().max())
    except Exception:  # noqa: BLE001, S110 - best effort: the loss was already bad
        pass
    finally:
        restore()
        for h in handles:
            h.remove()
    if found:
        info, input_ok, out = found[0]
        if input_ok:
            return TrainingError(
                f"Training stopped {when}: the output of {info.describe} became "
                f"{_what(out)} although its input was finite. Its values grew too large: "
                f"lower the learning rate (now {lr:g}), add normalization (BatchNorm or "
                "LayerNorm) before it, or set gradient clipping.", info.node_id,
                "nonfinite")
        sources = [doc.nodes[s].title for s in predecessors(doc, info.node_id)]
        via = f" from '{sources[0]}'" if sources else ""
        return TrainingError(
            f"Training stopped {when}: {info.describe} received {_what(out)} values"
            f"{via}. Lower the learning rate (now {lr:g}) or add normalization before "
            "it.", info.node_id, "nonfinite")
    if largest > 1e15:
        feeding = [e.source for e in doc.edges_into(output_id)]
        name = doc.nodes[feeding[0]].describe() if feeding else "the network"
        return TrainingError(
            f"Training stopped {when}: the output of {name} grew to {largest:.1e}, so "
            f"the loss overflowed. Lower the learning rate (now {lr:g}) or set gradient "
            "clipping.", feeding[0] if feeding else output_id, "nonfinite")
    return TrainingError(
        f"Training stopped {when}: the loss became NaN or infinite although every "
        "layer's output is finite. Check the targets (for regression, very large target "
        "values overflow the squared error; scale them down).", output_id, "nonfinite")


def nonfinite_gradient_error(layers: list[LayerInfo], node_ids: tuple[str, ...], *,
                             step: int, epoch: int, lr: float) -> TrainingError:
    """A sampled step found NaN or infinite gradients in ``node_ids``."""
    bad = [info for info in layers if info.node_id in node_ids]
    origin = bad[-1]
    return TrainingError(
        f"Training stopped at step {step} (epoch {epoch}): the gradient of "
        f"{origin.describe} became NaN or infinite (it overflowed during "
        f"backpropagation). Lower the learning rate (now {lr:g}) or set gradient "
        "clipping.", origin.node_id, "nonfinite")


# ---------------------------------------------------------------- anything else
def describe_unexpected(exc: BaseException, compiled, doc) -> tuple[str, str | None]:
    """A reason and the node concerned for an error nobody foresaw.

    When the traceback passes through the generated code, the line tells which layer
    was running (``CompiledNetwork.node_at_line``): the innermost such line wins.
    """
    node_id = None
    if compiled is not None:
        tb = exc.__traceback__
        while tb is not None:
            filename = tb.tb_frame.f_code.co_filename  # the exported or observable text
            node_id = compiled.node_at_line(tb.tb_lineno, filename) or node_id
            tb = tb.tb_next
    where = ""
    if node_id is not None and doc is not None and node_id in doc.nodes:
        where = f" in {doc.nodes[node_id].describe()}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return (f"Training failed{where}: {type(exc).__name__}{': ' + text if text else ''}",
            node_id)
