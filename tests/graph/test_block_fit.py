"""``fit_values``: which exposed parameters a block takes from the tensor it receives."""

from __future__ import annotations

import graph
from graph.block_insert import fit_values
from graph.block_library import builtin, builtin_document
from graph.blocks import ExposedParam
from graph.builder import Builder
from graph.catalog.tensors import TensorInfo


def _encoder_doc():
    """A residual MLP block over sequences (width 32) nested in a stage block."""
    b = Builder("Net")
    x = b.add("Input", shape=[5, 32])
    h = b.chain(x, ("LayerNorm", {}, "norm"), ("Linear", {"out_features": 64}, "fc1"),
                ("GELU", {}, "act"), ("Linear", {"out_features": 32}, "fc2"))
    add = b.add("Add", "add")
    b.wire(h, add)
    b.wire(x, add)
    b.chain(add, "Output")
    doc = b.done()
    ids = [n.id for n in doc.nodes.values() if n.type not in ("Input", "Output")]
    inner = doc.group(ids, "Residual").result["instance"]
    body = doc.blocks["Residual"].body
    fc1, fc2 = (next(n.id for n in body.nodes.values() if n.label == label)
                for label in ("fc1", "fc2"))
    doc.set_exposed("Residual", [ExposedParam("hidden", 64, [(fc1, "out_features")]),
                                 ExposedParam("dim", 32, [(fc2, "out_features")])])
    stage = doc.group([inner], "Stage").result["instance"]
    # The stage exposes the inner block's width as its own.
    sbody = doc.blocks["Stage"].body
    doc.set_exposed("Stage", [ExposedParam("width", 32, [(inner, "dim")])])
    del stage, sbody
    return doc


def test_a_block_that_takes_the_tensor_is_left_alone():
    doc = _encoder_doc()
    assert fit_values(doc, "Residual", TensorInfo(("N", 5, 32))) == {}


def test_the_width_parameter_follows_the_features_even_through_a_nested_block():
    doc = _encoder_doc()
    assert fit_values(doc, "Residual", TensorInfo(("N", 5, 48))) == {"dim": 48}
    # Through the nested instance: Stage.width sets Residual.dim, which sets fc2.
    assert fit_values(doc, "Stage", TensorInfo(("N", 5, 48))) == {"width": 48}
    # Nothing fits a tensor the block cannot take at all: left for validation to say.
    assert fit_values(doc, "Residual", TensorInfo(("N", 3, 8, 8))) == {}


def test_builtins_use_their_declared_axis():
    se = builtin("SqueezeExcitation")
    assert fit_values(builtin_document(se.name), se.name, TensorInfo(("N", 24, 7, 7)),
                      se.fit) == {"channels": 24}
    # And an undeclared one is fitted by trying.
    down = "BasicBlock"
    doc = builtin_document(down)
    values = fit_values(doc, down, TensorInfo(("N", 40, 7, 7)))
    assert values == {"channels": 40}
    run = doc.blocks.run(doc.blocks[down], values, (TensorInfo(("N", 40, 7, 7)),))
    assert run.error is None
    assert graph  # the package imports (fit_values is headless)
