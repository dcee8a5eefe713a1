"""One example through the network: every node's value and this example's gradient.

The compiled module is traced with torch.fx, recording the generated source's line of
each operation; the code generator's ``line_nodes`` maps that line back to the canvas
node, so additions, concatenations and other nodes without a module have values too.
An ``fx.Interpreter`` runs the example, keeps each node's output (``retain_grad``), and
one backward pass of this example's loss gives the gradient that reaches every node,
which is what shows where one example's error signal dies in a deep sigmoid network.

The network runs in eval mode (BatchNorm on running statistics, Dropout off): the probe
shows what the network answers, not a training step. Weights are never changed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import fx

from graph.compiler import CompiledNetwork

_LINE = re.compile(r'File "(<strata-generated [^"]*>)", line (\d+)')


@dataclass(frozen=True)
class NodeValue:
    """One node's output for the probed example (batch dimension removed)."""

    node_id: str
    shape: tuple[int, ...]
    kind: str  # "maps" (C,H,W), "vector" (F,), "sequence" (T,F), "scalar", "tensor"
    value: np.ndarray
    grad_norm: float | None  # |dLoss/dvalue| for this one example
    grad_rms: float | None  # the same per element, comparable across widths
    attention: np.ndarray | None = None  # (heads or 1, T, T) for attention layers

    @property
    def stats(self) -> dict[str, float]:
        v = self.value.astype(np.float64)
        if v.size == 0:
            return {}
        return {"mean": float(v.mean()), "std": float(v.std()), "min": float(v.min()),
                "max": float(v.max()), "zero_fraction": float(np.mean(v == 0))}

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"shape": list(self.shape), "kind": self.kind,
                               **self.stats}
        if self.grad_norm is not None:
            out["grad_norm"] = self.grad_norm
            out["grad_rms"] = self.grad_rms
        return out


@dataclass
class ProbeResult:
    """The network's answer for one example and every node's value on the way."""

    task: str
    # Class probabilities (softmax), P(positive) for binary, each label's probability
    # for multi-label (a sigmoid per label, independent), values for regression.
    prediction: np.ndarray
    predicted: int | None  # the class it chose (classification and binary)
    target: Any  # the true class or value, when the example came with one
    loss: float | None
    class_names: list[str]
    nodes: dict[str, NodeValue] = field(default_factory=dict)

    @property
    def correct(self) -> bool | None:
        if self.task == "multilabel" and self.target is not None:
            truth = np.asarray(self.target, np.float64).ravel() > 0.5
            return bool(np.array_equal(truth, self.prediction.ravel() >= 0.5))
        if self.predicted is None or self.target is None:
            return None
        return int(self.predicted) == int(self.target)

    @property
    def labels_on(self) -> list[int]:
        """Multi-label: the labels predicted (probability at least 0.5)."""
        if self.task != "multilabel":
            return []
        return [int(i) for i in np.flatnonzero(self.prediction.ravel() >= 0.5)]

    def _labels_text(self) -> str:
        p = self.prediction.ravel()
        on = self.labels_on
        if not on:
            top = int(p.argmax()) if len(p) else 0
            text = (f"predicts no label (highest: {self.class_name(top)} "
                    f"{float(p[top]) if len(p) else 0.0:.0%})")
        else:
            text = "predicts " + ", ".join(f"{self.class_name(i)} ({float(p[i]):.0%})"
                                           for i in on)
        if self.target is not None:
            truth = np.flatnonzero(np.asarray(self.target, np.float64).ravel() > 0.5)
            text += ", true labels " + (", ".join(self.class_name(int(i)) for i in truth)
                                        or "none")
        return text + (f", loss {self.loss:.4g}" if self.loss is not None else "")

    def describe(self) -> str:
        if self.task == "multilabel":
            return self._labels_text()
        if self.predicted is None:
            values = ", ".join(f"{v:.4g}" for v in self.prediction.ravel()[:8])
            text = f"predicts {values}"
        else:
            name = self.class_name(self.predicted)
            text = f"predicts {name} ({self.confidence:.1%})"
        if self.target is not None and self.predicted is not None:
            text += f", true class {self.class_name(int(self.target))}"
        if self.loss is not None:
            text += f", loss {self.loss:.4g}"
        return text

    @property
    def confidence(self) -> float:
        if self.predicted is None:
            return float("nan")
        if self.task == "binary":
            p = float(self.prediction.ravel()[0])
            return p if self.predicted == 1 else 1 - p
        return float(self.prediction[self.predicted])

    def class_name(self, index: int) -> str:
        if 0 <= index < len(self.class_names):
            return str(self.class_names[index])
        return str(index)

    def to_json(self, labels: dict[str, str] | None = None) -> dict[str, Any]:
        labels = labels or {}
        return {
            "task": self.task,
            "prediction": self.prediction.ravel().tolist(),
            "predicted": self.predicted,
            "predicted_name": (None if self.predicted is None
                               else self.class_name(self.predicted)),
            **({"predicted_labels": [self.class_name(i) for i in self.labels_on]}
               if self.task == "multilabel" else {}),
            "target": None if self.target is None else _plain(self.target),
            "loss": self.loss,
            "class_names": list(self.class_names),
            "layers": [{"node": node_id, "label": labels.get(node_id, node_id),
                        **value.summary()} for node_id, value in self.nodes.items()],
        }


class Prober:
    """Runs single examples through a compiled network and explains its answer.

    ``task`` is the trained Output's task; ``loss`` the training loss module (its
    per-example value is reported and backpropagated). Thread-compatible: one probe at a
    time per ``Prober`` (callers in the studio serialise through one worker).
    """

    def __init__(self, compiled: CompiledNetwork, task: str, loss: torch.nn.Module,
                 class_names: list[str] | None = None) -> None:
        self.compiled = compiled
        self.module = compiled.module
        self.task = task
        self.loss = loss
        self.class_names = list(class_names or [])
        self.input_ids = list(compiled.code.inputs)
        self._graph, self._owners = _trace(compiled)

    # ------------------------------------------------------------------ weights
    def load_weights(self, state_dict: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state_dict)

    # ------------------------------------------------------------------ probing
    def probe(self, inputs: torch.Tensor | tuple[torch.Tensor, ...], target: Any = None,
              with_gradients: bool = True) -> ProbeResult:
        """``inputs``: one example (no batch dimension), or a tuple of them for
        networks with several inputs. ``target``: its label or value, if known."""
        xs = _as_batch(inputs, self.module)
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.enable_grad():
                for x in xs:
                    if x.is_floating_point():
                        x.requires_grad_(True)
                recorder = _Recorder(self._graph, self._owners)
                output = recorder.run(*xs)
                for input_id, x in zip(self.input_ids, xs):
                    recorder.values.setdefault(input_id, x)
                loss_value = None
                if target is not None:
                    loss = self._example_loss(output, target)
                    loss_value = float(loss.detach())
                    if with_gradients and loss.requires_grad:
                        loss.backward()
        finally:
            self.module.train(was_training)
        prediction, predicted = self._read_prediction(output.detach())
        nodes = {node_id: _node_value(node_id, tensor, recorder.attention.get(node_id))
                 for node_id, tensor in recorder.values.items()}
        self.module.zero_grad(set_to_none=True)
        return ProbeResult(self.task, prediction, predicted,
                           None if target is None else _plain(target), loss_value,
                           self.class_names, nodes)

    def predict(self, inputs: torch.Tensor | tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Raw network output for a batch (eval mode, no gradients)."""
        xs = inputs if isinstance(inputs, tuple) else (inputs,)
        was_training = self.module.training
        self.module.eval()
        try:
            with torch.no_grad():
                return self.module(*xs)
        finally:
            self.module.train(was_training)

    def _example_loss(self, output: torch.Tensor, target: Any) -> torch.Tensor:
        t = torch.as_tensor(target)
        if self.task == "classification":
            t = t.long().reshape(1)
        else:
            t = t.to(output.dtype).reshape(output.shape)
        return self.loss(output, t)

    def _read_prediction(self, output: torch.Tensor) -> tuple[np.ndarray, int | None]:
        out = output[0].float()
        if self.task == "classification":
            probs = torch.softmax(out.reshape(-1), dim=0).numpy()
            return probs, int(probs.argmax())
        if self.task == "binary":
            p = torch.sigmoid(out.reshape(-1)).numpy()
            return p, int(p[0] >= 0.5)
        if self.task == "multilabel":  # independent labels: a sigmoid each
            return torch.sigmoid(out.reshape(-1)).numpy(), None
        return out.numpy(), None


# ---------------------------------------------------------------------- internals
class _Recorder(fx.Interpreter):
    """Keeps, per canvas node, the output of its last fx operation."""

    def __init__(self, graph_module: fx.GraphModule, owners: dict[str, str]) -> None:
        super().__init__(graph_module)
        self.owners = owners
        self.values: dict[str, torch.Tensor] = {}
        self.attention: dict[str, torch.Tensor] = {}

    def call_module(self, target: Any, args: Any, kwargs: dict[str, Any]) -> Any:
        module = self.fetch_attr(target)
        if isinstance(module, torch.nn.MultiheadAttention):
            # The generated code skips the weights (faster); the probe shows them per head.
            kwargs = {**kwargs, "need_weights": True, "average_attn_weights": False}
        return super().call_module(target, args, kwargs)

    def run_node(self, n: fx.Node) -> Any:
        out = super().run_node(n)
        node_id = self.owners.get(n.name)
        if node_id is None:
            return out
        value = out
        if isinstance(out, tuple) and out and isinstance(out[0], torch.Tensor):
            value = out[0]  # e.g. (output, attention weights) or (output, state)
            if (len(out) > 1 and isinstance(out[1], torch.Tensor)
                    and out[1].dim() >= 3 and out[1].shape[-1] == out[1].shape[-2]):
                self.attention[node_id] = out[1].detach()
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            if value.requires_grad:
                value.retain_grad()
            self.values[node_id] = value
        return out


def _trace(compiled: CompiledNetwork) -> tuple[fx.GraphModule, dict[str, str]]:
    tracer = fx.Tracer()
    tracer.record_stack_traces = True
    graph = tracer.trace(compiled.module)
    gm = fx.GraphModule(compiled.module, graph)
    owners: dict[str, str] = {}
    by_attribute = {name: node_id for node_id, name in compiled.code.attributes.items()}
    inputs = iter(compiled.code.inputs)
    for n in graph.nodes:
        if n.op == "placeholder":
            owner = next(inputs, None)
        elif n.op == "call_module" and n.target in by_attribute:
            owner = by_attribute[n.target]
        else:
            owner = _line_owner(compiled, n.stack_trace or "")
        if owner is not None:
            owners[n.name] = owner
    return gm, owners


def _line_owner(compiled: CompiledNetwork, stack: str) -> str | None:
    lines = [int(m.group(2)) for m in _LINE.finditer(stack)
             if m.group(1) == compiled.filename]
    for line in reversed(lines):
        owner = compiled.code.line_nodes.get(line)
        if owner is not None:
            return owner
    return None


def _as_batch(inputs: Any, module: torch.nn.Module) -> tuple[torch.Tensor, ...]:
    xs = inputs if isinstance(inputs, (tuple, list)) else (inputs,)
    device = next((p.device for p in module.parameters()), torch.device("cpu"))
    return tuple(torch.as_tensor(x).detach().clone().unsqueeze(0).to(device) for x in xs)


def _node_value(node_id: str, tensor: torch.Tensor,
                attention: torch.Tensor | None) -> NodeValue:
    value = tensor.detach()[0].float().cpu().numpy()
    grad = tensor.grad
    grad_norm = grad_rms = None
    if grad is not None:
        g = grad[0].float()
        grad_norm = float(g.norm())
        grad_rms = grad_norm / math.sqrt(max(g.numel(), 1))
    att = None
    if attention is not None:
        a = attention[0].float().cpu().numpy()
        att = a if a.ndim == 3 else a[None]
    return NodeValue(node_id, tuple(value.shape), _kind(value.shape), value, grad_norm,
                     grad_rms, att)


def _kind(shape: tuple[int, ...]) -> str:
    if len(shape) == 0 or (len(shape) == 1 and shape[0] == 1):
        return "scalar"
    if len(shape) == 1:
        return "vector"
    if len(shape) == 2:
        return "sequence"
    if len(shape) == 3:
        return "maps"
    return "tensor"


def _plain(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        value = value.detach().cpu()
        return value.item() if value.numel() == 1 else value.tolist()
    if isinstance(value, np.ndarray):
        return value.item() if value.size == 1 else value.tolist()
    return value
