"""TrainingSetup: reading doc.training, checking every value, building what it describes."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from strata_paths import EXAMPLES

import graph
from graph.builder import Builder
from graph.fileformat import dumps
from runtime.setup import (
    SetupError,
    TrainingSetup,
    available_devices,
    resolve_device,
)


def setup_of(**training) -> TrainingSetup:
    return TrainingSetup.from_document({"dataset": {"name": "spirals"}, **training})


def test_missing_keys_take_the_defaults():
    s = TrainingSetup.from_document({"dataset": {"name": "moons"}})
    assert (s.val_fraction, s.test_fraction, s.batch_size, s.epochs) == (0.2, 0.1, 64, 10)
    assert (s.optimizer, s.lr, s.schedule, s.loss, s.device) == (
        "adam", 1e-3, "none", "auto", "auto")
    assert s.grad_clip is None and s.watch == () and s.sample_every == 10
    # the dataset's own options are filled in too, so the file records what was used
    assert s.dataset == {"name": "moons", "size": 1000, "noise": 0.1}


def test_reads_a_document():
    doc = Builder().done({"dataset": {"name": "spirals"}, "epochs": 60,
                          "optimizer": "sgd", "lr": 0.05, "momentum": 0.8})
    s = TrainingSetup.from_document(doc)
    assert (s.optimizer, s.lr, s.momentum, s.epochs) == ("sgd", 0.05, 0.8, 60)


def test_the_nested_layout_is_the_file_formats_business():
    """Older files' nested optimizer is migrated when the file is read; a setup given
    one directly is refused in the usual words."""
    with pytest.raises(SetupError, match="Received: optimizer="):
        setup_of(optimizer={"name": "adam", "lr": 0.1})


def test_round_trips_through_to_dict_and_the_file_format():
    s = setup_of(epochs=3, optimizer="rmsprop", lr=0.02, weight_decay=1e-4,
                 schedule="cosine", loss="cross_entropy", grad_clip=1.5, seed=7,
                 device="cpu", sample_every=5, watch=["fc1", "fc2"], val_fraction=0.25,
                 test_fraction=0.0, batch_size=32)
    assert TrainingSetup.from_dict(s.to_dict()) == s
    doc = Builder().done(s.to_dict())
    again = graph.loads(dumps(doc))
    assert TrainingSetup.from_document(again) == s
    assert s.to_dict()["watch"] == ["fc1", "fc2"]  # JSON lists, not tuples


def test_every_example_document_has_a_valid_setup():
    for path in sorted(EXAMPLES.glob("*.strata")):
        s = TrainingSetup.from_document(graph.load(path))
        assert s.dataset["name"], path.name
        assert TrainingSetup.from_dict(s.to_dict()) == s


@pytest.mark.parametrize(("key", "value", "words"), [
    ("epochs", 0, "an integer >= 1"),
    ("epochs", True, "an integer >= 1"),
    ("epochs", 2.5, "an integer >= 1"),
    ("batch_size", "64", "an integer >= 1"),
    ("lr", 0, "a number > 0"),
    ("lr", float("nan"), "a finite number"),
    ("lr", -0.1, "a number from 0 to 10"),
    ("weight_decay", -1, "a number >= 0"),
    ("momentum", 1.0, "not including) 1"),
    ("optimizer", "adagrad", "one of sgd, adam, adamw, rmsprop"),
    ("schedule", "linear", "one of none, step, cosine, onecycle"),
    ("loss", "hinge", "one of auto, cross_entropy, bce_with_logits, mse"),
    ("device", "tpu", "one of auto, cpu, cuda, mps"),
    ("grad_clip", 0, "a positive number, or nothing"),
    ("seed", -1, "an integer >= 0"),
    ("sample_every", 0, "an integer >= 1"),
    ("gamma", 0, "a number > 0"),
    ("step_size", 0, "an integer >= 1"),
    ("val_fraction", 0, "a fraction above 0"),
    ("test_fraction", 1.0, "from 0 to 0.9"),
    ("watch", "fc1", "a list of node ids"),
    ("dataset", 3, 'a mapping with a "name"'),
])
def test_bad_values_are_refused_naming_key_and_value(key, value, words):
    with pytest.raises(SetupError) as e:
        setup_of(**{key: value})
    message = str(e.value)
    assert e.value.key == key
    assert f"`{key}`" in message and words in message
    assert f"{key}={value!r}" in message


def test_fractions_must_leave_data_to_train_on():
    with pytest.raises(SetupError, match="leaves less than 10% of the data"):
        setup_of(val_fraction=0.6, test_fraction=0.4)


def test_unknown_setting_and_missing_dataset_are_refused():
    with pytest.raises(SetupError, match="Unknown training setting `epoch`") as e:
        setup_of(epoch=3)
    assert e.value.key == "epoch"
    with pytest.raises(SetupError, match="names no dataset"):
        TrainingSetup.from_document({"epochs": 3})
    with pytest.raises(SetupError, match="must be a mapping"):
        TrainingSetup.from_document([1, 2])


def test_bad_dataset_options_are_refused_in_the_setup():
    with pytest.raises(SetupError, match="Received an invalid value for `noise`") as e:
        setup_of(dataset={"name": "spirals", "noise": -1})
    assert e.value.key == "dataset"
    with pytest.raises(SetupError, match="Unknown dataset 'mnist'"):
        setup_of(dataset={"name": "mnist"})
    with pytest.raises(SetupError, match="has no option `colour`"):
        setup_of(dataset={"name": "shapes", "colour": 1})


def test_direct_construction_is_checked_too():
    with pytest.raises(SetupError, match="`epochs`"):
        TrainingSetup({"name": "spirals"}, epochs=-3)
    s = TrainingSetup({"name": "xor"}, epochs=2.0)
    assert s.epochs == 2 and isinstance(s.epochs, int)
    assert s.replace(lr=0.5).lr == 0.5
    with pytest.raises(SetupError):
        s.replace(lr=0)


def test_resolved_loss_follows_the_task_unless_overridden():
    auto = setup_of()
    assert [auto.resolved_loss(t) for t in ("classification", "binary", "regression")] == [
        "cross_entropy", "bce_with_logits", "mse"]
    assert setup_of(loss="mse").resolved_loss("regression") == "mse"
    with pytest.raises(SetupError, match="`cross_entropy` cannot train an Output whose "
                       "task is regression"):
        setup_of(loss="cross_entropy").resolved_loss("regression")
    with pytest.raises(SetupError, match="Unknown Output task"):
        auto.resolved_loss("ranking")
    assert isinstance(auto.make_loss("binary"), torch.nn.BCEWithLogitsLoss)
    assert isinstance(auto.make_loss("classification"), torch.nn.CrossEntropyLoss)


@pytest.mark.parametrize(("name", "cls"), [
    ("sgd", torch.optim.SGD), ("adam", torch.optim.Adam), ("adamw", torch.optim.AdamW),
    ("rmsprop", torch.optim.RMSprop)])
def test_make_optimizer_uses_the_settings(name, cls):
    w = torch.nn.Parameter(torch.ones(3))
    opt = setup_of(optimizer=name, lr=0.05, weight_decay=0.01, momentum=0.5
                   ).make_optimizer([w])
    assert isinstance(opt, cls)
    group = opt.param_groups[0]
    assert group["lr"] == 0.05 and group["weight_decay"] == 0.01
    if name in ("sgd", "rmsprop"):
        assert group["momentum"] == 0.5


def _lrs(setup: TrainingSetup, steps_per_epoch: int) -> list[float]:
    w = torch.nn.Parameter(torch.ones(1))
    opt = setup.make_optimizer([w])
    sched = setup.make_scheduler(opt, steps_per_epoch)
    lrs = []
    for _ in range(setup.epochs * steps_per_epoch):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return lrs


def test_schedules_are_stepped_per_optimizer_step():
    none = _lrs(setup_of(lr=0.1, epochs=3), 4)
    assert none == [0.1] * 12
    step = _lrs(setup_of(lr=0.1, epochs=3, schedule="step", step_size=1, gamma=0.5), 4)
    assert step[:4] == [0.1] * 4 and math.isclose(step[4], 0.05)
    assert math.isclose(step[8], 0.025)
    cosine = _lrs(setup_of(lr=0.1, epochs=2, schedule="cosine"), 10)
    assert cosine[0] == 0.1 and cosine[-1] < 0.005
    assert all(a >= b for a, b in itertools.pairwise(cosine))
    onecycle = _lrs(setup_of(lr=0.1, epochs=2, schedule="onecycle"), 10)
    peak = max(onecycle)
    assert onecycle[0] < peak and onecycle[-1] < peak / 100
    assert math.isclose(peak, 0.1, rel_tol=0.05)


def test_devices(monkeypatch):
    assert available_devices()[-1] == "cpu"
    assert resolve_device("cpu") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert available_devices() == ["cpu"]
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(SetupError, match="asks for device 'cuda' but no CUDA GPU") as e:
        resolve_device("cuda")
    assert "available here: cpu" in str(e.value) and e.value.key == "device"
    with pytest.raises(SetupError, match="MPS"):
        resolve_device("mps")
    with pytest.raises(SetupError, match="Unknown device 'gpu'"):
        resolve_device("gpu")
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert available_devices() == ["cuda", "mps", "cpu"]
    assert resolve_device("auto") == torch.device("cuda")


def test_settings_declarations_match_the_dataclass():
    import dataclasses

    from runtime.setup import SETTINGS, SETTINGS_BY_NAME

    fields = {f.name: f.default for f in dataclasses.fields(TrainingSetup)}
    declared = {s.name: s.param.default for s in SETTINGS}
    # Settings that are structures have their own editors (pipeline list, node toggles).
    assert set(fields) - set(declared) == {"dataset", "watch", "augment", "frozen",
                                           "lr_scale"}
    for setting in SETTINGS:
        assert fields[setting.name] == setting.param.default, setting.name
        assert setting.param.help and setting.label and setting.group
        if setting.applies_when is not None:  # depends on a declared choice
            other, values = setting.applies_when
            assert set(values) <= set(SETTINGS_BY_NAME[other].param.choices)


def test_a_setting_applies_only_when_it_matters():
    from runtime.setup import SETTINGS_BY_NAME

    momentum = SETTINGS_BY_NAME["momentum"]
    assert momentum.applies({"optimizer": "sgd"}) and momentum.applies(
        {"optimizer": "rmsprop"})
    assert not momentum.applies({"optimizer": "adam"})
    assert SETTINGS_BY_NAME["gamma"].applies({"schedule": "step"})
    assert not SETTINGS_BY_NAME["gamma"].applies({"schedule": "cosine"})
    assert SETTINGS_BY_NAME["lr"].applies({})
