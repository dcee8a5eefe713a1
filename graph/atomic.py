"""Atomic file writes: the one helper every Strata writer goes through.

``write_atomic(path, data)`` writes a hidden temporary file in the target's folder
(``.NAME.<pid>.<random>.tmp``), flushes it to disk and renames it over the target, so a
crash mid-write leaves the old file whole. Modes follow what an editor does: a new file
gets ``0666`` less the user's umask (the kernel applies it, since the temporary is
opened with mode ``0666``), and an overwrite keeps the existing file's mode. Python's
``mkstemp`` made every file ``0600`` whatever the umask.

A crash between creating and renaming the temporary leaves it behind, as large as the
file. ``remove_stale_temporaries`` deletes those of Strata's own naming: ones whose
writing process is gone, and ones of the older ``mkstemp`` naming that are more than a
minute old. Every write cleans up after earlier crashed writes of the same file, and the
studio cleans its recovery folder at start.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time
from collections.abc import Iterator
from pathlib import Path

# ``mkstemp``'s naming (before this module) and ours.
_LEGACY = r"[a-z0-9_]{8}"
_OURS = r"(?P<pid>[0-9]+)\.[0-9a-f]{8}"
LEGACY_STALE_SECONDS = 60.0
STALE_SECONDS = 24 * 3600.0  # a live pid after a day is a recycled pid


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, at the user's umask (or the old mode)."""
    path = Path(path)
    with temporary_for(path) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)


@contextlib.contextmanager
def temporary_for(path: Path) -> Iterator[Path]:
    """A fresh hidden temporary beside ``path`` with the mode ``path`` will have.

    The caller fills it (a library may write it by name, as the ONNX exporter does)
    and ``os.replace``s it over ``path``; whatever is left is removed on the way out.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    mode = _existing_mode(path)
    while True:
        tmp = path.parent / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:  # pragma: no cover - 32 random bits clashed
            continue
        break
    try:
        if mode is not None and hasattr(os, "fchmod"):
            os.fchmod(fd, mode)  # before any byte is written
    finally:
        os.close(fd)
    try:
        yield tmp
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def _existing_mode(path: Path) -> int | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return stat.S_IMODE(st.st_mode) if stat.S_ISREG(st.st_mode) else None


def remove_stale_temporaries(path: str | os.PathLike[str], *, now: float | None = None
                             ) -> list[Path]:
    """Delete temporaries left beside ``path`` by crashed writes; return them.

    ``path`` names the target file, or a folder to clean the temporaries of every file
    in it (the recovery folder at start).
    """
    path = Path(path)
    folder, name = (path, None) if path.is_dir() else (path.parent, path.name)
    stem = re.escape(name) if name is not None else r".+"
    pattern = re.compile(rf"\.(?P<name>{stem})\.(?:{_OURS}|{_LEGACY})\.tmp")
    now = time.time() if now is None else now
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        age = now - st.st_mtime
        pid = match.group("pid")
        if pid is None:
            stale = age > LEGACY_STALE_SECONDS
        else:
            stale = age > STALE_SECONDS or (int(pid) != os.getpid()
                                             and not _alive(int(pid)))
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill would terminate it there: judge by age alone
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # someone else's process, or a pid we cannot ask about: keep
    except OSError:
        return True
    return True
