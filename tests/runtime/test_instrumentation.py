"""Per-layer statistics: right values, keyed by node id, hooks only while sampling, one
transfer to the host per sample."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch
from training_helpers import mlp

import graph
from graph.builder import Builder
from runtime.instrumentation import HIST_BINS, Instrumentation, SamplingPolicy, _edges
from runtime.layers import network_layers


def sampled_step(doc, x, y, watch=(), lr=0.1):
    """One training step with a sample; returns the event and what we measured."""
    torch.manual_seed(0)
    compiled = graph.compile_network(doc)
    model = compiled.module
    layers = network_layers(compiled, doc)
    instr = Instrumentation(model, layers, watch)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    outputs = {}
    spies = [model.get_submodule(i.attribute).register_forward_hook(
        lambda _m, _a, out, nid=i.node_id: outputs.__setitem__(nid, out.detach().clone()))
        for i in layers]
    instr.arm()
    out = model(x)
    instr.disarm()
    for s in spies:
        s.remove()
    loss = torch.nn.functional.cross_entropy(out, y)
    opt.zero_grad()
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters()}
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    instr.before_step()
    opt.step()
    event, (extra,) = instr.collect(7, 2, [loss.detach()])
    assert extra == pytest.approx(loss.item())
    return event, compiled, model, outputs, grads, before


def test_statistics_match_direct_computation():
    doc = mlp(16, 2, "ReLU")
    sigmoid = doc.add_node("Sigmoid", {}, "squash")  # put a Sigmoid after fc2
    act2 = next(n for n in doc.nodes.values() if n.label == "act2")
    edge = doc.edges_from(act2.id)[0]
    doc.disconnect(edge)
    doc.connect(graph.Edge(act2.id, "out", sigmoid.id, "in"))
    doc.connect(graph.Edge(sigmoid.id, "out", edge.target, edge.target_port))
    x = torch.randn(64, 2) * 3
    y = torch.randint(0, 2, (64,))
    event, compiled, _model, outputs, grads, before = sampled_step(doc, x, y)
    assert (event.step, event.epoch) == (7, 2)
    labels = {n.id: n.label for n in doc.nodes.values()}
    assert [labels[s.node_id] for s in event.layers] == [
        "fc1", "act1", "fc2", "act2", "squash", "head"]
    for s in event.layers:
        attr = compiled.code.attributes[s.node_id]
        out = outputs[s.node_id]
        assert s.act_mean == pytest.approx(out.mean().item(), abs=1e-5)
        assert s.act_std == pytest.approx(out.std(correction=0).item(), rel=1e-4)
        assert (s.act_min, s.act_max) == pytest.approx((out.min().item(), out.max().item()))
        assert s.act_hist.sum() == min(out.numel(), 1024) and len(s.act_hist) == HIST_BINS
        assert s.act_edges[0] == pytest.approx(s.act_min)
        assert s.act_edges[-1] == pytest.approx(s.act_max)
        if labels[s.node_id].startswith("act"):
            assert s.zero_fraction == pytest.approx((out == 0).float().mean().item())
            dead = (out.amax(0) <= 0).float().mean().item()
            assert s.dead_fraction == pytest.approx(dead)
            assert s.grad_norm is None and s.grad_hist is None
        elif labels[s.node_id] == "squash":
            sat = ((out < 0.0127) | (out > 0.9873)).float().mean().item()
            assert s.saturation == pytest.approx(sat, abs=1e-6)
        else:
            names = [f"{attr}.weight", f"{attr}.bias"]
            assert s.grad_norms == pytest.approx(
                {"weight": grads[names[0]].norm().item(), "bias": grads[names[1]].norm().item()},
                rel=1e-5)
            w = torch.cat([before[n].reshape(-1) for n in names])
            g = torch.cat([grads[n].reshape(-1) for n in names])
            assert s.weight_norm == pytest.approx(w.norm().item(), rel=1e-5)
            assert s.grad_norm == pytest.approx(g.norm().item(), rel=1e-5)
            # SGD without momentum moves the weights by lr * grad
            assert s.update_ratio == pytest.approx(0.1 * g.norm().item() / w.norm().item(),
                                                   rel=1e-3)
            assert s.grad_hist.sum() == min(g.numel(), 1024)
            assert s.grad_edges[0] == pytest.approx(g.min().item(), abs=1e-7)
            assert s.zero_fraction is None and s.saturation is None


def test_convolution_units_are_channels():
    b = Builder("conv")
    x = b.add("Input", shape=[1, 8, 8])
    b.chain(x, ("Conv2d", {"out_channels": 6, "kernel_size": [3, 3]}, "conv"),
            ("ReLU", {}, "relu"), "Flatten", ("Linear", {"out_features": 2}, "fc"),
            "Output")
    doc = b.done({"dataset": {"name": "shapes"}})
    event, _compiled, _model, outputs, *_ = sampled_step(
        doc, torch.randn(16, 1, 8, 8), torch.randint(0, 2, (16,)))
    relu = next(n.id for n in doc.nodes.values() if n.label == "relu")
    out = outputs[relu]
    dead = (out.amax(dim=(0, 2, 3)) <= 0).float().mean().item()
    assert event.layer(relu).dead_fraction == pytest.approx(dead)
    assert event.layer(relu).act_hist.sum() <= 1024  # 16*6*8*8 values, subsampled


def test_only_watched_layers_are_measured():
    doc = mlp(8, 2)
    fc2 = next(n.id for n in doc.nodes.values() if n.label == "fc2")
    event, *_ = sampled_step(doc, torch.randn(8, 2), torch.randint(0, 2, (8,)),
                             watch=(fc2,))
    assert [s.node_id for s in event.layers] == [fc2]


def test_hooks_exist_only_during_a_sampled_forward_pass():
    doc = mlp(8, 2)
    compiled = graph.compile_network(doc)
    model = compiled.module
    instr = Instrumentation(model, network_layers(compiled, doc))
    # The ReLUs are torch.relu calls in the code: their stand-ins are outside the
    # module tree, and the sampled pass runs the observable text that calls them.
    layers = [model.get_submodule(m.attribute) for m in compiled.code.modules]
    assert len(layers) == 5 and len(list(model.modules())) == 4

    def hooked():
        return sum(len(m._forward_hooks) for m in layers)

    def observable():
        return "forward" in model.__dict__

    assert hooked() == 0 and not observable()
    instr.arm()
    assert hooked() == 5 and observable()
    model(torch.randn(4, 2))
    instr.disarm()
    assert hooked() == 0 and not observable()
    instr.arm()
    instr.close()  # a run that ends (or fails) mid-sample leaves nothing behind
    assert hooked() == 0 and not observable()


def test_one_transfer_to_the_host_per_sample(monkeypatch):
    doc = mlp(16, 3)
    compiled = graph.compile_network(doc)
    model = compiled.module
    instr = Instrumentation(model, network_layers(compiled, doc))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    x, y = torch.randn(32, 2), torch.randint(0, 2, (32,))
    calls = []
    for name in ("cpu", "item", "tolist", "numpy", "__float__", "__bool__", "__int__"):
        real = getattr(torch.Tensor, name)

        def spy(self, *args, _real=real, _name=name, **kwargs):
            calls.append(_name)
            return _real(self, *args, **kwargs)
        monkeypatch.setattr(torch.Tensor, name, spy)
    instr.arm()
    loss = torch.nn.functional.cross_entropy(model(x), y)
    instr.disarm()
    opt.zero_grad()
    loss.backward()
    instr.before_step()
    opt.step()
    instr.collect(1, 1, [loss.detach()])
    assert calls == ["cpu", "numpy"]  # one copy to the host, then a view of it


def test_histogram_of_equal_values_sits_in_the_middle():
    counts = np.zeros(HIST_BINS, np.int64)
    counts[0] = 10
    centred, edges = _edges(counts, np.array([2.0, 2.0]), HIST_BINS)
    assert centred[HIST_BINS // 2] == 10 and centred.sum() == 10
    assert edges[0] < 2.0 < edges[-1]


def test_sampling_policy_limits_rate_and_cost_after_a_burst():
    plain = SamplingPolicy(every=10)
    assert [s for s in range(40) if plain.due(s, 0.0, 1.0)] == [0, 10, 20, 30]
    policy = SamplingPolicy(every=1, max_rate=10, burst=3, budget=0.02)
    taken = []
    for step in range(100):
        now = step * 0.01  # 100 steps a second
        if policy.due(step, now, elapsed=now):
            taken.append(step)
            policy.took(now, 0.001)
    assert taken[:3] == [0, 1, 2]  # the burst, whatever the limits
    gaps = {b - a for a, b in itertools.pairwise(taken[3:])}
    assert min(gaps) >= 10  # at most 10 a second
    assert policy.cost <= 0.02 * 1.0 + 0.001  # within the budget (one sample of slack)
    costly = SamplingPolicy(every=1, burst=0, budget=0.02)
    costly.took(0.0, 0.5)  # one sample that took half a second...
    assert not costly.due(1, 1.0, elapsed=1.0)  # ...waits until it is 2% of the time
    assert costly.due(1, 25.0, elapsed=25.0)


def test_a_short_run_of_a_costly_network_still_gets_the_samples_diagnoses_need():
    """The deep sigmoid story for 3 epochs: 33 steps of 3 ms, a sample costing 10 ms.
    Under the budget alone it got one sample and never its diagnosis."""
    from runtime.diagnoses import MIN_SAMPLES

    policy = SamplingPolicy(every=10, max_rate=20, burst=MIN_SAMPLES, budget=0.05)
    now = 0.0
    for step in range(33):
        if policy.due(step, now, elapsed=now):
            policy.took(now, 0.010)
            now += 0.010
        now += 0.003
    assert policy.taken >= MIN_SAMPLES
    # After the burst, the budget holds: a long run costs its share, not more.
    for step in range(33, 20_000):
        if policy.due(step, now, elapsed=now):
            policy.took(now, 0.010)
            now += 0.010
        now += 0.003
    assert policy.cost <= 0.05 * now + MIN_SAMPLES * 0.010
