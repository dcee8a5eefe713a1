"""Starting from trained weights: loading by layer name, freezing, learning-rate groups."""

from __future__ import annotations

import pytest
import torch

import graph
from runtime.events import FinishedEvent, NoticeEvent
from runtime.finetune import WeightsError, load_weights, parameter_groups
from runtime.setup import TrainingSetup
from tests.runtime.training_helpers import EVERY_STEP, mlp, of, train

SPIRALS = {"dataset": {"name": "spirals", "size": 120}, "epochs": 2, "batch_size": 32}


def node_id(doc, label):
    return next(n.id for n in doc.nodes.values() if n.label == label)


def test_a_new_head_of_another_size_keeps_fresh_weights_and_the_rest_loads(tmp_path):
    first = mlp(16, 2, outputs=2, training=SPIRALS)
    final, _ = train(first, out_dir=tmp_path, options=EVERY_STEP)
    assert isinstance(final, FinishedEvent)
    trained = torch.load(tmp_path / "last.pt", weights_only=True)["model"]

    second = graph.compile(mlp(16, 2, outputs=5))
    fresh_head = second.head.weight.detach().clone()
    report = load_weights(second, tmp_path / "last.pt")
    assert sorted(report.matched) == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]
    assert [n for n, _, _ in report.other_shape] == ["head.weight", "head.bias"]
    assert report.other_shape[0][1:] == ((2, 16), (5, 16))
    assert torch.equal(second.fc1.weight, trained["fc1.weight"])
    assert torch.equal(second.head.weight, fresh_head)
    assert "Loaded 4 of 6" in report.describe() and "head.weight" in report.describe()


def test_safetensors_and_prefixed_state_dicts_load(tmp_path):
    from safetensors.torch import save_file

    source = graph.compile(mlp(8, 1))
    save_file({k: v.contiguous() for k, v in source.state_dict().items()},
              str(tmp_path / "w.safetensors"))
    torch.save({"module." + k: v for k, v in source.state_dict().items()},
               tmp_path / "ddp.pt")
    for name in ("w.safetensors", "ddp.pt"):
        target = graph.compile(mlp(8, 1))
        assert len(load_weights(target, tmp_path / name).matched) == 4
        assert torch.equal(target.fc1.weight, source.fc1.weight)


def test_weights_that_fit_nothing_or_no_file_are_refused_by_name(tmp_path):
    torch.save({"other.weight": torch.zeros(3)}, tmp_path / "x.pt")
    with pytest.raises(WeightsError, match="No weights of 'x.pt' fit"):
        load_weights(graph.compile(mlp(8, 1)), tmp_path / "x.pt")
    with pytest.raises(WeightsError, match="was not found"):
        load_weights(graph.compile(mlp(8, 1)), tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"not a pickle")
    with pytest.raises(WeightsError, match="cannot be read"):
        load_weights(graph.compile(mlp(8, 1)), tmp_path / "junk.pt")


def test_the_engine_starts_from_weights_and_says_what_matched(tmp_path):
    first = graph.compile(mlp(16, 1, outputs=3))  # trained elsewhere for 3 classes
    torch.save({"state_dict": first.state_dict()}, tmp_path / "three.pt")
    second = mlp(16, 1, training={**SPIRALS, "epochs": 1})
    final, events = train(second, init_weights="three.pt", base_dir=tmp_path,
                          options=EVERY_STEP)
    notices = of(events, NoticeEvent)
    assert isinstance(final, FinishedEvent), final
    assert notices and notices[0].kind == "weights_loaded"
    assert "head.weight" in notices[0].names


def test_frozen_layers_get_no_gradients_and_do_not_change():
    doc = mlp(16, 2, training=SPIRALS)
    fc1, fc2 = node_id(doc, "fc1"), node_id(doc, "fc2")
    from runtime.engine import Trainer

    trainer = Trainer(doc, TrainingSetup.from_document(doc).replace(frozen=(fc1,)),
                      options=EVERY_STEP)
    trainer._prepare()
    before = {k: v.clone() for k, v in trainer.model.state_dict().items()}
    trainer._train()
    after = trainer.model.state_dict()
    assert torch.equal(after["fc1.weight"], before["fc1.weight"])
    assert torch.equal(after["fc1.bias"], before["fc1.bias"])
    assert not torch.equal(after["fc2.weight"], before["fc2.weight"])
    assert trainer.model.fc1.weight.grad is None and not trainer.model.fc1.weight.requires_grad
    assert trainer.model.fc2.weight.grad is not None
    assert all(p.requires_grad for p in trainer.model.fc2.parameters())
    assert fc2 not in TrainingSetup.from_document(doc).replace(frozen=(fc1,)).frozen


def test_learning_rate_groups_scale_per_node():
    doc = mlp(8, 2)
    model = graph.compile(doc)
    attributes = graph.compile_network(doc).code.attributes
    groups = parameter_groups(model, attributes, (), {node_id(doc, "fc1"): 0.1}, 0.01)
    assert [g["lr"] for g in groups] == [0.01, pytest.approx(0.001)]
    assert groups[1]["params"] == list(model.fc1.parameters())
    with pytest.raises(WeightsError, match="node 'nope'"):
        parameter_groups(model, attributes, ("nope",), {}, 0.01)


def test_setup_keeps_freezing_and_groups_through_the_document():
    setup = TrainingSetup.from_dict({**SPIRALS, "frozen": ["n3", "n2"],
                                     "lr_scale": {"n2": 0.1}})
    again = TrainingSetup.from_dict(setup.to_dict())
    assert again.frozen == ("n2", "n3") and again.lr_scale == {"n2": 0.1}
    from runtime.setup import SetupError

    with pytest.raises(SetupError, match="lr_scale"):
        TrainingSetup.from_dict({**SPIRALS, "lr_scale": {"n2": -1}})
