"""Regenerate the example networks: ``python resources/examples/make_examples.py``.

Each example is written with ``graph.builder`` so it reads like the network it is; the
``.strata`` files beside this script are its output and are what the studio opens.
"""

from __future__ import annotations

from pathlib import Path

from graph import Definition, Document, ExposedParam, save
from graph.builder import Builder

HERE = Path(__file__).parent


# Long chains wrap into rows that fit a studio canvas at 1280x720 at a readable zoom.
VIEW = (650.0, 550.0)


def wrap(b):
    b.view = VIEW
    return b

def spiral_mlp():
    b = Builder("Spiral MLP", "A small multilayer perceptron that learns to separate "
                "two interleaved spirals of 2-D points.")
    x = b.add("Input", shape=[2])
    b.chain(x, ("Linear", {"out_features": 64}, "fc1"), "ReLU",
            ("Linear", {"out_features": 64}, "fc2"), "ReLU",
            ("Linear", {"out_features": 2}, "classifier"), "Output")
    return wrap(b).done({"dataset": {"name": "spirals"}, "epochs": 60, "batch_size": 64,
                   "optimizer": "adam", "lr": 0.01})


def shapes_cnn():
    b = Builder("Shapes CNN", "A LeNet-style convolutional network for 28x28 grayscale "
                "images of circles, squares, triangles and crosses.")
    x = b.add("Input", shape=[1, 28, 28])
    b.chain(x, ("Conv2d", {"out_channels": 8, "kernel_size": [3, 3]}, "conv1"), "ReLU",
            ("MaxPool2d", {}, "pool1"),
            ("Conv2d", {"out_channels": 16, "kernel_size": [3, 3]}, "conv2"), "ReLU",
            ("MaxPool2d", {}, "pool2"), "Flatten",
            ("Linear", {"out_features": 64}, "fc1"), "ReLU",
            ("Linear", {"out_features": 4}, "classifier"), "Output")
    return wrap(b).done({"dataset": {"name": "shapes"}, "epochs": 10, "batch_size": 64,
                   "optimizer": "adam", "lr": 0.003})


def residual_cnn():
    b = Builder("Residual CNN", "Two residual blocks: each block's input is added to its "
                "output, giving gradients a short path back to the first layers.")
    x = b.add("Input", shape=[1, 28, 28])
    stem = b.chain(x, ("Conv2d", {"out_channels": 16, "kernel_size": [3, 3]}, "stem"),
                   ("BatchNorm2d", {}, "stem_bn"), ("ReLU", {}, "stem_relu"))
    h = stem
    for i in (1, 2):
        body = b.chain(h, ("Conv2d", {"out_channels": 16, "kernel_size": [3, 3]},
                           f"block{i}_conv1"), ("BatchNorm2d", {}, f"block{i}_bn1"),
                       ("ReLU", {}, f"block{i}_relu"),
                       ("Conv2d", {"out_channels": 16, "kernel_size": [3, 3]},
                        f"block{i}_conv2"), ("BatchNorm2d", {}, f"block{i}_bn2"))
        add = b.add("Add", f"skip{i}")
        b.wire(body, add)
        b.wire(h, add)
        h = b.chain(add, ("ReLU", {}, f"block{i}_out"))
        if i == 1:
            h = b.chain(h, ("MaxPool2d", {}, "pool"))
    b.chain(h, ("AdaptiveAvgPool2d", {}, "gap"), "Flatten",
            ("Linear", {"out_features": 4}, "classifier"), "Output")
    return wrap(b).done({"dataset": {"name": "shapes"}, "epochs": 8, "batch_size": 64,
                   "optimizer": "adam", "lr": 0.003})


def lstm_classifier():
    b = Builder("LSTM Sequence Classifier", "Reads a sequence of numbers step by step "
                "and decides whether it holds an odd number of ones (parity).")
    x = b.add("Input", shape=[12, 1])
    b.chain(x, ("LSTM", {"hidden_size": 32, "output": "last"}, "lstm"),
            ("Linear", {"out_features": 2}, "classifier"), "Output")
    return wrap(b).done({"dataset": {"name": "parity", "length": 12}, "epochs": 30,
                   "batch_size": 64, "optimizer": "adam", "lr": 0.01})


def transformer_classifier():
    b = Builder("Transformer Classifier", "Token ids are embedded, given positions, "
                "mixed by a transformer encoder layer, averaged and classified.")
    x = b.add("Input", "tokens", shape=[16], dtype="long")
    b.chain(x, ("Embedding", {"num_embeddings": 16, "embedding_dim": 32}, "embed"),
            ("PositionalEmbedding", {"max_len": 64}, "positions"),
            ("TransformerEncoderLayer", {"nhead": 4, "dim_feedforward": 64,
                                         "dropout": 0.0}, "encoder"),
            ("Mean", {"dim": 1}, "pool"),
            ("Linear", {"out_features": 2}, "classifier"), "Output")
    return wrap(b).done({"dataset": {"name": "tokens_majority", "length": 16, "vocab": 16},
                   "epochs": 20, "batch_size": 64, "optimizer": "adam", "lr": 0.003})


def two_input_concat():
    b = Builder("Two Inputs with Concat", "Two inputs, each with its own branch, joined "
                "by Concat and classified together.")
    a = b.add("Input", "features_a", shape=[2])
    c = b.add("Input", "features_b", shape=[4])
    ha = b.chain(a, ("Linear", {"out_features": 16}, "branch_a"), ("ReLU", {}, "relu_a"))
    hb = b.chain(c, ("Linear", {"out_features": 16}, "branch_b"), ("ReLU", {}, "relu_b"))
    cat = b.add("Concat", "join")
    b.wire(ha, cat)
    b.wire(hb, cat)
    b.chain(cat, ("Linear", {"out_features": 32}, "fc"), "ReLU",
            ("Linear", {"out_features": 3}, "classifier"), "Output")
    return wrap(b).done({"dataset": {"name": "two_inputs"}, "epochs": 30, "batch_size": 64,
                   "optimizer": "adam", "lr": 0.01})


def _basic_block(doc: Document, name: str, downsample: bool) -> None:
    """A residual block: conv-BN-ReLU-conv-BN plus the input (through a strided 1x1
    convolution when the block downsamples), then ReLU. Exposes ``planes``."""
    body = Document(name, library=doc.blocks, block=name)
    b = Builder()
    b.doc = body
    x = b.add("BlockInput", "in")
    stride = [2, 2] if downsample else [1, 1]
    h = b.chain(x, ("Conv2d", {"out_channels": 16, "stride": stride, "bias": False},
                    "conv1"), ("BatchNorm2d", {}, "bn1"), ("ReLU", {}, "relu"),
                ("Conv2d", {"out_channels": 16, "bias": False}, "conv2"),
                ("BatchNorm2d", {}, "bn2"))
    short = x
    if downsample:
        short = b.chain(x, ("Conv2d", {"out_channels": 16, "kernel_size": [1, 1],
                                       "stride": stride, "padding": [0, 0],
                                       "bias": False}, "shortcut"),
                        ("BatchNorm2d", {}, "shortcut_bn"))
    add = b.add("Add", "add")
    b.wire(h, add)
    b.wire(short, add)
    b.chain(add, ("ReLU", {}, "relu_out"), ("BlockOutput", {}, "out"))
    b.done()
    convs = [n.id for n in body.nodes.values() if n.type == "Conv2d"]
    doc.add_definition(Definition(name, body, [
        ExposedParam("planes", 16, [(c, "out_channels") for c in convs],
                     "Channels of the block's convolutions.")]))


def blocks_resnet():
    doc = Document("Blocks ResNet", "A small ResNet built from blocks: a stem, a stage "
                   "of two repeated BasicBlocks, a downsampling block, then pooling and "
                   "a classifier. Double-click a block to edit its inside: every "
                   "instance changes with it.")
    _basic_block(doc, "BasicBlock", downsample=False)
    _basic_block(doc, "DownBlock", downsample=True)
    b = Builder()
    b.doc = doc
    b.view = VIEW  # wrapped into rows, so it opens at a readable zoom
    x = b.add("Input", shape=[1, 28, 28])
    b.chain(x, ("Conv2d", {"out_channels": 16, "stride": [2, 2], "bias": False}, "stem"),
            ("BatchNorm2d", {}, "stem_bn"), ("ReLU", {}, "stem_relu"),
            ("Block", {"block": "BasicBlock", "planes": 16, "repeat": 2}, "layer1"),
            ("Block", {"block": "DownBlock", "planes": 32}, "layer2"),
            ("AdaptiveAvgPool2d", {}, "gap"), "Flatten",
            ("Linear", {"out_features": 4}, "classifier"), "Output")
    return b.done({"dataset": {"name": "shapes"}, "epochs": 4, "batch_size": 64,
                   "optimizer": "adam", "lr": 0.003})


EXAMPLES = {
    "spiral_mlp": spiral_mlp,
    "shapes_cnn": shapes_cnn,
    "residual_cnn": residual_cnn,
    "lstm_classifier": lstm_classifier,
    "transformer_classifier": transformer_classifier,
    "two_input_concat": two_input_concat,
    "blocks_resnet": blocks_resnet,
}

if __name__ == "__main__":
    for name, make in EXAMPLES.items():
        print("wrote", save(make(), HERE / f"{name}.strata"))
