"""Classic architectures, written as the model zoos write them, import into Strata: the
document checks clean, exports, and the exported module loaded with the original's
weights gives the original's outputs (eval mode, non-default BatchNorm statistics)."""

from __future__ import annotations

import pytest
import torch
from transfer_helpers import max_difference, run
from zoo_models import ZOO, randomise_batchnorm

import graph
from graph.importers import build_module, import_module
from runtime.transfer.python import write_python


def _inputs(shapes, dtypes, seed: int = 3):
    g = torch.Generator().manual_seed(seed)
    out = []
    for shape, dtype in zip(shapes, dtypes):
        if dtype == "long":
            out.append(torch.randint(0, 10, (3, *shape[1:]), generator=g))
        else:
            out.append(torch.randn((3, *shape[1:]), generator=g))
    return out


@pytest.mark.parametrize("name", sorted(ZOO))
def test_zoo_architecture_imports_exports_and_gives_equal_outputs(tmp_path, name):
    make, shapes, _dtypes, task = ZOO[name]
    torch.manual_seed(0)
    original = make()
    randomise_batchnorm(original)
    result = import_module(original, shapes, tasks=task)  # dtypes inferred
    doc = result.document
    assert graph.validate(doc) == [], name

    path = write_python(doc, tmp_path / f"{name}.py")
    exported = build_module(path, graph.generate_code(doc).class_name)
    exported.load_state_dict(result.state_dict, strict=True)
    dtypes = [doc.nodes[i].params["dtype"] for i in graph.generate_code(doc).inputs]
    x = _inputs(shapes, dtypes)
    assert max_difference(run(original, x), run(exported, x)) <= 1e-5


def test_token_inputs_are_inferred_from_the_embedding_that_reads_them():
    make, shapes, _dtypes, task = ZOO["lstm_tagger"]
    result = import_module(make(), shapes, tasks=task)
    (node,) = [n for n in result.document.nodes.values() if n.type == "Input"]
    assert node.params["dtype"] == "long"
    (embed,) = [n for n in result.document.nodes.values() if n.type == "Embedding"]
    assert embed.params["padding_idx"] == 0


def test_forward_that_asserts_on_a_length_is_traced_with_the_example_sizes():
    make, shapes, _dtypes, task = ZOO["gpt"]
    result = import_module(make(), shapes, tasks=task)
    assert any("traced with the example's sizes" in n for n in result.notes)
    doc = result.document  # the GPT blocks arrive as blocks: look inside them too
    bodies = [doc, *(d.body for d in doc.blocks)]
    attention = [n for b in bodies for n in b.nodes.values() if n.type == "SelfAttention"]
    assert attention and all(n.params["causal"] for n in attention)
    net = graph.compile_network(result.document)
    net.module.load_state_dict(result.state_dict)
    net.module.eval()
    # Any batch size still works (only the length is fixed by the example).
    assert net.module(torch.randint(0, 50, (5, 12))).shape == (5, 12, 50)


def test_flat_network_keeps_the_original_state_dict_keys():
    """Without submodules, the imported network's keys are the original's."""
    make, shapes, _dtypes, task = ZOO["lstm_tagger"]
    original = make()
    result = import_module(original, shapes, tasks=task)
    assert sorted(result.state_dict) == sorted(original.state_dict())


def test_a_tower_used_twice_shares_its_weights():
    make, shapes, _dtypes, task = ZOO["siamese"]
    original = make()
    result = import_module(original, shapes, tasks=task)
    sharing = [n for n in result.document.nodes.values() if n.params.get("shares")]
    assert sorted(n.params["shares"] for n in sharing) == ["tower_0", "tower_3", "tower_7"]
    net = graph.compile(result.document)
    count = sum(p.numel() for p in net.parameters())
    assert count == sum(p.numel() for p in original.parameters())


def test_tied_weights_stay_tied():
    """lm_head.weight = wte.weight: the import ties them again, no parameter is added."""
    make, shapes, _dtypes, task = ZOO["gpt"]
    original = make(tie_weights=True)
    result = import_module(original, shapes, tasks=task)
    (head,) = [n for n in result.document.nodes.values() if n.label == "lm_head"]
    assert head.params["shares"] == "wte"
    net = graph.compile(result.document)
    net.load_state_dict(result.state_dict)
    assert net.lm_head.weight is net.wte.weight
    count = sum(p.numel() for p in net.parameters())
    assert count == sum(p.numel() for p in original.parameters())
    assert "self.lm_head.weight = self.wte.weight" in graph.generate_code(
        result.document).source


def test_a_tie_strata_cannot_express_is_refused_not_dropped():
    from torch import nn

    from graph.importers import UnmappedError

    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(4, 4)
            self.b = nn.Linear(4, 4)
            self.b.weight = self.a.weight

        def forward(self, x):
            return self.b(self.a(x))

    with pytest.raises(UnmappedError, match="tied weights"):
        import_module(TwoHeads(), [(2, 4)], tasks="regression")


def test_initialisation_written_in_init_is_read_back(tmp_path):
    from graph.builder import Builder
    from graph.importers import import_file

    b = Builder("Init Net")
    x = b.add("Input", shape=[4])
    b.chain(x, ("Linear", {"out_features": 8, "init": "kaiming_normal",
                           "bias_init": "zeros"}, "fc1"), ("ReLU", {}, "relu"),
            ("Linear", {"out_features": 3, "init": "xavier_uniform",
                        "nonlinearity": "tanh"}, "fc2"), "Output")
    doc = b.done()
    path = write_python(doc, tmp_path / "init_net.py")
    back = import_file(f"{path}:InitNet", [(2, 4)]).document
    got = {n.label: (n.params["init"], n.params["nonlinearity"], n.params["bias_init"])
           for n in back.nodes.values() if n.type == "Linear"}
    assert got == {"fc1": ("kaiming_normal", "relu", "zeros"),
                   "fc2": ("xavier_uniform", "tanh", "default")}
