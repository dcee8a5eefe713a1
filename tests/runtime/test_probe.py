"""The probe: one example through the network, its gradient, attribution, the gallery."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from training_helpers import EXAMPLES, example, train

import graph
from graph.builder import Builder
from runtime.probe import attribute, open_session
from runtime.probe.cli import main as probe_main


def _residual_cnn() -> graph.Document:
    """Conv, BatchNorm, a residual Add and a Concat: nodes with and without modules."""
    b = Builder("Probe CNN")
    x = b.add("Input", shape=[1, 28, 28])
    stem = b.chain(x, ("Conv2d", {"out_channels": 4, "kernel_size": 3, "padding": 1}),
                   "BatchNorm2d", "ReLU")
    branch = b.chain(stem, ("Conv2d", {"out_channels": 4, "kernel_size": 3,
                                       "padding": 1}), "ReLU")
    add = b.add("Add")
    b.wire(branch, add)
    b.wire(stem, add)
    cat = b.add("Concat", dim=1)
    b.wire(add, cat)
    b.wire(stem, cat)
    b.chain(cat, ("MaxPool2d", {"kernel_size": 2}), "Flatten",
            ("Linear", {"out_features": 4}), ("Output", {"task": "classification"}))
    return b.done({"dataset": {"name": "shapes", "size": 160}, "seed": 3})


def _randomise(module: torch.nn.Module) -> None:
    gen = torch.Generator().manual_seed(0)
    for m in module.modules():
        if isinstance(m, torch.nn.BatchNorm2d):  # non-default running statistics
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=gen))
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)


def test_activations_equal_a_forward_pass_with_hooks():
    doc = _residual_cnn()
    session = open_session(doc)
    module = session.prober.module
    _randomise(module)
    inputs, target = session.example("val", 5)
    result = session.prober.probe(inputs, target)
    # The probe changes nothing: the module's mode and gradients stay as they were.
    assert module.training and all(p.grad is None for p in module.parameters())

    seen = {}
    hooks = [module.get_submodule(name).register_forward_hook(
        lambda _m, _i, out, node=node: seen.__setitem__(node, out.detach()))
        for node, name in session.prober.compiled.code.attributes.items()]
    module.eval()
    with torch.no_grad():
        out = module(inputs.unsqueeze(0))
    for h in hooks:
        h.remove()
    for node_id, tensor in seen.items():
        np.testing.assert_allclose(result.nodes[node_id].value, tensor[0].numpy(),
                                   rtol=1e-5, atol=1e-6, err_msg=node_id)
    # Nodes without a module have values too, and they are the right ones.
    by_type = {n.type: n.id for n in doc.nodes.values()}
    add, cat = result.nodes[by_type["Add"]], result.nodes[by_type["Concat"]]
    assert add.shape == (4, 28, 28) and cat.shape == (8, 28, 28)
    np.testing.assert_allclose(cat.value[:4], add.value, rtol=1e-6)
    assert result.nodes[by_type["Input"]].kind == "maps"
    probs = torch.softmax(out[0], dim=0).numpy()
    np.testing.assert_allclose(result.prediction, probs, rtol=1e-5)
    assert result.predicted == int(probs.argmax())
    expected_loss = float(torch.nn.functional.cross_entropy(out, torch.tensor([target])))
    assert result.loss == pytest.approx(expected_loss, rel=1e-5)


def test_the_per_example_gradient_dies_towards_the_input_of_a_deep_sigmoid_mlp():
    doc = example("deep_sigmoid_mlp")
    session = open_session(doc, base_dir=EXAMPLES)
    inputs, target = session.example("val", 0)
    result = session.prober.probe(inputs, target)
    order = [n for n in session.prober.compiled.analysis.order
             if doc.nodes[n].type == "Linear"]
    rms = [result.nodes[n].grad_rms for n in order]
    assert all(r is not None and r > 0 for r in rms)
    # The same example's error signal is orders of magnitude weaker at the first layer.
    assert rms[0] < rms[-1] / 100


def _linear_doc() -> tuple[graph.Document, str]:
    b = Builder("Linear probe")
    x = b.add("Input", shape=[2])
    fc = b.add("Linear", "fc", out_features=3)
    b.wire(x, fc)
    b.chain(fc, ("Output", {"task": "classification"}))
    return b.done({"dataset": {"name": "blobs"}}), fc


def test_attribution_of_a_linear_model_is_the_analytic_answer():
    doc, fc = _linear_doc()
    session = open_session(doc)
    layer = session.prober.compiled.submodule(fc)
    x = torch.tensor([0.5, -2.0])
    w = layer.weight.detach()
    sal = attribute(session.prober, x, "saliency", target=2)
    np.testing.assert_allclose(sal.values, w[2].abs().numpy(), rtol=1e-6)
    ig = attribute(session.prober, x, "integrated_gradients", target=1)
    # For a linear score, Integrated Gradients from zero is exactly x * w.
    np.testing.assert_allclose(ig.values, (x * w[1]).numpy(), rtol=1e-4, atol=1e-6)
    with pytest.raises(Exception, match="convolution"):
        attribute(session.prober, x, "grad_cam")


def test_grad_cam_on_a_convolution_is_input_sized_and_names_bad_layers():
    doc = _residual_cnn()
    session = open_session(doc)
    inputs, _ = session.example("val", 0)
    cam = attribute(session.prober, inputs, "grad_cam")
    assert cam.values.shape == (1, 28, 28) and cam.layer is not None
    assert (cam.values >= 0).all()  # ReLU on the map, as Grad-CAM defines it
    linear = next(n.id for n in doc.nodes.values() if n.type == "Linear")
    with pytest.raises(Exception, match="not one"):
        attribute(session.prober, inputs, "grad_cam", layer=linear)


def test_the_gallery_is_ordered_by_per_example_loss_and_filters_a_cell():
    doc = example("spiral_mlp")
    session = open_session(doc, base_dir=EXAMPLES)
    xs, target = session.bundle.tensors("val")
    module = session.prober.module
    module.eval()
    with torch.no_grad():
        out = module(xs)
    module.train()
    losses = torch.nn.functional.cross_entropy(out, target, reduction="none").numpy()
    items = session.gallery("val", limit=None)
    assert [i.index for i in items[:10]] == list(np.argsort(-losses, kind="stable")[:10])
    assert [i.loss for i in items] == pytest.approx(sorted(losses, reverse=True), rel=1e-5)
    wrong = [i for i in items if i.correct is False]
    cell = (int(wrong[0].target), int(wrong[0].predicted))
    only = session.gallery("val", limit=None, cell=cell)
    assert only and all((int(i.target), i.predicted) == cell for i in only)
    # Stepping: the next misclassified example and the next one of a class.
    first = session.find("val", -1, misclassified=True)
    assert first == min(i.index for i in wrong)
    nxt = session.find("val", 0, target_class=1)
    assert int(target[nxt]) == 1 and all(int(t) != 1 for t in target[1:nxt])


def test_strata_probe_writes_prediction_activations_and_attribution(tmp_path, capsys):
    doc = _residual_cnn()
    path = tmp_path / "net.strata"
    graph.save(doc, path)
    final, _ = train(doc, epochs=1, out_dir=tmp_path / "run")
    ckpt = tmp_path / "run" / "last.pt"
    assert ckpt.exists(), final
    out = tmp_path / "probe"
    code = probe_main(["probe", str(path), "--checkpoint", str(ckpt), "--index", "2",
                       "--attribution", "integrated_gradients", "--gallery", "3",
                       "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    report = json.loads((out / "prediction.json").read_text())
    assert report["index"] == 2 and len(report["prediction"]) == 4
    assert {layer["label"] for layer in report["layers"]} >= {"conv", "add", "concat"}
    assert len(report["gallery"]) == 3
    assert report["gallery"][0]["loss"] >= report["gallery"][-1]["loss"]
    assert (out / "input.png").exists() and (out / "attribution_integrated_gradients.png"
                                             ).exists()
    assert np.load(out / "attribution_integrated_gradients.npy").shape == (1, 28, 28)
    assert len(list(out.glob("activation_*.png"))) >= 5

    # Bad input: one clear line, no traceback, nothing written.
    assert probe_main(["probe", str(path), "--index", "99999", "-o",
                       str(tmp_path / "bad")]) == 1
    err = capsys.readouterr().err
    assert "there is no example 99999" in err and "Traceback" not in err
    assert not (tmp_path / "bad" / "prediction.json").exists()
    assert probe_main(["probe", str(path), "-o", str(out)]) == 2
    assert "--index" in capsys.readouterr().err


def test_attention_layers_show_their_weights_per_head():
    b = Builder("Attention probe")
    x = b.add("Input", shape=[16], dtype="long")
    b.chain(x, ("Embedding", {"num_embeddings": 16, "embedding_dim": 16}),
            ("SelfAttention", {"num_heads": 2}), ("Mean", {"dim": 1}),
            ("Linear", {"out_features": 2}), ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "tokens_majority"}})
    session = open_session(doc)
    inputs, target = session.example("val", 0)
    result = session.prober.probe(inputs, target)
    attention = next(n.id for n in doc.nodes.values() if n.type == "SelfAttention")
    weights = result.nodes[attention].attention
    assert weights.shape == (2, 16, 16)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-5)  # rows: softmax
    # Asking for the weights does not change the answer.
    module = session.prober.module
    module.eval()
    with torch.no_grad():
        out = module(inputs.unsqueeze(0))
    module.train()
    np.testing.assert_allclose(result.prediction, torch.softmax(out[0], 0).numpy(),
                               rtol=1e-5, atol=1e-6)


def test_a_multilabel_example_shows_each_labels_own_probability(tmp_path):
    from tests.runtime.test_multilabel import network, tagged

    path = tagged(tmp_path / "t.csv", rows=80, lists=True)
    doc = network({"name": "csv", "path": str(path), "task": "multilabel"}, labels=3)
    session = open_session(doc)
    inputs, target = session.example("val", 0)
    result = session.prober.probe(inputs, target)
    logits = session.prober.predict(inputs[None])[0]
    # A sigmoid per label (independent), not a softmax over them.
    assert np.allclose(result.prediction, torch.sigmoid(logits).numpy(), atol=1e-6)
    assert result.predicted is None and result.class_names == ["big", "hot", "none"]
    on = [i for i, p in enumerate(result.prediction) if p >= 0.5]
    assert result.labels_on == on
    assert result.correct == (on == [int(i) for i in np.flatnonzero(
        np.asarray(target) > 0.5)])
    truth = ", ".join(n for n, t in zip(result.class_names, target.tolist()) if t > 0.5)
    assert f"true labels {truth}" in result.describe()
    assert result.loss == pytest.approx(float(torch.nn.functional.
                                              binary_cross_entropy_with_logits(
                                                  logits, target)), rel=1e-5)
    data = result.to_json()
    assert data["predicted_labels"] == [result.class_names[i] for i in on]
    # The gallery ranks by loss; "next wrong" finds an example with any label wrong.
    items = session.gallery("val", limit=None)
    assert [i.loss for i in items] == sorted((i.loss for i in items), reverse=True)
    # "Next of class": the next example with that label on.
    targets = session.targets("val")
    assert session.find("val", 0, target_class=1) == next(
        i for i in range(1, len(targets)) if targets[i][1] > 0.5)
    wrong = session.find("val", 0, misclassified=True)  # untrained: some are wrong
    assert wrong is not None
    x, t = session.example("val", wrong)
    assert session.prober.probe(x, t).correct is False
