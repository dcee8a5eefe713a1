"""Train / Pause / Resume / Stop, the progress of the run, and what the run has to say.

The progress line reads "Epoch 3 of 30 · step 240 of 2,400 · 5,120 samples/s · 1 min
12 s left". The message area shows a failure in plain words (a dataset that does not
fit, a NaN, a worker that died) with the run marked failed, or the summary of a finished
run; it is part of the panel, never a modal dialog, so the editor stays usable.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from runtime.run_record import RunRecord
from studio import resources
from studio.theme_colors import SEVERITY_COLORS

from .icons import icon


def format_seconds(seconds: float | None) -> str:
    if seconds is None:
        return ""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def progress_text(run: RunRecord) -> str:
    parts = []
    if run.epochs:
        parts.append(f"Epoch {min(run.epoch + (1 if run.active else 0), run.epochs)} "
                     f"of {run.epochs}")
    if run.total_steps:
        parts.append(f"step {run.step:,} of {run.total_steps:,}")
    if run.samples_per_second and run.status == "running":
        parts.append(f"{run.samples_per_second:,.0f} samples/s")
    left = run.seconds_left() if run.status == "running" else None
    if left is not None:
        parts.append(f"{format_seconds(left)} left")
    return " \u00b7 ".join(parts)


def _set_text(label: QLabel, text: str) -> bool:
    if label.text() != text:
        label.setText(text)
        return True
    return False


class ProgressLine(QWidget):
    """A thin progress bar that repaints in the next frame, with the rest.

    ``QProgressBar.setValue`` repaints at once (``repaint()``, not ``update()``): its
    own frame in the middle of a drain tick, 20-30 ms under load in a profile of
    ``benchmarks/bench_gui.py``, several times a second. Same API as far as used here
    (``setRange``, ``setValue``, ``value``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._minimum, self._maximum, self._value = 0, 100, 0

    def setRange(self, minimum: int, maximum: int) -> None:
        self._minimum, self._maximum = minimum, max(maximum, minimum)
        self.update()

    def setValue(self, value: int) -> None:
        value = min(max(int(value), self._minimum), self._maximum)
        if value != self._value:
            self._value = value
            self.update()

    def value(self) -> int:
        return self._value

    def maximum(self) -> int:
        return self._maximum

    def paintEvent(self, _event) -> None:
        theme = resources.current()
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        rect = QRectF(self.rect())
        radius = rect.height() / 2
        painter.setBrush(QColor(theme.border))
        painter.drawRoundedRect(rect, radius, radius)
        span = self._maximum - self._minimum
        if span > 0 and self._value > self._minimum:
            done = QRectF(rect)
            done.setWidth(rect.width() * (self._value - self._minimum) / span)
            painter.setBrush(QColor(theme.accent))
            painter.drawRoundedRect(done, radius, radius)
        painter.end()


class RunControls(QWidget):
    train_clicked = Signal()
    pause_clicked = Signal()
    resume_clicked = Signal()
    stop_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RunControls")
        self.train = QPushButton(icon("train"), "Train", self)
        self.train.setObjectName("train_button")
        self.train.setToolTip("Train the network on its dataset (Ctrl+T)")
        self.pause = QPushButton(icon("pause"), "Pause", self)
        self.pause.setObjectName("pause_button")
        self.stop = QPushButton(icon("stop"), "Stop", self)
        self.stop.setObjectName("stop_button")
        self.stop.setToolTip("Stop after the current step; a checkpoint is written")
        for button in (self.train, self.pause, self.stop):
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            # The dock may be as narrow as the palette it shares a tab with.
            button.setMinimumWidth(48)
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.train.clicked.connect(self.train_clicked)
        self.pause.clicked.connect(self._pause_or_resume)
        self.stop.clicked.connect(self.stop_clicked)

        self.bar = ProgressLine(self)
        self.bar.setObjectName("run_progress")
        self.bar.setRange(0, 200)
        self.bar.setFixedHeight(6)
        self.status = QLabel("Ready to train", self)
        self.status.setObjectName("run_status")
        self.progress = QLabel(self)
        self.progress.setObjectName("run_progress_text")
        for label in (self.status, self.progress):
            # Text that changes during a run must never widen the dock: a wider dock
            # re-lays out the whole window (every plot and form) in one frame.
            label.setWordWrap(True)
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message = QLabel(self)
        self.message.setObjectName("run_message")
        self.message.setWordWrap(True)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message.hide()
        self.message_kind = ""
        self._message_shown: tuple[str, str, str] = ("", "", "")
        self._paused_icon = False  # the pause button shows the "pause" icon

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        buttons.addWidget(self.train, 2)
        buttons.addWidget(self.pause, 1)
        buttons.addWidget(self.stop, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 6)
        layout.setSpacing(5)
        layout.addLayout(buttons)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        self.show_run(None)

    def _pause_or_resume(self) -> None:
        if self.pause.text() == "Resume":
            self.resume_clicked.emit()
        else:
            self.pause_clicked.emit()

    # ------------------------------------------------------------------ state
    def show_run(self, run: RunRecord | None) -> None:
        status = run.status if run is not None else None
        active = run is not None and run.active
        self.train.setEnabled(not active)
        self.pause.setEnabled(active and status in ("running", "paused"))
        paused = status == "paused"
        self.pause.setText("Resume" if paused else "Pause")
        if paused != self._paused_icon:  # setIcon re-lays out the button each time
            self._paused_icon = paused
            self.pause.setIcon(icon("train" if paused else "pause"))
        self.stop.setEnabled(active and status != "stopping")
        if run is None:
            self.status.setText("Ready to train")
            self.progress.setText("")
            self.bar.setValue(0)
            return
        words = {"starting": "Starting the training process\u2026",
                 "running": "Training", "paused": "Paused", "stopping": "Stopping\u2026",
                 "finished": "Finished", "stopped": "Stopped", "failed": "Failed"}
        title = words.get(run.status, run.status)
        if run.status in ("running", "paused") and run.device:
            title += f" on {run.device.upper()}"
        changed = _set_text(self.status, f"<b>{escape(run.label)}</b> \u2014 {escape(title)}")
        if _set_text(self.progress, progress_text(run)) or changed:
            self._hold_height()
        value = int(200 * run.fraction_done())
        self.bar.setValue(value)
        notes = run.notes()
        if run.status == "failed":
            self.show_message(run.message, "error", notes)
        elif run.status in ("finished", "stopped"):
            # A finished run is a success, a stopped one just what was asked; the
            # notices (weights loaded, files skipped) stay information under it.
            self.show_message(run.message, "ok" if run.status == "finished" else "info",
                              notes)
        elif notes and self.message_kind in ("", "info"):
            self.show_message(notes, "info")  # weights loaded, files skipped...

    def show_message(self, text: str, kind: str = "info", notes: str = "") -> None:
        """A message in the panel: "error" (red, \u2716), "warning" (amber, \u26a0),
        "ok" (green, \u2714) or "info" (the text's colour under an accent \u2139), and
        ``notes``, one per line, as information under it."""
        if not text and notes:
            text, kind, notes = notes, "info", ""
        shown = (text, kind if text else "", notes if text else "")
        if shown == self._message_shown:
            return  # the same again (each progress refresh): no relayout
        self._message_shown = shown
        self.message_kind = kind if text else ""
        if not text:
            if not self.message.isHidden():
                self.message.hide()
                self._hold_height()
            return
        html = _styled(text, kind)
        if notes:
            html += "<br>" + _styled(notes, "info")
        self.message.setText(html)
        self.message.show()
        self._hold_height()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._hold_height()

    def _hold_height(self) -> None:
        """Ask for the height the wrapped lines need at this width: a dock does not
        pass heights for widths on, so the progress line's second row was cut off."""
        layout = self.layout()
        need = layout.totalHeightForWidth(self.width()) if layout is not None else 0
        if need > 0 and need != self.minimumHeight():
            self.setMinimumHeight(need)


def _styled(text: str, kind: str) -> str:
    """``text`` (lines) in the colour and under the mark of its kind."""
    theme = resources.current()
    colour = {"error": SEVERITY_COLORS["error"], "warning": "#b7791f",
              "ok": SEVERITY_COLORS["ok"]}.get(kind, theme.text)
    mark = {"error": "\u2716", "warning": "\u26a0", "ok": "\u2714",
            "info": "\u2139"}.get(kind, "")
    mark_colour = theme.accent if kind == "info" else colour
    lines = escape(text).replace(chr(10), "<br>")
    head = f"<span style='color:{mark_colour}'>{mark}</span> " if mark else ""
    return f"{head}<span style='color:{colour}'>{lines}</span>"
