"""Loss and metric curves: training per step and per epoch, validation per epoch.

The x axis is in epochs (fractional for steps), so a run can be laid over an earlier one
with another batch size. An earlier run chosen for comparison is drawn dashed in grey
beneath the current one: the sigmoid network against its ReLU twin, say.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from runtime.run_record import RunRecord

from .common import (
    COMPARE,
    TRAIN,
    VALIDATION,
    StickyRange,
    curve,
    data_range,
    empty_range,
    finite_xy,
    hold_x_range,
    key_title,
    layout_widget,
    placeholder,
    style_plot,
)

IDLE_HINT = "Press Train: the loss appears here"
STARTED_HINT = "Training has started: the loss appears after its first steps"


class CurvesPlot(QWidget):
    """Loss (top) and accuracy / R² (below) of the current run and a reference run."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.run: RunRecord | None = None
        self.reference: RunRecord | None = None
        self.log_scale = QCheckBox("Log scale", self)
        self.log_scale.setToolTip("Show the loss on a logarithmic axis (small losses "
                                  "late in training stay visible)")
        self.per_step = QCheckBox("Per step", self)
        self.per_step.setChecked(True)
        self.per_step.setToolTip("Also draw the training loss of every sampled step "
                                 "(the faint line), not only the epoch averages")
        self.compare_label = QLabel(self)
        self.compare_label.setObjectName("Muted")
        top = QHBoxLayout()
        top.setContentsMargins(6, 2, 6, 0)
        top.addWidget(self.log_scale)
        top.addWidget(self.per_step)
        top.addStretch(1)
        top.addWidget(self.compare_label)

        self.canvas = layout_widget(self)
        self.loss_plot = style_plot(self.canvas.addPlot(enableMenu=False, row=0, col=0), "Loss",
                                    bottom="epoch")
        self.metric_plot = style_plot(self.canvas.addPlot(enableMenu=False, row=1, col=0), "Accuracy",
                                      bottom="epoch")
        self.metric_plot.setXLink(self.loss_plot)
        # y ranges that move a few times per run, not at each redraw (``StickyRange``)
        self.loss_range = StickyRange(self.loss_plot)
        self.metric_range = StickyRange(self.metric_plot)
        self._metric_title = "Accuracy"
        self._x_held: float | None = None  # the epochs the x axis spans, while a run goes
        self._titles()

        lp, mp = self.loss_plot, self.metric_plot
        self.ref_loss_train = curve(lp, COMPARE, 1.4, dashed=True)
        self.ref_loss_val = curve(lp, COMPARE, 2.0, dashed=True)  # validation
        self.loss_step = curve(lp, TRAIN, 1.0, alpha=90)
        self.loss_train = curve(lp, TRAIN, 2.0, "training")
        self.loss_val = curve(lp, VALIDATION, 2.2, "validation")
        self.ref_metric_train = curve(mp, COMPARE, 1.4, dashed=True)
        self.ref_metric_val = curve(mp, COMPARE, 2.0, dashed=True)
        self.metric_step = curve(mp, TRAIN, 1.0, alpha=90)
        self.metric_train = curve(mp, TRAIN, 2.0)
        self.metric_val = curve(mp, VALIDATION, 2.2)
        self.hint = placeholder(lp, IDLE_HINT)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(top)
        layout.addWidget(self.canvas, 1)
        self.log_scale.toggled.connect(self._set_log)
        self.per_step.toggled.connect(lambda _on: self.refresh())

    # ------------------------------------------------------------------ feeding
    def set_run(self, run: RunRecord | None) -> None:
        self.run = run
        self.loss_range.reset()
        self.metric_range.reset()
        self.refresh()

    def set_reference(self, run: RunRecord | None) -> None:
        self.reference = run if run is not self.run else None
        self.compare_label.setText(
            f"dashed: {self.reference.label}" if self.reference else "")
        self._titles()
        self._draw_reference()

    def _titles(self) -> None:
        entries = [("train", TRAIN), ("val", VALIDATION)]
        if self.reference is not None:
            entries.append((f"{self.reference.label} (dashed)", COMPARE))
        key_title(self.loss_plot, "Loss", entries)
        key_title(self.metric_plot, self._metric_title, entries[:2])

    def _set_log(self, on: bool) -> None:
        self.loss_plot.setLogMode(y=on)
        self.loss_range.reset()  # other units (log10 values)
        self.refresh()
        self._draw_reference()

    def refresh(self, changed: set[str] | None = None) -> None:
        run = self.run
        log = self.log_scale.isChecked()
        if run is None:
            self._x_held = hold_x_range(self.loss_plot, None, self._x_held)
            for item in (self.loss_step, self.loss_train, self.loss_val,
                         self.metric_step, self.metric_train, self.metric_val):
                item.setData([], [])
            self._hint(IDLE_HINT)
            self.hint.show()
            # Before a run: ten epochs, a loss and a share from 0 to 1.
            empty_range(self.loss_plot, (0, 10), (0, 1))
            empty_range(self.metric_plot, None, (0, 1))
            return
        span = max(run.epochs, self.reference.epochs if self.reference else 0) \
            if run.active and run.epochs else None
        self._x_held = hold_x_range(self.loss_plot, span, self._x_held)
        # y: each plot's StickyRange (``_fit_ranges``), never autorange again.
        data_range(self.loss_plot, x=span is None, y=False)
        data_range(self.metric_plot, x=False, y=False)
        per_epoch = max(run.steps_per_epoch, 1)
        name = {"r2": "R²", "f1": "F1 (micro)"}.get(run.metric_name, "Accuracy")
        if name != self._metric_title:
            self._metric_title = name
            self._titles()
        if changed is None or "steps" in changed:
            xs = run.steps.xs() / per_epoch
            values = run.steps.values()
            show = self.per_step.isChecked()
            self.loss_step.setData(*finite_xy(xs, values[:, 0], log) if show else ([], []))
            self.metric_step.setData(*finite_xy(xs, values[:, 1]) if show else ([], []))
        if changed is None or "epochs" in changed:
            self._draw_epochs(run, self.loss_train, self.loss_val, self.metric_train,
                              self.metric_val, log)
        self._fit_ranges()
        waiting = not len(run.steps) and not run.epoch_records
        if waiting:  # "Press Train" said nothing true once a run had started
            self._hint(STARTED_HINT if run.active else "This run recorded no loss")
        self.hint.setVisible(waiting)

    def _hint(self, text: str) -> None:
        if self.hint.toPlainText() != text:
            self.hint.setText(text)

    def _fit_ranges(self) -> None:
        """Each plot's y range around what its lines show (reference run included)."""
        def shown(*items, log: bool = False) -> list[np.ndarray]:
            ys = [item.yData for item in items if item.yData is not None]
            return [np.log10(y[y > 0]) for y in ys] if log else ys

        self.loss_range.fit(*shown(self.loss_step, self.loss_train, self.loss_val,
                                   self.ref_loss_train, self.ref_loss_val,
                                   log=self.log_scale.isChecked()))
        self.metric_range.fit(*shown(self.metric_step, self.metric_train,
                                     self.metric_val, self.ref_metric_train,
                                     self.ref_metric_val))

    def _draw_reference(self) -> None:
        ref = self.reference
        items = (self.ref_loss_train, self.ref_loss_val, self.ref_metric_train,
                 self.ref_metric_val)
        if ref is None:
            for item in items:
                item.setData([], [])
        else:
            self._draw_epochs(ref, *items, self.log_scale.isChecked())
        self._fit_ranges()

    @staticmethod
    def _draw_epochs(run: RunRecord, loss_train, loss_val, metric_train, metric_val,
                     log: bool) -> None:
        records = run.epoch_records
        per_epoch = max(run.steps_per_epoch, 1)
        xs = np.array([r.step / per_epoch for r in records], float)

        def column(name: str) -> np.ndarray:
            return np.array([np.nan if getattr(r, name) is None else getattr(r, name)
                             for r in records], float)

        loss_train.setData(*finite_xy(xs, column("train_loss"), log))
        loss_val.setData(*finite_xy(xs, column("val_loss"), log))
        metric_train.setData(*finite_xy(xs, column("train_metric")))
        metric_val.setData(*finite_xy(xs, column("val_metric")))
