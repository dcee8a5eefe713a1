"""Tracing with the example's concrete sizes, where symbolic tracing cannot follow.

``assert t <= self.block_size`` or ``if x.size(1) > 8:`` stop torch.fx: a size is a
Proxy, and Python control flow needs a real value. This tracer runs the module on the
example inputs while it records the graph, so every recorded value also has its real
value. ``x.size()``, ``x.shape`` and ``x.dim()`` answer with real integers for every
dimension but the batch, which stays symbolic (a Proxy of ``x.size(0)``): the imported
network keeps working at any batch size, while lengths, channels and image sizes are
those of the example (as the Input of a Strata network fixes them anyway).
"""

from __future__ import annotations

import operator
from typing import Any


def concrete_trace(module, tracer_type, proxy_type, inputs: list, concrete: dict):
    """``tracer_type``'s graph of ``module``, recorded while running it on ``inputs``."""
    import torch
    from torch import fx

    values: dict = {}
    feed = iter(inputs)

    class ConcreteProxy(proxy_type):
        def _real(self):
            return values.get(self.node)

        def size(self, dim: int | None = None):
            real = self._real()
            if not isinstance(real, torch.Tensor):
                return super().size(dim) if dim is None else self.tracer.create_proxy(
                    "call_method", "size", (self, dim), {})
            if dim is None:
                return (self._batch(), *real.shape[1:]) if real.dim() else ()
            if dim % real.dim() == 0:
                return self._batch()
            return int(real.shape[dim])

        def _batch(self):
            return self.tracer.create_proxy("call_method", "size", (self, 0), {})

        def dim(self):
            real = self._real()
            return real.dim() if isinstance(real, torch.Tensor) else super().dim()

        @property
        def ndim(self):
            return self.dim()

        def __getattr__(self, name: str):
            if name == "shape" and isinstance(self._real(), torch.Tensor):
                return self.size()
            return super().__getattr__(name)

    class ConcreteTracer(tracer_type):
        # While a real value is computed, fx's patched Module.__call__ and __getattr__
        # must run the module as usual instead of recording it.
        running = 0

        def proxy(self, node):
            return ConcreteProxy(node, self)

        def call_module(self, m, forward, args, kwargs):
            if self.running:
                return forward(*args, **kwargs)
            return super().call_module(m, forward, args, kwargs)

        def getattr(self, attr, attr_val, parameter_proxy_cache):
            if self.running:
                return attr_val
            return super().getattr(attr, attr_val, parameter_proxy_cache)

        def create_proxy(self, kind, target, args, kwargs, name=None, type_expr=None,
                         proxy_factory_fn=None):
            proxy = super().create_proxy(kind, target, args, kwargs, name, type_expr,
                                         proxy_factory_fn)
            node = proxy.node
            real_args = fx.node.map_aggregate(args, _real_of)
            real_kwargs = fx.node.map_aggregate(kwargs, _real_of)
            self.running += 1
            try:
                if kind == "placeholder":
                    values[node] = next(feed) if not args else args[0]
                elif kind == "get_attr":
                    values[node] = _fetch(self.root, target)
                elif kind == "call_function":
                    values[node] = target(*real_args, **real_kwargs)
                elif kind == "call_method":
                    values[node] = getattr(real_args[0], target)(*real_args[1:],
                                                                 **real_kwargs)
                elif kind == "call_module":
                    values[node] = self.root.get_submodule(target)(*real_args,
                                                                   **real_kwargs)
            finally:
                self.running -= 1
            return proxy

    def _real_of(value: Any):
        if isinstance(value, fx.Proxy):
            value = value.node
        if isinstance(value, fx.Node):
            if value not in values and value.op == "get_attr":
                values[value] = _fetch(tracer.root, value.target)
            return values.get(value)
        return value

    tracer = ConcreteTracer()
    tracer.record_stack_traces = True
    with torch.no_grad():
        graph = tracer.trace(module, concrete_args=concrete or None)
    return tracer, graph


def _fetch(root, target: str):
    return operator.attrgetter(target)(root)
