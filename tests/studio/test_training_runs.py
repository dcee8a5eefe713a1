"""After training: the session's runs are listed, an earlier run's curves can be laid
over the current one, checkpoints are saved where the user wants, evaluated on the
validation set, and the next run can start from one."""

from __future__ import annotations

from pathlib import Path

from test_training_support import tiny_mlp, wait_ended, workbench

from runtime.checkpoints import load_checkpoint


def test_checkpoints_evaluate_save_and_continue(qtbot, tmp_path):
    doc = tiny_mlp(epochs=2)
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    bench.train()
    first = wait_ended(qtbot, bench)
    assert first.status == "finished"
    runs = bench.panel.runs
    assert runs.tree.topLevelItemCount() == 1
    runs.select(first)
    assert runs.evaluate_button.isEnabled() and runs.save_button.isEnabled()

    # Evaluate the run's best weights on the validation set.
    with qtbot.waitSignal(bench.evaluation.done, timeout=60_000):
        runs.evaluate_button.click()
    result = bench.last_evaluation
    assert result.split == "val" and result.examples == first.dataset["sizes"]["val"]
    assert abs(result.loss - min(r.val_loss for r in first.epoch_records)) < 1e-4
    assert result.metric is not None and "validation set" in runs.note.text()

    # Save a copy of the checkpoint where the user wants it.
    target = tmp_path / "kept.pt"
    assert runs.save_checkpoint_as(str(target)) == str(target)
    assert load_checkpoint(target).epoch >= 1

    # The next run continues from the first one's weights: two more epochs.
    runs.resume_button.click()
    assert bench.resume_from and Path(bench.resume_from).exists()
    controller.set_training("epochs", 4)
    bench.train()
    second = wait_ended(qtbot, bench)
    assert second.status == "finished", second.message
    assert second.start_step > 0 and second.epoch == 4
    assert [r.epoch for r in second.epoch_records] == [3, 4]
    assert runs.tree.topLevelItemCount() == 2

    # Lay the first run's curves under the second's.
    runs.select(first)
    runs.compare_button.click()
    assert bench.view.curves.reference is first
    xs, _ys = bench.view.curves.ref_loss_val.getOriginalDataset()
    assert len(xs) == 2


def test_a_checkpoint_of_another_network_is_refused_clearly(qtbot, tmp_path):
    from runtime.engine import Trainer
    from runtime.events import CheckpointEvent

    doc = tiny_mlp(epochs=1)
    controller, _view, bench = workbench(qtbot, doc, tmp_path)
    # The network's checkpoint, trained in this process by the engine a worker runs
    # (a studio run's checkpoints are the first test's; a worker would only add its
    # start-up).
    events: list = []
    Trainer(doc, emit=events.append, out_dir=tmp_path / "run").run()
    path = [e.path for e in events
            if isinstance(e, CheckpointEvent) and e.reason != "best"][-1]
    fc2 = next(n.id for n in doc.nodes.values() if n.label == "fc2")
    controller.set_param(fc2, "out_features", 7)  # the network changed since
    with qtbot.waitSignal(bench.evaluation.failed, timeout=60_000) as failed:
        bench.evaluate(path)
    assert "different version of this network" in failed.args[0]
    assert "out_features" in failed.args[0]
