"""The network scene follows the document: items, wires, shapes, problem marks, drawing.

Build the model, build the canvas, change the model, assert on the items (napari style).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QPainter

import graph
from graph import Edge
from graph.builder import Builder
from studio import resources
from studio.canvas import NetworkView, NodeItem, WireItem
from studio.canvas.quick_add import QuickAddPopup, search
from studio.document.controller import DocumentController

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "resources" / "examples")
                  .glob("*.strata"))


@pytest.fixture
def canvas(qtbot):
    def make(doc=None):
        controller = DocumentController(doc)
        view = NetworkView(controller)
        qtbot.addWidget(view)
        view.resize(1000, 700)
        view.show()
        qtbot.waitExposed(view)
        return controller, view
    return make


def image_shaped_into_linear():
    """Input (1, 28, 28) straight into a Linear: the Linear cannot take an image."""
    b = Builder("broken")
    x = b.add("Input", shape=[1, 28, 28])
    b.chain(x, ("Linear", {"out_features": 10}, "fc"), "Output")
    return b.done()


def settle(qtbot, controller):
    """Wait for the coalesced re-analysis that follows edits."""
    with qtbot.waitSignal(controller.analysis_changed, timeout=3000):
        pass


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_scene_mirrors_each_example(canvas, path):
    doc = graph.load(path)
    _controller, view = canvas(doc)
    scene = view.network_scene
    assert set(scene.nodes) == set(doc.nodes)
    assert set(scene.wires) == set(doc.edges)
    analysis = graph.analyze(doc)
    for node in doc.nodes.values():
        item = scene.nodes[node.id]
        assert (item.x(), item.y()) == node.position
        assert item.face.title == node.label
        assert item.badge.isVisible() is False  # the examples are valid
    for edge, wire in scene.wires.items():
        assert wire.label == analysis.edge_tensor(edge).wire_label()
        assert wire.error is False
        assert wire.path().pointAtPercent(0).toPoint() == \
            scene.nodes[edge.source].port_scene_pos("out", edge.source_port).toPoint()
        assert wire.path().pointAtPercent(1).toPoint() == \
            scene.nodes[edge.target].port_scene_pos("in", edge.target_port).toPoint()
    # Items hold ids, never the document's node objects.
    assert not any(isinstance(v, graph.Node) for item in scene.nodes.values()
                   for v in vars(item).values())


def test_shape_label_on_a_wire(canvas):
    controller, view = canvas(graph.load(next(p for p in EXAMPLES
                                              if p.stem == "shapes_cnn")))
    doc = controller.document
    pool2, flatten = doc.find_label("pool2").id, doc.find_label("flatten").id
    wire = view.network_scene.wires[Edge(pool2, "out", flatten, "in")]
    assert wire.label == "N \u00d7 16 \u00d7 7 \u00d7 7"


def test_scene_follows_edits_undo_and_redo(canvas, qtbot):
    controller, view = canvas()
    scene = view.network_scene
    a = controller.add_node("Input", (0, 0), {"shape": [4]})
    b = controller.add_node("Linear", (240, 0))
    assert set(scene.nodes) == {a, b} and not scene.wires
    controller.connect(a, "out", b, "in")
    assert Edge(a, "out", b, "in") in scene.wires
    assert "out:out" in scene.nodes[a].connected and "in:in" in scene.nodes[b].connected
    controller.set_param(b, "out_features", 7)
    assert scene.nodes[b].face.params == [("out_features", "7")]
    controller.set_label(b, "head")
    assert scene.nodes[b].face.title == "head"
    controller.move_nodes({b: (300.0, 60.0)})
    assert scene.nodes[b].pos() == QPointF(300, 60)
    wire = scene.wires[Edge(a, "out", b, "in")]
    assert wire.path().pointAtPercent(1) == scene.nodes[b].port_scene_pos("in", "in")
    controller.delete([b])
    assert set(scene.nodes) == {a} and not scene.wires
    assert scene.nodes[a].connected == set()

    controller.undo_stack.undo()  # the delete
    assert set(scene.nodes) == {a, b} and Edge(a, "out", b, "in") in scene.wires
    assert scene.nodes[b].pos() == QPointF(300, 60)
    while controller.undo_stack.canUndo():
        controller.undo_stack.undo()
    assert not scene.nodes and not scene.wires
    while controller.undo_stack.canRedo():
        controller.undo_stack.redo()
    assert set(scene.nodes) == {a} and not scene.wires
    assert [i for i in scene.items() if i.parentItem() is None] == [scene.nodes[a]]
    settle(qtbot, controller)


def test_new_document_rebuilds_the_scene(canvas):
    controller, view = canvas(graph.load(EXAMPLES[0]))
    controller.new()
    assert not view.network_scene.nodes and not view.network_scene.items()
    controller.set_document(graph.load(EXAMPLES[1]))
    assert set(view.network_scene.nodes) == set(controller.document.nodes)


def test_shape_error_marks_the_wire_red_and_badges_the_card(canvas, qtbot):
    controller, view = canvas(image_shaped_into_linear())
    doc, scene = controller.document, view.network_scene
    x, fc = doc.find_label("input").id, doc.find_label("fc").id
    card, wire = scene.nodes[fc], scene.wires[Edge(x, "out", fc, "in")]
    assert card.severity == "error" and card.badge.isVisible()
    assert "Flatten" in card.problem_text
    assert wire.error is True and "needs a flat input" in wire.toolTip()
    assert scene.nodes[x].severity is None and not scene.nodes[x].badge.isVisible()

    # The badge keeps its size on screen at any zoom (it ignores the view transform).
    sizes = []
    for zoom in (1.0, 0.1):
        view.set_zoom(zoom)
        rect = card.badge.deviceTransform(view.viewportTransform()).mapRect(
            card.badge.boundingRect())
        sizes.append(round(rect.width()))
    assert sizes[0] == sizes[1] >= 16

    controller.insert_on_edge(Edge(x, "out", fc, "in"), "Flatten")
    settle(qtbot, controller)
    assert card.severity is None and not card.badge.isVisible()
    assert not any(w.error for w in scene.wires.values())
    flat = next(i for i, n in doc.nodes.items() if n.type == "Flatten")
    assert scene.wires[Edge(flat, "out", fc, "in")].label == "N \u00d7 784"

    controller.undo_stack.undo()
    settle(qtbot, controller)
    assert card.severity == "error" and scene.wires[Edge(x, "out", fc, "in")].error


def test_warning_badge_for_a_layer_that_leads_nowhere(canvas, qtbot):
    controller, view = canvas(graph.load(EXAMPLES[0]))
    stray = controller.add_node("ReLU", (0, 400))
    settle(qtbot, controller)
    item = view.network_scene.nodes[stray]
    assert item.severity == "error"  # unconnected input is an error
    first = next(iter(controller.document.nodes))
    controller.connect(first, "out", stray, "in")
    settle(qtbot, controller)
    assert item.severity == "warning" and item.badge.severity == "warning"
    assert "does not lead to any Output" in item.problem_text


def test_ports_follow_the_number_of_inputs(canvas):
    controller, view = canvas()
    add = controller.add_node("Add", (0, 0))
    item = view.network_scene.nodes[add]
    height = item.face.height
    controller.set_param(add, "inputs", 4)
    assert item.face.inputs == ["in1", "in2", "in3", "in4"]
    assert item.face.height > height
    assert item.port_at(item.port_pos("in", "in4")) == ("in", "in4")
    assert item.port_at(QPointF(70, -50)) is None


def test_selection_is_mirrored_both_ways(canvas):
    controller, view = canvas(graph.load(EXAMPLES[0]))
    ids = list(controller.document.nodes)
    controller.select(ids[:2])
    assert sorted(view.selected_node_ids()) == sorted(ids[:2])
    view.network_scene.clearSelection()
    assert controller.selected == []
    view.network_scene.nodes[ids[-1]].setSelected(True)
    assert controller.selected == [ids[-1]]
    controller.delete([ids[-1]])
    assert controller.selected == []


def render(view, zoom: float) -> QImage:
    view.set_zoom(zoom)
    view.centerOn(view.network_scene.nodes_rect().center())
    image = QImage(view.viewport().size(), QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    view.render(painter, QRectF(image.rect()), view.viewport().rect())
    painter.end()
    return image


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_cards_drawn_in_category_colours_at_every_level_of_detail(canvas, qapp, theme):
    resources.apply(qapp, theme)
    try:
        controller, view = canvas(graph.load(next(p for p in EXAMPLES
                                                  if p.stem == "spiral_mlp")))
        fc1 = controller.document.find_label("fc1").id
        item = view.network_scene.nodes[fc1]
        dense = QColor(resources.category_color("Dense"))
        for zoom in (1.0, 0.45, 0.2):  # full card, no text, a plain block
            image = render(view, zoom)
            header = view.mapFromScene(item.mapToScene(QPointF(70, 4)))
            pixel = image.pixelColor(header)
            assert abs(pixel.red() - dense.red()) + abs(pixel.green() - dense.green()) \
                + abs(pixel.blue() - dense.blue()) < 30, (zoom, pixel.name())
        canvas_colour = resources.current().color("canvas")
        corner = image.pixelColor(2, 2)
        assert corner.name() in (canvas_colour.name(),
                                 resources.current().color("grid_major").name())
    finally:
        resources.apply(qapp, "light")


def test_quick_add_search_ranks_names_first(qtbot):
    assert search("relu")[0].type == "ReLU"
    assert search("conv2")[0].type == "Conv2d"
    assert [s.type for s in search("zzzz-nothing")] == []
    takes_input = search("", lambda spec: bool(spec.inputs))
    assert "Input" not in [s.type for s in takes_input]
    popup = QuickAddPopup(accept=lambda spec: bool(spec.outputs))
    qtbot.addWidget(popup)
    assert "Output" not in popup.hits()
    popup.set_query("lin")
    assert popup.hits()[0] == "Linear"
    with qtbot.waitSignal(popup.chosen, timeout=1000) as chosen:
        popup.accept_current()
    assert chosen.args == ["Linear"]


def test_wires_are_selectable_items_under_the_cards(canvas):
    _controller, view = canvas(graph.load(EXAMPLES[0]))
    wire = next(iter(view.network_scene.wires.values()))
    card = next(iter(view.network_scene.nodes.values()))
    assert isinstance(wire, WireItem) and isinstance(card, NodeItem)
    assert wire.zValue() < card.zValue()
    assert wire.flags() & wire.GraphicsItemFlag.ItemIsSelectable
    middle = wire.path().pointAtPercent(0.5)
    assert wire.shape().contains(middle)
