"""One sweep trial: the engine trains the document with the trial's values, reporting
the objective after every epoch so the pruner can stop a hopeless trial early.

Each trial is a run folder (``runtime.runfolder``) under the sweep's folder, named
``trial-<number>``, so any trial opens as a run in the studio's run comparison, and,
when MLflow tracking is on, an MLflow run nested in the study's run. Trials
train without layer statistics, feature maps or decision boundaries: a sweep wants
many runs, not a look inside each.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from runtime.control import Control
from runtime.events import EpochEvent, FailedEvent

from .space import SweepSpec
from .study import RUN_ATTR, optuna_module


class TrialFailed(Exception):
    """The trial's training failed (a setting the network cannot train with, NaN...);
    Optuna records it as a failed trial and the sweep goes on."""


def engine_options():
    from runtime.engine import EngineOptions

    return EngineOptions(instrument=False, feature_maps=False, boundary_resolution=0,
                         train_metric=False, keep_best=False)


def make_objective(document: dict[str, Any], spec: SweepSpec, folder: str | Path, *,
                   on_event: Callable[[int, Any], None] | None = None,
                   tensorboard: bool = False, mlflow: str | None = None,
                   mlflow_parent: str | None = None):
    """The function Optuna calls for each trial (see the module docstring). With
    ``mlflow`` (a tracking URI) each trial is an MLflow run too, nested in the run
    ``mlflow_parent`` (``mlflow_tracking.study_run``), its searched values as params."""
    optuna = optuna_module()
    folder = Path(folder)

    def objective(trial) -> float:
        from runtime.engine import Trainer
        from runtime.runfolder import RunLog

        values = {p.name: p.suggest(trial) for p in spec.params}
        doc = spec.apply(document, values)
        out = folder / f"trial-{trial.number}"
        trial.set_user_attr(RUN_ATTR, str(out))
        control = Control()
        state = {"pruned": False, "value": math.nan}

        def report(event) -> None:
            if on_event is not None:
                on_event(trial.number, event)
            if not isinstance(event, EpochEvent):
                return
            value = spec.objective_of(event)
            state["value"] = value
            if not math.isfinite(value):
                return
            trial.report(value, event.epoch)
            if trial.should_prune():
                state["pruned"] = True
                control.stop()

        tags = {"strata.trial": str(trial.number)}
        if mlflow_parent:
            tags["mlflow.parentRunId"] = mlflow_parent
        try:
            log = RunLog(out, doc, doc.get("training"), tensorboard=tensorboard,
                         mlflow=mlflow, mlflow_tags=tags,
                         mlflow_params={f"sweep.{k}": v for k, v in values.items()})
        except Exception as e:  # noqa: BLE001 - ImportError, TrackingError: say which
            raise TrialFailed(str(e)) from None
        try:
            def emit(event: Any) -> None:
                log(event)
                report(event)

            final = Trainer(doc, emit=emit, control=control,
                            out_dir=out, options=engine_options()).run()
        finally:
            log.close()
        if state["pruned"]:
            raise optuna.TrialPruned(f"pruned at {spec.objective_label} "
                                     f"{state['value']:.4g}")
        if isinstance(final, FailedEvent):
            raise TrialFailed(final.reason)
        if not math.isfinite(state["value"]):
            raise TrialFailed(f"the {spec.objective_label} is not a finite number")
        return state["value"]

    return objective

