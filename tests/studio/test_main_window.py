"""The main window: files, clipboard, menus, settings, status bar, recovery, start-up.

Real windows offscreen, real files in ``tmp_path``; questions the window would ask are
answered by replacing ``window.ask`` and messages are read from ``window.last_message``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox
from strata_paths import EXAMPLES

import graph
from graph import Edge
from graph.layout import wrapped_positions
from studio import resources
from studio.document.controller import CLIPBOARD_MIME
from studio.window_files import examples

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise",
                                       "does not support grabbing")
Answer = QMessageBox.StandardButton


@pytest.fixture
def spiral(tmp_path):
    path = tmp_path / "spiral.strata"
    shutil.copy(EXAMPLES / "spiral_mlp.strata", path)
    return path


def label_id(window, label):
    return window.controller.document.find_label(label).id


def test_title_shows_the_document_and_its_unsaved_state(make_window, spiral):
    window = make_window(spiral)
    assert window.windowTitle() == "spiral.strata[*] \u2014 Strata"
    assert not window.isWindowModified()
    window.controller.set_param(label_id(window, "fc1"), "out_features", 12)
    assert window.isWindowModified()
    window.menu_actions.undo.trigger()
    assert not window.isWindowModified()
    window.menu_actions.redo.trigger()
    assert window.isWindowModified()
    window.files.new()  # unsaved changes: asks, and "Discard" lets the new one in
    assert window.asked == ["Save changes?"]
    assert window.windowTitle() == "Untitled[*] \u2014 Strata"
    assert not window.controller.document.nodes


def test_close_with_unsaved_changes_asks_first(make_window, spiral):
    window = make_window(spiral)
    fc1 = label_id(window, "fc1")
    window.controller.set_param(fc1, "out_features", 12)
    window.answers = [Answer.Cancel]
    assert not window.close()
    assert window.isVisible() and window.asked == ["Save changes?"]
    window.answers = [Answer.Save]
    assert window.close()
    assert graph.load(spiral).nodes[fc1].params["out_features"] == 12


def test_save_and_reopen_gives_the_identical_document(make_window, spiral, tmp_path):
    window = make_window(spiral)
    c = window.controller
    c.set_label(label_id(window, "fc2"), "hidden")
    new = c.add_node("Dropout", (300.0, 160.0), {"p": 0.25})
    c.connect(label_id(window, "hidden"), "out", new, "in")
    target = tmp_path / "saved" / "copy.strata"
    assert window.files.save_as(target)
    assert not window.isWindowModified() and c.path == target
    assert window.windowTitle().startswith("copy.strata")
    other = make_window(target, "other.ini")
    assert other.controller.document.to_dict() == c.document.to_dict()
    assert window.recent.files()[0] == target.resolve()


@pytest.mark.parametrize("content, expected", [
    (b'{"format": "strata", "version": 1, "nodes": [', "not valid JSON"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "not a text file"),
    (b'{"format": "strata", "version": 1, "nodes": [{"id": "a", "type": "Bogus"}]}',
     "unknown layer type 'Bogus'"),
    (b'{"format": "strata", "version": 99}', "newer Strata"),
])
def test_a_broken_file_is_refused_and_the_document_kept(make_window, spiral, tmp_path,
                                                        content, expected):
    window = make_window(spiral)
    window.controller.set_param(label_id(window, "fc1"), "out_features", 12)
    before = window.controller.document.to_dict()
    bad = tmp_path / "bad.strata"
    bad.write_bytes(content)
    assert window.files.open_path(bad) is False
    box = window.last_message
    assert box is not None and box.isVisible()
    assert expected in box.text() and "bad.strata" in box.text()
    assert window.controller.document.to_dict() == before
    assert window.controller.path == spiral and window.isWindowModified()
    box.close()


def test_examples_menu_opens_every_example_as_untitled(make_window):
    window = make_window()
    titles = [a.text() for a in window.examples_menu.actions()]
    assert len(titles) == len(list(EXAMPLES.glob("*.strata"))) == len(examples()) >= 6
    assert "Residual CNN" in titles  # the network's own name, not the file's
    by_name = {graph.load(p).name: p for p in examples()}
    for action in window.examples_menu.actions():
        path = by_name[action.text()]
        action.trigger()
        assert window.controller.document.to_dict() == graph.load(path).to_dict()
        assert window.controller.path is None  # Save must not overwrite the example
    visible = window.view.mapToScene(window.view.viewport().rect()).boundingRect()
    assert visible.intersects(window.scene.nodes_rect())


def test_export_python_writes_the_generated_module(make_window, spiral, tmp_path):
    window = make_window(spiral)
    out = window.files.export_python(tmp_path / "out" / "spiral.py")
    source = out.read_text("utf-8")
    assert source == graph.generate_code(window.controller.document).source
    namespace: dict = {}
    exec(compile(source, str(out), "exec"), namespace)  # noqa: S102 - our own export
    model = namespace["SpiralMLP"]()
    assert model(torch.zeros(3, 2)).shape == (3, 2)
    # A network with errors is not exported; the message says why.
    window.controller.add_node("Linear", (0, 300))
    window.controller.analyze_now()
    assert window.files.export_python(tmp_path / "broken.py") is None
    assert not (tmp_path / "broken.py").exists()
    assert "is not connected" in window.last_message.text()
    window.last_message.close()


def test_copy_paste_across_windows_through_the_clipboard(make_window, spiral, qtbot):
    source = make_window(spiral)
    target = make_window(None, "second.ini")
    chosen = [label_id(source, "fc1"), label_id(source, "relu"), label_id(source, "fc2")]
    source.controller.select(chosen)
    assert source.copy()
    mime = QGuiApplication.clipboard().mimeData()
    assert mime.hasFormat(CLIPBOARD_MIME)
    assert json.loads(mime.text())["format"] == "strata-clipboard"
    pasted = target.paste()
    doc = target.controller.document
    assert [doc.nodes[i].type for i in pasted] == ["Linear", "ReLU", "Linear"]
    assert len(doc.edges) == 2  # the wires between the copied layers came along
    assert target.controller.selected == pasted
    assert target.controller.undo_stack.count() == 1
    target.menu_actions.undo.trigger()
    assert not doc.nodes
    # Plain JSON text (e.g. from another program) pastes as well; anything else is refused.
    QGuiApplication.clipboard().setText(mime.text())
    assert len(target.paste()) == 3
    QGuiApplication.clipboard().setText("not strata")
    assert target.paste() == []
    assert "no Strata layers" in target.statusBar().currentMessage()


def test_cut_duplicate_delete_and_select_all(make_window, spiral, qtbot):
    window = make_window(spiral)
    c = window.controller
    before = c.document.to_dict()
    fc1, relu = label_id(window, "fc1"), label_id(window, "relu")
    c.select([fc1, relu])
    copies = window.duplicate()
    assert len(copies) == 2 and len(c.document.nodes) == 9
    assert Edge(copies[0], "out", copies[1], "in") in c.document.edges
    window.menu_actions.undo.trigger()
    c.select([fc1, relu])
    window.menu_actions.cut.trigger()
    assert fc1 not in c.document.nodes and relu not in c.document.nodes
    window.paste()
    assert len(c.document.nodes) == 7
    window.menu_actions.undo.trigger()
    window.menu_actions.undo.trigger()
    assert c.document.to_dict() == before
    window.menu_actions.select_all.trigger()
    assert c.selected == list(c.document.nodes)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Delete)  # the window's Delete shortcut
    assert not c.document.nodes
    window.menu_actions.undo.trigger()
    assert c.document.to_dict() == before


def test_auto_arrange_is_one_undoable_step(make_window, spiral):
    window = make_window(spiral)
    c = window.controller
    scrambled = {node_id: (float((i * 7919) % 900), float((i * 104729) % 700))
                 for i, node_id in enumerate(c.document.nodes)}
    c.move_nodes(scrambled)
    before = c.document.to_dict()
    viewport = window.view.viewport().size()
    expected = wrapped_positions(c.document, None, (viewport.width(), viewport.height()))
    c.select([])
    window.menu_actions.arrange.trigger()
    assert {i: n.position for i, n in c.document.nodes.items()} == expected
    assert c.undo_stack.undoText() == "Auto-arrange"
    window.menu_actions.undo.trigger()
    assert c.document.to_dict() == before
    # With a selection, only the selection moves.
    few = list(c.document.nodes)[:3]
    c.select(few)
    window.menu_actions.arrange.trigger()
    moved = {i for i, n in c.document.nodes.items() if n.position != scrambled[i]}
    assert moved and moved <= set(few)


def test_theme_and_panel_layout_are_remembered(make_window, qapp):
    window = make_window()
    assert not resources.current().dark
    window.menu_actions.dark.trigger()
    assert resources.current().dark
    assert qapp.palette().color(qapp.palette().ColorRole.Window).name() == \
        resources.DARK.window
    window.docks["code"].hide()
    window.removeDockWidget(window.docks["palette"])
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.docks["palette"])
    window.docks["palette"].show()
    window.close()
    resources.apply(qapp, "light")
    again = make_window()  # same settings file
    assert resources.current().dark and again.menu_actions.dark.isChecked()
    assert not again.docks["code"].isVisible()
    assert again.dockWidgetArea(again.docks["palette"]) == Qt.DockWidgetArea.RightDockWidgetArea


def test_status_bar_shows_validity_parameters_and_device(make_window, spiral, qtbot):
    window = make_window(spiral)
    status = window.status
    qtbot.waitUntil(lambda: status.started, timeout=3000)
    expected = sum(p.numel() for p in graph.compile(window.controller.document).parameters())
    qtbot.waitUntil(lambda: f"{expected:,}" in status.params.text(), timeout=20000)
    assert "Valid" in status.validity.text()
    qtbot.waitUntil(lambda: "\u2026" not in status.device.text(), timeout=20000)
    assert status.device.text() == "Device: CPU"
    window.controller.set_param(label_id(window, "fc1"), "out_features", 10)
    expected = 2 * 10 + 10 + 10 * 64 + 64 + 64 * 2 + 2
    qtbot.waitUntil(lambda: f"{expected:,}" in status.params.text(), timeout=5000)
    window.controller.add_node("ReLU", (0, 300))
    qtbot.waitUntil(lambda: "1 error" in status.validity.text(), timeout=3000)
    window.view.set_zoom(0.5)
    assert status.zoom.text() == "50%"


def test_clicking_a_problem_centres_the_canvas_on_its_layer(make_window, spiral):
    window = make_window(spiral)
    stray = window.controller.add_node("ReLU", (3000.0, 2000.0))
    window.controller.analyze_now()
    window.view.centerOn(0, 0)
    row = next(i for i, p in enumerate(window.problems.problems) if stray in p.node_ids)
    window.problems.activate(row)
    assert window.controller.selected == [stray]
    card = window.scene.nodes[stray].sceneBoundingRect()
    on_screen = window.view.mapFromScene(card.center())
    assert (window.view.viewport().rect().center() - on_screen).manhattanLength() < 3


def test_unsaved_work_is_offered_back_after_a_crash(make_window, spiral, tmp_path):
    crashed = make_window(spiral, "crashed.ini")
    fc1 = label_id(crashed, "fc1")
    crashed.controller.set_param(fc1, "out_features", 21)
    crashed.autosave.save_now()  # what the autosave timer does every few seconds
    lost = crashed.controller.document.to_dict()
    # The crash: the window never closes normally, so its recovery file stays.
    crashed.autosave.timer.stop()
    crashed.autosave.discard = lambda: None
    crashed.controller.undo_stack.setClean()

    restarted = make_window(None, "restarted.ini")
    restarted.answers = [Answer.Yes]
    assert restarted.offer_recovery()
    assert restarted.asked == ["Recover unsaved work?"]
    assert restarted.controller.document.to_dict() == lost
    assert restarted.controller.path == spiral and restarted.isWindowModified()
    assert restarted.autosave.recoverable() == []  # offered once, then it is ours

    # Declining deletes the recovery.
    restarted.controller.set_param(fc1, "out_features", 5)
    restarted.autosave.save_now()
    restarted.autosave.discard = lambda: None
    third = make_window(None, "third.ini")
    third.answers = [Answer.No]
    assert not third.offer_recovery()
    assert third.autosave.recoverable() == [] and not third.controller.document.nodes
    restarted.controller.undo_stack.setClean()


def run_studio(args, tmp_path, extra_env=None):
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", STRATA_QUIT_AFTER_SHOW="1",
               HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_DATA_HOME=str(tmp_path / "data"))
    env.update(extra_env or {})
    code = ("import sys\n"
            "from studio.app import run\n"
            "code = run(sys.argv[1:])\n"
            "print('torch' in sys.modules)\n"
            "sys.exit(code)\n")
    return subprocess.run([sys.executable, "-c", code, *args], check=False,
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)


def test_the_window_opens_and_exits_cleanly_without_torch(tmp_path, spiral):
    # Probes that would import torch start only after the window shows; quitting right
    # away must leave torch unimported and end with status 0 (no crash at shutdown).
    done = run_studio([str(spiral)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False"
    bad = tmp_path / "bad.strata"
    bad.write_text("{")
    done = run_studio([str(bad)], tmp_path)
    assert done.returncode == 0, done.stderr
    done = run_studio(["a", "b"], tmp_path)
    assert done.returncode == 2 and "usage" in done.stderr


def test_quitting_while_torch_loads_in_the_background_is_clean(tmp_path, spiral):
    # 400 ms after the window shows, the parameter count is importing torch on a
    # background thread; quitting then must wait for it, not die mid-import.
    done = run_studio([str(spiral)], tmp_path, {"STRATA_QUIT_AFTER_SHOW": "400"})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Fatal" not in done.stderr


def test_palette_enter_adds_the_top_hit_at_the_view_centre(make_window, qtbot):
    window = make_window()
    palette = window.palette_panel
    palette.search.setFocus()
    QTest.keyClicks(palette.search, "linear")
    QTest.keyClick(palette.search, Qt.Key.Key_Return)
    (node,) = window.controller.document.nodes.values()
    assert node.type == "Linear" and window.controller.selected == [node.id]
    card = window.scene.nodes[node.id].sceneBoundingRect()
    assert card.contains(window.view.visible_center()) or \
        (card.center() - window.view.visible_center()).manhattanLength() < 40
    QApplication.processEvents()


def test_an_empty_canvas_says_how_to_start_and_the_first_layer_hides_it(make_window, qtbot):
    window = make_window()
    hint = window.view.empty_hint
    assert hint.isVisible() and "Start a network" in hint.text()
    assert "File \u25b8 Examples" in hint.text()
    # Centred in the canvas, and it lets drops and double-clicks through.
    area = window.view.viewport().rect()
    assert abs(hint.geometry().center().x() - area.center().x()) <= 2
    assert hint.testAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    window.controller.add_node("Input", (0.0, 0.0))
    qtbot.waitUntil(lambda: not hint.isVisible())
    window.controller.undo_stack.undo()
    qtbot.waitUntil(hint.isVisible)
    window.files.open_path(EXAMPLES / "spiral_mlp.strata")
    qtbot.waitUntil(lambda: not hint.isVisible())


def test_a_layer_added_or_pasted_out_of_sight_is_scrolled_into_view(make_window, qtbot):
    window = make_window(EXAMPLES / "deep_sigmoid_mlp.strata")
    view, doc = window.view, window.controller.document
    view.zoom_in()  # the user zooms in, as with Ctrl+= (the view stops fitting)
    view.set_zoom(1.0)
    first = min(doc.nodes.values(), key=lambda n: n.position)
    view.centre_on(view.network_scene.nodes[first.id].sceneBoundingRect().center())

    def in_view(node_id: str) -> bool:
        shown = view.mapToScene(view.viewport().rect()).boundingRect()
        return shown.contains(view.network_scene.nodes[node_id].sceneBoundingRect())

    # Far from the first card: wherever the chain's last hidden layer is.
    far = max((n for n in doc.nodes.values() if n.spec.outputs and n.spec.inputs),
              key=lambda n: (n.position[1], n.position[0]))
    assert not in_view(far.id)
    new = view.add_after("ReLU", far.id)
    assert new and in_view(new)
    assert view.zoom() == pytest.approx(1.0)  # scrolled, not zoomed out
    # Paste at no cursor position, then scroll away: the copies come back into view.
    window.controller.select([new])
    assert window.copy()
    view.centre_on(view.network_scene.nodes[first.id].sceneBoundingRect().center())
    pasted = window.paste()
    assert pasted and all(in_view(i) for i in pasted)
