"""The palette: generated from the catalog, searchable, Enter adds, drags carry the type."""

from __future__ import annotations

import html

import pytest
from PySide6.QtCore import Qt

from graph.block_library import BUILTINS
from graph.catalog import CATEGORIES, all_specs
from studio.document.controller import DocumentController
from studio.panels.palette import LAYER_MIME, TYPE_ROLE, PalettePanel
from studio.theme_colors import CATEGORY_COLORS, category_color


@pytest.fixture
def palette(qtbot):
    panel = PalettePanel(DocumentController())
    qtbot.addWidget(panel)
    return panel


def test_every_layer_type_is_listed_under_its_category(palette):
    specs = all_specs()
    assert set(palette.items) == {s.type for s in specs}
    for spec in specs:
        item = palette.items[spec.type]
        title = "Block ports" if spec.category == "Blocks" else spec.category
        assert item.parent().text(0) == title
        assert item.text(0) == spec.display_name
    shown = [palette.tree.topLevelItem(i).text(0)
             for i in range(palette.tree.topLevelItemCount())]
    # The block ports and this network's blocks first, the block libraries last.
    assert shown == ["Block ports", "Blocks in this network",
                     *[c for c in CATEGORIES if c != "Blocks"
                       and any(s.category == c for s in specs)],
                     "Built-in blocks", "My blocks"]


def test_categories_have_one_shared_colour(palette):
    assert set(CATEGORIES) <= set(CATEGORY_COLORS)
    assert len(set(CATEGORY_COLORS.values())) == len(CATEGORY_COLORS)
    assert category_color("Convolution").name() == CATEGORY_COLORS["Convolution"]


def test_tooltips_come_from_the_catalog_help(palette):
    for spec in all_specs():
        tip = palette.items[spec.type].toolTip(0)
        assert html.escape(spec.help) in tip
        for p in spec.params:
            assert html.escape(p.name) in tip


def test_typing_filters_by_name_category_and_help(palette, qtbot):
    qtbot.keyClicks(palette.search, "conv")
    shown = palette.visible_types()
    assert {"Conv1d", "Conv2d", "ConvTranspose2d"} <= set(shown)
    assert "Linear" not in shown and "ReLU" not in shown
    assert palette.headers["Dense"].isHidden()
    assert not palette.headers["Convolution"].isHidden()

    palette.search.setText("normalization")  # a category
    assert {"BatchNorm1d", "BatchNorm2d", "LayerNorm"} <= set(palette.visible_types())

    palette.search.setText("token ids")  # only in help texts
    assert "Embedding" in palette.visible_types()
    assert "Conv2d" not in palette.visible_types()


def test_enter_adds_the_top_hit(palette, qtbot):
    qtbot.keyClicks(palette.search, "linea")
    with qtbot.waitSignal(palette.add_requested, timeout=1000) as blocker:
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert blocker.args == ["Linear"]

    palette.search.setText("flat")
    with qtbot.waitSignal(palette.add_requested, timeout=1000) as blocker:
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert blocker.args == ["Flatten"]


def test_name_matches_rank_before_help_matches(palette):
    palette.search.setText("dropout")  # also in the help of attention layers
    assert palette.top_hit() == "Dropout"
    palette.search.setText("lstm")
    assert palette.top_hit() == "LSTM"


def test_arrow_keys_choose_another_hit_before_enter(palette, qtbot):
    qtbot.keyClicks(palette.search, "conv")
    first = palette.top_hit()
    qtbot.keyClick(palette.search, Qt.Key.Key_Down)
    second = palette.top_hit()
    assert second != first and second in palette.visible_types()
    with qtbot.waitSignal(palette.add_requested, timeout=1000) as blocker:
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    assert blocker.args == [second]


def test_no_match_says_so_and_enter_adds_nothing(palette, qtbot):
    qtbot.keyClicks(palette.search, "zzzz")
    assert palette.visible_types() == []
    assert not palette.empty.isHidden()
    with qtbot.assertNotEmitted(palette.add_requested):
        qtbot.keyClick(palette.search, Qt.Key.Key_Return)
    qtbot.keyClick(palette.search, Qt.Key.Key_Escape)
    assert palette.search.text() == ""
    # Every layer but the block ports (no block is open), and the built-in blocks.
    assert len(palette.visible_types()) == len(all_specs()) - 2 + len(BUILTINS)


def test_double_click_adds(palette, qtbot):
    item = palette.items["Dropout"]
    with qtbot.waitSignal(palette.add_requested, timeout=1000) as blocker:
        palette.tree.itemActivated.emit(item, 0)
    assert blocker.args == ["Dropout"]


def test_drag_carries_the_type_name(palette):
    item = palette.items["Conv2d"]
    assert item.flags() & Qt.ItemFlag.ItemIsDragEnabled
    assert palette.tree.dragEnabled()
    data = palette.tree.mimeData([item])
    assert LAYER_MIME in palette.tree.mimeTypes()
    assert bytes(data.data(LAYER_MIME)).decode("utf-8") == "Conv2d"
    header = palette.headers["Convolution"]
    assert header.data(0, TYPE_ROLE) is None
    assert not header.flags() & Qt.ItemFlag.ItemIsDragEnabled
