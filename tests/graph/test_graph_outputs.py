"""``graph.outputs``: the one answer to "which Output node does training fit, and what
does it predict" (the engine, the dataset check, evaluation, train.py and sweeps ask it)."""

from __future__ import annotations

import pytest
from graph_helpers import EXAMPLES, chain_doc, wire

import graph
from graph.outputs import (
    OutputCountError,
    head_linear,
    output_ids,
    output_task,
    trained_output,
)


def test_the_one_output_its_task_and_what_it_receives():
    doc = chain_doc(("Linear", {"out_features": 3}, "fc"), shape=(4,),
                    task="classification")
    out = trained_output(graph.analyze(doc))
    assert doc.nodes[out.node_id].type == "Output"
    assert (out.task, out.features, out.width) == ("classification", (3,), 3)


def test_regression_and_the_example_networks():
    doc = chain_doc(("Linear", {"out_features": 2}), shape=(4,), task="regression")
    assert trained_output(graph.analyze(doc)).task == "regression"
    for path in EXAMPLES:
        analysis = graph.analyze(graph.load(path))
        assert trained_output(analysis).node_id == graph.generate_code(
            analysis.doc, analysis).outputs[0]


def test_several_outputs_in_return_order_and_a_refusal():
    doc = chain_doc(("Linear", {"out_features": 3}, "fc"), shape=(4,))
    fc = next(i for i, n in doc.nodes.items() if n.label == "fc")
    second = doc.add_node("Output", {"task": "regression"}).id
    wire(doc, fc, second)
    analysis = graph.analyze(doc)
    assert output_ids(analysis) == graph.generate_code(doc, analysis).outputs
    assert output_task(analysis, second) == "regression"
    with pytest.raises(OutputCountError, match="has 2 Outputs; training needs exactly one"):
        trained_output(analysis)


def test_no_output_is_refused_too():
    doc = graph.Document("No output")
    doc.add_node("Input", {"shape": [4]})
    with pytest.raises(OutputCountError) as caught:
        trained_output(graph.analyze(doc))
    assert caught.value.count == 0 and "has 0 Outputs" in str(caught.value)


def test_an_analysis_of_an_earlier_revision_skips_deleted_nodes():
    doc = chain_doc(("Linear", {"out_features": 2}), shape=(4,), task="regression")
    analysis = graph.analyze(doc)
    (out,) = output_ids(analysis)
    doc.remove_node(out)  # views may hold this analysis until the next analysis
    assert output_ids(analysis) == []


def test_the_head_linear_is_found_through_layers_that_keep_the_feature_count():
    doc = chain_doc(("Linear", {"out_features": 8}, "hidden"), ("ReLU", {}),
                    ("Linear", {"out_features": 3}, "head"), ("Dropout", {"p": 0.2}),
                    ("Softmax", {}), shape=(4,))
    out = next(i for i, n in doc.nodes.items() if n.type == "Output")
    assert doc.nodes[head_linear(doc, out)].label == "head"
    # A layer that changes the features between them: no head to fix.
    reshaped = chain_doc(("Linear", {"out_features": 6}), ("Unflatten", {"dim": 1,
                         "unflattened_size": [2, 3]}), shape=(4,), task="regression")
    out = next(i for i, n in reshaped.nodes.items() if n.type == "Output")
    assert head_linear(reshaped, out) is None
