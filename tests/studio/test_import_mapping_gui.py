"""The import dialog shows what was mapped: per layer, its place in the imported network,
the Strata layer, the module path or operation and the source line; a row selects the
layer in the window (opening the blocks that hold it) and shows its line. What could
not be mapped is listed the same way, with the reason. A real .py file, traced in the
dialog's separate process."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints", "does not support raise",
                                       "does not support grabbing")
SLOW = 120_000  # ms: tracing in a fresh process on a busy machine

RESIDUAL = '''import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, width)
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.fc(x)) + x


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Linear(4, 8)
        self.blocks = nn.Sequential(Block(8), Block(8))
        self.head = nn.Linear(8, 3)

    def forward(self, x):
        x = self.stem(x)
        x = self.blocks(x)
        return self.head(x)
'''

UNMAPPABLE = '''import torch
from torch import nn


class Odd(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(8, 8)

    def forward(self, x):
        return torch.fmod(self.fc(x), 0.5)
'''


def _listed(qtbot, dialog, path) -> list[str]:
    with qtbot.waitSignal(dialog.candidates_listed, timeout=SLOW) as blocker:
        dialog.set_source(path)
    return blocker.args[0]


def test_mapping_table_lists_each_layer_and_selects_it(make_window, tmp_path, qtbot):
    source = tmp_path / "residual.py"
    source.write_text(RESIDUAL, "utf-8")
    window = make_window()
    dialog = window.files.transfer.import_code()
    assert not dialog.mapping.isVisible()
    assert "Net" in _listed(qtbot, dialog, source)
    dialog.set_target("Net")
    dialog.set_inputs([("2,4", "float")])
    with qtbot.waitSignal(dialog.imported, timeout=SLOW):
        assert dialog.start()
    table = dialog.mapping
    assert table.isVisible()
    rows = {table.table.topLevelItem(i).text(0): [table.table.topLevelItem(i).text(c)
                                                    for c in range(4)]
            for i in range(table.row_count())}
    # The inner layers of the repeated block, with the module path and the source line
    # of the call (the blocks' forward, line 12 of residual.py).
    assert rows["blocks > 0 > fc"] == ["blocks > 0 > fc", "Linear", "nn.Linear 'blocks.0.fc'",
                                       "residual.py:12"]
    assert rows["blocks > 1 > add"][1:] == ["Add", "the operator + in blocks.1.forward",
                                           "residual.py:12"]
    assert rows["stem"][1:] == ["Linear", "nn.Linear 'stem'", "residual.py:23"]
    assert "layers mapped" in table.title.text()

    # A row of a layer inside a block: the window opens the block and selects it.
    index = next(i for i in range(table.row_count())
                 if table.table.topLevelItem(i).text(0) == "blocks > 1 > fc")
    table.choose(index)
    levels = window.levels
    assert len(levels.path) == 1  # the block is open
    selected = levels.current.selected
    assert [levels.current.document.nodes[i].label for i in selected] == ["fc"]
    assert "line 12" in table.source.text() and "self.act(self.fc(x)) + x" in \
        table.source.text()
    # A top-level row goes back to the network.
    table.choose(next(i for i in range(table.row_count())
                      if table.table.topLevelItem(i).text(0) == "head"))
    assert levels.path == []
    assert [window.controller.document.nodes[i].label
            for i in window.controller.selected] == ["head"]
    dialog.reject()


def test_what_could_not_be_mapped_is_listed_with_its_line(make_window, tmp_path, qtbot):
    source = tmp_path / "odd.py"
    source.write_text(UNMAPPABLE, "utf-8")
    window = make_window()
    before = window.controller.document.to_dict()
    dialog = window.files.transfer.import_code()
    assert _listed(qtbot, dialog, source) == ["Odd"]
    dialog.set_inputs([("2,8", "float")])
    with qtbot.waitSignal(dialog.failed, timeout=SLOW):
        assert dialog.start()
    table = dialog.mapping
    assert table.isVisible() and table.row_count() == 1
    item = table.table.topLevelItem(0)
    assert item.text(1) == "not mapped"
    assert "fmod" in item.text(2) and item.text(3) == "odd.py:11"
    table.choose(0)
    assert "torch.fmod(self.fc(x), 0.5)" in table.source.text()
    assert item.toolTip(2) in table.source.text()  # the reason
    assert window.controller.document.to_dict() == before
    dialog.reject()
