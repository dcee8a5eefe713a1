"""What a run reuses from the last run of the same network: the compiled code object
(compiling the generated source again cost every run), and the input order the dataset
check takes from codegen's rule instead of writing the code a second time."""

from __future__ import annotations

import linecache
import random
import traceback

import torch
from graph_helpers import EXAMPLES
from graph_randomnets import random_network

import graph
from graph import Analyzer
from graph.codegen import generate_code, input_order
from graph.compiler import load_class


def test_input_order_is_the_generated_forwards_order():
    rng = random.Random(7)
    seen_two = False
    for _ in range(60):
        doc = random_network(rng.choice, rng.randint(1, 6))
        analysis = Analyzer().analyze(doc)
        if not analysis.ok:
            continue
        code = generate_code(doc, analysis)
        assert input_order(analysis) == code.inputs
        seen_two = seen_two or len(code.inputs) > 1
    assert seen_two  # networks with several inputs were among them


def test_a_source_compiled_again_reuses_its_code_but_builds_new_modules():
    doc = graph.load(next(p for p in EXAMPLES if p.stem == "spiral_mlp"))
    code = generate_code(doc)
    first, filename = load_class(code.source, code.class_name)
    linecache.cache.pop(filename, None)  # as if the cache had been cleared meanwhile
    second, again = load_class(code.source, code.class_name)
    assert again == filename
    assert first.forward.__code__ is second.forward.__code__
    assert first is not second  # a class (and modules) of its own for each run
    a, b = first(), second()
    assert a.state_dict().keys() == b.state_dict().keys()
    with torch.no_grad():
        next(iter(a.parameters())).fill_(1.0)
    assert not torch.equal(next(iter(a.parameters())), next(iter(b.parameters())))
    # A traceback from the reused code still shows the generated line.
    try:
        second.forward(b, torch.zeros(3, 5))  # wrong width: fails inside forward
    except RuntimeError as e:
        frames = traceback.extract_tb(e.__traceback__)
        generated = [f for f in frames if f.filename == filename]
        assert generated and generated[-1].line
    else:
        raise AssertionError("a wrong input width must fail")
