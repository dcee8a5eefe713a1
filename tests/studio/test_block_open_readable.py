"""Opening a block (a double-click on its card) frames its inside at a zoom where its
titles read, starting from its input port, with the rest a pan away; a whole body fitted
into the canvas was a row of blank cards at 34% (blocks_resnet's DownBlock at 1280x720).
(A body that fits whole at a readable zoom is shown whole: ``frame_readable``.)"""

from __future__ import annotations

from PySide6.QtCore import Qt

RESNET = "resources/examples/blocks_resnet.strata"


def _double_click_card(qtbot, window, label: str) -> None:
    view = window.view
    node = next(n.id for n in window.controller.document.nodes.values()
                if n.label == label)
    item = view.network_scene.nodes[node]
    view.centre_on(item.sceneBoundingRect().center())
    point = view.mapFromScene(item.sceneBoundingRect().center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)


def test_an_opened_block_is_framed_readably_from_its_input(make_window, qtbot):
    from studio.canvas.readable import readable_zoom

    window = make_window(RESNET)
    window.resize(1280, 720)
    qtbot.wait(50)
    _double_click_card(qtbot, window, "layer2")  # DownBlock: 9 layers and two ports
    assert window.levels.path == ["DownBlock"]
    view = window.view
    scene = view.network_scene
    titles = [item.face.title for item in scene.nodes.values()]
    assert view.zoom() >= readable_zoom(titles) - 1e-6, view.zoom()
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    body = window.levels.current.document
    port_in = next(n.id for n in body.nodes.values() if n.type == "BlockInput")
    assert shown.contains(scene.nodes[port_in].sceneBoundingRect())  # from the start
    assert not shown.contains(scene.nodes_rect())  # ... and the rest a pan away
    # Back up, and into the other block: readable too.
    window.levels.leave()
    _double_click_card(qtbot, window, "layer1")
    assert window.levels.path == ["BasicBlock"]
    view = window.view
    titles = [item.face.title for item in view.network_scene.nodes.values()]
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert view.zoom() >= readable_zoom(titles) - 1e-6
    body = window.levels.current.document
    port_in = next(n.id for n in body.nodes.values() if n.type == "BlockInput")
    assert shown.contains(view.network_scene.nodes[port_in].sceneBoundingRect())
