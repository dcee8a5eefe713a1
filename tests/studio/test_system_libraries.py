"""A missing X11 library is named with the command that installs it, before Qt starts."""

from __future__ import annotations

import ctypes

import studio.system_libraries as syslibs
from studio import app


def test_xcb_is_detected_from_the_environment():
    assert syslibs.uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "linux")
    assert not syslibs.uses_xcb({"QT_QPA_PLATFORM": "offscreen"}, "linux")
    assert syslibs.uses_xcb({}, "linux")
    assert not syslibs.uses_xcb({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not syslibs.uses_xcb({"QT_QPA_PLATFORM": "xcb"}, "darwin")


def test_missing_library_names_the_debian_package():
    message = syslibs.check_display_libraries(
        {"QT_QPA_PLATFORM": "xcb"}, "linux",
        loads=lambda soname: soname != "libxcb-cursor.so.0")
    assert "libxcb-cursor.so.0" in message
    assert "apt-get install libxcb-cursor0" in message or "libxcb-cursor0" in message


def test_install_command_follows_the_package_manager():
    dnf_only = lambda tool: "/usr/bin/dnf" if tool == "dnf" else None
    assert syslibs.install_command(["libxcb-icccm.so.4"], dnf_only) == \
        "sudo dnf install xcb-util-wm"
    apt = lambda tool: "/usr/bin/apt-get" if tool == "apt-get" else None
    assert syslibs.install_command(["libxcb-icccm.so.4", "libxcb-keysyms.so.1"], apt) == \
        "sudo apt-get install libxcb-icccm4 libxcb-keysyms1"


def test_every_library_this_machine_has_is_found():
    found = [s for s in syslibs.XCB_LIBRARIES if _loadable(s)]
    assert set(syslibs.missing_libraries()) == set(syslibs.XCB_LIBRARIES) - set(found)


def test_strata_prints_the_command_instead_of_qts_error(monkeypatch, capsys):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(syslibs, "_loads", lambda soname: soname != "libxcb-icccm.so.4")
    assert app.run([]) == 1
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4" in err and "libxcb-icccm4" in err
    assert "platform plugin" not in err


def _loadable(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True
