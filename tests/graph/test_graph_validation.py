"""Validation: each problem kind of the issue, produced by a broken document, with its
message in the user's terms; all problems at once; the persistent Analyzer agrees with
a fresh analysis after edits."""

from __future__ import annotations

import pytest
from graph_helpers import chain_doc, wire

import graph
from graph import Analyzer, Document, Edge


def only(doc: Document, kind: str) -> graph.Problem:
    found = [p for p in graph.validate(doc) if p.kind == kind]
    assert len(found) == 1, [p.message for p in graph.validate(doc)]
    return found[0]


def residual_block(channels_a: int, channels_b: int) -> tuple[Document, str]:
    doc = Document("Residual")
    x = doc.add_node("Input", {"shape": [8, 28, 28]}).id
    a = doc.add_node("Conv2d", {"out_channels": channels_a}, "branch_a").id
    b = doc.add_node("Conv2d", {"out_channels": channels_b}, "branch_b").id
    pool_a = doc.add_node("MaxPool2d", {}, "pool_a").id
    pool_b = doc.add_node("MaxPool2d", {}, "pool_b").id
    add = doc.add_node("Add", {}, "skip1").id
    for src, dst in ((x, a), (x, b), (a, pool_a), (b, pool_b), (pool_a, add), (pool_b, add)):
        wire(doc, src, dst)
    tail = doc.add_node("Flatten").id
    wire(doc, add, tail)
    out = doc.add_node("Output", {"task": "regression"}).id
    wire(doc, tail, out)
    return doc, add


# ---------------------------------------------------------------------- structure
def test_clean_network_has_no_problems():
    doc, _ = residual_block(16, 16)
    analysis = graph.analyze(doc)
    assert analysis.problems == [] and analysis.ok
    assert len(analysis.order) == len(doc.nodes)


def test_cycle_names_its_nodes():
    doc = Document()
    x = doc.add_node("Input", {"shape": [4]}).id
    add = doc.add_node("Add", {}, "merge").id
    fc = doc.add_node("Linear", {"out_features": 4}, "fc").id
    relu = doc.add_node("ReLU", {}, "act").id
    out = doc.add_node("Output", {"task": "regression"}).id
    for src, dst in ((x, add), (add, fc), (fc, relu), (relu, add), (relu, out)):
        wire(doc, src, dst)
    problem = only(doc, "cycle")
    assert problem.message == "the network has a cycle: 'merge' -> 'fc' -> 'act' -> 'merge'"
    assert set(problem.node_ids) == {add, fc, relu}
    assert "data must flow one way" in problem.hint
    assert graph.analyze(doc).order == []


def test_self_loop_is_a_cycle():
    doc = Document()
    add = doc.add_node("Add", {}, "loop").id
    doc.connect(Edge(add, "out", add, "in1"))
    assert only(doc, "cycle").message == "the network has a cycle: 'loop' -> 'loop'"


def test_no_input_and_no_output():
    doc = Document()
    doc.add_node("ReLU")
    problems = {p.kind: p for p in graph.validate(doc)}
    assert problems["no_input"].message == "the network has no Input layer"
    assert problems["no_output"].message == "the network has no Output layer"
    assert problems["no_input"].node_ids == ()
    assert problems["no_output"].hint == "add an Output after the last layer"


def test_unconnected_input_port():
    doc = chain_doc("ReLU")
    add = doc.add_node("Add", {}, "skip").id
    wire(doc, list(doc.nodes)[1], add)
    problem = only(doc, "unconnected")
    assert problem.message == "Add 'skip': input 'in2' is not connected"
    assert (problem.node_ids, problem.port) == ((add,), "in2")
    fc = doc.add_node("Linear", {}, "fc").id
    wire(doc, add, fc)
    messages = [p.message for p in graph.validate(doc) if p.kind == "unconnected"]
    assert "Add 'skip': input 'in2' is not connected" in messages
    assert "Linear 'fc': its input is not connected" not in messages  # it is connected


def test_two_wires_into_one_port():
    doc = chain_doc(("Linear", {"out_features": 2}, "fc"))
    x, fc = list(doc.nodes)[:2]
    other = doc.add_node("Input", {"shape": [4]}, "other").id
    doc.connect(Edge(other, "out", fc, "in"))
    problem = only(doc, "extra_wire")
    assert problem.message == "Linear 'fc': its input receives 2 wires but takes one"
    assert problem.node_ids == (fc, x, other)
    assert "merge them with Add or Concat" in problem.hint


def test_wire_into_a_port_that_was_removed():
    doc = chain_doc()
    x = next(iter(doc.nodes))
    add = doc.add_node("Add", {"inputs": 3}, "sum").id
    for _ in range(3):
        wire(doc, x, add)
    doc.set_param(add, "inputs", 2)
    problem = only(doc, "extra_wire")
    assert problem.message == "Add 'sum': a wire goes into input 'in3', which it no longer has"


def test_node_leading_nowhere_is_a_warning():
    doc = chain_doc(("Linear", {"out_features": 2}))
    fc = list(doc.nodes)[1]
    dead = doc.add_node("ReLU", {}, "dead").id
    wire(doc, fc, dead)
    problem = only(doc, "unreachable")
    assert problem.severity == "warning" and not problem.is_error
    assert problem.message == "ReLU 'dead' does not lead to any Output, so its result is unused"
    assert graph.analyze(doc).ok  # warnings do not stop compilation


def test_parameter_out_of_range():
    doc = chain_doc(("Linear", {"out_features": 0}, "fc"), ("Dropout", {"p": 1.5}, "drop"))
    problems = [p for p in graph.validate(doc) if p.kind == "param"]
    assert [p.message for p in problems] == [
        ("Linear 'fc': Received an invalid value for `out_features`, expected an integer "
        ">= 1. Received: out_features=0"),
        ("Dropout 'drop': Received an invalid value for `p`, expected a number from 0 up "
        "to (not including) 1. Received: p=1.5"),
    ]
    assert all(p.hint == "fix the value in the inspector" for p in problems)


# ---------------------------------------------------------------------- shapes
def test_add_with_different_channel_counts():
    doc, add = residual_block(64, 32)
    problem = only(doc, "shape")
    assert problem.message == ("Add 'skip1' received (N, 64, 14, 14) and (N, 32, 14, 14): "
                               "channel counts differ")
    assert problem.node_ids == (add,)
    assert problem.hint == "insert a 1x1 Conv2d on one branch to match channels"


def test_linear_needs_a_flat_input():
    doc = chain_doc(("Conv2d", {"out_channels": 16}), ("MaxPool2d", {}),
                    ("MaxPool2d", {}), ("Linear", {"out_features": 10}, "fc"),
                    shape=(1, 28, 28))
    problem = only(doc, "shape")
    assert problem.message == "Linear 'fc' needs a flat input but receives (N, 16, 7, 7)"
    assert problem.hint.startswith("insert a Flatten")
    assert problem.describe(doc) == (
        "node 'fc' (Linear): error: Linear 'fc' needs a flat input but receives "
        "(N, 16, 7, 7) (insert a Flatten before it)")


@pytest.mark.parametrize(("steps", "shape", "dtype", "message", "hint"), [
    ([("Conv2d", {}, "conv")], (784,), "float",
     "Conv2d 'conv' needs input shaped (N, channels, height, width) but receives (N, 784)",
     "insert a Reshape to an image shape first"),
    ([("Conv2d", {}, "conv")], (28, 28), "float",
     ("Conv2d 'conv' needs input shaped (N, channels, height, width) but receives "
     "(N, 28, 28)"), "insert a Reshape that adds a channel dimension"),
    ([("Conv2d", {"kernel_size": [5, 5], "padding": [0, 0]}, "conv")], (1, 3, 3), "float",
     ("Conv2d 'conv' receives a 3 x 3 input, smaller than its kernel 5 x 5 (with padding "
     "0 x 0)"), "use a smaller kernel, add padding, or downsample less before this layer"),
    ([("Linear", {}, "fc")], (10,), "long",
     "Linear 'fc' receives integer token ids (N, 10)",
     "insert an Embedding to turn token ids into vectors"),
    ([("Embedding", {}, "embed")], (10,), "float",
     "Embedding 'embed' needs integer token ids but receives float values (N, 10)",
     "set the Input's dtype to long"),
    ([("Reshape", {"shape": [3, 3]}, "r")], (10,), "float",
     ("Reshape (Unflatten) 'r' cannot reshape (N, 10) to (N, 3, 3): 10 values per example "
     "do not fill 9"), "make the product of the target shape equal the incoming size"),
    ([("SelfAttention", {"num_heads": 3}, "att")], (5, 8), "float",
     ("Multi-head self-attention 'att' splits 8 features into 3 heads, which does not "
     "divide evenly"), "choose a number of heads that divides 8"),
    ([("LSTM", {}, "lstm")], (12,), "float",
     "LSTM 'lstm' needs input shaped (N, length, features) but receives (N, 12)",
     "insert a Reshape to (length, features)"),
])
def test_shape_mismatches_speak_the_layers_language(steps, shape, dtype, message, hint):
    doc = chain_doc(*steps, shape=shape, dtype=dtype)
    problem = only(doc, "shape")
    assert (problem.message, problem.hint) == (message, hint)


def test_output_task_checks_its_input():
    doc = chain_doc(("Linear", {"out_features": 1}), task="classification")
    output = next(n.id for n in doc.nodes.values() if n.type == "Output")
    problem = only(doc, "shape")
    assert problem.message == ("Output 'output' (classification) needs at least 2 class "
                               "scores but receives (N, 1)")
    doc.set_param(output, "task", "binary")
    assert graph.validate(doc) == []


def test_concat_mismatch_names_the_dimension():
    doc = Document()
    a = doc.add_node("Input", {"shape": [3, 8, 8]}, "a").id
    b = doc.add_node("Input", {"shape": [5, 8, 9]}, "b").id
    cat = doc.add_node("Concat", {"dim": 1}, "join").id
    wire(doc, a, cat)
    wire(doc, b, cat)
    wire(doc, cat, doc.add_node("Output", {"task": "regression"}).id)
    assert only(doc, "shape").message == (
        "Concat 'join' joins along dimension 1 but received (N, 3, 8, 8) and (N, 5, 8, 9): "
        "widths differ")


def test_a_mismatch_does_not_cascade_downstream():
    doc = chain_doc(("Conv2d", {}, "conv"), ("ReLU", {}, "act"), ("Linear", {}, "fc"),
                    shape=(16,))
    problems = graph.validate(doc)
    assert [p.kind for p in problems] == ["shape"]
    shapes = graph.infer_shapes(doc)
    act = next(i for i, n in doc.nodes.items() if n.label == "act")
    assert shapes[act].outputs == {} and shapes[act].error is None


def test_shapes_on_every_wire():
    doc, add = residual_block(16, 16)
    analysis = graph.analyze(doc)
    tensors = {str(analysis.edge_tensor(e)) for e in doc.edges}
    assert "(N, 16, 14, 14)" in tensors and "(N, 8, 28, 28)" in tensors
    assert analysis.shapes[add].values == {}
    conv = next(i for i, n in doc.nodes.items() if n.label == "branch_a")
    assert analysis.shapes[conv].values == {"in_channels": 8}
    assert str(analysis.shapes[conv].outputs["out"]) == "(N, 16, 28, 28)"
    assert analysis.shapes[conv].outputs["out"].wire_label() == "N \u00d7 16 \u00d7 28 \u00d7 28"


# ---------------------------------------------------------------------- together
def test_all_problems_are_reported_at_once():
    doc, _ = residual_block(64, 32)  # shape mismatch
    doc.add_node("Linear", {"out_features": 0}, "bad_fc")  # param + unconnected
    dead = doc.add_node("ReLU", {}, "dead").id  # warning
    wire(doc, next(iter(doc.nodes)), dead)
    extra = doc.add_node("Input", {"shape": [2]}, "extra").id
    flatten = next(i for i, n in doc.nodes.items() if n.type == "Flatten")
    doc.connect(Edge(extra, "out", flatten, "in"))  # second wire into a single port
    kinds = sorted(p.kind for p in graph.validate(doc))
    # bad_fc and dead lead nowhere; extra reaches the Output through Flatten.
    assert kinds == sorted(["param", "unconnected", "extra_wire", "unreachable",
                            "unreachable", "shape"])
    errors = graph.analyze(doc).errors
    with pytest.raises(graph.GraphError) as e:
        graph.generate_code(doc)
    assert e.value.problems == graph.validate(doc)
    assert str(e.value).count("\n") == len(errors)


def test_persistent_analyzer_matches_fresh_analysis_after_edits():
    doc, add = residual_block(16, 16)
    analyzer = Analyzer()
    first = analyzer.analyze(doc)
    conv = next(i for i, n in doc.nodes.items() if n.label == "branch_a")
    for value, expect_ok in ((32, False), (16, True), (0, False), (16, True)):
        doc.set_param(conv, "out_channels", value)
        incremental, fresh = analyzer.analyze(doc), graph.analyze(doc)
        assert incremental.problems == fresh.problems
        assert _plain(incremental.shapes) == _plain(fresh.shapes)
        assert incremental.ok is expect_ok
    doc.set_label(add, "renamed")
    doc.set_param(conv, "out_channels", 8)
    assert "Add 'renamed' received" in analyzer.analyze(doc).errors[0].message
    assert first.shapes[conv].outputs["out"].shape == ("N", 16, 28, 28)


def test_parameter_edits_are_applied_incrementally():
    doc = chain_doc(*[("Linear", {"out_features": 8}, f"fc{i}") for i in range(6)])
    analyzer = Analyzer()
    analyzer.analyze(doc)
    before = analyzer.analyze(doc)  # the second analysis starts following the document
    fc2 = next(i for i, n in doc.nodes.items() if n.label == "fc2")
    doc.set_param(fc2, "out_features", 5)
    after = analyzer.analyze(doc)
    changed = {n for n in doc.nodes if after.shapes[n] is not before.shapes[n]}
    fc3 = next(i for i, n in doc.nodes.items() if n.label == "fc3")
    # Only the edited layer and the one reading it run again: fc3 still makes 8.
    assert changed == {fc2, fc3}
    assert after.shapes[fc3].values == {"in_features": 5}
    assert _plain(after.shapes) == _plain(graph.analyze(doc).shapes)
    doc.set_label(fc3, "renamed")  # anything but a parameter: a full pass
    relabelled = analyzer.analyze(doc)
    assert all(relabelled.shapes[n] is not after.shapes[n] for n in doc.nodes)


def test_analysing_from_inside_an_event_stays_correct():
    """The studio may analyse while the document is still announcing an edit."""
    doc = chain_doc(*[("Linear", {"out_features": 8}, f"fc{i}") for i in range(4)])
    analyzer = Analyzer()
    seen = []
    doc.subscribe(lambda _event: seen.append(analyzer.analyze(doc)))
    analyzer.analyze(doc)
    analyzer.analyze(doc)
    fc1 = next(i for i, n in doc.nodes.items() if n.label == "fc1")
    for value in (3, 0, 5, 8):
        doc.set_param(fc1, "out_features", value)
        assert seen[-1].problems == graph.analyze(doc).problems
        assert _plain(analyzer.analyze(doc).shapes) == _plain(graph.analyze(doc).shapes)


def test_one_off_analyses_leave_no_listener():
    doc = chain_doc("ReLU")
    listeners = len(doc._listeners)
    for _ in range(3):
        graph.validate(doc)
    assert len(doc._listeners) == listeners
    analyzer = Analyzer()
    for _ in range(3):
        analyzer.analyze(doc)
    assert len(doc._listeners) == listeners + 1
    del analyzer
    import gc

    gc.collect()
    assert len(doc._listeners) == listeners


def _plain(shapes):
    return {k: (v.inputs, v.outputs, v.values, v.params, v.error and v.error.message)
            for k, v in shapes.items()}


def test_analysis_graph_is_a_multidigraph():
    doc = chain_doc("ReLU")
    x = next(iter(doc.nodes))
    add = doc.add_node("Add").id
    wire(doc, x, add)
    wire(doc, x, add)
    g = graph.analyze(doc).graph
    assert g.is_multigraph() and g.number_of_edges(x, add) == 2
    assert {d["target_port"] for _, _, d in g.out_edges(x, data=True)} >= {"in1", "in2"}
