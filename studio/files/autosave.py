"""Autosave of unsaved work to a recovery folder, and recovery after a crash.

While the document has unsaved changes, every ``interval_ms`` the manager writes it (with
the same atomic save as File > Save) to ``<recovery dir>/<session>.strata`` plus a small
JSON sidecar saying which file it belongs to and when it was written. The pair is
deleted when the document becomes clean (saved, or undone back to the saved state), is
replaced by another document, or the window closes normally. So a pair that outlives its
process marks a crash: the next start lists it with ``recoverable()`` and brings it back
with ``restore()``.

Invariant: the sidecar is written after the network file, so a sidecar always points at a
complete recovery file; a recovery is never deleted before its document was restored or
the user declined it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QStandardPaths, QTimer, Signal

import graph
from graph.atomic import remove_stale_temporaries, write_atomic

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

INTERVAL_MS = 5000
SIDECAR_FORMAT = "strata-recovery"


@dataclass(frozen=True)
class Recovery:
    """Unsaved work left behind by a session that did not close normally."""

    file: Path  # the autosaved network
    sidecar: Path
    session: str
    name: str  # the network's name
    original_path: Path | None  # the file it was opened from, if any
    saved_at: datetime

    def describe(self) -> str:
        where = self.original_path.name if self.original_path else "never saved"
        return f"'{self.name}' ({where}), autosaved {self.saved_at:%Y-%m-%d %H:%M}"


def default_directory() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".strata") / "recovery"


class AutosaveManager(QObject):
    saved = Signal(object)  # Path of the recovery file just written

    def __init__(self, controller: DocumentController, directory: str | os.PathLike | None = None,
                 interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.directory = Path(directory) if directory is not None else default_directory()
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        self.session = f"{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
        self.file = self.directory / f"{self.session}.strata"
        self.sidecar = self.directory / f"{self.session}.json"
        self._pending = False
        self.last_error = ""  # why the last autosave failed, if it did
        # Temporaries of saves that a crash interrupted (as large as the network each).
        remove_stale_temporaries(self.directory)

        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        controller.document_changed.connect(self._on_changed)
        controller.document_replaced.connect(self._on_replaced)
        controller.undo_stack.cleanChanged.connect(self._on_clean_changed)

    # ------------------------------------------------------------------ writing
    def _on_changed(self, *_args) -> None:
        self._pending = True

    def _on_replaced(self) -> None:
        # The previous document was saved or deliberately discarded by the user.
        self._pending = False
        self.discard()

    def _on_clean_changed(self, clean: bool) -> None:
        if clean:
            self._pending = False
            self.discard()
        else:
            self._pending = True

    def tick(self) -> None:
        if not self.controller.is_modified:
            self.discard()
        elif self._pending:
            try:
                self.save_now()
            except (OSError, graph.StrataError) as e:
                # A full disk, or a document the file could not hold: the next edit
                # tries again; the last good recovery file stays.
                self.last_error = str(e)

    def save_now(self) -> Path:
        """Write the recovery pair now (network first, then the sidecar)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        graph.save(self.controller.document, self.file)
        path = self.controller.path
        meta = {
            "format": SIDECAR_FORMAT,
            "version": 1,
            "session": self.session,
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "name": self.controller.document.name,
            "original_path": str(path) if path else None,
            "saved_at": datetime.now().isoformat(timespec="seconds"),
            "file": self.file.name,
        }
        write_atomic(self.sidecar, (json.dumps(meta, indent=2) + "\n").encode("utf-8"))
        self._pending = False
        self.saved.emit(self.file)
        return self.file

    def discard(self) -> None:
        """Delete this session's recovery pair (the work is saved or was declined)."""
        for path in (self.sidecar, self.file):
            path.unlink(missing_ok=True)

    def stop(self) -> None:
        """A normal close: stop autosaving and leave nothing to recover."""
        self.timer.stop()
        self.discard()

    # ------------------------------------------------------------------ recovering
    def recoverable(self) -> list[Recovery]:
        """Recoveries left by sessions that ended without closing, newest first."""
        found: list[Recovery] = []
        if not self.directory.is_dir():
            return found
        for sidecar in self.directory.glob("*.json"):
            recovery = _read_sidecar(sidecar)
            if recovery is None or recovery.session == self.session:
                continue
            meta = json.loads(sidecar.read_text("utf-8"))
            if _still_running(meta.get("pid"), meta.get("host")):
                continue  # another open window is autosaving its own work
            found.append(recovery)
        return sorted(found, key=lambda r: r.saved_at, reverse=True)

    def restore(self, recovery: Recovery) -> None:
        """Open the recovered network as unsaved work, then let go of the old pair.

        Raises graph.DocumentError (and keeps everything) if the file is damaged.
        """
        document = graph.load(recovery.file)
        original = recovery.original_path
        self.controller.set_document(document, original)
        # Differs from the file on disk (or there is none): it must ask to be saved.
        self.controller.undo_stack.resetClean()
        self.save_now()  # under this session, before the old pair goes
        self.discard_recovery(recovery)

    def discard_recovery(self, recovery: Recovery) -> None:
        """The user declined a recovery: delete it."""
        for path in (recovery.sidecar, recovery.file):
            path.unlink(missing_ok=True)


def _read_sidecar(sidecar: Path) -> Recovery | None:
    try:
        meta = json.loads(sidecar.read_text("utf-8"))
        if meta.get("format") != SIDECAR_FORMAT:
            return None
        file = sidecar.with_name(str(meta["file"]))
        if file.parent != sidecar.parent or not file.is_file():
            return None
        original = meta.get("original_path")
        return Recovery(file, sidecar, str(meta["session"]), str(meta.get("name", "")),
                        Path(original) if original else None,
                        datetime.fromisoformat(meta["saved_at"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None  # not ours, or damaged: never offered


def _still_running(pid, host) -> bool:
    """Whether the session that wrote a recovery is alive (so it is no crash).

    Our own process counts as ended: within one process a newer manager replaces an
    older one (as after a simulated crash in tests); one window has one manager.
    """
    if not isinstance(pid, int) or pid == os.getpid() or host != socket.gethostname():
        return False
    if os.name == "nt":
        return _windows_pid_alive(pid)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    except OSError:
        return False
    return True


def _windows_pid_alive(pid: int) -> bool:  # pragma: no cover - Windows only
    import ctypes

    if sys.platform != "win32":  # for the type checker: windll exists only there
        return False
    kernel32 = ctypes.windll.kernel32
    handle = kernel32.OpenProcess(0x1000, False, pid)  # PROCESS_QUERY_LIMITED_INFORMATION
    if not handle:
        return False
    code = ctypes.c_ulong()
    ok = kernel32.GetExitCodeProcess(handle, ctypes.byref(code))
    kernel32.CloseHandle(handle)
    return bool(ok) and code.value == 259  # STILL_ACTIVE
