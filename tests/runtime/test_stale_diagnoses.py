"""Which diagnoses an edit makes out of date: those about a layer the edit replaced,
changed or fed from a new layer (inside a block too, by path), and those about the whole network
after any change of its structure or setup; moves, renames and edits of other layers
leave a diagnosis as it is. Edits are made on real documents, and their own events are
what is judged."""

from __future__ import annotations

from block_networks import sigmoid_blocks

from graph.builder import Builder
from graph.edits import InBlock, InsertLayer, ReplaceLayer, apply_edits
from graph.training_fixes import diagnosis_fixes
from runtime.events import DiagnosisEvent
from runtime.stale_diagnoses import outdated, touched_by


def sigmoid_mlp():
    b = Builder("Sigmoid MLP")
    h = b.add("Input", shape=[2])
    for i in (1, 2):
        h = b.chain(h, ("Linear", {"out_features": 16}, f"fc{i}"), ("Sigmoid", {}, f"act{i}"))
    b.chain(h, ("Linear", {"out_features": 2}, "head"), "Output")
    return b.done({"dataset": {"name": "moons", "size": 100}, "lr": 0.01})


def diagnosis(kind: str, *node_ids: str) -> DiagnosisEvent:
    return DiagnosisEvent(kind, tuple(node_ids), kind, "why", "fix", "warning", 10, 1)


def outdated_by(doc, edit, *diagnoses) -> list[bool]:
    """Perform ``edit`` (a function of the document) and say, for each diagnosis,
    whether any of the events it made outdates it."""
    events = []
    unsubscribe = doc.subscribe(events.append)
    try:
        edit(doc)
    finally:
        unsubscribe()
    assert events
    return [any(outdated(d, touched_by(e), doc) for e in events) for d in diagnoses]


def by_label(doc, label: str) -> str:
    return next(n.id for n in doc.nodes.values() if n.label == label)


def test_replacing_the_sigmoids_outdates_their_diagnosis_only():
    doc = sigmoid_mlp()
    fc1, act1, fc2, act2 = (by_label(doc, x) for x in ("fc1", "act1", "fc2", "act2"))
    # (fc2 and head: their inputs come from a new layer now)
    head = by_label(doc, "head")
    vanishing = diagnosis("vanishing_gradients", act1, fc2, act2, head)
    exploding = diagnosis("exploding_gradients", fc1)  # its input, its params stay
    overfitting = diagnosis("overfitting")
    fix = diagnosis_fixes("vanishing_gradients", vanishing.node_ids, doc)[0]
    assert "ReLU" in fix.title
    assert outdated_by(doc, lambda d: apply_edits(d, fix.edits),
                       vanishing, exploding, overfitting) == [True, False, True]


def test_moves_and_renames_outdate_nothing():
    doc = sigmoid_mlp()
    fc1 = by_label(doc, "fc1")
    vanishing = diagnosis("vanishing_gradients", fc1)
    assert outdated_by(doc, lambda d: d.move_node(fc1, (999.0, 999.0)), vanishing,
                       diagnosis("overfitting")) == [False, False]
    assert outdated_by(doc, lambda d: d.set_label(fc1, "first"), vanishing) == [False]


def test_a_parameter_or_a_wire_of_the_layer_outdates_it():
    doc = sigmoid_mlp()
    fc1, fc2 = by_label(doc, "fc1"), by_label(doc, "fc2")
    about_fc1, about_fc2 = diagnosis("dead_relus", fc1), diagnosis("dead_relus", fc2)
    assert outdated_by(doc, lambda d: d.set_param(fc1, "out_features", 8),
                       about_fc1, about_fc2) == [True, False]
    after_fc1 = doc.edges_from(fc1)[0]  # a layer inserted after fc1: act1 receives it
    about_act1 = diagnosis("saturated_activations", after_fc1.target)
    assert outdated_by(doc, lambda d: apply_edits(d, (InsertLayer(after_fc1, "Dropout"),)),
                       about_act1, about_fc2) == [True, False]


def test_the_training_setup_outdates_network_wide_diagnoses_only():
    doc = sigmoid_mlp()
    fc1 = by_label(doc, "fc1")
    assert outdated_by(doc, lambda d: d.set_training("lr", 0.0001),
                       diagnosis("learning_rate_too_high"),
                       diagnosis("dead_relus", fc1)) == [True, False]


def test_an_edit_inside_a_block_outdates_the_diagnoses_of_that_inner_layer():
    doc = sigmoid_blocks(uses=2, repeat=2)
    body = doc.blocks["Hidden"].body
    sigmoid = next(n.id for n in body.nodes.values() if n.type == "Sigmoid")
    fc = next(n.id for n in body.nodes.values() if n.type == "Linear")
    instances = [n.id for n in doc.nodes.values() if n.type == "Block"]
    inner = diagnosis("saturated_activations", f"{instances[0]}:1/{sigmoid}")
    inner_fc = diagnosis("dead_relus", f"{instances[1]}/{fc}")
    top = diagnosis("dead_relus", by_label(doc, "fc0"))
    edit = (InBlock("Hidden", ReplaceLayer(sigmoid, "ReLU")),)
    assert outdated_by(doc, lambda d: apply_edits(d, edit),
                       inner, inner_fc, top) == [True, False, False]
    # An instance removed: what it held is gone with it.
    assert outdated_by(doc, lambda d: d.remove_node(instances[1]), inner_fc) == [True]
