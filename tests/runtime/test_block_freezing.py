"""Freezing a block instance freezes every layer inside it; a learning-rate factor on a
block applies to all of them; train.py keeps both."""

from __future__ import annotations

import pytest
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


def shared_hidden():
    """An MLP whose two hidden layers are two instances ("first", "second") of one
    definition "Hidden" (fc2 + act2)."""
    from graph.document import Edge
    from tests.runtime.training_helpers import mlp

    doc = mlp(8, 3, training={"dataset": {"name": "moons", "size": 120}, "epochs": 1,
                              "batch_size": 32, "lr": 0.05})
    label = {n.label: n.id for n in doc.nodes.values()}
    first = doc.group([label["fc2"], label["act2"]], "Hidden", "first").result["instance"]
    doc.remove_node(label["fc3"])
    doc.remove_node(label["act3"])
    second = doc.add_node("Block", {"block": "Hidden"}, "second").id
    doc.connect(Edge(first, "out", second, "in"))
    doc.connect(Edge(second, "out", label["head"], "in"))
    fc2 = next(n.id for n in doc.blocks.definitions["Hidden"].body.nodes.values()
               if n.label == "fc2")
    return doc, first, second, fc2


def _trained(doc):
    trainer = Trainer(doc, TrainingSetup.from_document(doc), options=EVERY_STEP)
    trainer._prepare()
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer._train()
    return trainer, before, trainer.model.state_dict()


def _exported_groups(doc, folder):
    """The exported train.py's own ``parameter_groups`` applied to a fresh model of the
    exported class: (frozen parameter names, {name: learning rate})."""
    import runpy
    import sys

    export_training(doc, folder)
    sys.path.insert(0, str(folder))
    try:
        script = runpy.run_path(str(folder / "train.py"), run_name="exported")
    finally:
        sys.path.remove(str(folder))
    model = next(v for k, v in script.items() if k == graph.compile_network(
        doc).code.class_name)()
    groups = script["parameter_groups"](model)
    names = {id(p): n for n, p in model.named_parameters()}
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    rates = {names[id(p)]: g["lr"] for g in groups for p in g["params"]}
    return frozen, rates


def _strata_groups(trainer):
    names = {id(p): n for n, p in trainer.model.named_parameters()}
    frozen = {n for n, p in trainer.model.named_parameters() if not p.requires_grad}
    rates = {names[id(p)]: g["lr"] for g in trainer.optimizer.param_groups
             for p in g["params"]}
    return frozen, rates


def test_freezing_an_inner_layer_of_a_shared_definition_freezes_it_in_that_instance_only(
        tmp_path):
    """Fine-tuning freezes *this* backbone's layer: the path names one instance; the
    other instance of the same definition keeps training it. train.py agrees."""
    doc, first, second, fc2 = shared_hidden()
    doc.training.update(frozen=[f"{first}/{fc2}"], lr_scale={second: 0.5,
                                                               f"{second}/{fc2}": 0.1})
    trainer, before, after = _trained(doc)
    assert torch.equal(after["first.fc2.weight"], before["first.fc2.weight"])
    assert not trainer.model.first.fc2.weight.requires_grad
    assert not torch.equal(after["second.fc2.weight"], before["second.fc2.weight"])
    assert trainer.model.second.fc2.weight.requires_grad
    frozen, rates = _strata_groups(trainer)
    lr = trainer.setup.lr
    assert frozen == {"first.fc2.weight", "first.fc2.bias"}
    # The inner layer's factor overrides its instance's (both cover second.fc2).
    assert rates["second.fc2.weight"] == pytest.approx(0.1 * lr)
    assert rates["head.weight"] == pytest.approx(lr)
    assert (frozen, rates) == _exported_groups(doc, tmp_path / "export")


def test_an_inner_path_without_copy_numbers_freezes_every_copy_with_one_copy_alone(
        tmp_path):
    doc = graph.load(EXAMPLES / "blocks_resnet.strata")  # n5: BasicBlock, repeat 2
    doc.training.update(SMALL, frozen=["n5/n2"], lr_scale={"n5:1/n5": 0.25})
    trainer, before, after = _trained(doc)
    frozen, rates = _strata_groups(trainer)
    assert frozen == {"layer1.0.conv1.weight", "layer1.1.conv1.weight"}
    assert torch.equal(after["layer1.1.conv1.weight"], before["layer1.1.conv1.weight"])
    assert rates["layer1.1.conv2.weight"] == pytest.approx(0.25 * trainer.setup.lr)
    assert rates["layer1.0.conv2.weight"] == pytest.approx(trainer.setup.lr)
    assert (frozen, rates) == _exported_groups(doc, tmp_path / "export")


def test_a_path_that_names_no_layer_any_more_is_ignored_with_a_notice_naming_it():
    """Freeze an inner layer, delete it, press Train: the run goes on, and says so."""
    doc = graph.load(EXAMPLES / "blocks_resnet.strata")
    doc.training.update(SMALL, frozen=["n5/n99", "n5"], lr_scale={"n77": 0.5})
    trainer = Trainer(doc, TrainingSetup.from_document(doc), options=EVERY_STEP)
    trainer._prepare()
    notices = [n for n in trainer.notices if n.kind == "training_setup"]
    assert len(notices) == 1 and notices[0].names == ("n5/n99", "n77")
    assert "'n5/n99', 'n77'" in notices[0].message and "ignored" in notices[0].message
    # The names that still stand are applied: n5 (layer1) stays frozen.
    assert all(not p.requires_grad for p in trainer.model.layer1.parameters())
    assert all(g["lr_scale"] == 1.0 for g in trainer.optimizer.param_groups)
