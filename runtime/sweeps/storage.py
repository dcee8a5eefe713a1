"""Trials that died before their first heartbeat, failed and retried with public Optuna API.

Optuna's heartbeat (``RDBStorage(heartbeat_interval=..., grace_period=...,
heartbeat_stale_trial_callback=...)``, set up in ``study.make_storage``) fails a trial
whose heartbeat stopped, before the next trial is asked, and the callback enqueues its
retry. A trial that never beat is not "stale" to it: a worker killed between
``study.ask()`` (the trial is RUNNING) and the start of Optuna's heartbeat thread, or
while a slow sampler or storage held it there, would stay RUNNING forever.

Strata's objective marks a trial as soon as it starts (the ``run_folder`` user
attribute, ``trials.make_objective``), one heartbeat after Optuna's thread began. So a
RUNNING trial without that mark, started longer ago than the grace period, is one
whose process died before it got going: ``fail_silent_trials`` tells the study it failed
(``study.tell(number, state=FAIL)``) and runs the storage's retry callback on it, as the
heartbeat would have. Every sweep process calls it when it joins a study and before each
trial. Imported only once Optuna is known to be installed.
"""

from __future__ import annotations

import datetime as dt

from optuna.trial import TrialState

from .study import RUN_ATTR


def fail_silent_trials(study, grace: float, retry=None, *,
                       mark: str = RUN_ATTR) -> list[int]:
    """Fail RUNNING trials that never reached the objective and pass each, failed, to
    ``retry`` (the storage's stale-trial callback); returns their numbers. ``grace``:
    the storage's grace period in seconds."""
    # Optuna's timestamps are naive local time (datetime.now()).
    cutoff = dt.datetime.now() - dt.timedelta(seconds=grace)
    failed = []
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        if mark in trial.user_attrs or trial.datetime_start is None or \
                trial.datetime_start > cutoff:
            continue
        try:
            study.tell(trial.number, state=TrialState.FAIL)
        except (ValueError, RuntimeError):  # another process failed it first
            continue
        failed.append(trial.number)
        if retry is not None:
            done = next(t for t in study.get_trials(deepcopy=False)
                        if t.number == trial.number)
            retry(study, done)
    return failed
