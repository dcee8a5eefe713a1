"""The main window's status bar: validity, parameter count, training device, zoom.

torch is slow to import and the window must appear without it, so nothing here touches
torch until ``start()`` is called once the window is on screen: the parameter count then
comes from ``ParamCounter`` (layers built on torch's meta device, in a background import)
and the device from ``runtime.setup.resolve_device`` probed on a worker thread.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QLabel, QStatusBar

from graph.events import TrainingChanged
from graph.problems import Problem
from studio.background import BackgroundTask
from studio.panels.param_count import ParamCounter, format_count

if TYPE_CHECKING:  # annotations only: the controller imports no views
    from studio.document.controller import DocumentController

DEBOUNCE_MS = 300


class DeferredCounter(ParamCounter):
    """A ParamCounter that holds torch's import back until ``release()`` (window shown)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._held = True
        self._wanted = False

    def warm_up(self) -> None:
        if self._held:
            self._wanted = True
            return
        super().warm_up()

    def release(self) -> None:
        if not self._held:
            return
        self._held = False
        if self.available:
            # Something else imported torch meanwhile: whoever was told "not yet"
            # must still hear that counts can be given now.
            if self._wanted:
                self.ready.emit()
        elif self._wanted:
            super().warm_up()


def probe_device(wanted: str) -> tuple[str, str]:
    """(short name, explanation) of the device ``wanted`` resolves to (imports torch:
    run in the background)."""
    try:
        from runtime.setup import resolve_device

        device = resolve_device(wanted)
        name = device.type.upper()
        detail = f"Training would run on {name}"
        if device.type == "cuda":
            import torch

            detail += f" ({torch.cuda.get_device_name(device)})"
    except Exception as e:  # noqa: BLE001 - any failure is shown, never raised
        name, detail = "?", f"Cannot tell the training device: {e}"
    return name, detail


class StatusBar(QStatusBar):
    problems_clicked = Signal()

    def __init__(self, controller: DocumentController, counter: ParamCounter, parent=None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.counter = counter
        self.started = False
        self._listed = False  # fed by the Problems panel (``show_problems``)
        self.validity = _ClickLabel()
        self.validity.setToolTip("Click to see the problems")
        self.validity.clicked.connect(self.problems_clicked)
        self.params = QLabel("Parameters: \u2026")
        self.params.setToolTip("Trainable parameters of the whole network")
        self.device = QLabel("Device: \u2026")
        self.zoom = QLabel("100%")
        self.zoom.setToolTip("Canvas zoom")
        for widget in (self.validity, self.params, self.device, self.zoom):
            self.addPermanentWidget(widget)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(DEBOUNCE_MS)
        self._timer.timeout.connect(self.update_count)
        self._probe = BackgroundTask(self)
        self._probe.succeeded.connect(lambda found: self._show_device(*found))
        self._device_wanted: str | None = None
        controller.analysis_changed.connect(self._on_analysis)
        controller.training_changed.connect(self._on_training_changed)
        counter.ready.connect(self.update_count)
        counter.total_counted.connect(self._counted)
        if controller.analysis is not None:
            self._on_analysis(controller.analysis)

    def start(self) -> None:
        """The window is shown: counting and the device probe may import torch now."""
        if self.started:
            return
        self.started = True
        if isinstance(self.counter, DeferredCounter):
            self.counter.release()
        self.update_count()
        self.probe_device()

    # ---------------------------------------------------------------- validity
    def _on_analysis(self, analysis) -> None:
        if not self._listed:  # no Problems panel feeds the validity: the analysis does
            self._show_validity(analysis.problems)
        if self.started:
            self._timer.start()

    def show_problems(self, problems: list[Problem]) -> None:
        """The validity of everything Problems lists (the dataset check's mismatches
        too), not only of the network's own analysis."""
        self._listed = True
        self._show_validity(problems)

    def _show_validity(self, problems: list[Problem]) -> None:
        errors = sum(p.is_error for p in problems)
        warnings = len(problems) - errors
        if errors:
            text = f"\u2716  {errors} error{'s' if errors != 1 else ''}"
            if warnings:
                text += f", {warnings} warning{'s' if warnings != 1 else ''}"
            self.validity.setObjectName("StatusError")
        elif warnings:
            text = f"\u26a0  Valid, {warnings} warning{'s' if warnings != 1 else ''}"
            self.validity.setObjectName("StatusOk")
        else:
            text = "\u2714  Valid network"
            self.validity.setObjectName("StatusOk")
        self.validity.setText(text)
        self.validity.style().unpolish(self.validity)
        self.validity.style().polish(self.validity)

    # ---------------------------------------------------------------- parameters
    def update_count(self) -> None:
        analysis = self.controller.analysis
        if analysis is None or not self.started:
            return
        total = self.counter.request_total(analysis)
        if total is not None:  # else a large network: it arrives in ``_counted``
            self._show_count(analysis, total)

    def _counted(self, analysis, node_ids, total: int | None) -> None:
        if node_ids is None and analysis is self.controller.analysis:
            self._show_count(analysis, total)

    def _show_count(self, analysis, total: int | None) -> None:
        if total is not None and analysis.errors:
            # Layers after an error have no shapes, so they are not counted yet.
            self.params.setText(f"Parameters: \u2265 {format_count(total)}")
            self.params.setToolTip("Layers whose input shapes are unknown (after an "
                                   "error) are not counted until the error is fixed")
        else:
            self.params.setText(f"Parameters: {format_count(total)}")
            self.params.setToolTip("Trainable parameters of the whole network")

    # ---------------------------------------------------------------- device
    def _on_training_changed(self, event: TrainingChanged) -> None:
        if event.key == "device":
            self.probe_device()

    def probe_device(self) -> None:
        if not self.started:
            return
        wanted = str(self.controller.document.training.get("device") or "auto")
        self._device_wanted = wanted
        self._probe.start(lambda: probe_device(wanted), what="Probing the device",
                          latest=True)

    def _show_device(self, name: str, detail: str) -> None:
        self.device.setText(f"Device: {name}")
        self.device.setToolTip(detail)

    def show_zoom(self, zoom: float) -> None:
        self.zoom.setText(f"{round(zoom * 100)}%")


class _ClickLabel(QLabel):
    clicked = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event) -> None:
        self.clicked.emit()
