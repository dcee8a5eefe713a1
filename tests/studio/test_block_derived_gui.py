"""The inverted residual in the studio: its instance's inspector edits expand_ratio, and
inside the block the widths it derives show how they are computed."""

from __future__ import annotations

import graph


def test_inverted_residual_shows_its_ratio_and_derived_width(make_window, qtbot):
    window = make_window("resources/examples/shapes_cnn.strata")
    c = window.controller
    relu = next(n.id for n in c.document.nodes.values() if n.label == "relu")  # 8 channels
    c.select([relu])
    new = window.block_library.insert("builtin:InvertedResidual")
    assert c.document.nodes[new].params["channels"] == 8
    form = window.inspector.form
    assert form is not None and form.node_id == new
    editor = form.editors["expand_ratio"]
    assert editor.value == 6
    editor.committed.emit(4)  # as when the user types 4 and presses Enter
    assert c.document.nodes[new].params["expand_ratio"] == 4
    (run,) = graph.analyze(c.document).shapes[new].values["runs"]
    assert run.derived == {"hidden_channels": 32}

    assert window.levels.open_block(new)
    inner = window.levels.current
    expand = next(n.id for n in inner.document.nodes.values() if n.label == "expand")
    inner.select([expand])
    form = window.inspector.form
    bound = form.bound["out_channels"]
    assert bound.text() == "= hidden_channels"
    texts = [w.text() for w in bound.findChildren(type(bound.value))]
    assert "(= channels * expand_ratio)" in texts
    inner.select([])
    page = window.inspector.block
    assert "hidden_channels</b> = channels * expand_ratio" in page.params.text()


def test_an_open_block_shows_the_instance_it_was_opened_from(make_window, qtbot):
    """A block fitted to 8 channels (its body says 16) shows no error inside, and its
    inner layers have this instance's shapes; an edit inside follows."""
    window = make_window("resources/examples/shapes_cnn.strata")
    c = window.controller
    relu = next(n.id for n in c.document.nodes.values() if n.label == "relu")
    c.select([relu])
    new = window.block_library.insert("builtin:BasicBlock")
    assert c.document.nodes[new].params["channels"] == 8
    body = c.document.blocks["BasicBlock"].body
    conv1 = next(n for n in body.nodes.values() if n.label == "conv1")
    assert conv1.params["out_channels"] == 16  # the body's own default
    c.analyze_now()
    assert window.levels.open_block(new)
    inner = window.levels.current
    analysis = inner.analyze_now()
    assert analysis.doc is body and analysis.errors == []
    assert analysis.shapes[conv1.id].outputs["out"].shape[1] == 8
    # An edit inside: the instance's values still apply.
    old = inner.analysis
    inner.set_param(conv1.id, "padding", [2, 2])
    inner.set_param(conv1.id, "kernel_size", [5, 5])
    qtbot.waitUntil(lambda: inner.analysis is not old)
    inner.analyze_now()
    assert inner.analysis.errors == []
    assert inner.analysis.shapes[conv1.id].outputs["out"].shape[1] == 8
