"""Networks written the way tutorials write them import, validate, compile and give the
original module's outputs with the original weights."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from transfer_helpers import FIXTURES, inputs_for, max_difference, randomize, run

import graph
from graph.importers import build_module, import_file

# (target, input shape, dtype, layer counts the document must have, labels it must have)
CASES = [
    ("mlp.py:MLP", (1, 1, 28, 28), "float",
     {"Flatten": 1, "Linear": 3, "ReLU": 2, "Dropout": 1}, {"fc1", "fc3", "dropout"}),
    ("mlp.py:SequentialMLP", (1, 1, 28, 28), "float",
     {"Flatten": 1, "Linear": 3, "ReLU": 2}, {"linear_relu_stack_0", "flatten"}),
    ("mlp.py:make_mlp", (1, 2), "float", {"Linear": 2, "Tanh": 1}, {"layer_0", "layer_2"}),
    ("lenet.py:Net", (1, 3, 32, 32), "float",
     {"Conv2d": 2, "MaxPool2d": 2, "ReLU": 4, "Flatten": 1, "Linear": 3},
     {"conv1", "pool", "pool_2", "fc3"}),
    ("lenet.py:LeNet5", (1, 1, 28, 28), "float",
     {"Conv2d": 2, "Tanh": 4, "MaxPool2d": 2, "Flatten": 1, "Linear": 3, "Dropout": 1,
      "LogSoftmax": 1}, {"conv1", "fc1"}),
    ("resnet.py:ResNet", (2, 3, 32, 32), "float",
     {"Conv2d": 15, "BatchNorm2d": 15, "ReLU": 13, "Add": 6, "AdaptiveAvgPool2d": 1,
      "Flatten": 1, "Linear": 1},
     {"layer1_0_conv1", "layer2_0_downsample_0", "layer3_1_bn2", "fc"}),
    ("rnn.py:LSTMClassifier", (1, 12, 1), "float", {"LSTM": 1, "Linear": 1},
     {"lstm", "fc"}),
    ("rnn.py:GRUTextClassifier", (1, 10), "long", {"Embedding": 1, "GRU": 1, "Linear": 1},
     {"embedding", "gru", "fc"}),
    ("rnn.py:BiLSTMTagger", (1, 7, 8), "float", {"LSTM": 1, "Mean": 1, "Linear": 1},
     {"lstm", "out"}),
    ("transformer.py:TransformerClassifier", (1, 16), "long",
     {"Embedding": 1, "PositionalEmbedding": 1, "TransformerEncoderLayer": 2, "Mean": 1,
      "Linear": 1}, {"encoder_layers_0", "encoder_layers_1", "pos_embedding"}),
    ("transformer.py:TinyEncoder", (1, 12), "long",
     {"Embedding": 1, "PositionalEmbedding": 1, "TransformerEncoderLayer": 1,
      "LayerNorm": 1, "Mean": 1, "Linear": 1}, {"tok", "pos", "layer", "norm", "head"}),
    ("shortcuts.py:Squeeze", (1, 3, 9, 9), "float",
     {"Conv2d": 1, "ReLU": 1, "AvgPool2d": 1, "Reshape": 1, "LSTM": 1, "Linear": 1},
     {"conv", "lstm", "fc"}),
    ("shortcuts.py:BiCat", (1, 5, 4), "float", {"LSTM": 1, "Linear": 1}, {"lstm", "fc"}),
    ("shortcuts.py:BiGRU", (1, 5, 4), "float", {"GRU": 1, "Linear": 1}, {"gru", "fc"}),
    ("transformer.py:AttentionClassifier", (1, 9, 6), "float",
     {"Linear": 4, "SelfAttention": 1, "Add": 2, "LayerNorm": 2, "GELU": 1, "Mean": 1},
     {"block_attn", "block_ff_0", "block_norm2"}),
]


@pytest.mark.parametrize("target, shape, dtype, counts, labels", CASES,
                         ids=[c[0] for c in CASES])
def test_tutorial_network_imports_with_its_weights(tmp_path, target, shape, dtype,
                                                   counts, labels):
    file, name = target.split(":")
    original = randomize(build_module(FIXTURES / file, name), seed=3)
    weights = tmp_path / "weights.pt"
    torch.save(original.state_dict(), weights)

    # Flat (blocks=False): this test is about each operation's mapping; the module's
    # blocks are test_import_blocks' subject.
    result = import_file(f"{FIXTURES / file}:{name}", [shape], dtype, weights=weights,
                         blocks=False)
    doc = result.document

    assert graph.validate(doc) == []  # no errors, no warnings
    layers = Counter(n.type for n in doc.nodes.values()
                     if n.type not in ("Input", "Output"))
    assert layers == Counter(counts)
    assert labels <= {n.label for n in doc.nodes.values()}
    inputs = [n for n in doc.nodes.values() if n.type == "Input"]
    assert [n.params for n in inputs] == [{"shape": list(shape[1:]), "dtype": dtype}]
    # Laid out: every wire points right.
    assert all(doc.nodes[e.source].position[0] < doc.nodes[e.target].position[0]
               for e in doc.edges)

    net = graph.compile_network(doc)
    net.module.load_state_dict(result.state_dict, strict=True)
    x = inputs_for(doc, batch=5, seed=7)
    expected, got = run(original, x), run(net.module, x)
    assert max_difference(expected, got) <= 1e-6
    assert result.max_abs_diff is not None and result.max_abs_diff <= 1e-6


def test_recurrent_parameters_come_from_the_module():
    result = import_file(f"{FIXTURES / 'rnn.py'}:LSTMClassifier", [(1, 12, 1)])
    (lstm,) = [n for n in result.document.nodes.values() if n.type == "LSTM"]
    assert lstm.params["hidden_size"] == 32
    assert lstm.params["num_layers"] == 2
    assert lstm.params["output"] == "last"  # out[:, -1, :]
    gru = import_file(f"{FIXTURES / 'rnn.py'}:GRUTextClassifier", [(1, 10)], "long")
    (node,) = [n for n in gru.document.nodes.values() if n.type == "GRU"]
    assert node.params["output"] == "last"  # hidden[-1]
    (embed,) = [n for n in gru.document.nodes.values() if n.type == "Embedding"]
    assert embed.params["padding_idx"] == 0  # kept: its row stays zero and untrained
    bi = import_file(f"{FIXTURES / 'rnn.py'}:BiLSTMTagger", [(1, 7, 8)])
    (node,) = [n for n in bi.document.nodes.values() if n.type == "LSTM"]
    assert (node.params["output"], node.params["bidirectional"]) == ("sequence", True)
    # torch.cat((hidden[-2, :, :], hidden[-1, :, :]), dim=1): both directions' finals.
    both = import_file(f"{FIXTURES / 'shortcuts.py'}:BiGRU", [(1, 5, 4)])
    (node,) = [n for n in both.document.nodes.values() if n.type == "GRU"]
    assert (node.params["output"], node.params["bidirectional"]) == ("last", True)
    assert node.params["num_layers"] == 2


def test_transformer_parameters_come_from_the_module():
    result = import_file(f"{FIXTURES / 'transformer.py'}:TinyEncoder", [(1, 12)], "long")
    (layer,) = [n for n in result.document.nodes.values()
                if n.type == "TransformerEncoderLayer"]
    assert layer.params == {"nhead": 2, "dim_feedforward": 32, "dropout": 0.1,
                            "activation": "gelu", "norm_first": True, "shares": None}
    (pos,) = [n for n in result.document.nodes.values() if n.type == "PositionalEmbedding"]
    assert pos.params == {"max_len": 32, "shares": None}


def test_factory_arguments_and_multiple_outputs(tmp_path):
    source = tmp_path / "heads.py"
    source.write_text(
        "import torch\nfrom torch import nn\n\n\n"
        "class TwoHeads(nn.Module):\n"
        "    def __init__(self, width):\n"
        "        super().__init__()\n"
        "        self.a = nn.Linear(4, width)\n"
        "        self.b = nn.Linear(2, width)\n"
        "        self.cls = nn.Linear(width, 3)\n"
        "        self.reg = nn.Linear(width, 1)\n\n"
        "    def forward(self, first, second):\n"
        "        h = torch.relu(self.a(first) + self.b(second))\n"
        "        return self.cls(h), self.reg(h)\n")
    result = import_file(f"{source}:TwoHeads", [(1, 4), (1, 2)], kwargs={"width": 8},
                         tasks=["classification", "regression"])
    doc = result.document
    inputs = sorted(n.label for n in doc.nodes.values() if n.type == "Input")
    outputs = sorted(n.params["task"] for n in doc.nodes.values() if n.type == "Output")
    assert inputs == ["first", "second"]
    assert outputs == ["classification", "regression"]
    assert graph.generate_code(doc).input_names == ["first", "second"]
    assert result.max_abs_diff <= 1e-6
