"""Regenerate the story examples: ``python resources/examples/make_story_examples.py``.

Each network tells one story of deep learning when trained for a minute or two on a CPU,
and carries its dataset preset in its training setup (the flat form
``runtime.setup.TrainingSetup.to_dict`` writes):

- ``deep_sigmoid_mlp``: ten Linear + Sigmoid layers. The gradient shrinks at every
  Sigmoid on its way back, the first layers barely learn (a dark band at the bottom of
  the gradient heatmap) and the runtime diagnoses vanishing gradients.
- ``deep_relu_mlp``, ``deep_batchnorm_mlp``, ``deep_residual_mlp``: the same depth with
  the three classic cures (ReLU, BatchNorm before each Sigmoid, residual connections
  around each Sigmoid layer); the gradient reaches the first layers and they learn.
- ``edges_cnn``: a CNN on the shapes images whose first-layer feature maps turn into
  edge detectors.
- ``overfitting_mlp`` / ``dropout_mlp``: a wide network on a small, noisy training set
  memorises it (validation loss rises, the runtime diagnoses overfitting); the same
  network with Dropout does not.
- ``lr_too_high``: a spiral MLP trained by SGD with a learning rate far too large; the
  loss climbs instead of falling and the runtime says to lower the learning rate.

``--measure`` trains each one in-process and prints its time, final accuracy and
diagnoses, so the "under two minutes" promise is checked, not assumed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from graph import save
from graph.builder import Builder

HERE = Path(__file__).parent
DEPTH = 10  # Linear layers in the deep MLPs, the classifier included
WIDTH = 32


# Long chains wrap into rows that fit a studio canvas at 1280x720 at a readable zoom.
VIEW = (650.0, 550.0)


def wrap(b):
    b.view = VIEW
    return b

def _setup(dataset: dict, epochs: int, lr: float, batch_size: int = 64,
           optimizer: str = "adam", **extra) -> dict:
    """The flat training dict ``TrainingSetup.to_dict`` writes, defaults filled in."""
    from runtime.setup import TrainingSetup

    return TrainingSetup.from_dict({"dataset": dataset, "epochs": epochs, "lr": lr,
                                    "batch_size": batch_size, "optimizer": optimizer,
                                    **extra}).to_dict()


DEEP_DATA = {"name": "moons", "size": 1000, "noise": 0.1}


def _hidden(i: int) -> tuple:
    """The i-th Linear of a deep sigmoid MLP. Hidden layers have no bias: PyTorch's
    default random biases would swamp a signal that shrinks layer after layer."""
    return ("Linear", {"out_features": WIDTH, "bias": i == 1}, f"fc{i}")


def _kaiming_hidden(i: int) -> tuple:
    """The i-th Linear of the deep ReLU MLP, with proper (He) initialisation: Kaiming
    normal weights for the ReLU that follows and zero biases, so the signal keeps its
    size through ten layers and the gradient reaches the first ones."""
    return ("Linear", {"out_features": WIDTH, "init": "kaiming_normal",
                       "nonlinearity": "relu", "bias_init": "zeros"}, f"fc{i}")


def _deep(name: str, description: str, hidden) -> object:
    """Input (2) -> DEPTH - 1 hidden blocks made by ``hidden(b, h, i)`` -> classifier."""
    b = Builder(name, description)
    h = b.add("Input", shape=[2])
    for i in range(1, DEPTH):
        h = hidden(b, h, i)
    b.chain(h, ("Linear", {"out_features": 2}, "classifier"), "Output")
    return b


def deep_sigmoid_mlp():
    def block(b, h, i):
        return b.chain(h, _hidden(i), ("Sigmoid", {}, f"sigmoid{i}"))

    b = _deep("Deep sigmoid MLP", "Ten Linear + Sigmoid layers: the gradient shrinks at "
              "every Sigmoid on its way back, so the first layers barely learn "
              "(vanishing gradients). Compare with the ReLU, BatchNorm and residual "
              "versions of the same depth.", block)
    return wrap(b).done(_setup(DEEP_DATA, 30, 0.003))


def deep_relu_mlp():
    def block(b, h, i):
        return b.chain(h, _kaiming_hidden(i), ("ReLU", {}, f"relu{i}"))

    b = _deep("Deep ReLU MLP", "The deep sigmoid MLP with ReLU and proper "
              "initialisation instead: ReLU's slope is 1 where it is active, and Kaiming "
              "(He) initialisation with zero biases keeps the signal's size layer after "
              "layer, so the gradient reaches the first layers.", block)
    return wrap(b).done(_setup(DEEP_DATA, 30, 0.003))


def deep_batchnorm_mlp():
    def block(b, h, i):
        return b.chain(h, _hidden(i), ("BatchNorm1d", {}, f"bn{i}"),
                       ("Sigmoid", {}, f"sigmoid{i}"))

    b = _deep("Deep sigmoid MLP with BatchNorm", "The deep sigmoid MLP with BatchNorm "
              "before each Sigmoid: inputs stay where the Sigmoid is steep, and the "
              "gradient keeps its size layer after layer.", block)
    # BatchNorm learns fast; longer runs only add noise to the validation loss.
    return wrap(b).done(_setup(DEEP_DATA, 12, 0.003))


def deep_residual_mlp():
    def block(b, h, i):
        if i == 1:  # lift the 2-D input to the width the skips add up
            return b.chain(h, _hidden(1), ("Sigmoid", {}, "sigmoid1"))
        body = b.chain(h, _hidden(i), ("Sigmoid", {}, f"sigmoid{i}"))
        add = b.add("Add", f"skip{i}")
        b.wire(body, add)
        b.wire(h, add)
        return add

    b = _deep("Deep residual sigmoid MLP", "The deep sigmoid MLP with a residual "
              "connection around each layer: the gradient takes the short path through "
              "the Adds back to the first layers.", block)
    return wrap(b).done(_setup(DEEP_DATA, 30, 0.003))


def edges_cnn():
    b = Builder("Edge-detecting CNN", "A small CNN on the shapes images. Watch the "
                "Feature maps tab: the first layer's filters turn into edge and "
                "corner detectors within the first epochs.")
    x = b.add("Input", shape=[1, 28, 28])
    b.chain(x, ("Conv2d", {"out_channels": 8, "kernel_size": [5, 5], "padding": [2, 2]},
                "conv1"), ("ReLU", {}, "relu1"), ("MaxPool2d", {}, "pool1"),
            ("Conv2d", {"out_channels": 16, "kernel_size": [3, 3]}, "conv2"),
            ("ReLU", {}, "relu2"), ("MaxPool2d", {}, "pool2"), "Flatten",
            ("Linear", {"out_features": 32}, "fc1"), ("ReLU", {}, "relu3"),
            ("Linear", {"out_features": 4}, "classifier"), "Output")
    return wrap(b).done(_setup({"name": "shapes", "size": 2000, "noise": 0.1}, 6, 0.003))


OVERFIT_DATA = {"name": "xor", "size": 200, "noise": 0.25}


def _wide(name: str, description: str, dropout: float):
    b = Builder(name, description)
    h = b.add("Input", shape=[2])
    for i in (1, 2):
        h = b.chain(h, ("Linear", {"out_features": 256}, f"fc{i}"), ("ReLU", {}, f"relu{i}"))
        if dropout:
            h = b.chain(h, ("Dropout", {"p": dropout}, f"dropout{i}"))
    b.chain(h, ("Linear", {"out_features": 2}, "classifier"), "Output")
    return b


def overfitting_mlp():
    b = _wide("Overfitting MLP", "A wide network on 140 noisy XOR points: it memorises "
              "the training set, so the validation loss turns back up while the training "
              "loss keeps falling. Compare with the Dropout version.", 0.0)
    return wrap(b).done(_setup(OVERFIT_DATA, 120, 0.003, batch_size=16))


def dropout_mlp():
    b = _wide("Wide MLP with Dropout", "The overfitting MLP with Dropout after each "
              "layer: it cannot lean on any single unit, so it learns the four quadrants "
              "rather than the noise, and the validation loss stays down.", 0.5)
    return wrap(b).done(_setup(OVERFIT_DATA, 120, 0.003, batch_size=16))


def lr_too_high():
    b = Builder("Learning rate too high", "A spiral MLP trained with SGD at a learning "
                "rate of 2: every step overshoots, the loss jumps far above where it "
                "started and the Tanh units saturate. Set the learning rate to 0.05 and "
                "train again.")
    x = b.add("Input", shape=[2])
    b.chain(x, ("Linear", {"out_features": 64}, "fc1"), ("Tanh", {}, "tanh1"),
            ("Linear", {"out_features": 64}, "fc2"), ("Tanh", {}, "tanh2"),
            ("Linear", {"out_features": 2}, "classifier"), "Output")
    return wrap(b).done(_setup({"name": "spirals"}, 12, 2.0, optimizer="sgd", momentum=0.9))


STORIES = {
    "deep_sigmoid_mlp": deep_sigmoid_mlp,
    "deep_relu_mlp": deep_relu_mlp,
    "deep_batchnorm_mlp": deep_batchnorm_mlp,
    "deep_residual_mlp": deep_residual_mlp,
    "edges_cnn": edges_cnn,
    "overfitting_mlp": overfitting_mlp,
    "dropout_mlp": dropout_mlp,
    "lr_too_high": lr_too_high,
}


def measure(names) -> None:
    """Train each example in-process; print wall and CPU seconds (the machine may be
    shared: CPU time is the fairer figure), accuracy and diagnoses."""
    import time

    from runtime.engine import Trainer
    from runtime.events import DiagnosisEvent

    for name in names:
        doc = STORIES[name]()
        found: list[str] = []

        def emit(event, found=found):
            if isinstance(event, DiagnosisEvent):
                found.append(f"{event.kind}@{event.epoch}:{','.join(event.node_ids)}")

        started, cpu = time.perf_counter(), time.process_time()
        final = Trainer(doc, emit=emit).run()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        s = getattr(final, "summary", {})
        print(f"{name}: {seconds:.1f} s wall, {cpu:.1f} s CPU (all threads), "
              f"val acc {s.get('val_metric')}, val loss {s.get('val_loss')}, "
              f"diagnoses {found or 'none'}"
              + ("" if s else f" FAILED {getattr(final, 'reason', '')}"), flush=True)


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--measure":
        measure(args[1:] or list(STORIES))
    else:
        for name, make in STORIES.items():
            print("wrote", save(make(), HERE / f"{name}.strata"))
