"""Parameter-free activations are function calls in the exported code (``torch.relu``),
and the compiled module can still be observed at them (graph.compiler.observe)."""

from __future__ import annotations

import torch
from strata_paths import EXAMPLES

import graph
from graph.builder import Builder
from graph.compiler import load_class, observe


def _net() -> graph.Document:
    b = Builder("Acts")
    x = b.add("Input", shape=[6])
    h = b.chain(x, ("Linear", {"out_features": 8}, "fc1"), ("ReLU", {}, "relu"),
                ("Linear", {"out_features": 8}, "fc2"),
                ("LeakyReLU", {"negative_slope": 0.2}, "leaky"),
                ("Linear", {"out_features": 8}, "fc3"), ("GELU", {}, "gelu"),
                ("Linear", {"out_features": 3}, "head"))
    b.wire(h, b.add("Output", task="classification"))
    return b.done()


def test_parameter_free_activations_are_written_as_function_calls():
    code = graph.generate_code(_net())
    assert "x = torch.relu(x)" in code.source
    assert "x = nn.functional.gelu(x)" in code.source
    assert "nn.ReLU" not in code.source and "nn.GELU" not in code.source
    # A setting is constructor state: LeakyReLU stays a module, named as its card.
    assert "self.leaky = nn.LeakyReLU(negative_slope=0.2)" in code.source
    called = {m.name for m in code.modules if m.function}
    assert called == {"relu", "gelu"}
    # The observable text has every layer a module, with the same names.
    twin = graph.generate_code(_net(), observable=True)
    assert "self.relu = nn.ReLU()" in twin.source and "torch.relu" not in twin.source
    assert [m.attribute for m in twin.modules] == [m.attribute for m in code.modules]


def test_the_trained_module_is_the_exported_class_and_observable_on_demand():
    doc = _net()
    net = graph.compile_network(doc)
    model = net.module
    exported, _ = load_class(net.code.source, net.code.class_name)
    assert type(model).__name__ == exported.__name__
    # The stand-ins are outside the module tree: the state_dict and the submodules are
    # the exported class's own.
    assert set(model.state_dict()) == set(exported().state_dict())
    assert not any(isinstance(m, (torch.nn.ReLU, torch.nn.GELU)) for m in model.modules())

    seen: list[str] = []
    for m in net.code.modules:
        model.get_submodule(m.attribute).register_forward_hook(
            lambda *_a, name=m.name: seen.append(name))
    x = torch.randn(4, 6)
    plain = model(x)
    assert seen == ["fc1", "fc2", "leaky", "fc3", "head"]  # functions: nothing to hook
    seen.clear()
    restore = observe(model)
    observed = model(x)
    restore()
    assert seen == ["fc1", "relu", "fc2", "leaky", "fc3", "gelu", "head"]
    assert torch.equal(plain, observed)  # the same arithmetic
    seen.clear()
    model(x)
    assert "relu" not in seen  # back to the exported code


def test_inner_activations_of_blocks_are_observable_in_every_copy():
    doc = graph.load(EXAMPLES / "blocks_resnet.strata")
    net = graph.compile_network(doc)
    inner = [m for m in net.code.modules if m.function and m.attribute.startswith("layer1.")]
    assert {m.attribute for m in inner} >= {"layer1.0.relu", "layer1.1.relu"}
    fired: list[str] = []
    for m in inner:
        net.module.get_submodule(m.attribute).register_forward_hook(
            lambda *_a, path=m.path: fired.append(path))
    net.module.eval()
    restore = observe(net.module)
    net.module(torch.randn(2, 1, 28, 28))
    restore()
    assert fired == [m.path for m in inner]


def test_a_line_of_the_observable_text_maps_to_its_node():
    net = graph.compile_network(_net())
    assert net.observed_lines is not None
    filename, lines = net.observed_lines
    relu = next(m.path for m in net.code.modules if m.name == "relu")
    line = next(k for k, v in lines.items() if v == relu)
    assert net.node_at_line(line, filename) == relu
    assert net.node_at_line(line, "<another file>") is None


def test_a_network_without_such_activations_has_no_observable_twin():
    b = Builder("Plain")
    x = b.add("Input", shape=[4])
    h = b.chain(x, ("Linear", {"out_features": 3}, "fc"))
    b.wire(h, b.add("Output", task="classification"))
    net = graph.compile_network(b.done())
    assert net.observed_lines is None
    restore = observe(net.module)
    assert "forward" not in net.module.__dict__
    restore()
