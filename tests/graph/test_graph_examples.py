"""Every example network: checks clean, compiles, trains a step, and its exported code run
in a fresh interpreter with only torch gives exactly the same outputs."""

from __future__ import annotations

import runpy
import subprocess
import sys
import textwrap

import pytest
import torch
from graph_helpers import EXAMPLES, as_tuple, random_inputs
from strata_paths import ROOT

import graph

NAMES = {p.stem for p in EXAMPLES}


def test_the_issue_asks_for_these_examples():
    assert {"spiral_mlp", "shapes_cnn", "residual_cnn", "lstm_classifier",
            "transformer_classifier", "two_input_concat"} <= NAMES


def test_examples_are_what_the_generator_writes(tmp_path):
    """The .strata files are the output of make_examples.py, not hand edits."""
    namespace = runpy.run_path(str(ROOT / "resources" / "examples" / "make_examples.py"))
    for name, make in namespace["EXAMPLES"].items():
        path = graph.save(make(), tmp_path / f"{name}.strata")
        assert path.read_text() == (ROOT / "resources" / "examples" / f"{name}.strata"
                                    ).read_text(), f"run make_examples.py ({name} is stale)"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_checks_compiles_and_trains_a_step(path):
    doc = graph.load(path)
    assert graph.validate(doc) == []
    assert doc.training, "each example carries its training setup"
    compiled = graph.compile_network(doc)
    module = compiled.module.train()
    torch.manual_seed(0)
    xs = random_inputs(doc, compiled.code, batch=4)
    outs = as_tuple(module(*xs))
    assert len(outs) == len(compiled.code.outputs)
    for out, node_id in zip(outs, compiled.code.outputs):
        edge = compiled.analysis.edges_into(node_id)[0]
        expected = compiled.analysis.edge_tensor(edge).shape
        assert tuple(out.shape) == tuple(4 if d == "N" else d for d in expected)
        assert torch.isfinite(out).all()
    optimizer = torch.optim.SGD(module.parameters(), lr=0.01)
    loss = sum(o.pow(2).mean() for o in outs)
    loss.backward()
    grads = [p.grad for p in module.parameters()]
    assert grads and all(g is not None and torch.isfinite(g).all() for g in grads)
    optimizer.step()


FRESH = textwrap.dedent("""
    import importlib.util
    import sys

    sys.modules["graph"] = None  # the exported code must not need Strata
    import torch

    torch.set_num_threads(1)
    for source, class_name, state, inputs, result in CASES:
        spec = importlib.util.spec_from_file_location("exported_net", source)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        model = getattr(module, class_name)()
        model.load_state_dict(torch.load(state), strict=True)
        model.eval()
        with torch.no_grad():
            out = model(*torch.load(inputs))
        torch.save(out if isinstance(out, tuple) else (out,), result)
    assert not any(name == "graph" or name.startswith(("graph.", "runtime", "studio"))
                   for name, mod in sys.modules.items() if mod is not None)
""")


def test_exported_code_reproduces_outputs_in_a_fresh_interpreter(tmp_path):
    cases, expected = [], {}
    for path in EXAMPLES:
        doc = graph.load(path)
        compiled = graph.compile_network(doc)
        torch.manual_seed(1)
        model = compiled.module.eval()
        # Non-default running statistics, so BatchNorm's buffers must travel too.
        for m in model.modules():
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.running_mean.uniform_(-1, 1)
                m.running_var.uniform_(0.5, 2)
        xs = random_inputs(doc, compiled.code, batch=5, seed=3)
        with torch.no_grad():
            expected[path.stem] = as_tuple(model(*xs))
        files = [tmp_path / f"{path.stem}.{ext}" for ext in ("py", "pt", "in.pt", "out.pt")]
        files[0].write_text(compiled.code.source, encoding="utf-8")
        torch.save(model.state_dict(), files[1])
        torch.save(xs, files[2])
        cases.append((*map(str, files[:1]), compiled.code.class_name,
                      *map(str, files[1:])))
    script = f"CASES = {cases!r}\n" + FRESH
    done = subprocess.run([sys.executable, "-I", "-c", script], capture_output=True,
                          text=True, timeout=300, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for path in EXAMPLES:
        outs = torch.load(tmp_path / f"{path.stem}.out.pt")
        assert len(outs) == len(expected[path.stem])
        for got, want in zip(outs, expected[path.stem]):
            assert torch.equal(got, want), path.stem
