"""The fix catalogue (``graph.fixes``) through the controller: each fix removes its
problem, is one undo step, undo restores the document exactly, and the controller's edit
equals the headless one (``graph.edits.apply_edits``, what ``strata check --fix``
does). Problems without an obvious fix get none."""

from __future__ import annotations

import pytest
from strata_paths import EXAMPLES

from graph.builder import Builder
from graph.edits import apply_edits
from graph.fixes import fix_for
from studio.document.controller import DocumentController


def open_doc(qapp, doc):
    c = DocumentController()
    c.set_document(doc)
    return c


def problem_of(c, kind, node_id=None):
    found = [p for p in c.analysis.problems
             if p.kind == kind and (node_id is None or p.node_ids[:1] == (node_id,))]
    assert found, [p.message for p in c.analysis.problems]
    return found[0]


def apply_and_check(c, problem):
    """Apply the fix of ``problem``: one undo step that leaves the network valid, and
    whose undo/redo round-trips the document."""
    fix = fix_for(problem, c.document, c.analysis)
    assert fix is not None, problem.message
    before = c.document.to_dict()
    headless = c.document.copy()  # the same edits without Qt (strata check --fix)
    apply_edits(headless, fix.edits)
    count = c.undo_stack.count()
    c.apply_fix(fix)
    c.analyze_now()
    assert c.undo_stack.count() == count + 1
    assert c.undo_stack.undoText() == fix.title
    assert problem not in c.analysis.problems
    after = c.document.to_dict()
    assert headless.to_dict() == after
    c.undo_stack.undo()
    assert c.document.to_dict() == before
    c.undo_stack.redo()
    assert c.document.to_dict() == after
    c.analyze_now()
    return fix


def test_flatten_before_a_linear_that_receives_an_image(qapp):
    b = Builder("cnn")
    x = b.add("Input", shape=[1, 28, 28])
    conv = b.chain(x, ("Conv2d", {"out_channels": 4}, "conv"), ("MaxPool2d", {}, "pool"))
    fc = b.chain(conv, ("Linear", {"out_features": 3}, "fc"))
    b.chain(fc, "Output")
    c = open_doc(qapp, b.done())
    fix = apply_and_check(c, problem_of(c, "shape", fc))
    assert fix.title == "Insert a Flatten before 'fc'"
    assert c.analysis.ok
    (edge,) = c.document.edges_into(fc)
    assert c.document.nodes[edge.source].type == "Flatten"
    assert c.analysis.shapes[fc].values["in_features"] == 4 * 14 * 14


def broken_residual(qapp, out_channels=32):
    c = DocumentController()
    c.open(EXAMPLES / "residual_cnn.strata")
    conv = c.document.find_label("block2_conv2").id
    c.set_param(conv, "out_channels", out_channels)
    c.analyze_now()
    return c


def test_1x1_conv_matches_channels_before_an_add(qapp):
    c = broken_residual(qapp)
    add = c.document.find_label("skip2").id
    fix = apply_and_check(c, problem_of(c, "shape", add))
    assert "1x1 Conv2d" in fix.title and "32 channels" in fix.title
    assert c.analysis.ok, [p.message for p in c.analysis.problems]
    # The shortcut (the shallower branch) gets the projection; the block keeps its own.
    sources = {e.target_port: c.document.nodes[e.source] for e in c.document.edges_into(add)}
    projection = [n for n in sources.values() if n.type == "Conv2d"
                  and n.params["kernel_size"] == [1, 1]]
    assert len(projection) == 1
    assert projection[0].params["out_channels"] == 32
    (into,) = c.document.edges_into(projection[0].id)
    assert c.document.nodes[into.source].label == "pool"


def test_strided_shortcut_when_maps_and_channels_differ(qapp):
    b = Builder("downsampling block")
    x = b.add("Input", shape=[3, 16, 16])
    stem = b.chain(x, ("Conv2d", {"out_channels": 8}, "stem"))
    body = b.chain(stem, ("Conv2d", {"out_channels": 16, "stride": [2, 2]}, "down"))
    add = b.add("Add", "skip")
    b.wire(body, add)
    b.wire(stem, add)
    b.chain(add, "Flatten", ("Linear", {"out_features": 2}), "Output")
    c = open_doc(qapp, b.done())
    apply_and_check(c, problem_of(c, "shape", add))
    assert c.analysis.ok
    shortcut = next(n for n in c.document.nodes.values()
                    if n.type == "Conv2d" and n.params["kernel_size"] == [1, 1])
    assert shortcut.params["stride"] == [2, 2]
    assert shortcut.params["out_channels"] == 16


def test_linear_matches_features_before_an_add(qapp):
    b = Builder("mlp with skip")
    x = b.add("Input", shape=[4])
    fc = b.chain(x, ("Linear", {"out_features": 8}, "fc"))
    add = b.add("Add", "add")
    b.wire(fc, add)
    b.wire(x, add)
    b.chain(add, ("Linear", {"out_features": 2}), "Output")
    c = open_doc(qapp, b.done())
    fix = apply_and_check(c, problem_of(c, "shape", add))
    assert "a Linear" in fix.title and "8 features" in fix.title
    assert c.analysis.ok


def test_embedding_when_a_float_layer_receives_token_ids(qapp):
    b = Builder("text")
    x = b.add("Input", shape=[16], dtype="long")
    lstm = b.chain(x, ("LSTM", {"hidden_size": 8}, "lstm"))
    b.chain(lstm, ("Linear", {"out_features": 2}), "Output")
    doc = b.done({"dataset": {"name": "tokens_majority", "vocab": 50}})
    c = open_doc(qapp, doc)
    fix = apply_and_check(c, problem_of(c, "shape", lstm))
    assert fix.title == "Insert an Embedding before 'lstm'"
    embed = next(n for n in c.document.nodes.values() if n.type == "Embedding")
    assert embed.params["num_embeddings"] == 50  # the dataset's vocabulary
    assert c.analysis.ok


def test_reshape_adds_the_missing_dimension(qapp):
    b = Builder("signal")
    x = b.add("Input", shape=[20])
    conv = b.chain(x, ("Conv1d", {"out_channels": 4}, "conv"))
    b.chain(conv, "Flatten", ("Linear", {"out_features": 2}), "Output")
    c = open_doc(qapp, b.done())
    fix = apply_and_check(c, problem_of(c, "shape", conv))
    assert fix.title == "Insert a Reshape to (N, 1, 20) before 'conv'"

    b = Builder("sequence")
    x = b.add("Input", shape=[12])
    lstm = b.chain(x, ("LSTM", {"hidden_size": 8}, "lstm"))
    b.chain(lstm, ("Linear", {"out_features": 2}), "Output")
    c = open_doc(qapp, b.done())
    fix = apply_and_check(c, problem_of(c, "shape", lstm))
    assert fix.title == "Insert a Reshape to (N, 12, 1) before 'lstm'"


def test_single_switch_that_fixes_a_layer(qapp):
    b = Builder("seq")
    x = b.add("Input", shape=[12, 3])
    lstm = b.chain(x, ("LSTM", {"hidden_size": 8, "batch_first": False}, "lstm"))
    b.chain(lstm, ("Linear", {"out_features": 2}), "Output")
    c = open_doc(qapp, b.done())
    fix = apply_and_check(c, problem_of(c, "shape", lstm))
    assert fix.title == "Set batch_first = true on 'lstm'"
    assert c.document.nodes[lstm].params["batch_first"] is True


def test_bad_parameter_is_reset_to_its_default(qapp):
    b = Builder("mlp")
    x = b.add("Input", shape=[2])
    fc = b.chain(x, ("Linear", {"out_features": 4}, "fc"))
    b.chain(fc, "Output")
    doc = b.done()
    doc.set_param(fc, "out_features", -3)  # as a hand-edited file might hold
    c = open_doc(qapp, doc)
    fix = apply_and_check(c, problem_of(c, "param", fc))
    assert "out_features" in fix.title and "64" in fix.title
    assert c.document.nodes[fc].params["out_features"] == 64


def test_missing_output_is_added_after_the_last_layer(qapp):
    for width, task in ((3, "classification"), (1, "binary")):
        b = Builder("no output")
        x = b.add("Input", shape=[2])
        last = b.chain(x, ("Linear", {"out_features": width}, "head"))
        c = open_doc(qapp, b.done())
        fix = apply_and_check(c, problem_of(c, "no_output"))
        assert fix.title == "Add an Output after 'head'"
        assert c.analysis.ok
        out = next(n for n in c.document.nodes.values() if n.type == "Output")
        assert out.params["task"] == task
        assert c.document.edges_into(out.id)[0].source == last


def test_unconnected_output_gets_the_only_loose_end(qapp):
    b = Builder("loose")
    x = b.add("Input", shape=[2])
    b.chain(x, ("Linear", {"out_features": 2}, "head"))
    out = b.add("Output")
    c = open_doc(qapp, b.done())
    fix = apply_and_check(c, problem_of(c, "unconnected", out))
    assert fix.title == "Connect 'head' to 'output'"
    assert c.analysis.ok


@pytest.mark.parametrize("case", ["heads", "classes", "cycle", "two_loose_ends"])
def test_no_fix_where_none_is_obvious(qapp, case):
    b = Builder(case)
    x = b.add("Input", shape=[10, 6])
    if case == "heads":  # 6 features into 4 heads: which count is meant?
        h = b.chain(x, ("SelfAttention", {"num_heads": 4}), ("Mean", {}))
        b.chain(h, ("Linear", {"out_features": 2}), "Output")
        kind = "shape"
    elif case == "classes":  # one class score: the user must choose the task or width
        b.chain(x, ("Mean", {}), ("Linear", {"out_features": 1}), "Output")
        kind = "shape"
    elif case == "cycle":
        a = b.chain(x, ("Linear", {"out_features": 6}, "a"))
        m = b.add("Add", "m")
        b.wire(a, m)
        z = b.chain(m, ("Linear", {"out_features": 6}, "z"))
        b.wire(z, m)
        b.chain(z, "Output")
        kind = "cycle"
    else:
        b.chain(x, ("Linear", {"out_features": 2}))
        b.chain(x, ("Linear", {"out_features": 3}))
        kind = "no_output"
    c = open_doc(qapp, b.done())
    problem = problem_of(c, kind)
    assert fix_for(problem, c.document, c.analysis) is None
