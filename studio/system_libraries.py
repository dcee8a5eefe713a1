"""Before Qt starts on X11: are the system libraries its xcb platform plugin needs there?

PySide6's wheels bring Qt but not the X11 client libraries its ``xcb`` plugin links
against. When one is missing Qt only says "Could not load the Qt platform plugin xcb"
(and since 6.5 always blames ``libxcb-cursor0``, whatever is actually missing). This
module looks each library up by its soname with the dynamic loader, as Qt would, and
names the packages that provide the missing ones with the exact install command.

No Qt import here: the check runs before the QApplication exists.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import sys
from collections.abc import Callable

# soname -> (Debian/Ubuntu package, Fedora/RHEL package, Arch package)
XCB_LIBRARIES: dict[str, tuple[str, str, str]] = {
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil",
                                "xcb-util-renderutil"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
}

# The package manager found on the machine -> (command, index in the tuples above).
MANAGERS = (("apt-get", "sudo apt-get install", 0), ("dnf", "sudo dnf install", 1),
            ("yum", "sudo yum install", 1), ("pacman", "sudo pacman -S", 2))


def _loads(soname: str) -> bool:
    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def uses_xcb(environ=os.environ, platform: str = sys.platform) -> bool:
    """Whether Qt will pick its X11 (xcb) platform plugin."""
    if not platform.startswith("linux"):
        return False
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if chosen:
        return chosen.split(":")[0].split(";")[0] == "xcb"
    # Qt prefers Wayland when a Wayland session is running, else X11.
    return not environ.get("WAYLAND_DISPLAY")


def missing_libraries(loads: Callable[[str], bool] = _loads) -> list[str]:
    """The sonames of XCB_LIBRARIES the dynamic loader cannot find."""
    return [soname for soname in XCB_LIBRARIES if not loads(soname)]


def install_command(missing: list[str], which=shutil.which) -> str:
    """The command that installs the packages providing ``missing``."""
    command, column = MANAGERS[0][1], MANAGERS[0][2]
    for tool, cmd, col in MANAGERS:
        if which(tool):
            command, column = cmd, col
            break
    packages = sorted({XCB_LIBRARIES[s][column] for s in missing})
    return f"{command} {' '.join(packages)}"


def missing_message(missing: list[str], which=shutil.which) -> str:
    one = len(missing) == 1
    return (f"Strata cannot open its window: the system {'library' if one else 'libraries'} "
            f"{', '.join(missing)} that Qt needs on X11 {'is' if one else 'are'} not "
            f"installed.\nInstall {'it' if one else 'them'} with:\n\n"
            f"    {install_command(missing, which)}\n\n"
            "(README.md, 'System packages', lists what the studio needs on each system.)")


def check_display_libraries(environ=os.environ, platform: str = sys.platform,
                            loads: Callable[[str], bool] | None = None) -> str | None:
    """None when Qt can start here, else the message naming what to install."""
    if not uses_xcb(environ, platform):
        return None
    missing = missing_libraries(loads or _loads)
    return missing_message(missing) if missing else None
