"""A finished run's diagnoses stay marked ("insight that stays") until an edit changes
the layers they are about: a one-click fix that replaces the Sigmoids takes their
"Vanishing gradients" marks off the canvas and its row out of Problems, while the mark
of a layer the fix left alone stays; undoing the fix brings the diagnosis back, redoing
takes it away again. The run is a real one (in-process), its diagnoses named here."""

from __future__ import annotations

from PySide6.QtCore import Qt
from test_training_support import node_id, tiny_mlp, workbench

from runtime.engine import Trainer
from runtime.events import DiagnosisEvent
from runtime.run_record import RunRecord


def finished_run(doc, *diagnoses) -> RunRecord:
    events: list = []
    Trainer(doc, emit=events.append).run()
    run = RunRecord(1, network=doc.name, label="#1 test")
    for event in events[:-1]:
        run.apply(event)
    for d in diagnoses:
        run.apply(d)
    run.apply(events[-1])  # finished
    assert not run.active
    return run


def test_a_fix_takes_the_marks_of_the_layers_it_changed(qtbot, tmp_path):
    doc = tiny_mlp(epochs=1, activation="Sigmoid", depth=2)
    controller, _view, bench = workbench(qtbot, doc, tmp_path, problems=True)
    fc1, act1, fc2, act2, head = (node_id(doc, x)
                                  for x in ("fc1", "act1", "fc2", "act2", "head"))
    vanishing = DiagnosisEvent("vanishing_gradients", (act1, fc2, act2, head),
                               "Vanishing gradients", "The gradient fades.",
                               "Replace Sigmoid with ReLU.", "warning", 10, 1)
    spread = DiagnosisEvent("exploding_gradients", (fc1,), "Exploding gradients",
                            "fc1's gradient grows.", "Lower the learning rate.",
                            "warning", 10, 1)
    run = finished_run(doc, vanishing, spread)
    bench.show_run(run)
    bench._settle_canvas(run)  # as when a run ends: marks stay, heat dimmed
    overlay, problems = bench.overlay, bench.problems
    assert set(overlay.marked_nodes()) == {act1, fc2, act2, head, fc1}
    kinds = [p.kind for p in problems.problems]
    assert "training:vanishing_gradients" in kinds

    row = kinds.index("training:vanishing_gradients")
    fix = problems.fixes[row]
    assert fix is not None and "ReLU" in fix.title
    button = problems.tree.findChild(object, f"fix_{row}")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not any(n.type == "Sigmoid" for n in doc.nodes.values())
    # The vanishing gradients' marks went; fc1's (a layer the fix left alone) stays.
    assert overlay.marked_nodes() == {fc1: "Exploding gradients"}
    kinds = [p.kind for p in problems.problems]
    assert "training:vanishing_gradients" not in kinds
    assert "training:exploding_gradients" in kinds

    controller.undo_stack.undo()  # the network the run diagnosed, again
    assert set(overlay.marked_nodes()) == {act1, fc2, act2, head, fc1}
    assert "training:vanishing_gradients" in [p.kind for p in problems.problems]
    controller.undo_stack.redo()
    assert set(overlay.marked_nodes()) == {fc1}
    # A move changes no layer: the marks stay.
    controller.move_nodes({fc1: (900.0, 900.0)})
    assert set(overlay.marked_nodes()) == {fc1}
    # An edit of fc1 itself takes its mark too.
    controller.set_param(fc1, "out_features", 8)
    assert overlay.marked_nodes() == {}
    assert not [p for p in problems.problems if p.kind.startswith("training:")]


def test_an_edit_inside_a_block_takes_its_layers_marks_and_the_dimmed_heat(qtbot,
                                                                          tmp_path):
    """The Sigmoid fix edits the block's definition: the saturation mark of the inner
    Sigmoid (shown on its collapsed instance) goes, the mark of a network layer stays,
    and the finished run's dimmed heat goes as for any edit of the network."""
    from block_networks import sigmoid_blocks

    from graph.edits import InBlock, ReplaceLayer
    from graph.fixes import Fix

    doc = sigmoid_blocks(uses=1, repeat=1, size=120)
    doc.training["epochs"] = 1
    controller, _view, bench = workbench(qtbot, doc, tmp_path, problems=True)
    body = doc.blocks["Hidden"].body
    sigmoid = next(n.id for n in body.nodes.values() if n.type == "Sigmoid")
    instance = next(n.id for n in doc.nodes.values() if n.type == "Block")
    fc0 = node_id(doc, "fc0")
    inner = DiagnosisEvent("saturated_activations", (f"{instance}/{sigmoid}",),
                           "Saturated activations", "Outputs stick at 0 or 1.",
                           "Replace Sigmoid with ReLU.", "warning", 10, 1)
    other = DiagnosisEvent("exploding_gradients", (fc0,), "Exploding gradients",
                           "fc0's gradient grows.", "Lower the learning rate.",
                           "warning", 10, 1)
    run = finished_run(doc, inner, other)
    bench.show_run(run)
    bench.overlay.show_finished(run)
    bench._settle_canvas(run)
    overlay = bench.overlay
    assert overlay.dimmed and set(overlay.marked_nodes()) == {instance, fc0}
    controller.apply_fix(Fix("Replace the Sigmoid layer with ReLU in block 'Hidden'",
                             (InBlock("Hidden", ReplaceLayer(sigmoid, "ReLU")),)))
    assert body.nodes[sigmoid].type == "ReLU"
    assert set(overlay.marked_nodes()) == {fc0}
    assert [p.kind for p in bench.problems.problems if p.kind.startswith("training:")] \
        == ["training:exploding_gradients"]
    assert not overlay.dimmed and not overlay.heat  # the last run's heat went
    controller.undo_stack.undo()
    assert set(overlay.marked_nodes()) == {instance, fc0}


def test_a_diagnosis_going_stale_while_the_window_closes_is_no_traceback(qtbot, tmp_path):
    """The document's last signal can come after Qt deleted the Problems panel's tree
    (a window closing): the marks are not pushed to it, and nothing is raised."""
    import shiboken6

    doc = tiny_mlp(epochs=1, activation="Sigmoid", depth=2)
    _controller, _view, bench = workbench(qtbot, doc, tmp_path, problems=True)
    vanishing = DiagnosisEvent("vanishing_gradients", (node_id(doc, "act1"),),
                               "Vanishing gradients", "The gradient fades.",
                               "Replace Sigmoid with ReLU.", "warning", 10, 1)
    bench.show_run(finished_run(doc, vanishing))
    shiboken6.delete(bench.problems.tree)
    bench.stale.changed.emit()  # raised RuntimeError: QTreeWidget already deleted
