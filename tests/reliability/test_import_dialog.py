"""File > Import: listing runs nothing, the dialog says importing runs the code, and an
endless loop is stopped by Cancel import while the window stays responsive."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from studio import resources
from studio.main_window import MainWindow

SLOW = 180_000
LOOP = '''import pathlib
pathlib.Path(__file__).with_name("RAN").touch()
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        while True:
            pass
'''


@pytest.fixture
def window(qtbot, tmp_path, qapp):
    w = MainWindow(None, settings=QSettings(str(tmp_path / "settings.ini"),
                                            QSettings.Format.IniFormat),
                   autosave_dir=tmp_path / "recovery")
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    yield w
    resources.apply(qapp, "light")


def test_an_endless_loop_is_cancelled_and_listing_runs_nothing(window, qtbot, tmp_path):
    source = tmp_path / "loop.py"
    source.write_text(LOOP)
    dialog = window.files.transfer.import_code()
    assert dialog.warning.isVisibleTo(dialog)
    assert "Importing runs the file's code" in dialog.warning.text()
    with qtbot.waitSignal(dialog.candidates_listed, timeout=SLOW) as listed:
        dialog.source.set_path(source)  # as if typed: the 400 ms debounce lists it
    assert listed.args[0] == ["Net"]
    assert not (tmp_path / "RAN").exists()  # reading the file ran none of it
    assert not dialog.cancel_button.isVisibleTo(dialog)
    dialog.set_inputs([("1,3", "float")])
    assert dialog.start()
    assert dialog.cancel_button.isVisibleTo(dialog)
    qtbot.waitUntil(lambda: (tmp_path / "RAN").exists(), timeout=SLOW)  # it runs...
    with qtbot.waitSignal(dialog.failed, timeout=60_000) as failed:
        dialog.cancel_import()  # ...in another process, which Cancel stops
    assert "cancelled; nothing was imported" in failed.args[0]
    assert not dialog.busy and not dialog.cancel_button.isVisibleTo(dialog)
    assert "Traceback" not in dialog.status.report_text()
    assert window.controller.document.name == "Untitled"
    dialog.reject()
