"""Malformed checkpoint content is a CheckpointError naming the file and the field,
never a TypeError or AttributeError."""

from __future__ import annotations

import pytest
import torch

from runtime.checkpoints import FORMAT, VERSION, CheckpointError, load_checkpoint

GOOD = {"format": FORMAT, "version": VERSION, "document": {}, "code_fingerprint": "x",
        "model": {}, "optimizer": {}, "epoch": 1, "step": 3, "setup": {}}


@pytest.mark.parametrize("change, words", [
    ({"version": "1"}, "version must be a positive integer"),
    ({"version": None}, "version must be a positive integer"),
    ({"document": []}, "'document' should be a mapping, found list"),
    ({"model": "weights"}, "'model' should be a mapping"),
    ({"epoch": "3"}, "'epoch' should be a whole number"),
    ({"epoch": True}, "'epoch' should be a whole number"),
    ({"setup": None}, "'setup' should be a mapping"),
])
def test_malformed_content_is_a_checkpoint_error(tmp_path, change, words):
    path = tmp_path / "bad.pt"
    torch.save({**GOOD, **change}, path)
    with pytest.raises(CheckpointError, match=words) as e:
        load_checkpoint(path)
    assert str(path) in str(e.value)


def test_a_well_formed_checkpoint_loads(tmp_path):
    path = tmp_path / "good.pt"
    torch.save(GOOD, path)
    assert load_checkpoint(path).epoch == 1
