"""The dataset-against-network check that runs before any training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from strata_paths import EXAMPLES as EXAMPLES_DIR

import graph
from graph.builder import Builder
from runtime.compatibility import DatasetMismatch, check_dataset, prepare_dataset
from runtime.datasets import DatasetError, load_dataset
from runtime.setup import SetupError, TrainingSetup

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.strata"))


def small(name: str, **options):
    defaults = {"size": 60} if name != "digits" else {}
    return load_dataset({"name": name, **defaults, **options})


def mlp(input_shape=(2,), out=2, task="classification", dtype="float"):
    b = Builder()
    x = b.add("Input", shape=list(input_shape), dtype=dtype)
    steps = ["Flatten"] if len(input_shape) > 1 else []
    b.chain(x, *steps, ("Linear", {"out_features": 8}, "hidden"), "ReLU",
            ("Linear", {"out_features": out}, "head"), ("Output", {"task": task}))
    return b.done()


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_every_example_fits_its_own_dataset(path):
    doc = graph.load(path)
    analysis = graph.analyze(doc)
    bundle = prepare_dataset(analysis)
    assert check_dataset(analysis, bundle) == []
    assert check_dataset(doc, bundle) == []  # a document works as well as an analysis
    # One batch through the compiled network and its loss: the check's promise.
    setup = TrainingSetup.from_document(doc)
    model = graph.compile(doc)
    *xs, y = (t[:4] for t in bundle.tensors("train"))
    out = model(*xs)
    loss = setup.make_loss(bundle.task)(out, y)
    assert torch.isfinite(loss)


def test_inputs_are_matched_in_forward_argument_order():
    doc = graph.load(next(p for p in EXAMPLES if p.stem == "two_input_concat"))
    code = graph.generate_code(doc)
    labels = [doc.nodes[i].label for i in code.inputs]
    assert labels == ["features_a", "features_b"]
    bundle = small("two_inputs")
    assert check_dataset(doc, bundle) == []
    # Swap the Input shapes: both now disagree with the dataset, each named.
    doc.set_param(code.inputs[0], "shape", [4])
    doc.set_param(code.inputs[1], "shape", [2])
    reasons = check_dataset(doc, bundle)
    assert reasons[0].startswith(
        "The dataset 'Two inputs, three classes' (input 1 of 2) gives examples shaped (2,) "
        "but Input 'features_a' expects (4,)")
    assert reasons[1].startswith(
        "The dataset 'Two inputs, three classes' (input 2 of 2) gives examples shaped (4,) "
        "but Input 'features_b' expects (2,)")


def test_image_dataset_on_a_point_network():
    reasons = check_dataset(mlp(), small("shapes"))
    assert reasons[0] == (
        "The dataset 'Shapes (28x28 images)' gives images shaped (1, 28, 28) but Input "
        "'input' expects (2,); set the Input's shape to [1, 28, 28] or choose a dataset "
        "that fits")
    assert reasons[1] == (
        "The dataset 'Shapes (28x28 images)' has 4 classes but Output 'output' receives 2 "
        "class scores (from Linear 'head'); give the last Linear out_features=4")
    assert len(reasons) == 2


def test_class_count_must_match_the_output_width():
    assert check_dataset(mlp(out=3), small("blobs")) == []
    assert check_dataset(mlp(out=5), small("blobs")) == [
        ("The dataset 'Gaussian blobs' has 3 classes but Output 'output' receives 5 class "
        "scores (from Linear 'head'); give the last Linear out_features=3")]


def test_binary_output_accepts_two_classes_but_not_three():
    doc = mlp(out=1, task="binary")
    moons = small("moons")
    assert check_dataset(doc, moons) == []  # converted to one 0/1 target
    doc.training.update({"dataset": {"name": "moons", "size": 60}})
    bundle = prepare_dataset(doc)
    assert bundle.task == "binary" and bundle.tensors("train")[-1].shape[1:] == (1,)
    assert check_dataset(doc, small("blobs")) == [
        ("The dataset 'Gaussian blobs' has 3 classes but Output 'output' is binary (one "
        "logit for two classes); set the Output's task to classification and end in a "
        "Linear with out_features=3")]


def test_task_mismatches_say_what_to_change():
    regression_net = mlp(input_shape=(1,), out=1, task="regression")
    assert check_dataset(regression_net, small("sine")) == []
    assert check_dataset(mlp(input_shape=(1,), out=2), small("sine")) == [
        ("The dataset 'Noisy sine (regression)' gives numbers to predict (regression) but "
        "Output 'output' classifies (one score per class); set the Output's task to "
        "regression and end in a Linear with out_features=1")]
    assert check_dataset(mlp(out=1, task="regression"), small("spirals")) == [
        ("The dataset 'Two spirals' has 2 classes but Output 'output' does regression; set "
        "the Output's task to classification and end in a Linear with out_features=2")]


def test_regression_width_must_match_the_target_size():
    b = Builder()
    x = b.add("Input", shape=[20, 1])
    b.chain(x, ("LSTM", {"hidden_size": 8, "output": "last"}, "lstm"),
            ("Linear", {"out_features": 1}, "head"), ("Output", {"task": "regression"}))
    doc = b.done()
    forecast = small("sine_forecast", horizon=3)
    assert check_dataset(doc, forecast) == [
        ("The dataset 'Sine forecast' gives targets shaped (3,) but Output 'output' "
        "receives predictions shaped (1,) (from Linear 'head'); they must match (e.g. "
        "end in a Linear with out_features=3)")]
    assert check_dataset(doc, small("sine_forecast", horizon=1)) == []


def test_token_ids_need_a_long_input_and_a_large_enough_vocabulary():
    b = Builder()
    x = b.add("Input", "tokens", shape=[16], dtype="long")
    b.chain(x, ("Embedding", {"num_embeddings": 10, "embedding_dim": 8}, "embed"),
            ("Mean", {"dim": 1}, "pool"), ("Linear", {"out_features": 2}, "head"),
            "Output")
    doc = b.done()
    tokens = small("tokens_majority", vocab=16)
    assert check_dataset(doc, tokens) == [
        ("The dataset 'Token majority' holds token ids up to 15 but Embedding 'embed' has "
        "only 10 embeddings (ids 0 to 9); set num_embeddings to at least 16")]
    assert check_dataset(doc, small("tokens_majority", vocab=10)) == []
    assert check_dataset(mlp(input_shape=(16,)), tokens) == [
        ("The dataset 'Token majority' gives integer token ids but Input 'input' expects "
        "float values; set the Input's dtype to long and feed it to an Embedding")]
    float_seq = small("parity", length=16)
    reasons = check_dataset(doc, float_seq)
    assert reasons[0] == ("The dataset 'Sequence parity' gives sequences shaped (16, 1) "
                          "but Input 'tokens' expects (16,); set the Input's shape to "
                          "[16, 1] or choose a dataset that fits")
    assert reasons[1] == ("The dataset 'Sequence parity' gives float values but Input "
                          "'tokens' expects integer token ids (dtype long); set the "
                          "Input's dtype to float")


def test_input_count_and_output_count():
    two = graph.load(next(p for p in EXAMPLES if p.stem == "two_input_concat"))
    assert check_dataset(two, small("spirals", classes=3))[0] == (
        "The dataset 'Two spirals' gives 1 input per example, shaped (2,), but the "
        "network has 2 Inputs: Input 'features_a' (2,), Input 'features_b' (4,)")
    b = Builder()
    x = b.add("Input", shape=[2])
    h = b.chain(x, ("Linear", {"out_features": 2}, "a"))
    b.chain(h, ("Output", {}, "first"))
    b.chain(h, ("Output", {}, "second"))
    assert check_dataset(b.done(), small("moons")) == [
        ("The dataset 'Moons' gives one target per example but the network has 2 Outputs; "
        "training needs exactly one")]


def test_prepare_dataset_raises_every_reason_at_once(tmp_path):
    doc = mlp(out=3)
    doc.training.update({"dataset": {"name": "shapes", "size": 40}})
    with pytest.raises(DatasetMismatch) as e:
        prepare_dataset(doc)
    assert len(e.value.reasons) == 2 and isinstance(e.value, DatasetError)
    assert str(e.value).splitlines() == e.value.reasons

    doc.training.update({"dataset": {"name": "spirals"}, "loss": "mse"})
    with pytest.raises(SetupError, match="`mse` cannot train an Output whose task is "
                       "classification"):
        prepare_dataset(doc)

    # A data file named relative to the network's folder.
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "points.npz", X=rng.normal(size=(30, 2)), y=np.arange(30) % 3)
    doc.training.update({"dataset": {"name": "npz", "path": "points.npz"}, "loss": "auto"})
    bundle = prepare_dataset(doc, base_dir=tmp_path)
    assert bundle.num_classes == 3
    with pytest.raises(DatasetError, match="the file 'points.npz' was not found"):
        prepare_dataset(doc, base_dir=tmp_path / "elsewhere")
