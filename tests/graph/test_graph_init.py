"""Weight initialisation as a parameter: the generated code states it with nn.init, and
the module built from it starts from those weights."""

from __future__ import annotations

import pytest
import torch
from graph_helpers import chain_doc

import graph


def _linear(**params):
    doc = chain_doc(("Linear", {"out_features": 64, **params}, "fc"), shape=(32,))
    return graph.generate_code(doc).source, graph.compile(doc).fc


def test_default_initialisation_writes_nothing():
    source, _ = _linear()
    assert "nn.init" not in source


def test_kaiming_with_zero_biases():
    source, fc = _linear(init="kaiming_normal", nonlinearity="relu", bias_init="zeros")
    assert 'nn.init.kaiming_normal_(self.fc.weight, nonlinearity="relu")' in source
    assert "nn.init.zeros_(self.fc.bias)" in source
    assert torch.count_nonzero(fc.bias) == 0
    # He: variance 2 / fan_in; PyTorch's default would give about 1 / (3 fan_in).
    assert fc.weight.var().item() == pytest.approx(2 / 32, rel=0.2)


def test_xavier_gain_follows_the_nonlinearity():
    source, fc = _linear(init="xavier_normal", nonlinearity="tanh")
    assert 'gain=nn.init.calculate_gain("tanh")' in source
    gain = torch.nn.init.calculate_gain("tanh")
    assert fc.weight.std().item() == pytest.approx(gain * (2 / (32 + 64)) ** 0.5, rel=0.2)


def test_orthogonal_rows_are_orthonormal():
    doc = chain_doc(("Linear", {"out_features": 16, "init": "orthogonal",
                                "nonlinearity": "linear"}, "fc"), shape=(32,))
    w = graph.compile(doc).fc.weight.detach()
    assert torch.allclose(w @ w.T, torch.eye(16), atol=1e-5)


def test_convolutions_take_the_init_too():
    doc = chain_doc(("Conv2d", {"out_channels": 4, "init": "kaiming_uniform",
                                "bias_init": "zeros"}, "conv"), ("Flatten", {}),
                    shape=(1, 6, 6))
    source = graph.generate_code(doc).source
    assert 'nn.init.kaiming_uniform_(self.conv.weight, nonlinearity="relu")' in source
    assert torch.count_nonzero(graph.compile(doc).conv.bias) == 0
