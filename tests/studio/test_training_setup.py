"""The training setup form: built from the runtime's registry and settings, reads the
document, writes every edit as one undo step, refuses bad values at the field, and
previews the chosen dataset."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from studio.document.controller import DocumentController
from studio.resources import EXAMPLES
from studio.training.setup_panel import TrainingSetupPanel


@pytest.fixture
def controller(make_controller):
    return make_controller("spiral_mlp")


@pytest.fixture
def panel(qtbot, controller):
    p = TrainingSetupPanel(controller)
    qtbot.addWidget(p)
    p.resize(340, 1100)
    p.show()
    qtbot.waitUntil(lambda: p.loaded)
    return p


def choose(panel, name: str) -> None:
    combo = panel.dataset.combo
    index = combo.findData(name)
    assert index >= 0, name
    combo.setCurrentIndex(index)
    combo.activated.emit(index)


def test_form_shows_the_document_setup(panel):
    assert panel.dataset.combo.currentData() == "spirals"
    assert panel.editors["lr"].field.text() == "0.01"
    assert panel.editors["epochs"].field.value() == 60
    assert panel.editors["optimizer"].field.currentText() == "adam"
    # Momentum only matters for SGD and RMSprop; the step schedule's rows are hidden.
    assert panel.editors["momentum"].isHidden() and panel.editors["step_size"].isHidden()
    # Every registry dataset is listed, grouped by category.
    from runtime.datasets import dataset_names

    listed = [panel.dataset.combo.itemData(i) for i in range(panel.dataset.combo.count())]
    assert [n for n in listed if n] == dataset_names()


def test_each_edit_is_one_undo_step(panel, controller):
    doc = controller.document
    before = dict(doc.training)
    lr = panel.editors["lr"]
    lr.field.setText("0.05")
    lr.field.editingFinished.emit()
    assert doc.training["lr"] == 0.05
    panel.editors["optimizer"].committed.emit("sgd")
    assert doc.training["optimizer"] == "sgd"
    assert not panel.editors["momentum"].isHidden()  # SGD shows its momentum
    controller.undo_stack.undo()
    controller.undo_stack.undo()
    assert doc.training == before
    assert panel.editors["lr"].field.text() == "0.01"


def test_bad_values_are_refused_at_the_field(panel, controller):
    doc = controller.document
    before = dict(doc.training)
    lr = panel.editors["lr"]
    lr.field.setText("-1")
    lr.field.editingFinished.emit()
    assert lr.has_error and "lr" in lr.error.text() and "-1" in lr.error.text()
    panel.editors["val_fraction"].committed.emit(0.95)
    assert panel.editors["val_fraction"].has_error
    assert doc.training == before and controller.undo_stack.count() == 0


def test_choosing_a_dataset_saves_it_and_previews_images(panel, controller, qtbot):
    with qtbot.waitSignal(panel.preview.loaded, timeout=60_000):
        choose(panel, "shapes")
    dataset = controller.document.training["dataset"]
    assert dataset["name"] == "shapes" and dataset["image_size"] == 28
    summary = panel.preview.summary
    assert summary["shapes"] == [(1, 28, 28)] and len(summary["images"]) == 8
    assert list(summary["classes"]) == ["circle", "square", "triangle", "cross"]
    assert "Training examples per class" in panel.preview.info.text()
    assert "noise" in panel.dataset.editors  # the options form follows the dataset
    controller.undo_stack.undo()
    assert controller.document.training["dataset"]["name"] == "spirals"
    assert panel.dataset.combo.currentData() == "spirals"


def test_preview_of_2d_points_is_a_scatter_with_class_counts(panel, qtbot):
    qtbot.waitUntil(lambda: panel.preview.summary is not None, timeout=60_000)
    summary = panel.preview.summary
    assert summary["points"].shape[1] == 2
    assert list(summary["counts"]) == [350, 350]
    assert "700 train / 200 val / 100 test" in panel.preview.info.text()


def test_missing_scikit_learn_says_how_to_install_it(panel, monkeypatch, qtbot):
    from runtime.datasets import registry

    real = registry._installed
    monkeypatch.setattr(registry, "_installed",
                        lambda pkg: False if pkg == "scikit-learn" else real(pkg))
    with qtbot.waitSignal(panel.preview.loaded, timeout=60_000):
        choose(panel, "digits")
    assert not panel.dataset.missing.isHidden()
    assert "pip install scikit-learn" in panel.dataset.missing.text()
    assert "pip install scikit-learn" in panel.preview.error_text


def test_a_csv_file_is_chosen_with_a_file_dialog(panel, controller, monkeypatch, qtbot,
                                                 tmp_path):
    path = tmp_path / "flowers.csv"
    rows = ["petal,sepal,kind"] + [f"{i % 7 / 7:.3f},{i % 5 / 5:.3f},{'ab'[i % 2]}"
                                   for i in range(60)]
    path.write_text("\n".join(rows) + "\n")
    choose(panel, "csv")
    assert controller.document.training["dataset"]["name"] == "csv"
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    with qtbot.waitSignal(panel.preview.loaded, timeout=60_000):
        panel.dataset.browse(panel.dataset.info())
    assert controller.document.training["dataset"]["path"] == str(path)
    assert panel.preview.summary["shapes"] == [(2,)]
    assert list(panel.preview.summary["classes"]) == ["a", "b"]


def test_devices_show_which_are_available(panel):
    combo = panel.editors["device"].field
    texts = [combo.itemText(i) for i in range(combo.count())]
    assert texts[0].startswith("auto (")
    from runtime.setup import available_devices

    for name, text in zip(("auto", "cpu", "cuda", "mps"), texts):
        if name in ("cuda", "mps") and name not in available_devices():
            assert "not available" in text


def test_the_form_is_built_from_the_runtime_declaration(panel):
    """One declaration: every setting of runtime.setup.SETTINGS has exactly its editor,
    checked by the very same ParamSpec, under its label, in its group, and nothing else."""
    from PySide6.QtWidgets import QLabel

    from runtime.setup import SETTINGS, setting_groups

    assert list(panel.editors) == [s.name for s in SETTINGS]
    for setting in SETTINGS:
        label, editor = panel.rows[setting.name]
        assert editor.spec is setting.param
        assert label.text() == setting.label and label.toolTip() == setting.param.help
    titles = [g.upper() for g, _ in setting_groups()]
    assert [w.text() for w in panel.findChildren(QLabel) if w.text() in titles] == titles


@pytest.mark.parametrize(("key", "value", "says"), [
    ("lr", 20.0, "lr"),  # the runtime's upper bound (10)
    ("momentum", 1.0, "momentum"),  # the runtime's open upper bound
    ("gamma", 0.0, "gamma"),  # the runtime's open lower bound
])
def test_the_form_refuses_what_a_run_refuses(panel, controller, key, value, says):
    from runtime.setup import SetupError, TrainingSetup

    with pytest.raises(SetupError):
        TrainingSetup.from_dict({**controller.document.training, key: value})
    assert not panel.commit(key, value)
    assert panel.editors[key].has_error and says in panel.editors[key].error.text()
    assert controller.undo_stack.count() == 0


def test_an_old_file_with_the_nested_setup_opens_flat(qtbot, qapp, tmp_path):
    import json

    data = json.loads((EXAMPLES / "spiral_mlp.strata").read_text("utf-8"))
    data["version"] = 1
    data["training"] = {"dataset": {"name": "spirals"}, "epochs": 5,
                        "optimizer": {"name": "sgd", "lr": 0.1}}
    path = tmp_path / "old.strata"
    path.write_text(json.dumps(data), "utf-8")
    controller = DocumentController()
    controller.open(path)
    panel = TrainingSetupPanel(controller)
    qtbot.addWidget(panel)
    panel.show()
    qtbot.waitUntil(lambda: panel.loaded)
    assert panel.editors["lr"].field.text() == "0.1"
    assert panel.editors["optimizer"].field.currentText() == "sgd"
    assert not panel.editors["momentum"].isHidden()
    panel.editors["epochs"].committed.emit(7)
    assert controller.document.training == {"dataset": {"name": "spirals"}, "epochs": 7,
                                            "optimizer": "sgd", "lr": 0.1}
    controller.undo_stack.undo()
    assert controller.document.training["epochs"] == 5
