"""A network exported by Strata and imported again is the same network."""

from __future__ import annotations

import pytest
from coverage_networks import COVERAGE_MORE
from transfer_helpers import (
    EXAMPLES,
    import_spec,
    inputs_for,
    max_difference,
    module_labels,
    randomize,
    run,
    structure,
)

import graph
from graph.builder import Builder
from graph.catalog import all_specs
from graph.importers import build_module, import_file, import_module
from runtime.transfer.python import write_python


def _round_trip(doc: graph.Document, folder) -> tuple[graph.Document, object]:
    path = write_python(doc, folder / "exported.py")
    shapes, dtypes, tasks = import_spec(doc)
    class_name = graph.generate_code(doc).class_name
    result = import_file(f"{path}:{class_name}", shapes, dtypes, tasks=tasks)
    return result.document, result


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_round_trips(tmp_path, path):
    doc = graph.load(path)
    back, result = _round_trip(doc, tmp_path)

    assert structure(back) == structure(doc)
    assert module_labels(back) == module_labels(doc)
    assert (back.name, back.description) == (doc.name, doc.description)
    assert graph.validate(back) == []
    # Same labels, same attribute names: the imported weights load into the original.
    graph.compile(doc).load_state_dict(result.state_dict, strict=True)
    # And the code written from the imported document is the code we started from,
    # up to the names of layers the code does not name (Add, Concat, Mean).
    if module_labels(doc) == sorted(n.label for n in doc.nodes.values()
                                    if n.type not in ("Input", "Output")):
        assert graph.generate_code(back).source == graph.generate_code(doc).source


def test_exported_module_with_trained_like_weights_imports_equal(tmp_path):
    doc = graph.load(next(p for p in EXAMPLES if p.stem == "residual_cnn"))
    path = write_python(doc, tmp_path / "residual.py")
    original = randomize(build_module(path, graph.generate_code(doc).class_name), seed=5)
    result = import_module(original, [(2, 1, 28, 28)])
    net = graph.compile_network(result.document)
    net.module.load_state_dict(result.state_dict)
    x = inputs_for(doc, batch=3)
    assert max_difference(run(original, x), run(net.module, x)) <= 1e-6


def _image_network() -> graph.Document:
    """Every image layer, wired with branches, a product and a sum."""
    b = Builder("Image Coverage", "Conv, pooling, normalisation and merges.")
    x = b.add("Input", shape=[1, 12, 12])
    trunk = b.chain(x, ("Conv2d", {"out_channels": 8, "kernel_size": [3, 3],
                                   "stride": [1, 1], "padding": [1, 1]}, "conv"),
                    ("BatchNorm2d", {"momentum": 0.2, "eps": 1e-3}, "bn"),
                    ("LeakyReLU", {"negative_slope": 0.2}, "leaky"),
                    ("MaxPool2d", {"kernel_size": [2, 2]}, "pool"))
    up = b.chain(trunk, ("ConvTranspose2d", {"out_channels": 8}, "up"),
                 ("ELU", {"alpha": 0.5}, "elu"),
                 ("AvgPool2d", {"kernel_size": [3, 3], "stride": [2, 2],
                                "padding": [1, 1]}, "avg"))
    gate = b.chain(trunk, ("Conv2d", {"out_channels": 8, "kernel_size": [1, 1],
                                      "padding": [0, 0], "bias": False}, "gate_conv"),
                   ("Sigmoid", {}, "gate"))
    mul = b.add("Multiply", "gated")
    b.wire(up, mul)
    b.wire(gate, mul)
    add = b.add("Add", "merge", inputs=3)
    for source in (mul, trunk, up):
        b.wire(source, add)
    head = b.chain(add, ("AdaptiveAvgPool2d", {"output_size": [2, 2]}, "gap"),
                   ("Flatten", {}, "flat"), ("Linear", {"out_features": 32}, "fc"),
                   ("SiLU", {}, "silu"), ("Dropout", {"p": 0.3}, "drop"),
                   ("Reshape", {"shape": [2, 16]}, "to_sequence"),
                   ("Conv1d", {"out_channels": 4, "kernel_size": [3], "padding": [1],
                               "dilation": [1]}, "conv1d"),
                   ("MaxPool1d", {"kernel_size": [2]}, "pool1d"),
                   ("BatchNorm1d", {}, "bn1d"), ("Flatten", {}, "flat2"),
                   ("Linear", {"out_features": 3}, "classifier"))
    b.chain(head, ("LogSoftmax", {"dim": 1}, "log_probs"), ("Output", {"task": "regression"}))
    b.chain(head, ("Softmax", {"dim": -1}, "probs"), ("Output", {"task": "regression"}))
    return b.done()


def _sequence_network() -> graph.Document:
    """Every sequence layer; two inputs, Concat, Mean, two outputs."""
    b = Builder("Sequence Coverage")
    tokens = b.add("Input", "tokens", shape=[10], dtype="long")
    extra = b.add("Input", "extra", shape=[5])
    h = b.chain(tokens, ("Embedding", {"num_embeddings": 20, "embedding_dim": 16}, "embed"),
                ("PositionalEmbedding", {"max_len": 16}, "positions"),
                ("LayerNorm", {"eps": 1e-6}, "norm"),
                ("SelfAttention", {"num_heads": 4, "dropout": 0.1}, "attention"),
                ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 24,
                                             "activation": "gelu", "norm_first": True},
                 "encoder"),
                ("GRU", {"hidden_size": 12, "output": "sequence"}, "gru"))
    last = b.chain(h, ("LSTM", {"hidden_size": 6, "num_layers": 2, "bidirectional": True,
                                "dropout": 0.1, "output": "last"}, "lstm"))
    mean = b.chain(h, ("Mean", {"dim": 1}, "average"))
    side = b.chain(extra, ("Linear", {"out_features": 12, "bias": False}, "side"),
                   ("GELU", {}, "gelu"))
    cat = b.add("Concat", "join", inputs=3, dim=-1)
    for source in (last, mean, side):
        b.wire(source, cat)
    b.chain(cat, ("Linear", {"out_features": 2}, "classifier"), ("Tanh", {}, "tanh"),
            ("Output", {"task": "classification"}))
    b.chain(mean, ("Linear", {"out_features": 1}, "score"), ("ReLU", {}, "relu"),
            ("Output", {"task": "binary"}))
    return b.done()


COVERAGE = [_image_network, _sequence_network, *COVERAGE_MORE]


@pytest.mark.parametrize("make", COVERAGE, ids=lambda f: f.__name__)
def test_every_layer_type_round_trips(tmp_path, make):
    doc = make()
    assert graph.validate(doc) == []
    back, result = _round_trip(doc, tmp_path)
    assert structure(back) == structure(doc)
    assert module_labels(back) == module_labels(doc)
    original = randomize(graph.compile(doc), seed=11)
    graph.compile(doc).load_state_dict(result.state_dict)  # keys line up
    mapped = import_module(original, *import_spec(doc)[:2],
                           tasks=import_spec(doc)[2])
    net = graph.compile_network(mapped.document)
    net.module.load_state_dict(mapped.state_dict)
    x = inputs_for(doc, batch=4)
    assert max_difference(run(original, x), run(net.module, x)) <= 1e-6


def test_coverage_networks_use_every_catalog_layer():
    used = {n.type for make in COVERAGE for n in make().nodes.values()}
    # A layer type added to the catalog needs an import rule and a place here.
    # (Block ports exist only inside blocks: test_import_blocks covers them.)
    assert used == {spec.type for spec in all_specs()} - {"BlockInput", "BlockOutput"}


def test_reshape_after_convolution_round_trips(tmp_path):
    b = Builder("Reshape Net")
    x = b.add("Input", shape=[1, 8, 8])
    b.chain(x, ("Conv2d", {"out_channels": 4}, "conv"),
            ("Reshape", {"shape": [4, 64]}, "rows"),
            ("Conv1d", {"out_channels": 2, "kernel_size": [1], "padding": [0]}, "mix"),
            ("Flatten", {}, "flat"), ("Reshape", {"shape": [8, 16]}, "again"),
            ("Mean", {"dim": -1}, "mean"), ("Linear", {"out_features": 2}, "out"),
            "Output")
    doc = b.done()
    back, _ = _round_trip(doc, tmp_path)
    assert structure(back) == structure(doc)
