"""The mapping report of an import (headless): one row per layer of the document with
its place through the blocks, the node ids to reach it, the module path or operation it
came from and the user's source line; the same for a flat import."""

from __future__ import annotations

from transfer_helpers import FIXTURES

from graph.importers import import_file


def test_every_layer_of_a_nested_import_is_reported_and_reachable():
    result = import_file(f"{FIXTURES / 'resnet.py'}:ResNet", [(1, 3, 32, 32)],
                         verify=False)
    doc, report = result.document, result.report
    layers = sum(1 for _ in _leaves(doc))
    assert len(report.rows) == layers  # every layer of every use of every block
    for row in report.rows:  # the ids lead from the network down to the layer
        body = doc
        for node_id in row.nodes[:-1]:
            body = doc.blocks[body.nodes[node_id].params["block"]].body
        assert body.nodes[row.nodes[-1]].type == row.layer
        assert body.nodes[row.nodes[-1]].label == row.place.split(" > ")[-1]
    conv = next(r for r in report.rows if r.place == "layer3 > 0 > conv1")
    assert conv.origin == "nn.Conv2d 'layer3.0.conv1'"
    assert (conv.source.line, conv.source.code) == (35, "out = self.conv1(x)")
    assert conv.source.file == str(FIXTURES / "resnet.py")


def test_a_flat_import_reports_its_nodes():
    result = import_file(f"{FIXTURES / 'resnet.py'}:ResNet", [(1, 3, 32, 32)],
                         verify=False, blocks=False)
    rows = {r.place: r for r in result.report.rows}
    assert set(rows) == {n.label for n in result.document.nodes.values()}
    assert rows["layer1_0_add"].origin == "the operator + in layer1.0.forward"
    assert rows["layer1_0_add"].nodes == (result.document.find_label("layer1_0_add").id,)


def _leaves(doc):
    """(definition body, node) for every layer of every use, repeats counted."""
    def visit(body, times):
        for node in body.nodes.values():
            if node.type in ("BlockInput", "BlockOutput"):
                continue
            if node.type == "Block":
                inner = doc.blocks[node.params["block"]].body
                yield from visit(inner, times * int(node.params.get("repeat", 1) or 1))
            else:
                for _ in range(times):
                    yield body, node

    yield from visit(doc, 1)
