"""The probe's background side: one ``ProbeSession`` per (network, weights), probes off
the GUI thread, the latest request wins.

The GUI asks for an example (split and index) or a custom input (a drawn digit, a
clicked point, an edited row, typed tokens, a dropped image); the service runs it on a
worker thread with ``BackgroundTask`` and answers ``probed(ProbeAnswer)`` on the GUI
thread. Requests that arrive while one runs replace each other, so dragging through a
split never queues a backlog. Weights are a checkpoint path or nothing (the freshly
initialised network); the session is rebuilt only when the network or weights change.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from studio.background import BackgroundTask

if TYPE_CHECKING:
    from runtime.probe.session import ProbeSession


@dataclass(frozen=True)
class Source:
    """What to probe: a network snapshot (document dict) and its weights."""

    document: dict[str, Any]
    checkpoint: str | None = None  # None: the initial weights
    base_dir: str | None = None
    stamp: tuple = ()  # (epoch, step) of the checkpoint: last.pt is rewritten in place

    def key(self) -> tuple:
        import json

        return (json.dumps(self.document, sort_keys=True), self.checkpoint, self.base_dir,
                self.stamp)


@dataclass(frozen=True)
class Request:
    split: str = "val"
    index: int = 0
    custom: Any = None  # a tensor for one example, or None to use split/index
    attribution: str | None = None
    attribution_layer: str | None = None
    gallery: bool = False
    cell: tuple[int, int] | None = None


@dataclass
class ProbeAnswer:
    request: Request
    result: Any  # runtime.probe.ProbeResult
    inputs: Any  # the example's input (numpy)
    attribution: Any = None  # runtime.probe.Attribution
    attribution_error: str = ""
    gallery: list | None = None
    gallery_images: list | None = None  # RGB arrays of image inputs, for the list
    split_size: int = 0
    class_names: tuple[str, ...] = ()
    conv_layers: tuple[str, ...] = ()
    input_shape: tuple[int, ...] = ()
    input_dtype: str = "float"
    points: Any = None  # (x, y, label) arrays of the split for 2-D inputs


class ProbeService(QObject):
    probed = Signal(object)  # ProbeAnswer
    failed = Signal(str)
    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.task = BackgroundTask(self)
        self.task.succeeded.connect(self._done)
        self.task.failed.connect(self._failed)
        self.source: Source | None = None
        self._session: ProbeSession | None = None
        self._session_key: tuple | None = None
        self._pending: Request | None = None
        self.last: ProbeAnswer | None = None

    def set_source(self, source: Source | None) -> None:
        self.source = source

    def request(self, request: Request) -> None:
        if self.source is None:
            self.failed.emit("Nothing to probe: open a network with a dataset")
            return
        if self.task.running:
            self._pending = request
            return
        source = self.source
        self.busy_changed.emit(True)
        self.task.start(lambda: self._work(source, request), "The probe")

    def wait(self, msecs: int = -1) -> bool:
        return self.task.wait(msecs)

    # ------------------------------------------------------------------ worker thread
    def _work(self, source: Source, request: Request) -> ProbeAnswer:
        import numpy as np

        from graph.fileformat import document_from_dict
        from runtime.probe import AttributionError, attribute, conv_layers, open_session

        if self._session is None or self._session_key != source.key():
            doc = document_from_dict(source.document)
            self._session = open_session(doc, checkpoint=source.checkpoint,
                                         base_dir=source.base_dir)
            self._session_key = source.key()
        session = self._session
        if request.custom is not None:
            inputs, target = request.custom, None
        else:
            inputs, target = session.example(request.split, request.index)
        result = session.prober.probe(inputs, target)
        answer = ProbeAnswer(request, result, np.asarray(inputs),
                             split_size=session.split_size(request.split),
                             class_names=tuple(session.bundle.class_names),
                             conv_layers=tuple(conv_layers(session.prober)),
                             input_shape=tuple(session.bundle.input_shapes[0]),
                             input_dtype=session.bundle.input_dtypes[0])
        if request.attribution:
            try:
                answer.attribution = attribute(session.prober, inputs,
                                               request.attribution,
                                               layer=request.attribution_layer)
            except AttributionError as e:
                answer.attribution_error = str(e)
        if request.gallery:
            from runtime.probe import images

            answer.gallery = session.gallery(request.split, 48, request.cell)
            pictures = [images.input_image(np.asarray(session.example(request.split,
                                                                      item.index)[0]))
                        for item in answer.gallery]
            if all(p is not None for p in pictures):
                answer.gallery_images = pictures
        if answer.input_shape == (2,) and answer.input_dtype == "float":
            xs, ys = session.bundle.tensors(request.split)[:2]
            answer.points = (xs.numpy(), ys.numpy())
        return answer

    # ------------------------------------------------------------------ GUI thread
    def _done(self, answer: ProbeAnswer) -> None:
        self.last = answer
        self.probed.emit(answer)
        self._next()

    def _failed(self, message: str, _error) -> None:
        self._session, self._session_key = None, None
        self.failed.emit(message)
        self._next()

    def _next(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            self.request(pending)
        else:
            self.busy_changed.emit(False)
