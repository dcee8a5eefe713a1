"""The Probe panel: pick one example, see the answer, why, and its path on the canvas.

Weights: the initial network or any checkpoint of the session's runs; "Latest of the
run" follows the run as it trains (each checkpoint it writes, and Refresh asks the
running worker for one now, paused or not). Examples: a split and index (arrow keys step
through it), the next one the network gets wrong, the next of a class, the gallery of
the split's worst examples (filterable by confusion cell), or one made by hand: drawn,
clicked on the plane, typed, or an image file dropped on the panel. The answer shows as
class-probability bars, the input with an attribution heat (Captum), this example's
gradient per layer, and a thumbnail of every node's value on the canvas; the selected
node's value shows large at the bottom.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeyEvent, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .canvas import ProbeCanvas, to_qimage
from .gallery import GalleryView
from .inputs import Editors, image_file_example
from .service import ProbeAnswer, ProbeService, Request, Source
from .views import Bars

if TYPE_CHECKING:
    from studio.canvas.scene import NetworkScene
    from studio.document.controller import DocumentController
    from studio.panels.inspector import InspectorPanel
    from studio.training.runner import TrainingRunner

ATTRIBUTIONS = (("No attribution", None), ("Saliency", "saliency"),
                ("Integrated Gradients", "integrated_gradients"), ("Grad-CAM", "grad_cam"))
INITIAL = "initial"
LIVE_MS = 2000  # how often a visible panel refreshes the weights of a training run
LATEST = "latest"


class ProbePanel(QWidget):
    def __init__(self, controller: DocumentController, scene: NetworkScene,
                 runner_getter: Callable[[], TrainingRunner] | None = None,
                 inspector: InspectorPanel | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ProbePanel")
        self.controller = controller
        self.runner_getter = runner_getter  # () -> TrainingRunner, built on first need
        self.inspector = inspector
        self.service = ProbeService(self)
        self.canvas = ProbeCanvas(scene)
        self.answer: ProbeAnswer | None = None
        self.answers_shown = 0
        self._files: dict[str, tuple[dict, tuple]] = {}  # checkpoint files opened
        self.custom = None  # the hand-made example being probed, if any
        self.editors: Editors | None = None
        self._editor_key: tuple | None = None
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._build()
        self.service.probed.connect(self._show)
        self.service.failed.connect(self._failed)
        self.service.busy_changed.connect(
            lambda busy: self.status.setText("Probing..." if busy else self.status.text()))
        controller.selection_changed.connect(lambda _ids: self._show_selected())
        controller.document_replaced.connect(self._document_replaced)
        self._retry = QTimer(self, singleShot=True, interval=300)
        self._retry.timeout.connect(self.probe)
        # While a run trains (or is paused) and the panel shows its latest weights, ask
        # the worker for fresh weights every couple of seconds; the CheckpointEvent that
        # answers re-probes (``follow_run``). One request at a time.
        self.live = QTimer(self, interval=LIVE_MS)
        self.live.timeout.connect(self._ask_for_weights)
        self._asked = False

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        body = QWidget()
        box = QVBoxLayout(body)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.weights = QComboBox()
        self.weights.setObjectName("probe_weights")
        self.weights.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.weights.setMinimumContentsLength(12)
        form.addRow("Weights", self.weights)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Probe again with the newest weights (asks a "
                                       "running training for a checkpoint)")
        self.split = QComboBox()
        self.split.setObjectName("probe_split")
        for text, key in (("Validation", "val"), ("Training", "train"), ("Test", "test")):
            self.split.addItem(text, key)
        self.index = QSpinBox()
        self.index.setObjectName("probe_index")
        self.index.setRange(0, 0)
        self.index.setKeyboardTracking(False)
        self.index.setToolTip("The example's index in the split (arrow keys step)")
        row = QHBoxLayout()
        row.addWidget(self.split)
        row.addWidget(self.index, 1)
        form.addRow("Example", row)
        row = QHBoxLayout()
        row.addWidget(self.refresh_button)
        self.open_button = QPushButton("Open\u2026")
        self.open_button.setToolTip("Probe the weights of a checkpoint file (.pt)")
        row.addWidget(self.open_button)
        row.addStretch(1)
        form.insertRow(1, "", row)
        self.next_wrong = QPushButton("Next wrong")
        self.next_wrong.setObjectName("probe_next_wrong")
        self.next_wrong.setToolTip("The next example the network gets wrong")
        self.klass = QComboBox()
        self.klass.setObjectName("probe_class")
        self.klass.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.klass.setMinimumContentsLength(5)
        self.next_class = QPushButton("Next")
        self.next_class.setObjectName("probe_next_class")
        self.next_class.setToolTip("The next example of this class")
        row = QHBoxLayout()
        row.addWidget(self.next_wrong)
        row.addStretch(1)
        form.addRow("", row)
        row = QHBoxLayout()
        row.addWidget(self.klass, 1)
        row.addWidget(self.next_class)
        form.addRow("Class", row)
        self.attribution = QComboBox()
        self.attribution.setObjectName("probe_attribution")
        for text, method in ATTRIBUTIONS:
            self.attribution.addItem(text, method)
        form.addRow("Why", self.attribution)
        self.cam_layer = QComboBox()
        self.cam_layer.setObjectName("probe_cam_layer")
        self.cam_layer.setToolTip("The convolution layer Grad-CAM looks at")
        self.cam_label = QLabel("Layer")
        form.addRow(self.cam_label, self.cam_layer)
        box.addLayout(form)

        self.status = QLabel("")
        self.status.setObjectName("probe_status")
        self.status.setWordWrap(True)
        box.addWidget(self.status)
        top = QHBoxLayout()
        self.input_view = QLabel()
        self.input_view.setObjectName("probe_input")
        self.input_view.setFixedSize(120, 120)
        self.input_view.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.input_view.setToolTip("The example, with the attribution's heat over it "
                                   "(red: pushes towards the class, blue: against)")
        top.addWidget(self.input_view)
        self.prediction = Bars("probe_prediction")
        top.addWidget(self.prediction, 1)
        box.addLayout(top)
        self.make_box = QGroupBox("Make an example")
        self.make_layout = QVBoxLayout(self.make_box)
        box.addWidget(self.make_box)
        gradients_title = QLabel("<b>This example's gradient, per layer</b> (where its "
                                 "error signal fades)")
        gradients_title.setWordWrap(True)
        box.addWidget(gradients_title)
        self.gradients = Bars("probe_gradients")
        box.addWidget(self.gradients)
        # The selected node's value, large: in the inspector (beside the layer's
        # parameters) when there is one, else here.
        self.selected_box = QGroupBox("Probed value")
        self.selected_box.setObjectName("probe_selected_box")
        inner = QVBoxLayout(self.selected_box)
        self.selected = QLabel()
        self.selected.setObjectName("probe_selected")
        self.selected.setWordWrap(True)
        self.selected_image = QLabel()
        self.selected_image.setObjectName("probe_selected_image")
        self.selected_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        inner.addWidget(self.selected)
        inner.addWidget(self.selected_image)
        if self.inspector is not None:
            self.inspector.add_footer(self.selected_box)
        else:
            box.addWidget(self.selected_box)
        self.selected_box.hide()
        self.gallery = GalleryView()
        box.addWidget(self.gallery)
        box.addStretch(1)

        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)

        self.weights.activated.connect(lambda _i: self.probe(gallery=True))
        self.refresh_button.clicked.connect(self.refresh)
        self.open_button.clicked.connect(self._open_checkpoint)
        self.split.activated.connect(lambda _i: self.probe(gallery=True))
        self.index.valueChanged.connect(lambda _v: self.probe())
        self.next_wrong.clicked.connect(lambda: self.step(misclassified=True))
        self.next_class.clicked.connect(
            lambda: self.step(target_class=self.klass.currentData()))
        self.attribution.activated.connect(lambda _i: self.probe())
        self.cam_layer.activated.connect(lambda _i: self.probe())
        self.gallery.cell_changed.connect(lambda: self.probe(gallery=True))
        self.gallery.example_chosen.connect(
            lambda index: self.probe_example(self.split.currentData(), index))

    # ------------------------------------------------------------------ sources
    def runs(self):
        if self.runner_getter is None:
            return []
        return list(self.runner_getter().runs)

    def refill_weights(self) -> None:
        current = self.weights.currentData()
        self.weights.clear()
        self.weights.addItem("Latest of the last run", LATEST)
        self.weights.addItem("Initial weights (untrained)", INITIAL)
        for run in self.runs():
            latest = {ckpt.path: ckpt for ckpt in run.checkpoints}  # last.pt is rewritten
            for ckpt in latest.values():
                name = Path(ckpt.path).name
                self.weights.addItem(f"{run.label}: {name} (epoch {ckpt.epoch}, step "
                                     f"{ckpt.step})", f"run:{run.number}:{ckpt.path}")
        for path in self._files:
            self.weights.addItem(f"File: {Path(path).name}", f"file:{path}")
        index = self.weights.findData(current)
        self.weights.setCurrentIndex(max(index, 0))

    def use_checkpoint(self, path: str) -> None:
        """Probe the weights of a checkpoint file (of this network or of an earlier
        version of it: the checkpoint carries the network it trained)."""
        from runtime.checkpoints import load_checkpoint

        ckpt = load_checkpoint(path)  # CheckpointError (a StrataError) if unreadable
        self._files[str(path)] = (ckpt.document, (ckpt.epoch, ckpt.step))
        self.refill_weights()
        self.weights.setCurrentIndex(self.weights.findData(f"file:{path}"))
        self.probe(gallery=True)

    def _open_checkpoint(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        from graph.errors import StrataError

        path, _ = QFileDialog.getOpenFileName(self, "Probe the weights of a checkpoint",
                                              "", "Strata checkpoints (*.pt)")
        if not path:
            return
        try:
            self.use_checkpoint(path)
        except StrataError as e:
            self.status.setText(str(e))

    def source(self) -> Source | None:
        from graph.fileformat import document_to_dict

        doc = self.controller.document
        base = str(self.controller.path.parent) if self.controller.path else None
        choice = self.weights.currentData()
        runs = self.runs()
        if choice == LATEST and runs:
            run = runs[-1]
            if run.checkpoints and run.document is not None:
                last = run.checkpoints[-1]
                return Source(run.document, last.path, base, (last.epoch, last.step))
        if isinstance(choice, str) and choice.startswith("file:"):
            path = choice[len("file:"):]
            document, stamp = self._files[path]
            return Source(document, path, base, stamp)
        if isinstance(choice, str) and choice.startswith("run:"):
            number, path = choice[len("run:"):].split(":", 1)
            run = next((r for r in runs if r.number == int(number)), None)
            found = [c for c in run.checkpoints if c.path == path] if run else []
            if run is not None and run.document is not None and found:
                return Source(run.document, path, base, (found[-1].epoch, found[-1].step))
        return Source(document_to_dict(doc), None, base)

    # ------------------------------------------------------------------ probing
    def probe(self, gallery: bool = False) -> None:
        if not self.isVisible():
            return  # probed when shown
        source = self.source()
        self.service.set_source(source)
        self.service.request(Request(
            split=self.split.currentData(), index=self.index.value(),
            custom=self.custom, attribution=self.attribution.currentData(),
            attribution_layer=self.cam_layer.currentData(),
            gallery=gallery or self.gallery.list.count() == 0,
            cell=self.gallery.current_cell()))

    def probe_example(self, split: str, index: int) -> None:
        self.custom = None
        self.split.setCurrentIndex(max(self.split.findData(split), 0))
        self.index.blockSignals(True)
        self.index.setMaximum(max(self.index.maximum(), index))
        self.index.setValue(index)
        self.index.blockSignals(False)
        self.probe()

    def probe_custom(self, array) -> None:
        self.custom = array
        self.probe()

    def probe_point(self, x: float, y: float) -> None:
        """A point of the 2-D plane (the decision boundary under the mouse)."""
        import numpy as np

        if not self.isVisible() or self.answer is None or self.answer.input_shape != (2,):
            return
        point = np.array([x, y], dtype=np.float32)
        if self.editors is not None and self.editors.plane is not None:
            self.editors.plane.set_marker(point)
        self.probe_custom(point)

    def filter_cell(self, true: int, predicted: int) -> None:
        """List the examples of one confusion-matrix cell, worst first."""
        self.gallery.select_cell(true, predicted,
                                 self.answer.class_names if self.answer else ())
        self.custom = None
        self.probe(gallery=True)

    def refresh(self) -> None:
        """Newest weights: a running (or paused) training writes a checkpoint first."""
        runner = self.runner_getter() if self.runner_getter is not None else None
        if runner is not None and runner.active:
            runner.checkpoint()  # answered by a CheckpointEvent -> follow_run
        self.refill_weights()
        self.probe(gallery=True)

    def follow_run(self, run, changed) -> None:
        """A run's update: new checkpoints appear; 'Latest' probes them."""
        if run.active and not self.live.isActive():
            self.live.start()
        if "checkpoints" in changed:
            self._asked = False
            self.refill_weights()
            if self.weights.currentData() == LATEST:
                self.probe()

    def _ask_for_weights(self) -> None:
        runner = self.runner_getter() if self.runner_getter is not None else None
        if runner is None or not runner.active:
            self.live.stop()
            self._asked = False
            return
        if (self.isVisible() and not self._asked
                and self.weights.currentData() == LATEST):
            self._asked = True
            runner.checkpoint()

    def step(self, *, misclassified: bool = False, target_class=None,
             delta: int = 1) -> None:
        answer = self.answer
        if answer is None:
            return
        split = self.split.currentData()
        if not misclassified and target_class is None:
            size = max(answer.split_size, 1)
            self.probe_example(split, (self.index.value() + delta) % size)
            return
        session = self.service._session
        if session is None:
            return
        found = session.find(split, self.index.value(), target_class=target_class,
                             misclassified=misclassified)
        if found is None:
            self.status.setText("No such example in this split.")
            return
        self.probe_example(split, found)

    # ------------------------------------------------------------------ showing
    def _show(self, answer: ProbeAnswer) -> None:
        from runtime.probe import images

        self.answer = answer
        self.answers_shown += 1
        result = answer.result
        doc = self.controller.document
        where = ("your example" if answer.request.custom is not None else
                 f"{self.split.currentText().lower()} example {answer.request.index}")
        weights = ("initial weights" if self.service.source is None
                   or self.service.source.checkpoint is None else
                   f"weights of {Path(self.service.source.checkpoint).name}")
        self.status.setText(f"{where} ({weights}): {result.describe()}")
        self.index.blockSignals(True)
        self.index.setMaximum(max(answer.split_size - 1, 0))
        self.index.blockSignals(False)
        if self.klass.count() != len(answer.class_names):
            self.klass.clear()
            for k, name in enumerate(answer.class_names):
                self.klass.addItem(str(name), k)
        self._fill_cam_layers(answer)
        self._ensure_editors(answer)
        if result.task == "multilabel":  # each label's own probability (a sigmoid)
            names = list(answer.class_names)
            self.prediction.set_rows([(names[i] if i < len(names) else str(i), float(p),
                                       float(p) >= 0.5)
                                      for i, p in enumerate(result.prediction.ravel())],
                                     full=1.0)  # independent: not shares of one whole
        elif result.predicted is not None or result.task == "binary":
            names = list(answer.class_names) or [str(i) for i in range(len(result.prediction))]
            probs = result.prediction if result.task != "binary" else [
                1 - float(result.prediction[0]), float(result.prediction[0])]
            rows = [(names[i] if i < len(names) else str(i), float(p),
                     i == result.predicted) for i, p in enumerate(probs)]
            self.prediction.set_rows(rows)
        else:
            self.prediction.set_rows([(f"output {i}", float(v), False)
                                      for i, v in enumerate(result.prediction.ravel())],
                                     fmt="{:.4g}")
        picture = images.input_image(answer.inputs)
        heat = None
        if answer.attribution is not None:
            values = answer.attribution.normalised()
            heat = values.mean(axis=0) if values.ndim == 3 else values
        if picture is not None:
            shown = images.overlay(picture, heat) if heat is not None else picture
        elif heat is not None and answer.input_dtype == "long":
            shown = images.enlarge(images.overlay(None, heat.reshape(1, -1)), 4)  # tokens
        elif heat is not None:
            shown = images.bar_strip(heat.ravel(), height=48, bar=8)  # one bar a feature
        else:
            shown = None
        if shown is not None:
            self.input_view.setPixmap(QPixmap.fromImage(to_qimage(shown)).scaled(
                116, 116, Qt.AspectRatioMode.KeepAspectRatio))
        else:
            self.input_view.setText(", ".join(f"{v:.3g}" for v in
                                              answer.inputs.ravel()[:6]))
        if answer.attribution_error:
            self.status.setText(self.status.text() + f"\n{answer.attribution_error}")
        order = [n for n in (answer.result.nodes) if n in doc.nodes]
        self.gradients.set_rows([(doc.nodes[n].title, float(result.nodes[n].grad_rms or 0),
                                  False) for n in order
                                 if result.nodes[n].grad_rms is not None],
                                log=True, fmt="{:.2g}")
        self.canvas.show(result)
        self._show_selected()
        plane = self.editors.plane if self.editors is not None else None
        if answer.points is not None and plane is not None:
            plane.set_points(*answer.points)
            plane.set_marker(answer.inputs)
        if answer.gallery is not None:
            self.gallery.fill(answer.gallery, answer.class_names,
                              filtered=answer.request.cell is not None,
                              pictures=answer.gallery_images)

    def _show_selected(self) -> None:
        from runtime.probe import images

        ids = self.controller.selected
        answer = self.answer
        if answer is None or len(ids) != 1 or ids[0] not in answer.result.nodes:
            self.selected.setText("Select a layer to see its value for this example.")
            self.selected_image.clear()
            self.selected_box.setVisible(answer is not None and self.inspector is None)
            return
        self.selected_box.show()
        value = answer.result.nodes[ids[0]]
        node = self.controller.document.nodes.get(ids[0])
        stats = value.stats
        text = f"<b>{node.title if node else ids[0]}</b> {tuple(value.shape)}"
        if stats:
            text += (f"<br>mean {stats['mean']:.3g}, std {stats['std']:.3g}, min "
                     f"{stats['min']:.3g}, max {stats['max']:.3g}, zeros "
                     f"{stats['zero_fraction']:.0%}")
        if value.grad_norm is not None:
            text += f"<br>gradient of this example's loss: {value.grad_norm:.3g}"
        self.selected.setText(text)
        picture = images.value_image(value.kind, value.value)
        if value.attention is not None:
            picture = images.heatmap(value.attention.mean(axis=0))
        if picture is None:
            self.selected_image.clear()
            return
        pix = QPixmap.fromImage(to_qimage(picture))
        width = (self.inspector or self).width()
        self.selected_image.setPixmap(pix.scaled(
            max(120, width - 40), 200, Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.FastTransformation))

    def _fill_cam_layers(self, answer: ProbeAnswer) -> None:
        doc = self.controller.document
        wanted = [(doc.nodes[n].title if n in doc.nodes else n, n)
                  for n in answer.conv_layers]
        have = [(self.cam_layer.itemText(i), self.cam_layer.itemData(i))
                for i in range(self.cam_layer.count())]
        if have != wanted:
            self.cam_layer.clear()
            for text, node_id in wanted:
                self.cam_layer.addItem(text, node_id)
            self.cam_layer.setCurrentIndex(len(wanted) - 1)
        grad_cam = self.attribution.currentData() == "grad_cam"
        self.cam_layer.setVisible(bool(wanted) and grad_cam)
        self.cam_label.setVisible(bool(wanted) and grad_cam)

    def _ensure_editors(self, answer: ProbeAnswer) -> None:
        key = (answer.input_shape, answer.input_dtype)
        if key != self._editor_key:
            self._editor_key = key
            if self.editors is not None:
                self.editors.deleteLater()
            self.editors = Editors(answer.input_shape, answer.input_dtype)
            self.editors.made.connect(self.probe_custom)
            self.make_layout.addWidget(self.editors)
            self.make_box.setVisible(bool(self.editors.hint))
        values = self.editors.values if self.editors is not None else None
        if values is not None and answer.request.custom is None:
            values.show_values(answer.inputs)

    def _failed(self, message: str) -> None:
        self.status.setText(message)
        self.canvas.clear()

    def _document_replaced(self) -> None:
        self.answer = None
        self._show_selected()
        self.custom = None
        self.canvas.clear()
        self.gallery.list.clear()
        self.refill_weights()
        if self.isVisible():
            self._retry.start()

    # ------------------------------------------------------------------ input
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Down):
            self.step(delta=1)
        elif event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Up):
            self.step(delta=-1)
        else:
            super().keyPressEvent(event)

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        from graph.errors import StrataError

        urls = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not urls or self.answer is None:
            return
        try:
            array = image_file_example(urls[0], self.answer.input_shape)
        except StrataError as e:
            self.status.setText(str(e))
            return
        event.acceptProposedAction()
        self.probe_custom(array)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self.answer is None:
            self.refill_weights()
            self._retry.start()

