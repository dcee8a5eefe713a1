"""Node paths of nested, repeated blocks from the open levels down to the trained
module: the level shown knows the path the run names its layers by (with the copy
shown) and the path the setup names them by (every copy); freezing a layer two levels
down writes that path, and the training resolves it to that layer in every copy."""

from __future__ import annotations

import graph
from graph.builder import Builder
from runtime.finetune import parameter_groups, setup_modules


def nested_doc() -> graph.Document:
    """input -> fc1 -> outer (x2: [inner: fc2 -> act2] -> fc3) -> head -> output."""
    b = Builder("Nested")
    h = b.add("Input", shape=[4])
    b.chain(h, ("Linear", {"out_features": 8}, "fc1"), ("Linear", {"out_features": 8}, "fc2"),
            ("ReLU", {}, "act2"), ("Linear", {"out_features": 8}, "fc3"),
            ("Linear", {"out_features": 2}, "head"), "Output")
    doc = b.done({"dataset": {"name": "moons"}})
    label = {n.label: n.id for n in doc.nodes.values()}
    inner = doc.group([label["fc2"], label["act2"]], "Inner", "inner").result["instance"]
    outer = doc.group([inner, label["fc3"]], "Outer", "outer").result["instance"]
    doc.set_repeat(outer, 2)
    return doc


def test_a_layer_two_blocks_down_is_named_and_frozen_by_its_path(make_window, qtbot,
                                                                    tmp_path):
    path = tmp_path / "nested.strata"
    graph.save(nested_doc(), path)
    window = make_window(path)
    root, levels = window.controller, window.levels
    doc = root.document
    outer = next(n.id for n in doc.nodes.values() if n.label == "outer")
    assert levels.open_block(outer)
    body = levels.current.document
    inner = next(n.id for n in body.nodes.values() if n.label == "inner")
    assert levels.open_block(inner)
    assert levels.run_path() == f"{outer}:0/{inner}"
    assert levels.setup_path() == f"{outer}/{inner}"
    assert levels.label_path() == "outer > inner"
    levels.set_copy(1, 1)  # the second copy of outer (breadcrumb's selector)
    assert levels.run_path() == f"{outer}:1/{inner}"
    assert levels.setup_path() == f"{outer}/{inner}"

    level = levels.current
    fc2 = next(n.id for n in level.document.nodes.values() if n.label == "fc2")
    assert level.toggle_frozen([fc2])
    key = f"{outer}/{inner}/{fc2}"
    assert doc.training["frozen"] == [key]
    assert level.frozen() == {fc2} and levels.levels[-1].scene.nodes[fc2].frozen
    # In outer (the level under this one), the nested instance says a layer inside it
    # is frozen. (Not by going back up: leaving a nested level currently leaks the
    # inspector's BlockPage as a top-level window, the leak check fails; reported.)
    assert "1 inner frozen" in levels.levels[0].scene.nodes[inner].frozen_tag.text

    # The path reaches the layer in both copies of outer, and nothing else.
    compiled = graph.compile_network(doc)
    modules = setup_modules(compiled.code)
    assert modules[key] == ["outer.0.inner.fc2", "outer.1.inner.fc2"]
    model = compiled.module
    parameter_groups(model, modules, doc.training["frozen"], {}, 0.01)
    frozen = sorted(n for n, p in model.named_parameters() if not p.requires_grad)
    assert frozen == ["outer.0.inner.fc2.bias", "outer.0.inner.fc2.weight",
                      "outer.1.inner.fc2.bias", "outer.1.inner.fc2.weight"]
    root.undo_stack.undo()
    assert not doc.training.get("frozen")
    assert not levels.levels[-1].scene.nodes[fc2].frozen
