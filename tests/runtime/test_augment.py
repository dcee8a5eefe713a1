"""Training-split augmentation (runtime.augment): Kornia ops, determinism, mixing, refusals."""

from __future__ import annotations

import pytest
import torch

from graph.builder import Builder
from runtime.augment import AugmentError, build_pipeline, check_pipeline
from runtime.events import FinishedEvent
from runtime.setup import SetupError, TrainingSetup
from tests.runtime.training_helpers import EVERY_STEP, mlp, train

PIPELINE = [{"op": "resized_crop", "min_scale": 0.5}, {"op": "flip"},
            {"op": "rotation", "degrees": 20.0}, {"op": "color_jitter"},
            {"op": "image_noise"}, {"op": "erasing"}]


def augmented(seed: int, steps=PIPELINE, shape=(3, 16, 16)):
    images = torch.linspace(0, 1, 8 * 3 * 16 * 16).reshape(8, 3, 16, 16)[:, :shape[0]]
    torch.manual_seed(seed)
    augmenter = build_pipeline(steps, shape, "classification", 4)
    (x,), y = augmenter((images,), torch.arange(8) % 4)
    return images, x, y


def test_same_seed_same_augmented_batch_other_seed_other_batch():
    images, a, _ = augmented(0)
    _, b, _ = augmented(0)
    _, c, _ = augmented(1)
    assert a.shape == images.shape
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert not torch.equal(a, images)


def test_grayscale_images_jitter_brightness_and_contrast_only():
    images, x, _ = augmented(0, [{"op": "color_jitter", "p": 1.0}], (1, 16, 16))
    assert x.shape == (8, 1, 16, 16) and not torch.equal(x, images)


@pytest.mark.parametrize("op", ["mixup", "cutmix"])
def test_mixing_gives_class_probabilities(op):
    _, _x, y = augmented(0, [{"op": op}])
    assert y.shape == (8, 4)
    assert torch.allclose(y.sum(1), torch.ones(8))
    assert (y.max(1).values < 1).any()  # something was mixed


def test_table_noise_and_masking():
    x = torch.ones(64, 10)
    torch.manual_seed(0)
    aug = build_pipeline([{"op": "noise", "std": 0.1}, {"op": "masking", "fraction": 0.5}],
                         (10,), "regression", None)
    (out,), _y = aug((x,), torch.zeros(64, 1))
    assert 0.3 < float((out == 0).float().mean()) < 0.7
    assert float((out[out != 0] - 1).abs().mean()) > 0.01


def test_bad_pipelines_are_refused_by_step_and_value():
    with pytest.raises(AugmentError, match="step 1: unknown op 'spin'"):
        check_pipeline([{"op": "spin"}])
    with pytest.raises(AugmentError, match=r"step 2 \(Rotation\) has no parameter `angle`"):
        check_pipeline(["flip", {"op": "rotation", "angle": 3}])
    with pytest.raises(AugmentError, match="works on images"):
        build_pipeline(["flip"], (10,), "classification", 2)
    with pytest.raises(AugmentError, match="mixes classes or labels"):
        build_pipeline(["mixup"], (1, 8, 8), "regression", None)
    with pytest.raises(SetupError, match="augment"):
        TrainingSetup.from_dict({"dataset": "spirals", "augment": [{"op": "flip", "p": 2}]})


def test_defaults_are_filled_in_and_saved_with_the_setup():
    setup = TrainingSetup.from_dict({"dataset": "spirals", "augment": ["flip"]})
    assert setup.to_dict()["augment"] == [{"op": "flip", "p": 0.5}]


def test_an_image_network_trains_with_augmentation_and_mixup():
    b = Builder("Tiny CNN")
    x = b.add("Input", shape=[1, 16, 16])
    b.chain(x, ("Conv2d", {"out_channels": 4, "kernel_size": [3, 3]}), "ReLU",
            "Flatten", ("Linear", {"out_features": 4}), ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "shapes", "size": 80, "image_size": 16},
                  "epochs": 1, "batch_size": 16,
                  "augment": [{"op": "flip"}, {"op": "rotation"}, {"op": "mixup"}]})
    final, _ = train(doc, options=EVERY_STEP)
    assert isinstance(final, FinishedEvent), final


def test_a_table_network_trains_with_noise():
    final, _ = train(mlp(8, 1, training={"dataset": {"name": "spirals", "size": 100},
                                         "epochs": 1, "augment": ["noise", "masking"]}),
                     options=EVERY_STEP)
    assert isinstance(final, FinishedEvent), final


@pytest.mark.parametrize("op", ["mixup", "cutmix"])
def test_mixing_multi_hot_targets_weighs_the_pairs_rows_as_the_inputs(op):
    """Example i is an image of constant value i with label i alone (a multi-hot row);
    after mixing, each image's mean is the labels' weighted mean of the values: the
    targets carry the same weights as the pixels."""
    n = 8
    images = torch.arange(n, dtype=torch.float32).reshape(n, 1, 1, 1).expand(
        n, 3, 16, 16).clone()
    y = torch.eye(n)
    torch.manual_seed(0)
    (x,), mixed = build_pipeline([{"op": op}], (3, 16, 16), "multilabel", None)(
        (images,), y)
    assert mixed.shape == (n, n) and torch.allclose(mixed.sum(1), torch.ones(n))
    assert (mixed.max(1).values < 1).any()  # something was mixed
    values = torch.arange(n, dtype=torch.float32)
    torch.testing.assert_close(x.mean(dim=(1, 2, 3)), mixed @ values, atol=0.02,
                               rtol=0)
    # Two labels on: a mixed row keeps them as a weighted pair, never above 1.
    torch.manual_seed(0)
    two = torch.zeros(n, 3)
    two[:, 0], two[::2, 1], two[1::2, 2] = 1.0, 1.0, 1.0
    (_x,), mixed = build_pipeline([{"op": op}], (3, 16, 16), "multilabel", None)(
        (images,), two)
    assert torch.allclose(mixed[:, 0], torch.ones(n))  # on in both: stays on
    assert torch.allclose(mixed[:, 1] + mixed[:, 2], torch.ones(n))
    assert ((mixed > 0) & (mixed < 1)).any()


def test_a_multilabel_image_network_trains_with_mixup_and_cutmix(tmp_path):
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (64, 1, 8, 8)).astype(np.float32)
    y = np.stack([x[:, 0, :4].mean((1, 2)) > 0.5, x[:, 0, 4:].mean((1, 2)) > 0.5], 1)
    np.savez(tmp_path / "quads.npz", X=x, y=y.astype(np.int64))
    b = Builder("Tiny tagger")
    i = b.add("Input", shape=[1, 8, 8])
    b.chain(i, "Flatten", ("Linear", {"out_features": 2}),
            ("Output", {"task": "multilabel"}))
    doc = b.done({"dataset": {"name": "npz", "path": str(tmp_path / "quads.npz"),
                              "task": "multilabel"}, "epochs": 1, "batch_size": 16,
                  "augment": [{"op": "mixup"}, {"op": "cutmix"}]})
    final, _ = train(doc, options=EVERY_STEP)
    assert isinstance(final, FinishedEvent), final


def test_a_step_in_words_and_the_preview_grid_of_what_the_pipeline_does():
    import numpy as np

    from runtime.augment import describe_step, preview_grid

    flip = check_pipeline([{"op": "flip", "p": 1.0}])[0]
    assert describe_step(flip) == "Horizontal flip (p 1)"
    samples = np.zeros((3, 1, 8, 8), np.float32)
    samples[:, :, :, :4] = 1.0  # the left half white
    grid = preview_grid(samples, [flip], rows=2, cell=8)
    assert grid.shape == (3 * 12, 3 * 12, 3) and grid.dtype == np.uint8
    first, flipped = grid[2:10, 2:10, 0], grid[14:22, 2:10, 0]  # sample 0, then its draw
    assert first[:, 0].min() == 255 and first[:, -1].max() == 0
    assert flipped[:, 0].max() == 0 and flipped[:, -1].min() == 255  # mirrored: p = 1
    # No steps: the draws are the samples themselves.
    plain = preview_grid(samples, [], rows=1, cell=8)
    assert (plain[:12] == plain[12:]).all()
