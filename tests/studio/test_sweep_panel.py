"""The Sweep dock: a real SQLite study shown as a sortable table and plots, and a trial
opened as a run in the training runs."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QComboBox, QMessageBox, QTabBar

import graph
from graph.builder import Builder
from studio.main_window import MainWindow

optuna = pytest.importorskip("optuna")


def tiny(path):
    b = Builder("Tiny sweep")
    b.chain(b.add("Input", shape=[2]), ("Linear", {"out_features": 8}, "fc1"),
            ("ReLU", {}, "act"), ("Linear", {"out_features": 2}, "head"),
            ("Output", {"task": "classification"}))
    doc = b.done({"dataset": {"name": "spirals", "size": 100}, "epochs": 1,
                  "batch_size": 32, "device": "cpu"})
    graph.save(doc, path)
    return doc


def test_sweep_dock_shows_a_study_and_opens_a_trial_as_a_run(qtbot, tmp_path):
    from runtime.sweeps import SweepSpec
    from runtime.sweeps.study import default_storage, open_study
    from runtime.sweeps.trials import make_objective

    path = tmp_path / "tiny.strata"
    doc = tiny(path)
    spec = SweepSpec.from_document(doc)  # the default: lr and batch size
    study = open_study(spec, default_storage(path), "tiny", epochs=1)
    for lr, batch in ((0.009, 32), (0.0002, 16), (0.004, 64)):
        study.enqueue_trial({"lr": lr, "batch_size": batch})
    study.optimize(make_objective(doc.to_dict(), spec, tmp_path / "trials"), n_trials=3)
    pruned = optuna.trial.create_trial(  # one pruned trial, as the pruner leaves them
        params={"lr": 0.008, "batch_size": 16},
        distributions=study.trials[0].distributions,
        intermediate_values={1: 9.0}, state=optuna.trial.TrialState.PRUNED)
    study.add_trial(pruned)

    window = MainWindow(str(path), settings=QSettings(str(tmp_path / "s.ini"),
                                                      QSettings.Format.IniFormat),
                        autosave_dir=tmp_path / "recovery")
    # Closing never stops at a question (the document may have unsaved sweep edits).
    window.ask = lambda *_args: QMessageBox.StandardButton.Discard
    qtbot.addWidget(window)
    window.show()
    docks = window.sweeps
    panel = docks.build()  # follows the study found beside the network
    with qtbot.waitSignal(docks.sweeps.updated, timeout=10_000):
        docks.sweeps.poll()
    assert "Learning rate" in panel.searched.text() or "lr" in panel.searched.text()
    table = panel.table
    assert table.rowCount() == 4
    headers = [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]
    assert headers[:3] == ["Trial", "State", "Val loss"] and "Learning rate" in headers
    values = sorted(r.value for r in trial_rows(study) if r.state == "complete")
    table.sortByColumn(2, Qt.SortOrder.AscendingOrder)
    shown = [float(table.item(i, 2).text()) for i in range(3)]
    assert shown == pytest.approx(values, rel=1e-3)  # sorted by objective, as numbers
    assert table.item(3, 1).text() == "pruned"  # the pruned one shows its last report
    assert "3 complete, 1 pruned" in panel.status.text()
    xs, ys = panel.history.best.getData()
    assert list(xs) == [0, 1, 2] and ys[-1] == pytest.approx(values[0])
    assert panel.parallel.axes == ["batch_size", "lr", "val loss"]
    assert panel.history.pruned.data.size == 1

    # Open the best trial as a run: it joins the training runs, shown and comparable.
    table.selectRow(0)
    assert panel.open_button.isEnabled()
    panel.open_button.click()
    runner = window.training.runner
    assert len(runner.runs) == 1
    run = runner.runs[0]
    assert run.label.startswith("#1 sweep trial") and run.status == "finished"
    assert len(run.epoch_records) == 1
    assert run.epoch_records[0].val_loss == pytest.approx(values[0])

    # Search one more thing, a layer's width: stored in the document, one undo step.
    controller = window.controller
    fc1 = next(n.id for n in controller.document.nodes.values() if n.label == "fc1")
    add = panel.space.add
    index = add.findData(f"{fc1}.out_features")
    assert index > 0 and add.findData("lr") == -1  # lr is searched already
    add.setCurrentIndex(index)
    add.activated.emit(index)
    entries = controller.document.sweep["params"]
    assert [e["target"] for e in entries] == ["lr", "batch_size", f"{fc1}.out_features"]
    assert entries[-1] == {"target": f"{fc1}.out_features", "kind": "int", "low": 4,
                           "high": 16}
    assert panel.space.table.rowCount() == 3 and "fc1" in panel.searched.text()
    controller.undo_stack.undo()
    assert controller.document.sweep == {} and panel.space.table.rowCount() == 2
    window.close()


def trial_rows(study):
    from runtime.sweeps.study import trial_rows as rows

    return rows(study)


def test_the_dock_searches_and_shows_a_blocks_repeat_and_exposed_width(qtbot, tmp_path):
    from optuna.distributions import CategoricalDistribution, IntDistribution

    from graph.blocks import ExposedParam
    from runtime.sweeps import SweepSpec
    from runtime.sweeps.study import open_study
    from studio.sweeps.controller import SweepView
    from studio.sweeps.panel import SweepPanel
    from studio.sweeps.space_editor import candidates, first_range

    doc = tiny(tmp_path / "blocks.strata")
    inner = [n.id for n in doc.nodes.values() if n.label in ("fc1", "act")]
    hidden = doc.group(inner, "Hidden", "hidden").result["instance"]
    fc = next(n.id for n in doc.blocks["Hidden"].body.nodes.values() if n.label == "fc1")
    doc.set_exposed("Hidden", [ExposedParam("width", 8, [(fc, "out_features")])])
    options = candidates(doc)
    offered = {target: label for label, target, _kind, _value in options}
    assert offered[f"{hidden}.repeat"] == "hidden: repeat"
    assert offered[f"{hidden}.width"] == "hidden: width"
    entries = [first_range(f"{hidden}.repeat", "int", 1),
               {"target": f"{hidden}.width", "kind": "choice", "choices": [4, 16]}]
    assert entries[0] == {"target": f"{hidden}.repeat", "kind": "int", "low": 1,
                          "high": 3}
    doc.sweep = {"params": entries}
    spec = SweepSpec.from_document(doc)
    study = open_study(spec, f"sqlite:///{tmp_path / 's.db'}", "blocks", epochs=1)
    distributions = {f"{hidden}.repeat": IntDistribution(1, 3),
                     f"{hidden}.width": CategoricalDistribution([4, 16])}
    for repeat, width, loss in ((1, 4, 0.7), (3, 16, 0.4)):
        study.add_trial(optuna.trial.create_trial(
            params={f"{hidden}.repeat": repeat, f"{hidden}.width": width},
            distributions=distributions, value=loss, intermediate_values={1: loss}))

    panel = SweepPanel()
    qtbot.addWidget(panel)
    panel.set_space(entries, options)
    panel.set_spec(spec)
    panel.show_view(SweepView(rows=trial_rows(study), storage="s.db", study="blocks"))
    assert "hidden: repeat 1\u20133" in panel.searched.text()
    assert "hidden: width in [4, 16]" in panel.searched.text()
    table = panel.table
    headers = [table.horizontalHeaderItem(i).text() for i in range(table.columnCount())]
    assert headers[5:] == ["hidden: repeat", "hidden: width"]
    table.sortByColumn(2, Qt.SortOrder.AscendingOrder)  # the best trial first
    assert [table.item(0, c).text() for c in (5, 6)] == ["3", "16"]
    assert panel.parallel.labels == ["hidden: repeat", "hidden: width", "val loss"]
    space = panel.space.table
    assert [space.item(i, 0).text() for i in range(2)] == ["hidden: repeat",
                                                           "hidden: width"]


def test_the_dock_searches_a_nested_block_and_tracks_trials_in_mlflow(qtbot, tmp_path):
    """A block inside a block is offered by its path and searched as such; with MLflow
    tracking on, the sweep is started with its tracking URI."""
    path = tmp_path / "nested.strata"
    doc = tiny(path)
    inner = [n.id for n in doc.nodes.values() if n.label in ("fc1", "act")]
    outer = doc.group(inner, "Outer", "outer").result["instance"]
    body = doc.blocks["Outer"].body
    fc1 = [n.id for n in body.nodes.values() if n.label == "fc1"]
    nested = body.group(fc1, "Inner", "inner").result["instance"]
    graph.save(doc, path)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    window = MainWindow(str(path), settings=settings, autosave_dir=tmp_path / "recovery")
    window.ask = lambda *_args: QMessageBox.StandardButton.Discard
    qtbot.addWidget(window)
    window.show()
    docks = window.sweeps
    qtbot.wait(300)  # the window's first layout settles
    docks.bring_forward()  # Training > Hyperparameter Sweep...: the dock in front
    qtbot.wait(300)  # past the workspace's own raising of its front docks
    (bar,) = [b for b in window.findChildren(QTabBar)
              if "Sweep" in [b.tabText(i) for i in range(b.count())]]
    assert bar.tabText(bar.currentIndex()) == "Sweep"
    qtbot.waitUntil(lambda: docks.panel is not None, timeout=5000)  # built, shown
    panel = docks.panel
    qtbot.waitUntil(panel.isVisible, timeout=5000)
    add = panel.space.add
    offered = [add.itemText(i) for i in range(add.count())]
    assert "outer > inner: repeat" in offered
    add.activated.emit(offered.index("outer > inner: repeat"))
    target = f"{outer}/{nested}.repeat"
    # Added to the default search (learning rate, batch size), as one undo step.
    entries = window.controller.document.sweep["params"]
    assert [e["target"] for e in entries] == ["lr", "batch_size", target]
    assert panel.space.table.item(2, 0).text() == "outer > inner: repeat"
    space = panel.space.table  # refilled: only the rows' own "How" boxes are shown
    cells = [space.cellWidget(r, 1) for r in range(space.rowCount())]
    assert not [c for c in space.viewport().findChildren(QComboBox)
                if c.isVisible() and not any(c is w for w in cells)]

    tracking = window.training.mlflow
    tracking.ask_uri = lambda _current: ((tmp_path / "mlruns").as_uri(), True)
    tracking.action.setChecked(True)
    started = {}
    docks.sweeps.start = lambda *args, **kwargs: started.update(kwargs)
    docks.start(panel.settings())
    assert started["mlflow"] == (tmp_path / "mlruns").as_uri()
    assert docks._spec(panel.settings()).params[-1].target == target
