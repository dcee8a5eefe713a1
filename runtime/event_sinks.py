"""A run's loggers (TensorBoard, MLflow) read the worker's typed events the same way: each
kind of event goes to its own method. `RunLogger` is that dispatch, written once."""

from __future__ import annotations

from .events import (
    EpochEvent,
    FailedEvent,
    FinishedEvent,
    LayerStatsEvent,
    StartedEvent,
    StepEvent,
)


class RunLogger:
    """Call it with each event of a run; a subclass writes the kinds it overrides. Once
    ``closed`` it ignores everything."""

    closed = False

    def __call__(self, event: object) -> None:
        if not self.closed:
            self.dispatch(event)

    def dispatch(self, event: object) -> None:
        if isinstance(event, StepEvent):
            self._step(event)
        elif isinstance(event, LayerStatsEvent):
            self._layers(event)
        elif isinstance(event, EpochEvent):
            self._epoch(event)
        elif isinstance(event, StartedEvent):
            self._started(event)
        elif isinstance(event, (FinishedEvent, FailedEvent)):
            self._finished(event)

    def _started(self, e: StartedEvent) -> None:
        pass

    def _step(self, e: StepEvent) -> None:
        pass

    def _layers(self, e: LayerStatsEvent) -> None:
        pass

    def _epoch(self, e: EpochEvent) -> None:
        pass

    def _finished(self, e: FinishedEvent | FailedEvent) -> None:
        pass
