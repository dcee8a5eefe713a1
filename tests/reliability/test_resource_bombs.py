"""Networks whose sizes would take hours or terabytes: refused, or counted without
allocating, in bounded time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from reliability_helpers import bounded, chain

import graph
from graph.memory import MemoryLimitError, check_fits, estimate, param_counts
from graph.summary import summarize

LAYERS = [
    ("Linear", {"out_features": 7}, [5]),
    ("Linear", {"out_features": 7, "bias": False}, [2, 5]),
    ("Conv1d", {"out_channels": 6, "kernel_size": [3]}, [4, 10]),
    ("Conv2d", {"out_channels": 6, "groups": 2, "kernel_size": [3, 2]}, [4, 8, 8]),
    ("Conv2d", {"out_channels": 4, "bias": False}, [3, 8, 8]),
    ("ConvTranspose2d", {"out_channels": 5}, [3, 4, 4]),
    ("BatchNorm1d", {}, [6]),
    ("BatchNorm2d", {}, [3, 4, 4]),
    ("LayerNorm", {}, [2, 9]),
    ("LSTM", {"hidden_size": 5, "num_layers": 3}, [4, 6]),
    ("LSTM", {"hidden_size": 5, "num_layers": 2, "bidirectional": True}, [4, 6]),
    ("GRU", {"hidden_size": 3, "num_layers": 2, "bidirectional": True,
             "output": "sequence"}, [4, 6]),
    ("SelfAttention", {"num_heads": 2}, [3, 8]),
    ("TransformerEncoderLayer", {"nhead": 2, "dim_feedforward": 10}, [3, 8]),
    ("PositionalEmbedding", {"max_len": 11}, [3, 8]),
]


@pytest.mark.parametrize("type_name, params, shape", LAYERS,
                         ids=[f"{t}-{i}" for i, (t, _, _) in enumerate(LAYERS)])
def test_catalog_counts_equal_the_module_torch_builds(type_name, params, shape):
    doc = chain([(type_name, params)], shape)
    analysis = graph.analyze(doc)
    assert analysis.ok, [p.message for p in analysis.problems]
    compiled = graph.compile_network(doc, analysis, device="meta")
    node_id = next(n for n in doc.nodes if doc.nodes[n].type == type_name)
    module = compiled.submodule(node_id)
    assert param_counts(analysis)[node_id] == sum(p.numel() for p in module.parameters())


def test_embedding_count():
    doc = chain([("Embedding", {"num_embeddings": 13, "embedding_dim": 3})], [5],
                dtype="long")
    analysis = graph.analyze(doc)
    assert analysis.ok
    assert sum(param_counts(analysis).values()) == 39


def _file_with(tmp_path, layer: dict) -> str:
    """A tiny network file, as a hostile sender would write it by hand."""
    doc = chain([("LSTM", {"hidden_size": 8})], [4, 6])
    data = graph.fileformat.document_to_dict(doc)
    node = next(n for n in data["nodes"] if n["type"] == "LSTM")
    node["params"].update(layer)
    path = tmp_path / "bomb.strata"
    path.write_text(json.dumps(data))
    return str(path)


def test_a_million_recurrent_layers_is_refused_by_check_summary_and_compile(tmp_path,
                                                                           capsys):
    from graph.cli import main

    path = _file_with(tmp_path, {"num_layers": 10**6})
    assert len(Path(path).read_text()) < 2000
    with bounded(20, 50):
        assert main(["check", path]) == 1
        assert main(["summary", path]) == 1
        doc = graph.load(path)
        with pytest.raises(graph.GraphError, match="num_layers.*from 1 to 64"):
            graph.compile(doc)
    out = capsys.readouterr().out
    assert "num_layers" in out and "from 1 to 64" in out


def test_sixty_four_recurrent_layers_summarise_quickly():
    doc = chain([("LSTM", {"hidden_size": 8, "num_layers": 64})], [4, 6])
    with bounded(5):
        summary = summarize(doc)
    assert summary.total_params == sum(param_counts(graph.analyze(doc)).values()) > 0


def test_a_terabyte_layer_is_refused_before_allocation_naming_it():
    doc = chain([("Linear", {"out_features": 2**30, "bias": False}),
                 ("Linear", {"out_features": 2})], [2**10])
    doc.nodes[list(doc.nodes)[1]].label = "huge"
    with bounded(10, 50):
        summary = summarize(doc)  # counted, not built
        with pytest.raises(MemoryLimitError) as refused:
            graph.compile(doc)
    assert summary.total_params == 2**40 + 2**31 + 2
    message = str(refused.value)
    assert "Linear 'huge'" in message and "1,099,511,627,776 parameters" in message
    assert "4.0 TB" in message
    assert refused.value.node_id == list(doc.nodes)[1]


def test_training_memory_counts_the_batch():
    doc = chain([("Linear", {"out_features": 1000})], [1000])
    analysis = graph.analyze(doc)
    found = estimate(analysis)
    assert found.params == 1_001_000 and found.activations_per_example == 2000
    check_fits(analysis, 100 * 2**20, batch_size=32)
    with pytest.raises(MemoryLimitError, match="batch size of 100000"):
        check_fits(analysis, 100 * 2**20, batch_size=100_000)
    assert torch.get_num_threads() >= 1


def test_strata_train_refuses_a_huge_layer_by_name(tmp_path, capsys):
    """Not "lower the batch size": the layer and its size, before allocating."""
    from runtime.cli import main

    doc = chain([("Linear", {"out_features": 2**31 - 1}), ("Linear", {"out_features": 2})],
                [2], task="classification")
    doc.nodes[list(doc.nodes)[1]].label = "wide"
    doc.training = {"dataset": {"name": "spirals"}, "epochs": 1}
    path = graph.save(doc, tmp_path / "huge.strata")
    with bounded(60, 200):
        code = main(["train", str(path), "--out", str(tmp_path / "run")])
    out = capsys.readouterr()
    text = out.out + out.err
    assert code != 0
    assert "Linear 'wide'" in text and " GB" in text, text
    assert "batch size (try" not in text
