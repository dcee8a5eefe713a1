"""While a run trains, the network's structure is locked (the controller refuses the
edit and the canvas says why); pan, zoom, select and inspect stay free; "Edit anyway"
unlocks for the next run; the lock goes when the run ends."""

from __future__ import annotations

from PySide6.QtCore import Qt
from test_training_support import node_id, tiny_mlp, wait_ended, wait_status, workbench


def test_structure_is_locked_while_training(qtbot, tmp_path):
    doc = tiny_mlp(epochs=400)
    controller, view, bench = workbench(qtbot, doc, tmp_path)
    before = doc.to_dict()
    bench.train()
    wait_status(qtbot, bench, "running")
    qtbot.waitUntil(lambda: bench.lock.engaged and controller.locked)
    assert bench.lock.banner.isVisible()
    fc1, fc2 = node_id(doc, "fc1"), node_id(doc, "fc2")
    # Every structural intent is refused, with the reason.
    with qtbot.waitSignal(controller.edit_refused) as refused:
        controller.add_node("ReLU", (0.0, 300.0))
    assert "training" in refused.args[0]
    controller.delete([fc1])
    controller.set_param(fc1, "out_features", 3)
    controller.disconnect(next(iter(doc.edges_from(fc1))))
    controller.connect(fc1, "out", fc2, "in")
    assert controller.paste(controller.copy_nodes([fc1])) == []
    assert doc.to_dict() == before and controller.undo_stack.count() == 0
    assert bench.lock.refusals >= 6
    # Looking around stays free: select, zoom, move, and the setup for the next run.
    controller.select([fc2])
    assert view.network_scene.selected_node_ids() == [fc2]
    view.zoom_in()
    controller.move_nodes({fc2: (500.0, 500.0)})
    controller.set_training("epochs", 5)
    assert doc.nodes[fc2].position == (500.0, 500.0) and doc.training["epochs"] == 5
    # "Edit anyway": unlocked; the change waits for the next run.
    qtbot.mouseClick(bench.lock.banner.button, Qt.MouseButton.LeftButton)
    assert not controller.locked
    new = controller.add_node("ReLU", (0.0, 300.0))
    assert new in doc.nodes
    assert "next run" in bench.lock.banner.text  # (the label elides it to its room)
    assert bench.runner.active  # the run trains its snapshot, untouched
    bench.stop()
    wait_ended(qtbot, bench, 60_000)
    assert not controller.locked and not bench.lock.banner.isVisible()


def test_the_lock_goes_with_the_run(qtbot, tmp_path):
    doc = tiny_mlp(epochs=1)
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    bench.train()
    run = wait_ended(qtbot, bench)
    assert run.status == "finished"
    assert not controller.locked
    fc1 = node_id(doc, "fc1")
    controller.disconnect(next(iter(doc.edges_from(fc1))))
    assert not any(e.source == fc1 for e in doc.edges)
