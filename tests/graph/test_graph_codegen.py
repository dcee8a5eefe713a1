"""Code generation and compilation: deterministic, formatted exactly as ruff would, names
that never clash, multiple inputs and outputs, and the compiled module is the code."""

from __future__ import annotations

import ast
import itertools
import random
import sys
import traceback

import pytest
import torch
from graph_helpers import EXAMPLES, as_tuple, chain_doc, random_inputs, ruff, wire
from torch import nn

import graph
from graph import Document, fileformat
from graph.naming import MAX_NAME, MODULE_ATTRIBUTES, Namespace, class_name, snake_case
from graph.pyformat import format_statement


def code_of(doc: Document) -> str:
    return graph.generate_code(doc).source


def run(doc: Document, batch: int = 2):
    compiled = graph.compile_network(doc)
    xs = random_inputs(doc, compiled.code, batch)
    return compiled, as_tuple(compiled.module(*xs)), xs


# ---------------------------------------------------------------------- determinism
@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_generation_is_deterministic(path, tmp_path):
    doc = graph.load(path)
    first = code_of(doc)
    assert code_of(doc) == first
    assert code_of(graph.load(graph.save(doc, tmp_path / "again.strata"))) == first
    assert code_of(doc.copy()) == first
    assert code_of(fileformat.loads(fileformat.dumps(doc))) == first


def test_generated_code_imports_only_torch():
    for path in EXAMPLES:
        tree = ast.parse(code_of(graph.load(path)))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {node.module for node in ast.walk(tree)
                     if isinstance(node, ast.ImportFrom)}
        assert imported == {"torch"}


# ---------------------------------------------------------------------- ruff
def _edge_case_networks() -> dict[str, Document]:
    nets = {}
    long = "a very long label that somebody typed into the inspector to describe it"
    nets["long labels"] = chain_doc(
        ("Linear", {"out_features": 4}, long), ("ReLU", {}, long),
        ("LSTM", {"hidden_size": 4, "output": "last"}, long + " lstm"),
        shape=(6, 4))
    nets["keywords"] = chain_doc(("Linear", {}, "class"), ("ReLU", {}, "eval"),
                                 ("Linear", {}, "training"), ("ReLU", {}, "print"),
                                 ("ReLU", {}, ""), ("ReLU", {}, "\u00dcbergang \u2713"),
                                 ("ReLU", {}, "1st"), name="for")
    doc = Document("Many Outputs", 'Description with """quotes""" and a \\ backslash "end"')
    inputs = [doc.add_node("Input", {"shape": [4]}, f"sensor {i} with a long name ok").id
              for i in range(8)]
    cat = doc.add_node("Concat", {"inputs": 8}, "joined together with a long label").id
    add = doc.add_node("Add", {"inputs": 8}, "summed together with a long label").id
    for i in inputs:
        wire(doc, i, cat)
        wire(doc, i, add)
    for i in range(6):
        out = doc.add_node("Output", {"task": "regression"}, f"out{i}").id
        wire(doc, cat if i % 2 else add, out)
    nets["many inputs and outputs"] = doc
    nets["transformer"] = chain_doc(
        ("Embedding", {"num_embeddings": 50, "embedding_dim": 8}, "token embedding table"),
        ("PositionalEmbedding", {"max_len": 32}, "positions of every token in a sequence"),
        ("SelfAttention", {"num_heads": 2}, "self attention over the whole sequence"),
        ("TransformerEncoderLayer", {"nhead": 2, "activation": "gelu", "norm_first": True,
                                     "dim_feedforward": 16}, "encoder"),
        ("LSTM", {"hidden_size": 8, "output": "last", "bidirectional": True,
                  "num_layers": 2, "dropout": 0.1}, "a recurrent summary of everything"),
        shape=(10,), dtype="long")
    return nets


def test_generated_code_passes_ruff(tmp_path):
    sources = {p.stem: code_of(graph.load(p)) for p in EXAMPLES}
    sources.update({name: code_of(doc) for name, doc in _edge_case_networks().items()})
    for name, source in sources.items():
        (tmp_path / f"{name.replace(' ', '_')}.py").write_text(source, encoding="utf-8")
    files = sorted(str(p) for p in tmp_path.glob("*.py"))
    check = ruff("check", *files)
    assert check.returncode == 0, check.stdout
    fmt = ruff("format", "--check", "--diff", *files)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_every_layer_type_with_long_names_passes_ruff(tmp_path):
    """A layer's code template must be one the line formatter knows, or lines with long
    names would not be laid out as ruff lays them out."""
    from test_graph_catalog import (
        LAYERS,
        _build,
        _factorize,
        _sample_inputs,
        _sample_param,
    )

    from graph.catalog.spec import ShapeContext

    long = "a layer label that is long enough to force splits"
    for spec in LAYERS:
        rng = random.Random(spec.type)
        for _ in range(400):
            params = {p.name: _sample_param(p, rng) for p in spec.params}
            inputs = _sample_inputs(spec, params, rng)
            if spec.type == "Reshape":
                params["shape"] = _factorize(inputs[0].features[0] if len(
                    inputs[0].features) == 1 else 1, rng)
            if spec.type == "Permute":
                params["dims"] = [0, *reversed(range(1, inputs[0].rank))]
            try:
                spec.shape_rule(ShapeContext("case", spec.check_params(params), inputs))
            except (graph.ParamError, graph.ShapeError):
                continue
            doc = _build(spec, params, inputs)
            for node in doc.nodes.values():
                doc.set_label(node.id, f"{long} {node.type}")
            source = code_of(doc)
            (tmp_path / f"{spec.type}.py").write_text(source, encoding="utf-8")
            break
        else:
            raise AssertionError(f"no valid case for {spec.type}")
    files = sorted(str(p) for p in tmp_path.glob("*.py"))
    assert len(files) == len(LAYERS)
    fmt = ruff("format", "--check", "--diff", *files)
    assert fmt.returncode == 0, fmt.stdout
    assert ruff("check", *files).returncode == 0


def _statements():
    """Every statement shape the generator writes, over identifier lengths 1..40."""
    patterns = [
        "{t} = self.{m}({x})", "{t} = self.{m}({x}.flatten(1))",
        "{t} = self.{m}({x})[0][:, -1]", "{t} = self.{m}({x})[0][-1]",
        "{t} = torch.cat(tuple(self.{m}({x})[1][0][-2:]), dim=1)",
        "{t} = torch.cat(tuple(self.{m}({x})[1][-2:]), dim=1)",
        "{t} = self.{m}({x}, {x}, {x}, need_weights=False)[0]",
        "{t} = {x} + self.{m}(torch.arange({x}.shape[1], device={x}.device))",
        "{t} = {x}.mean(dim=1)", "{t} = {x} + {y} + {x} + {y}", "{t} = {x} * {y}",
        "return {x}, {t}, {m}", "return {x}", "{t} = torch.cat([{x}, {y}, {m}], dim=-1)",
        "self.{m} = nn.Conv2d({n}, {n}, (3, 5), stride=(2, 1), padding=1, bias=False)",
        ("self.{m} = nn.TransformerEncoderLayer(d_model={n}, nhead=4, dim_feedforward={n}, "
        "dropout=0.1, activation=\"gelu\", batch_first=True, norm_first=True)"),
        "self.{m} = nn.Unflatten(1, ({n},))",
    ]
    rng = random.Random(7)
    lengths = [1, 9, 17, 22, 25, 28, 31, 34, 37, 40]
    out = []
    for p in patterns:
        for a, b, c in itertools.product(lengths, repeat=3):
            if rng.random() < 0.4:
                out.append(p.format(t="t" * a, m="m" * b, x="x" * c, y="y" * a,
                                    n=10 ** (c % 7)))
    return list(dict.fromkeys(out))


def test_line_formatter_agrees_with_ruff():
    statements = _statements()
    body = "".join(f"        # {i}\n        {s}\n" for i, s in enumerate(statements))
    result = ruff("format", "-", stdin="class A:\n    def f(self):\n" + body)
    assert result.returncode == 0, result.stderr
    chunks = result.stdout.split("        # ")[1:]
    assert len(chunks) == len(statements)
    for statement, chunk in zip(statements, chunks):
        expected = chunk.partition("\n")[2].rstrip("\n").split("\n")
        assert format_statement(statement, 2) == expected, statement


def test_def_signature_agrees_with_ruff():
    statements = []
    for n, length in itertools.product(range(1, 9), (1, 12, 25, 40)):
        args = ", ".join(f"{chr(97 + i) * length}: torch.Tensor" for i in range(n))
        statements.append(f"def forward(self, {args}) -> tuple[torch.Tensor, ...]:")
    source = "class A:\n" + "".join(f"    # {i}\n    {s}\n        pass\n"
                                    for i, s in enumerate(statements))
    result = ruff("format", "-", stdin=source)
    for statement, chunk in zip(statements, result.stdout.split("    # ")[1:]):
        expected = chunk.partition("\n")[2].rstrip("\n").split("\n")[:-1]
        assert format_statement(statement, 1) == expected


# ---------------------------------------------------------------------- naming
def test_module_attributes_cover_every_public_nn_module_attribute():
    public = {a for a in dir(nn.Module) if not a.startswith("_")}
    public |= {a for a in vars(nn.Module()) if not a.startswith("_")}
    assert public <= MODULE_ATTRIBUTES, sorted(public - MODULE_ATTRIBUTES)


@pytest.mark.parametrize(("label", "name"), [
    ("fc", "fc"), ("Block 1 Conv", "block_1_conv"), ("convLayer", "conv_layer"),
    ("class", "class_"), ("print", "print_"), ("eval", "eval_"), ("training", "training_"),
    ("self", "self_"), ("torch", "torch_"), ("", "fc"), ("  ", "fc"), ("1st", "fc_1st"),
    ("\u00dcbergang", "ubergang"), ("\u5c42", "fc"), ("a" * 100, "a" * MAX_NAME),
    ("a layer label that is long enough to force splits", "a_layer_label_that_is_long_enough_to"),
])
def test_namespace_turns_labels_into_safe_names(label, name):
    assert Namespace().take(label, "fc") == name


def test_namespace_makes_duplicates_unique():
    ns = Namespace()
    assert [ns.take(x) for x in ("fc", "fc", "fc", "for", "for", "fc_2")] == [
        "fc", "fc_2", "fc_3", "for_", "for_2", "fc_2_2"]


def test_class_names():
    assert class_name("Spiral MLP") == "SpiralMLP"
    assert class_name("spiral mlp") == "SpiralMlp"
    assert class_name("3 layers") == "Net3Layers"
    assert class_name("") == "Network" and class_name("\u2713") == "Network"
    assert class_name("None") == "NoneNet" and class_name("for") == "For"
    assert snake_case("Hello World!") == "hello_world"


def test_awkward_labels_compile_and_keep_every_layer():
    doc = _edge_case_networks()["keywords"]
    compiled, (_out,), _ = run(doc)
    names = compiled.code.attributes
    assert len(set(names.values())) == len(names) == 7
    assert {"class_", "eval_", "training_", "print_", "relu", "ubergang", "relu_1st"} <= set(
        names.values())
    assert isinstance(compiled.module.training, bool)  # not shadowed by a layer
    assert compiled.code.class_name == "For"
    for node_id, attr in names.items():
        assert compiled.submodule(node_id) is getattr(compiled.module, attr)


# ---------------------------------------------------------------------- structure
def test_multiple_inputs_and_outputs():
    doc = _edge_case_networks()["many inputs and outputs"]
    compiled, outs, xs = run(doc)
    code = compiled.code
    assert len(code.inputs) == 8 and len(code.outputs) == 6
    assert code.input_names[0] == "sensor_0_with_a_long_name_ok"
    total, joined = sum(xs), torch.cat(xs, dim=1)
    for i, out in enumerate(outs):
        assert torch.equal(out, joined if i % 2 else total)
    assert "-> tuple[torch.Tensor, ...]:" in code.source


def test_node_feeding_two_outputs_and_input_feeding_an_output():
    doc = Document("Branches")
    x = doc.add_node("Input", {"shape": [3]}, "x").id
    fc = doc.add_node("Linear", {"out_features": 2}, "fc").id
    wire(doc, x, fc)
    outs = [doc.add_node("Output", {"task": "regression"}, f"o{i}").id for i in range(3)]
    wire(doc, fc, outs[0])
    wire(doc, x, outs[1])  # the input itself is an output
    wire(doc, fc, outs[2])
    compiled, (a, b, c), (xin,) = run(doc)
    assert torch.equal(a, c) and torch.equal(b, xin)
    assert "        return fc, x, fc\n" in compiled.code.source


def test_input_straight_to_output():
    doc = Document("Identity")
    x = doc.add_node("Input", {"shape": [3]}).id
    wire(doc, x, doc.add_node("Output", {"task": "regression"}).id)
    compiled, (out,), (xin,) = run(doc)
    assert torch.equal(out, xin)
    assert compiled.code.attributes == {}


def test_variadic_merge_after_lowering_its_inputs():
    doc = chain_doc()
    x = next(iter(doc.nodes))
    add = doc.add_node("Add", {"inputs": 4}, "sum").id
    wire(doc, x, add)
    wire(doc, x, add)
    doc.set_param(add, "inputs", 2)
    wire(doc, add, doc.add_node("Output", {"task": "regression"}, "o2").id)
    compiled, outs, (xin,) = run(doc)
    assert "x + x" in compiled.code.source
    assert torch.equal(outs[1], xin + xin)


def test_extreme_parameter_values_are_written_as_ruff_writes_them():
    doc = chain_doc(("LayerNorm", {"eps": 1e20}), ("LeakyReLU", {"negative_slope": 2.5e-7}),
                    ("BatchNorm1d", {"eps": 1e-300, "momentum": 0.0}))
    source = code_of(doc)
    assert "eps=1e20" in source and "negative_slope=2.5e-07" in source
    assert ruff("format", "--check", "-", stdin=source).returncode == 0


def test_layers_leading_nowhere_are_left_out():
    doc = chain_doc(("Linear", {"out_features": 3}, "fc"))
    fc = next(i for i, n in doc.nodes.items() if n.label == "fc")
    dead = doc.add_node("Linear", {}, "unused_head").id
    wire(doc, fc, dead)
    code = graph.generate_code(doc)
    assert dead not in code.attributes and "unused_head" not in code.source
    assert graph.compile(doc)(torch.randn(2, 4)).shape == (2, 3)


def test_readable_forward_with_a_running_variable():
    source = code_of(graph.load(EXAMPLES[0].parent / "residual_cnn.strata"))
    assert "        x = self.stem(x)  # (N, 16, 28, 28)\n" in source
    assert "        x = x + stem_relu  # (N, 16, 28, 28)\n" in source
    assert "class ResidualCNN(nn.Module):" in source


def test_errors_refuse_generation():
    doc = chain_doc(("Linear", {"out_features": 0}))
    with pytest.raises(graph.GraphError, match="out_features"):
        graph.generate_code(doc)
    with pytest.raises(graph.GraphError):
        graph.compile(doc)


# ---------------------------------------------------------------------- compiling
def test_traceback_points_at_the_generated_line_and_its_node():
    doc = chain_doc(("Linear", {"out_features": 3}, "fc"), ("ReLU", {}, "act"))
    compiled = graph.compile_network(doc)
    with pytest.raises(RuntimeError) as e:
        compiled.module(torch.randn(2, 5))  # the Input promised 4 features
    frames = [f for f in traceback.extract_tb(e.value.__traceback__)
              if f.filename == compiled.filename]
    assert frames and "self.fc(x)" in frames[-1].line
    fc = next(i for i, n in doc.nodes.items() if n.label == "fc")
    assert compiled.node_at_line(frames[-1].lineno) == fc


def test_compile_on_the_meta_device_allocates_nothing():
    doc = chain_doc(("Linear", {"out_features": 100_000}), shape=(100_000,))
    compiled = graph.compile_network(doc, device="meta")
    params = list(compiled.module.parameters())
    assert all(p.is_meta for p in params)
    assert sum(p.numel() for p in params) == 100_000 * 100_000 + 100_000


def test_compiled_module_is_built_from_the_generated_source():
    doc = graph.load(EXAMPLES[0])
    compiled = graph.compile_network(doc)
    import inspect
    import linecache

    lines = linecache.getlines(compiled.filename)
    assert "".join(lines) == compiled.code.source
    assert inspect.getsource(type(compiled.module).forward) in compiled.code.source
    assert "graph" not in type(compiled.module).__module__.split(".")
    assert sys.modules.get(type(compiled.module).__module__) is None
