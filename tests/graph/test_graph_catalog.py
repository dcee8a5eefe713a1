"""The layer catalog: declarations are complete, parameters refuse bad values in the
user's terms, and every shape rule agrees exactly with the torch module it describes."""

from __future__ import annotations

import math
import random

import pytest
import torch
from graph_helpers import as_tuple, concrete, random_inputs, wire
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

import graph
from graph import Document, ParamError, get_spec
from graph.catalog import CATEGORIES, TensorInfo, all_specs
from graph.catalog.spec import ParamSpec, ShapeContext
from graph.memory import param_counts

LAYERS = [s for s in all_specs()
          if s.type not in ("Input", "Output", "BlockInput", "BlockOutput")]
REQUIRED_TYPES = {
    "Input", "Output", "Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool1d",
    "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "Flatten", "Reshape", "Dropout",
    "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Embedding", "ReLU", "LeakyReLU", "ELU",
    "GELU", "SiLU", "Sigmoid", "Tanh", "Softmax", "LogSoftmax", "LSTM", "GRU",
    "SelfAttention", "TransformerEncoderLayer", "PositionalEmbedding", "Add", "Concat",
    "Multiply",
}


# ---------------------------------------------------------------------- declarations
def test_catalog_has_every_layer_the_issue_asks_for():
    assert REQUIRED_TYPES <= {s.type for s in all_specs()}


@pytest.mark.parametrize("spec", all_specs(), ids=lambda s: s.type)
def test_declaration_is_complete(spec):
    assert spec.display_name and spec.category in CATEGORIES
    assert len(spec.help) > 20, "help text tells a user what the layer does"
    assert spec.default_label.isidentifier()
    assert spec.check_params(spec.default_params()) is not None  # defaults are valid
    for p in spec.params:
        assert p.help, f"{spec.type}.{p.name} needs help text"
    if spec.module:
        owner, _, name = spec.module.partition(".")
        assert owner == "nn" and isinstance(getattr(nn, name), type)
    # Sizes inferred from the incoming shape are never asked of the user.
    inferred = {"in_features", "in_channels", "num_features", "input_size", "embed_dim",
                "d_model", "normalized_shape"}
    assert not inferred & {p.name for p in spec.params}


def test_palette_order_groups_categories():
    order = [CATEGORIES.index(s.category) for s in all_specs()]
    assert order == sorted(order)


def test_unknown_type_and_legacy_names():
    with pytest.raises(graph.StrataError, match="unknown layer type 'Bogus'"):
        get_spec("Bogus")
    assert get_spec("MultiheadSelfAttention") is get_spec("SelfAttention")


# ---------------------------------------------------------------------- ParamSpec.check
@pytest.mark.parametrize(("kind", "options", "value", "message"), [
    ("int", {"min": 1}, 0, "expected an integer >= 1. Received: n=0"),
    ("int", {"min": 1}, "8", "expected an integer >= 1. Received: n='8'"),
    ("int", {"min": 1}, True, "expected an integer >= 1. Received: n=True"),
    ("int", {"min": 1}, 2.5, "expected an integer >= 1. Received: n=2.5"),
    ("int", {"min": 2, "max": 8}, 9, "expected an integer from 2 to 8. Received: n=9"),
    ("int", {"min": 1}, 2**40, "and at most 2147483647. Received: n=1099511627776"),
    ("float", {"min": 0.0, "max": 1.0, "max_exclusive": True}, 1.0,
     "expected a number from 0 up to (not including) 1. Received: n=1.0"),
    ("float", {"min": 0.0}, float("nan"), "expected a finite number >= 0. Received: n=nan"),
    ("float", {}, "0.5", "expected a number. Received: n='0.5'"),
    ("bool", {}, "yes", "expected true or false. Received: n='yes'"),
    ("choice", {"choices": ("a", "b")}, "c", "expected one of a, b. Received: n='c'"),
    ("str", {}, 3, "expected text. Received: n=3"),
    ("ints", {"min": 1, "length": 2}, [0, 3],
     "expected an integer or 2 integers >= 1. Received: n=[0, 3]"),
    ("ints", {"min": 1, "length": 2}, [3], "Received: n=[3]"),
    ("ints", {"min": 1, "length": 2}, [3, True], "Received: n=[3, True]"),
    ("ints", {"min": 1}, 5, "expected a list of integers >= 1. Received: n=5"),
    ("ints", {"min": 1}, [], "expected a list of integers >= 1. Received: n=[]"),
    ("int", {}, None, "expected a value. Received: n=None"),
])
def test_param_check_refuses_in_the_users_terms(kind, options, value, message):
    p = ParamSpec("n", kind, None, "help", **options)
    with pytest.raises(ParamError) as e:
        p.check(value)
    assert str(e.value).startswith("Received an invalid value for `n`, expected ")
    assert message in str(e.value)


def test_param_check_normalises_good_values():
    assert ParamSpec("n", "int", 1, min=1).check(3.0) == 3
    assert ParamSpec("k", "ints", [3, 3], min=1, length=2).check(5) == 5
    assert ParamSpec("k", "ints", [3, 3], min=1, length=2).check([2, 3]) == (2, 3)
    assert ParamSpec("p", "float", 0.5, min=0.0).check(1) == 1.0
    assert ParamSpec("s", "ints", None, optional=True).check(None) is None


def test_param_check_shortens_huge_values():
    with pytest.raises(ParamError) as e:
        ParamSpec("n", "int", 1).check("x" * 100_000)
    assert len(str(e.value)) < 200


def test_unknown_parameter_is_refused():
    doc = Document()
    node = doc.add_node("Linear")
    with pytest.raises(ParamError, match="Linear has no parameter `units`"):
        doc.set_param(node.id, "units", 3)


def test_variadic_ports_follow_the_inputs_parameter_within_its_range():
    add = get_spec("Add")
    assert add.input_names({"inputs": 3}) == ["in1", "in2", "in3"]
    # Invalid counts fall back to the default: a hostile 10**9 must not make 10**9 ports.
    assert add.input_names({"inputs": 10**9}) == ["in1", "in2"]
    assert add.input_names({"inputs": "x"}) == ["in1", "in2"]


# ---------------------------------------------------------------------- shapes vs torch
def _sample_param(p: ParamSpec, rng: random.Random):
    small = {
        "out_features": (1, 12), "out_channels": (1, 6), "hidden_size": (1, 6),
        "num_layers": (1, 2), "num_heads": (1, 4), "nhead": (1, 4), "groups": (1, 3),
        "inputs": (2, 4), "dim": (-3, 3), "num_embeddings": (4, 20),
        "embedding_dim": (2, 8), "max_len": (2, 16), "dim_feedforward": (1, 16),
    }
    if p.kind == "str":  # "shares": a layer's own weights (sharing: test_graph_sharing)
        return None
    if p.kind == "bool":
        return rng.random() < 0.5
    if p.kind == "choice":
        return rng.choice(p.choices)
    if p.kind == "float":
        high = 0.9 if p.max is not None else 2.0
        return round(rng.uniform(p.min or 0.0, high), 3)
    if p.kind == "int":
        lo, hi = small.get(p.name, (int(p.min or 0), int(p.min or 0) + 5))
        return rng.randint(lo, hi)
    if p.kind == "ints":
        if p.optional and rng.random() < 0.3:
            return None
        ranges = {"kernel_size": (1, 4), "stride": (1, 3), "padding": (0, 2),
                  "dilation": (1, 2), "output_padding": (0, 2), "output_size": (1, 4)}
        lo, hi = ranges.get(p.name, (1, 4))
        n = p.length or 2
        return [rng.randint(lo, hi) for _ in range(n)]
    raise AssertionError(p.kind)


def _sample_inputs(spec, params, rng: random.Random) -> list[TensorInfo]:
    count = len(spec.input_names(params))
    dtype = "long" if spec.type == "Embedding" else "float"
    rank = rng.randint(1, 4)
    base = ["N", *[rng.randint(1, 9) for _ in range(rank)]]
    shapes = []
    for _ in range(count):
        shape = list(base)
        if rng.random() < 0.25:  # sometimes the inputs disagree somewhere
            i = rng.randrange(1, len(shape))
            shape[i] = rng.randint(1, 9)
        shapes.append(TensorInfo(tuple(shape), dtype))
    return shapes


def _build(spec, params, inputs: list[TensorInfo]) -> Document:
    doc = Document("catalog case")
    ids = [doc.add_node("Input", {"shape": list(t.shape[1:]), "dtype": t.dtype}).id
           for t in inputs]
    node = doc.add_node(spec.type, params).id
    for i in ids:
        wire(doc, i, node)
    wire(doc, node, doc.add_node("Output", {"task": "regression"}).id)
    return doc


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.type)
def test_shape_rule_matches_the_torch_module(spec):
    """The "exact" guarantee: whenever a rule accepts its inputs, the module that the
    generated code builds produces exactly the inferred shape (and trains)."""
    rng = random.Random(f"shapes-{spec.type}")
    accepted = 0
    for _attempt in range(400):
        params = {p.name: _sample_param(p, rng) for p in spec.params}
        if spec.type == "Reshape":
            inputs = _sample_inputs(spec, params, rng)
            size = math.prod(inputs[0].features)
            params["shape"] = _factorize(size, rng)
        elif spec.type == "Permute":  # an order of the input's dimensions, batch first
            inputs = _sample_inputs(spec, params, rng)
            rest = list(range(1, inputs[0].rank))
            rng.shuffle(rest)
            params["dims"] = [0, *rest]
        else:
            inputs = _sample_inputs(spec, params, rng)
        try:
            checked = spec.check_params(params)
            inferred = spec.shape_rule(ShapeContext("case", checked, inputs))
        except (ParamError, graph.ShapeError):
            continue
        doc = _build(spec, params, inputs)
        analysis = graph.analyze(doc)
        assert analysis.ok, [p.message for p in analysis.problems]
        compiled = graph.compile_network(doc, analysis)
        xs = random_inputs(doc, compiled.code, batch=3, seed=accepted)
        (out,) = as_tuple(compiled.module(*xs))
        assert tuple(out.shape) == concrete(inferred.outputs[0].shape, 3), (params, inputs)
        # The declared parameter count is what torch builds (0 for expressions).
        node_id = next(i for i, n in doc.nodes.items() if n.type == spec.type)
        built = compiled.submodule(node_id)
        built = sum(p.numel() for p in built.parameters()) if isinstance(
            built, torch.nn.Module) else (built.numel() if built is not None else 0)
        assert param_counts(analysis)[node_id] == built, (spec.type, params, inputs)
        assert out.dtype == torch.float32
        if out.requires_grad:
            out.float().sum().backward()
        accepted += 1
        if accepted == 12:
            break
    assert accepted >= 6, f"too few valid random cases for {spec.type}"


def _factorize(size: int, rng: random.Random) -> list[int]:
    dims = []
    while size > 1 and len(dims) < 3:
        divisors = [d for d in range(2, size + 1) if size % d == 0]
        d = rng.choice(divisors)
        dims.append(d)
        size //= d
    if size > 1 or not dims:
        dims.append(size)
    return dims


@pytest.mark.parametrize(("type_name", "params", "shape"), [
    ("Linear", {"out_features": 5}, [16]),
    ("Linear", {"out_features": 3}, [7, 16]),
    ("Conv1d", {"out_channels": 4, "kernel_size": [3], "stride": [2]}, [3, 17]),
    ("Conv2d", {"out_channels": 8, "kernel_size": [3, 5], "padding": [1, 2],
                "groups": 2}, [4, 10, 12]),
    ("ConvTranspose2d", {"out_channels": 3, "kernel_size": [2, 2]}, [4, 5, 6]),
])
def test_macs_match_torch_flop_counter(type_name, params, shape):
    doc = _build(get_spec(type_name), params, [TensorInfo(("N", *shape))])
    analysis = graph.analyze(doc)
    compiled = graph.compile_network(doc, analysis)
    node_id = next(i for i, n in doc.nodes.items() if n.type == type_name)
    shapes = analysis.shapes[node_id]
    macs = get_spec(type_name).macs({**shapes.params, **shapes.values},
                                    list(shapes.inputs.values()),
                                    list(shapes.outputs.values()))
    with FlopCounterMode(display=False) as counter:
        compiled.module(*random_inputs(doc, compiled.code, batch=1))
    assert macs == counter.get_total_flops() // 2


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_bidirectional_last_step_reads_both_final_states(kind):
    """"last" of a bidirectional layer: the forward direction's state after the last
    step and the backward direction's after the first, not the last step's output."""
    doc = _build(get_spec(kind), {"hidden_size": 3, "bidirectional": True, "num_layers": 2},
                 [TensorInfo(("N", 5, 2))])
    compiled = graph.compile_network(doc)
    x = torch.randn(4, 5, 2)
    (out,) = as_tuple(compiled.module(x))
    node_id = next(i for i, n in doc.nodes.items() if n.type == kind)
    sequence = compiled.submodule(node_id)(x)[0]
    assert torch.allclose(out[:, :3], sequence[:, -1, :3])
    assert torch.allclose(out[:, 3:], sequence[:, 0, 3:])


def test_recurrent_macs_count_every_gate_and_step():
    doc = _build(get_spec("LSTM"), {"hidden_size": 8, "num_layers": 2},
                 [TensorInfo(("N", 5, 3))])
    analysis = graph.analyze(doc)
    node_id = next(i for i, n in doc.nodes.items() if n.type == "LSTM")
    s = analysis.shapes[node_id]
    macs = get_spec("LSTM").macs({**s.params, **s.values}, list(s.inputs.values()),
                                 list(s.outputs.values()))
    # 4 gates; layer 1 reads 3 features, layer 2 reads 8; both read the 8-wide state.
    assert macs == 5 * (4 * 8 * (3 + 8) + 4 * 8 * (8 + 8))
