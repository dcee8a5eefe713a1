"""An Optuna SQL storage on which a trial beats from the moment it runs.

Optuna fails a dead trial when its heartbeat stops (``fail_stale_trials``), but a trial
that never beat is not "stale" to it: a worker killed between ``study.ask()`` (the
trial is RUNNING) and the start of Optuna's heartbeat thread, or while the sampler or
the first SQL write is slow on a busy storage, would leave a RUNNING trial in the study
forever, never failed and never retried. Here the trial's start is recorded as its
first heartbeat, in the same process and right after the trial turns RUNNING, so a
silent trial is always one whose heartbeat stopped. ``_create_new_trial`` is overridden
because Optuna's own cached storage creates trials through it. Imported only once
Optuna is known to be installed (``study.make_storage``).
"""

from __future__ import annotations

from optuna.storages import RDBStorage
from optuna.trial import FrozenTrial, TrialState


class BeatingRDBStorage(RDBStorage):
    """``RDBStorage`` that records a heartbeat as soon as a trial starts running."""

    # Optuna's cache in front of the storage calls this one (create_new_trial does too).
    def _create_new_trial(self, study_id: int,
                          template_trial: FrozenTrial | None = None) -> FrozenTrial:
        trial = super()._create_new_trial(study_id, template_trial)
        if trial.state == TrialState.RUNNING:
            self._started(trial._trial_id)
        return trial

    def set_trial_state_values(self, trial_id: int, state: TrialState,
                               values=None) -> bool:
        # A WAITING trial (enqueued, or a retry) taken by study.ask() turns RUNNING here.
        changed = super().set_trial_state_values(trial_id, state, values)
        if changed and state == TrialState.RUNNING:
            self._started(trial_id)
        return changed

    def _started(self, trial_id: int) -> None:
        if self.heartbeat_interval is not None:
            self.record_heartbeat(trial_id)
