"""The code view follows a block just made by grouping: the new class is shaded and
scrolled to as soon as its code exists, without selecting the instance again, inside an
open block as in the network."""

from __future__ import annotations

from strata_paths import EXAMPLES

RESNET = EXAMPLES / "blocks_resnet.strata"


def _code_panel(window, qtbot):
    window.docks["code"].show()
    window.docks["code"].raise_()
    code = window.code
    qtbot.waitUntil(lambda: code.code is not None and code.isVisible())
    return code


def _shaded(code) -> set[int]:
    return {s.cursor.blockNumber() + 1 for s in code.editor.extraSelections()}


def _first_visible(code) -> int:
    return code.editor.firstVisibleBlock().blockNumber() + 1


def test_a_block_grouped_inside_an_open_block_is_scrolled_to(make_window, qtbot):
    window = make_window(RESNET)
    code = _code_panel(window, qtbot)
    window.levels.open_block("n5")  # BasicBlock
    inner = window.view.controller
    window.view.scene().clearSelection()
    inner.select(["n3", "n4"])  # bn1, relu
    window.group_selection()  # Ctrl+G
    (made,) = inner.selected
    name = inner.document.nodes[made].params["block"]
    qtbot.waitUntil(lambda: code.class_range(name) is not None)
    start, end = code.class_range(name)
    assert code.code.source.split("\n")[start - 1].startswith(f"class {name}(")
    assert set(range(start, end + 1)) <= _shaded(code)
    assert abs(_first_visible(code) - start) <= 1
    # Later edits do not pull the view back to it.
    code.editor.verticalScrollBar().setValue(0)
    inner.set_label(made, "unit")
    qtbot.waitUntil(lambda: "self.unit" in (code.source or ""))
    assert code.editor.verticalScrollBar().value() == 0


def test_a_block_grouped_in_the_network_is_scrolled_to(make_window, qtbot):
    window = make_window(EXAMPLES / "spiral_mlp.strata")
    code = _code_panel(window, qtbot)
    root = window.controller
    code.editor.verticalScrollBar().setValue(0)
    root.select(["n2", "n3"])
    window.group_selection()
    (made,) = root.selected
    name = root.document.nodes[made].params["block"]
    qtbot.waitUntil(lambda: code.class_range(name) is not None)
    start, end = code.class_range(name)
    assert set(range(start, end + 1)) <= _shaded(code)
    assert abs(_first_visible(code) - start) <= 1
