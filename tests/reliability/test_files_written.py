"""Files Strata writes: atomic, at the user's umask, an overwrite keeps the file's mode,
and temporaries left by crashed writes are removed on the next write or start."""

from __future__ import annotations

import contextlib
import itertools
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import graph
from graph.atomic import remove_stale_temporaries, write_atomic

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX modes")


@contextlib.contextmanager
def umask(value: int):
    old = os.umask(value)
    try:
        yield
    finally:
        os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def small_doc() -> graph.Document:
    doc = graph.Document("files")
    a = doc.add_node("Input", {"shape": [3]}, "x")
    b = doc.add_node("Output", {"task": "regression"}, "y")
    doc.connect(graph.Edge(a.id, "out", b.id, "in"))
    return doc


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600),
                                            (0o002, 0o664)])
def test_new_files_follow_the_umask(tmp_path, mask, expected):
    with umask(mask):
        graph.save(small_doc(), tmp_path / "net.strata")
        write_atomic(tmp_path / "data.bin", b"123")
    assert mode(tmp_path / "net.strata") == expected
    assert mode(tmp_path / "data.bin") == expected


def test_an_overwrite_keeps_the_files_mode(tmp_path):
    target = tmp_path / "net.strata"
    target.write_text("old")
    for kept in (0o644, 0o600, 0o640):
        target.chmod(kept)
        with umask(0o077):
            graph.save(small_doc(), target)
        assert mode(target) == kept
        assert graph.load(target).name == "files"


def test_every_writer_uses_the_helper(tmp_path):
    """Checkpoints, exported code and weights are written at the umask too."""
    from runtime.checkpoints import save_checkpoint
    from studio.cli import main

    doc = graph.Document("files")
    ids = [doc.add_node(t, p, "").id for t, p in (
        ("Input", {"shape": [3]}), ("Linear", {"out_features": 2}),
        ("Output", {"task": "regression"}))]
    for a, b in itertools.pairwise(ids):
        doc.connect(graph.Edge(a, "out", b, "in"))
    net = tmp_path / "net.strata"
    graph.save(doc, net)
    state = tmp_path / "state.pt"
    torch.save(graph.compile(doc).state_dict(), state)
    with umask(0o022):
        for fmt, name in (("python", "model.py"), ("weights", "w.pt")):
            assert main(["export", str(net), "-o", str(tmp_path / name),
                         "--format", fmt, "--checkpoint", str(state)]) == 0
        save_checkpoint(tmp_path / "c.pt", {"document": {}})
    for name in ("model.py", "w.pt", "c.pt"):
        assert mode(tmp_path / name) == 0o644, name


def test_no_mkstemp_left_in_writers():
    """mkstemp makes 0600 files: no writer may call it (the helper replaces it)."""
    root = Path(__file__).resolve().parents[2]
    offenders = [str(p.relative_to(root)) for pkg in ("graph", "runtime", "studio")
                 for p in (root / pkg).rglob("*.py") if "mkstemp(" in p.read_text("utf-8")]
    assert offenders == []


def test_a_killed_write_leaves_the_old_file_and_the_next_save_cleans_up(tmp_path):
    target = tmp_path / "net.strata"
    graph.save(small_doc(), target)
    before = target.read_bytes()
    # A process that dies (os._exit) between writing the temporary and renaming it.
    code = ("import os, sys; sys.path.insert(0, sys.argv[2]);"
            "import graph.atomic as a; from pathlib import Path\n"
            "os.replace = lambda *args: os._exit(9)\n"
            "a.write_atomic(Path(sys.argv[1]), b'x' * 100000)\n")
    root = str(Path(__file__).resolve().parents[2])
    result = subprocess.run([sys.executable, "-c", code, str(target), root],
                            check=False, timeout=60)
    assert result.returncode == 9
    leftovers = list(tmp_path.glob(".net.strata.*.tmp"))
    assert len(leftovers) == 1 and leftovers[0].stat().st_size == 100000
    assert target.read_bytes() == before
    graph.save(small_doc(), target)  # the writer's pid is gone: removed now
    assert list(tmp_path.glob(".net.strata.*.tmp")) == []


def test_old_mkstemp_leftovers_go_after_a_minute_and_others_stay(tmp_path):
    target = tmp_path / "net.strata"
    old = tmp_path / ".net.strata.k2j4_x9a.tmp"
    fresh = tmp_path / ".net.strata.abcdefgh.tmp"
    mine = tmp_path / f".net.strata.{os.getpid()}.0123abcd.tmp"  # a write in progress
    foreign = tmp_path / ".notes.txt.k2j4_x9a.tmp"  # another file's
    unrelated = tmp_path / ".net.strata.backup.tmp"  # not our naming
    for p in (old, fresh, mine, foreign, unrelated):
        p.write_bytes(b"x")
    hour_ago = time.time() - 3600
    for p in (old, foreign, unrelated):
        os.utime(p, (hour_ago, hour_ago))
    graph.save(small_doc(), target)
    assert not old.exists()
    assert fresh.exists() and mine.exists() and foreign.exists() and unrelated.exists()
    # At start, the recovery folder is cleaned of every file's leftovers.
    removed = remove_stale_temporaries(tmp_path)
    assert removed == [foreign]
