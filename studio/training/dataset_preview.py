"""A look at the chosen dataset before training: shapes, class counts and a few examples.

2-D points are drawn as a scatter coloured by class, images as a strip of samples with
their class, anything else as a few rows of numbers. Loading runs on a
``studio.background.BackgroundTask`` (reading a CSV or an image folder can take a
moment) and only the latest request is shown; a dataset that cannot be loaded shows the registry's message (a missing package
names the command that installs it).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QStackedLayout, QToolButton, QVBoxLayout, QWidget

from studio.background import BackgroundTask
from studio.panels.widgets import muted
from studio.theme_colors import SEVERITY_COLORS

from .plots.boundary import class_rgb
from .plots.common import layout_widget, small_font, style_plot, theme_colors

SAMPLE_IMAGES = 8
SCATTER_POINTS = 600


def summarize(spec: dict, seed: int, val_fraction: float, test_fraction: float,
              progress=None, cancelled=None) -> dict:
    """What the preview shows, computed off the GUI thread (plain numpy and text).

    ``progress(files)`` follows the listing of a large folder; ``cancelled()`` stops it
    (a newer request came).
    """
    from runtime.datasets import load_dataset

    # Data too large for memory streams: its files are listed, not all decoded.
    bundle = load_dataset(spec, seed=seed, val_fraction=val_fraction,
                          test_fraction=test_fraction, data_path="auto",
                          strict_files=False, progress=progress, cancelled=cancelled)
    out: dict = {"describe": bundle.describe(), "task": bundle.task,
                 "shapes": [tuple(s) for s in bundle.input_shapes],
                 "dtypes": list(bundle.input_dtypes), "classes": list(bundle.class_names),
                 "notes": list(bundle.notes)}
    if bundle.streaming:
        return _sampled(bundle, out)
    *inputs, target = bundle.tensors("train")
    y = target.numpy()
    if bundle.task in ("classification", "binary"):
        ids = y.reshape(len(y), -1)[:, 0].round().astype(np.int64)
        out["counts"] = np.bincount(ids, minlength=max(len(bundle.class_names), 1))
        out["labels"] = ids
    elif bundle.task == "multilabel":
        out["counts"] = y.reshape(len(y), -1).sum(axis=0).astype(np.int64)
    x = inputs[0].numpy()
    shape = out["shapes"][0]
    if len(inputs) == 1 and shape == (2,):
        mean = bundle.input_mean[0] if bundle.input_mean else None
        std = bundle.input_std[0] if bundle.input_std else None
        if mean is not None and std is not None:
            x = x * std.numpy() + mean.numpy()
        out["points"] = x[:SCATTER_POINTS]
        out["labels"] = out.get("labels", np.zeros(len(x), np.int64))[:SCATTER_POINTS]
    elif len(shape) == 3 and shape[0] in (1, 3):
        picks = _one_per_class(out.get("labels"), len(x), SAMPLE_IMAGES)
        out["images"] = x[picks]
        out["image_labels"] = [out["classes"][out["labels"][i]] if "labels" in out
                               else "" for i in picks]
    elif len(inputs) == 1 and shape == (1,) and bundle.task == "regression":
        out["curve"] = (x[:SCATTER_POINTS, 0], y[:SCATTER_POINTS].reshape(-1))
    else:
        out["rows"] = [", ".join(_brief(t[i].numpy()) for t in inputs) + "  \u2192  "
                       + _target(y[i], bundle) for i in range(min(4, len(y)))]
    return out


def _sampled(bundle, out: dict) -> dict:
    """Class counts from the file listing and a few decoded images (streaming data)."""
    split = bundle.train
    out["describe"] += " (streams from disk: a sample is shown)"
    targets = np.asarray(split.index.labels)[split.positions]
    if len(bundle.input_shapes[0]) != 3:  # table rows (a large CSV)
        if bundle.task in ("classification", "binary"):
            ids = targets.reshape(len(targets)).astype(np.int64)
            out["counts"] = np.bincount(ids, minlength=max(len(bundle.class_names), 1))
        elif bundle.task == "multilabel":
            out["counts"] = targets.reshape(len(targets), -1).sum(axis=0).astype(np.int64)
        out["rows"] = [_brief(split[i][0].numpy()) + "  \u2192  " + _target(targets[i], bundle)
                       for i in range(min(4, len(split)))]
        return out
    labels = targets
    out["counts"] = np.bincount(labels, minlength=max(len(bundle.class_names), 1))
    out["labels"] = labels
    picks = _one_per_class(labels, len(labels), SAMPLE_IMAGES)
    images = []
    for i in picks:
        x, _, problem = split[i]
        if not problem:
            images.append(x.numpy())
    if images:
        out["images"] = np.stack(images)
        out["image_labels"] = [out["classes"][labels[i]] for i in picks][:len(images)]
    else:
        out["rows"] = ["(none of the sampled files could be read)"]
    return out


def _one_per_class(labels, n: int, k: int) -> list[int]:
    if labels is None:
        return list(range(min(n, k)))
    picks: list[int] = []
    for c in np.unique(labels):
        picks.extend(np.flatnonzero(labels == c)[:1].tolist())
    for i in range(n):
        if len(picks) >= k:
            break
        if i not in picks:
            picks.append(i)
    return picks[:k]


def _target(y: np.ndarray, bundle) -> str:
    """A target as the preview writes it: a multi-label row as its labels' names."""
    if bundle.task != "multilabel":
        return _brief(y)
    on = np.flatnonzero(np.asarray(y).reshape(-1) > 0.5)
    return ", ".join(str(bundle.class_names[i]) for i in on) or "(no label)"


def _brief(a: np.ndarray) -> str:
    flat = np.asarray(a).reshape(-1)
    shown = " ".join(f"{v:.3g}" for v in flat[:6])
    more = " \u2026" if flat.size > 6 else ""
    return f"[{shown}{more}]" if flat.size > 1 else shown


class DatasetPreview(QWidget):
    loaded = Signal()  # a preview (or its error) is on screen
    sampled = Signal(object)  # example images (n, c, h, w) of the latest preview, or None

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.generation = 0
        self.summary: dict | None = None
        self.error_text = ""
        self.task = BackgroundTask(self)
        self.task.succeeded.connect(lambda summary: self._show(summary, ""))
        self.task.failed.connect(lambda message, _error: self._show(None, message))
        self.task.progress.connect(self._progress)
        self.info = QLabel(self)
        self.info.setObjectName("preview_info")
        self.info.setWordWrap(True)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.canvas = layout_widget(self)
        self.canvas.setMinimumHeight(150)
        self.text = muted(QLabel(self))
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.stack = QStackedLayout()
        self.stack.addWidget(self.text)
        self.stack.addWidget(self.canvas)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.info)
        self.stop = QToolButton(self)
        self.stop.setObjectName("preview_stop")
        self.stop.setText("Stop listing")
        self.stop.setToolTip("Stop reading this folder's file list")
        self.stop.clicked.connect(self.cancel)
        self.stop.hide()
        layout.addWidget(self.stop)
        layout.addLayout(self.stack, 1)
        self.loaded.connect(self._hold_height)

    def request(self, spec: dict, seed: int = 0, val_fraction: float = 0.2,
                test_fraction: float = 0.1) -> None:
        """Load ``spec`` in the background and show it when ready (latest wins)."""
        self.generation += 1
        self.info.setText("Loading the dataset\u2026")
        # The scan reports how many files it listed and stops when the job is
        # cancelled (a newer request, Stop, or the preview closing).
        self.task.start(lambda job: summarize(spec, seed, val_fraction, test_fraction,
                                              job.report, lambda: job.cancelled),
                        what="Loading the dataset", latest=True, handle=True)

    def cancel(self) -> None:
        """Stop the scan under way (its result is not shown)."""
        self.generation += 1
        self.task.cancel()
        self.stop.hide()
        self.info.setText("Stopped listing the files.")

    # ------------------------------------------------------------------ showing
    def _progress(self, files: int) -> None:
        self.info.setText(f"Reading the dataset\u2026 {files:,} files or rows so far")
        self.stop.show()

    def _show(self, summary, error: str) -> None:
        self.stop.hide()
        self.summary, self.error_text = summary, error
        self.sampled.emit(summary.get("images") if summary else None)
        if error:
            self.info.setText(f"<span style='color:{SEVERITY_COLORS['error']}'>"
                              f"{_escape(error)}</span>")
            self.text.setText("")
            self.stack.setCurrentWidget(self.text)
            self.loaded.emit()
            return
        lines = [f"<b>{_escape(summary['describe'])}</b>"]
        shapes = ", ".join("(" + ", ".join(map(str, s)) + ")" + (" ids" if d == "long"
                                                                  else "")
                           for s, d in zip(summary["shapes"], summary["dtypes"]))
        lines.append(f"Each example: {shapes}")
        if "counts" in summary:
            counts = " \u00b7 ".join(f"{_escape(str(n))}: {int(c)}" for n, c in
                                     zip(summary["classes"], summary["counts"]))
            per = "label" if summary["task"] == "multilabel" else "class"
            lines.append(f"Training examples per {per}: {counts}")
        lines += [_escape(note[:1].upper() + note[1:]) for note in summary.get("notes", ())]
        self.info.setText("<br>".join(lines))
        self.canvas.clear()
        if "points" in summary:
            self._scatter(summary["points"], summary["labels"])
        elif "images" in summary:
            self._images(summary["images"], summary["image_labels"])
        elif "curve" in summary:
            self._curve(*summary["curve"])
        else:
            self.text.setText("<br>".join(_escape(r) for r in summary["rows"]))
            self.stack.setCurrentWidget(self.text)
            self.loaded.emit()
            return
        self.stack.setCurrentWidget(self.canvas)
        self.loaded.emit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._hold_height()

    def _hold_height(self) -> None:
        """Ask for the height the wrapped summary needs at this width: the setup
        form's layout in its scroll area gave less, and the preview drew over it."""
        layout = self.layout()
        need = layout.totalHeightForWidth(self.width()) if layout is not None else 0
        if need > 0 and need != self.minimumHeight():
            self.setMinimumHeight(need)

    def _scatter(self, points: np.ndarray, labels: np.ndarray) -> None:
        plot = style_plot(self.canvas.addPlot(enableMenu=False))
        plot.setAspectLocked(True)
        for k in np.unique(labels):  # one item per class: one brush each
            chosen = points[labels == k]
            plot.addItem(pg.ScatterPlotItem(chosen[:, 0], chosen[:, 1], size=5,
                                            pxMode=True, pen=None,
                                            brush=pg.mkBrush(*class_rgb(int(k)), 220)))
        plot.getViewBox().setMouseEnabled(False, False)

    def _curve(self, x: np.ndarray, y: np.ndarray) -> None:
        plot = style_plot(self.canvas.addPlot(enableMenu=False), bottom="input", left="target")
        plot.addItem(pg.ScatterPlotItem(x, y, size=4, brush=pg.mkBrush(class_rgb(0)),
                                        pen=None))

    def _images(self, images: np.ndarray, labels: list[str]) -> None:
        _bg, fg, _grid = theme_colors()
        columns = 4
        for k, (image, label) in enumerate(zip(images, labels)):
            row, col = divmod(k, columns)
            # No context menu: building a view box's menu was most of the time of
            # showing the samples (about 15 ms per image, all in one turn).
            box = self.canvas.addViewBox(row=2 * row, col=col, lockAspect=True,
                                         enableMouse=False, invertY=True,
                                         enableMenu=False)
            item = pg.ImageItem()
            if image.shape[0] == 1:
                item.setImage(image[0].T, levels=(float(image.min()), float(image.max())
                                                  or 1.0))
            else:
                rgb = np.clip(np.moveaxis(image, 0, -1), 0, 1)
                item.setImage((rgb * 255).astype(np.uint8).transpose(1, 0, 2),
                              levels=(0, 255))
            box.addItem(item)
            caption = self.canvas.addLabel(_escape(label), row=2 * row + 1, col=col,
                                           color=fg, size="8pt")
            caption.item.setFont(small_font(10))


def _escape(text: str) -> str:
    from html import escape

    return escape(text)
