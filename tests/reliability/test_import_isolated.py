"""Importing runs the user's file in a separate process with a time limit; listing its
classes runs nothing; timeouts, Cancel and Ctrl-C end with one clear line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from reliability_helpers import bounded

from runtime.transfer import ImportRequest, import_candidates, import_network_isolated
from runtime.transfer.isolated import IsolatedCancelled, IsolatedTimeout, run_isolated

ROOT = Path(__file__).resolve().parents[2]
LOOP = '''import pathlib
pathlib.Path(__file__).with_name("RAN").touch()
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        while True:
            pass


def make_net():
    return Net()
'''


@pytest.fixture
def loop_file(tmp_path):
    path = tmp_path / "loop.py"
    path.write_text(LOOP)
    return path


def test_listing_reads_the_file_without_running_it(loop_file):
    assert import_candidates(loop_file) == ["Net", "make_net"]
    assert not (loop_file.parent / "RAN").exists()


def test_an_endless_loop_is_stopped_at_the_time_limit(loop_file):
    request = ImportRequest(loop_file, "Net", [(1, 3)])
    with bounded(90), pytest.raises(IsolatedTimeout, match="stopped after 2 s.*Nothing"):
        import_network_isolated(request, timeout=2)


def test_cancel_stops_the_files_code(loop_file):
    cancel = threading.Event()
    request = ImportRequest(loop_file, "Net", [(1, 3)])
    threading.Timer(1.0, cancel.set).start()
    with bounded(90), pytest.raises(IsolatedCancelled, match="cancelled; nothing"):
        import_network_isolated(request, timeout=600, cancel=cancel)


def test_the_childs_errors_come_back_as_they_were(tmp_path):
    from graph.importers.problems import ImportSourceError

    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    with pytest.raises(ImportSourceError, match="syntax error at line 1"):
        run_isolated(_build, bad, timeout=120)


def _build(path):
    from graph.importers.loading import build_module

    return build_module(path, "Net")


# `python -m studio.cli` started as from a terminal, where Ctrl-C is not ignored: a
# suite run as a background job (`pytest ... &`) ignores SIGINT, every child inherits
# that, and the Ctrl-C test's signal was then ignored by the command under test.
CLI = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
       "runpy.run_module('studio.cli', run_name='__main__', alter_sys=True)")


def _cli(*args: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", CLI, "import", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, cwd=ROOT)


def test_cli_timeout_is_one_clean_line(loop_file, tmp_path):
    out = tmp_path / "n.strata"
    proc = _cli(f"{loop_file}:Net", "--input-shape", "1,3", "-o", str(out),
                "--timeout", "2")
    _, err = proc.communicate(timeout=180)
    assert proc.returncode == 1
    assert "was stopped after 2 s" in err and "Traceback" not in err
    assert not out.exists()


@pytest.mark.skipif(os.name == "nt", reason="POSIX signals")
def test_cli_ctrl_c_is_one_clean_line(loop_file, tmp_path):
    out = tmp_path / "n.strata"
    proc = _cli(f"{loop_file}:Net", "--input-shape", "1,3", "-o", str(out))
    assert "running its code in a separate process" in proc.stderr.readline()
    deadline = time.monotonic() + 150
    while not (loop_file.parent / "RAN").exists() and time.monotonic() < deadline:
        time.sleep(0.1)  # the file's code is running: now press Ctrl-C
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Ctrl-C" in err and "Traceback" not in err
    assert not out.exists()


def test_cli_help_says_importing_runs_the_code(capsys):
    from runtime.transfer.cli import main

    assert main(["import", "--help"]) == 0
    assert "Importing runs the file's code" in capsys.readouterr().out


SLOW_PRELOAD = ("import pathlib, time\npathlib.Path(__file__).with_name(\"PRELOADING\").touch()\n"
                "time.sleep(60)\n")


def test_cancel_while_the_fork_server_is_still_starting(tmp_path, monkeypatch):
    """The first import starts the fork server, which imports torch before it can fork
    the child: a cancel meanwhile returns at once instead of waiting for it."""
    import multiprocessing
    from multiprocessing import forkserver

    from runtime.transfer import isolated

    if "forkserver" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork server on this platform")
    (tmp_path / "strata_slow_preload.py").write_text(SLOW_PRELOAD)
    # The server finds its preload through the environment (it ignores our sys.path).
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(tmp_path), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    forkserver._forkserver._stop()  # a server this worker started already: a fresh one
    monkeypatch.setattr(isolated, "_PRELOAD", ["strata_slow_preload"])
    cancel = threading.Event()
    threading.Timer(1.0, cancel.set).start()
    started = time.monotonic()
    try:
        with pytest.raises(IsolatedCancelled, match="cancelled; nothing"):
            run_isolated(_build, tmp_path / "never.py", timeout=600, cancel=cancel)
        assert (tmp_path / "PRELOADING").exists()  # the server was still starting
        assert time.monotonic() - started < 10.0  # the preload alone sleeps 60 s
        assert forkserver._forkserver._forkserver_pid is None  # killed and forgotten
    finally:
        forkserver._forkserver._stop()
        multiprocessing.get_context("forkserver").set_forkserver_preload(
            ["torch", "graph.importers", "runtime.transfer.service"])
    # The next import starts a fresh server and works.
    monkeypatch.undo()
    bad = tmp_path / "bad.py"
    bad.write_text("def broken(:\n")
    from graph.importers.problems import ImportSourceError

    with pytest.raises(ImportSourceError, match="syntax error"):
        run_isolated(_build, bad, timeout=120)
