"""Freezing a block instance freezes every layer inside it; a learning-rate factor on a
block applies to all of them; train.py keeps both."""

from __future__ import annotations

import torch
from strata_paths import EXAMPLES

import graph
from runtime.engine import Trainer
from runtime.setup import TrainingSetup
from runtime.transfer.train_script import export_training
from tests.runtime.training_helpers import EVERY_STEP

# blocks_resnet: n5 and n6 are residual Block instances (attributes layer1, layer2).
SMALL = {"dataset": {"name": "shapes", "size": 120}, "epochs": 1,
         "batch_size": 32}


def test_a_frozen_block_keeps_all_its_inner_weights_and_a_scaled_block_its_rate(tmp_path):
    doc = graph.load(EXAMPLES / "blocks_resnet.strata")
    doc.training.update(SMALL, frozen=["n5"], lr_scale={"n6": 0.25})
    setup = TrainingSetup.from_document(doc)
    trainer = Trainer(doc, setup, options=EVERY_STEP)
    trainer._prepare()
    model = trainer.model
    before = {k: v.clone() for k, v in model.state_dict().items()}
    trainer._train()
    after = model.state_dict()
    inner = [k for k in before if k.startswith("layer1.") and before[k].is_floating_point()
             and "running" not in k]
    assert len(inner) >= 4  # convolutions and batch norms inside the block
    assert all(torch.equal(after[k], before[k]) for k in inner)
    assert all(p.grad is None and not p.requires_grad for p in model.layer1.parameters())
    assert not torch.equal(after["classifier.weight"], before["classifier.weight"])
    scaled = [g for g in trainer.optimizer.param_groups if g["lr_scale"] == 0.25]
    assert len(scaled) == 1
    assert {id(p) for p in scaled[0]["params"]} == {id(p) for p in model.layer2.parameters()}
    assert scaled[0]["lr"] == 0.25 * setup.lr or "initial_lr" in scaled[0]

    export_training(doc, tmp_path / "export")
    source = (tmp_path / "export" / "train.py").read_text()
    assert 'FROZEN = ["layer1"]' in source and 'LR_SCALE = {"layer2": 0.25}' in source
