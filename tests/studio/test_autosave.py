"""Autosave and crash recovery on real files, and the recent-files list."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from strata_paths import EXAMPLES

import graph
from studio.document.controller import DocumentController
from studio.files import AutosaveManager, RecentFiles


@pytest.fixture
def opened(qapp, tmp_path):
    """A controller on a copy of an example, saved on disk."""
    path = tmp_path / "mlp.strata"
    shutil.copy(EXAMPLES / "spiral_mlp.strata", path)
    c = DocumentController()
    c.open(path)
    return c


def edit(c):
    fc1 = c.document.find_label("fc1").id
    c.set_param(fc1, "out_features", 48)
    c.add_node("Dropout", (100.0, 50.0), {"p": 0.25})


def test_modified_document_is_autosaved(opened, tmp_path, qtbot):
    recovery = tmp_path / "recovery"
    manager = AutosaveManager(opened, recovery, interval_ms=20)
    manager.tick()
    assert not recovery.exists() or not any(recovery.iterdir())  # nothing unsaved yet
    edit(opened)
    with qtbot.waitSignal(manager.saved, timeout=3000) as blocker:
        pass
    written = Path(blocker.args[0])
    assert written.parent == recovery
    assert graph.load(written) == opened.document
    meta = json.loads(manager.sidecar.read_text())
    assert meta["original_path"] == str(opened.path)
    assert meta["pid"] == os.getpid() and meta["saved_at"]
    # no further writes while nothing changes
    manager.timer.stop()
    stamp = written.stat().st_mtime_ns
    manager.tick()
    assert written.stat().st_mtime_ns == stamp


def test_clean_save_and_undo_to_clean_remove_the_recovery(opened, tmp_path):
    manager = AutosaveManager(opened, tmp_path / "recovery", interval_ms=60_000)
    edit(opened)
    manager.save_now()
    assert manager.file.exists() and manager.sidecar.exists()
    opened.save()
    assert not manager.file.exists() and not manager.sidecar.exists()

    edit(opened)
    manager.save_now()
    while opened.undo_stack.canUndo() and not opened.undo_stack.isClean():
        opened.undo_stack.undo()
    assert not manager.file.exists()

    edit(opened)
    manager.save_now()
    manager.stop()  # a normal close
    assert not manager.file.exists() and not manager.sidecar.exists()


def test_another_document_replaces_the_recovery(opened, tmp_path):
    manager = AutosaveManager(opened, tmp_path / "recovery", interval_ms=60_000)
    edit(opened)
    manager.save_now()
    opened.new()  # the user chose to discard (the window asked first)
    assert not manager.file.exists()


def test_restore_after_a_crash_gives_back_the_identical_document(opened, tmp_path, qtbot):
    recovery = tmp_path / "recovery"
    first = AutosaveManager(opened, recovery, interval_ms=20)
    edit(opened)
    with qtbot.waitSignal(first.saved, timeout=3000):
        pass
    expected = opened.document.to_dict()
    first.timer.stop()  # the crash: nothing runs any more, nothing is cleaned up
    del first

    # next start: a new controller and manager reading the same folder
    fresh = DocumentController()
    manager = AutosaveManager(fresh, recovery, interval_ms=60_000)
    (found,) = manager.recoverable()
    assert found.original_path == opened.path
    assert found.name == "Spiral MLP"
    assert "mlp.strata" in found.describe()
    manager.restore(found)
    assert fresh.document.to_dict() == expected
    assert fresh.path == opened.path
    assert fresh.is_modified  # differs from the file on disk: must ask to be saved
    assert not found.file.exists() and not found.sidecar.exists()
    assert manager.file.exists()  # protected again under the new session
    assert manager.recoverable() == []


def test_sessions_still_running_and_damaged_files_are_not_offered(opened, tmp_path):
    recovery = tmp_path / "recovery"
    manager = AutosaveManager(opened, recovery, interval_ms=60_000)
    edit(opened)
    manager.save_now()
    # another window that is still open (its process is alive)
    meta = json.loads(manager.sidecar.read_text())
    meta.update(session="other", pid=os.getppid(), file="other.strata")
    shutil.copy(manager.file, recovery / "other.strata")
    (recovery / "other.json").write_text(json.dumps(meta))
    # a damaged sidecar and a sidecar whose network file is gone
    (recovery / "junk.json").write_text("{not json")
    meta.update(session="gone", pid=999_999_999, file="gone.strata")
    (recovery / "gone.json").write_text(json.dumps(meta))

    other = AutosaveManager(DocumentController(), recovery, interval_ms=60_000)
    sessions = {r.session for r in other.recoverable()}
    assert sessions == {manager.session}  # only the one whose process "ended"


def test_damaged_recovery_raises_and_is_kept(opened, tmp_path):
    recovery = tmp_path / "recovery"
    manager = AutosaveManager(opened, recovery, interval_ms=60_000)
    edit(opened)
    manager.save_now()
    manager.file.write_text('{"format": "strata", "nodes": [')
    fresh = DocumentController()
    before = fresh.document.to_dict()
    other = AutosaveManager(fresh, recovery, interval_ms=60_000)
    (found,) = other.recoverable()
    with pytest.raises(graph.DocumentError):
        other.restore(found)
    assert fresh.document.to_dict() == before
    assert found.file.exists()
    other.discard_recovery(found)
    assert other.recoverable() == []


def test_recent_files(tmp_path, qapp):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    recent = RecentFiles(settings, limit=3)
    files = []
    for i in range(5):
        f = tmp_path / f"net{i}.strata"
        f.write_text("{}")
        files.append(f)
    recent.add(files[0])
    # a lone entry read back from an INI file
    assert RecentFiles(QSettings(str(tmp_path / "settings.ini"),
                                 QSettings.Format.IniFormat)).files() == [files[0]]
    for f in files[1:]:
        recent.add(f)
    assert recent.files() == [files[4], files[3], files[2]]  # newest first, at most 3
    recent.add(files[2])
    assert recent.files() == [files[2], files[4], files[3]]  # moved to the front
    files[4].unlink()
    assert recent.files() == [files[2], files[3]]  # missing files are dropped
    recent.remove(files[3])
    assert recent.files() == [files[2]]
    recent.clear()
    assert recent.files() == []
