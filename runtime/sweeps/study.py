"""Optuna studies for Strata sweeps: storage, sampler, pruner, and reading results.

Storage is SQLite next to the document by default (``spiral_mlp.sweeps.db`` beside
``spiral_mlp.strata``), so a sweep survives a crash and resumes where it was. Any Optuna
storage URL works (``postgresql://...``, ``mysql://...``), and a path ending in
``.journal`` or ``.log`` is Optuna's journal file (good on a shared disk). SQL storages
get Optuna's heartbeat: a trial whose process died (killed, machine lost) stops beating
and is marked failed, and retried once, by the next process that works on the study,
which keeps the study usable and resumable. A trial killed before it ever beat is
caught by ``storage.fail_silent_trials``, which every sweep process runs when it
joins a study and after each trial.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .space import SweepError, SweepSpec

MISSING = "Sweeps need Optuna: pip install 'strata-studio[sweeps]'"
HEARTBEAT_SECONDS = 10  # how often a running trial says it is alive
GRACE_SECONDS = 30  # silence after which a running trial counts as dead
SEARCHED_ATTR = "strata_searched"  # study attribute: the searched targets
RUN_ATTR = "run_folder"  # trial attribute: the trial's run folder


def optuna_module():
    try:
        import optuna
    except ImportError as e:
        raise SweepError(MISSING) from e
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def default_storage(document_path: str | Path) -> str:
    """``sqlite:///<folder>/<stem>.sweeps.db`` beside the document."""
    path = Path(document_path).resolve()
    return f"sqlite:///{path.with_name(path.stem + '.sweeps.db')}"


def default_study_name(document_path: str | Path) -> str:
    return Path(document_path).stem


def make_storage(url: str, *, heartbeat: float = HEARTBEAT_SECONDS,
                 grace: float = GRACE_SECONDS):
    """The Optuna storage for ``url`` (see the module docstring)."""
    optuna = optuna_module()
    if url.endswith((".journal", ".log")) and "://" not in url:
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        Path(url).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(url))
    if "://" not in url:
        raise SweepError(f"The storage {url!r} is neither a database URL "
                         "(sqlite:///path.db, postgresql://...) nor a journal file "
                         "(*.journal)")
    from optuna.storages import RDBStorage

    if url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    try:
        with warnings.catch_warnings():  # the heartbeat is "experimental" in Optuna
            warnings.simplefilter("ignore")
            return RDBStorage(url, heartbeat_interval=max(1, int(heartbeat)),
                              grace_period=max(2, int(grace)),
                              engine_kwargs=_engine_kwargs(url),
                              **_retry_callback(optuna))
    except (ImportError, optuna.exceptions.StorageInternalError, ValueError) as e:
        raise SweepError(f"Cannot open the sweep storage {url}: {e}") from None


def _retry_callback(optuna) -> dict[str, Any]:
    """The storage argument that retries a dead trial once (Optuna 5 renamed both)."""
    if hasattr(optuna.storages, "RetryHeartbeatStaleTrialCallback"):
        return {"heartbeat_stale_trial_callback": retry_once()}
    return {"failed_trial_callback": retry_once()}


def retry_once():
    """Optuna's callback that enqueues a dead trial again, once."""
    optuna = optuna_module()
    with warnings.catch_warnings():  # "experimental"
        warnings.simplefilter("ignore")
        callback = getattr(optuna.storages, "RetryHeartbeatStaleTrialCallback", None) \
            or optuna.storages.RetryFailedTrialCallback
        return callback(max_retry=1)


def beats(storage_url: str) -> bool:
    """Whether trials on this storage have a heartbeat (the SQL ones)."""
    return "://" in storage_url


def silent_trials_callback(grace: float):
    """An ``optimize`` callback failing (and retrying) trials that died before they
    ever beat (``storage.fail_silent_trials``), after each trial of this process."""
    from .storage import fail_silent_trials

    retry = retry_once()

    def callback(study, _trial) -> None:
        fail_silent_trials(study, max(2, int(grace)), retry)

    return callback


def _engine_kwargs(url: str) -> dict[str, Any]:
    # Several worker processes write to one SQLite file: wait for the lock, not fail.
    return {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}


def make_sampler(spec: SweepSpec, seed: int | None = None):
    optuna = optuna_module()
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if spec.sampler == "grid":
        return optuna.samplers.GridSampler({p.name: p.grid() for p in spec.params},
                                           seed=seed)
    return optuna.samplers.TPESampler(seed=seed)


def make_pruner(spec: SweepSpec, epochs: int):
    optuna = optuna_module()
    if spec.pruner == "median":
        # Compare from the first epoch on, once two trials have finished.
        return optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=0)
    if spec.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=max(1, epochs))
    return optuna.pruners.NopPruner()


def open_study(spec: SweepSpec, storage_url: str, name: str, *, epochs: int,
               seed: int | None = None, heartbeat: float = HEARTBEAT_SECONDS,
               grace: float = GRACE_SECONDS):
    """Create the study, or load it when it exists (several processes may join)."""
    optuna = optuna_module()
    storage = make_storage(storage_url, heartbeat=heartbeat, grace=grace)
    try:
        study = optuna.create_study(
            storage=storage, study_name=name, direction=spec.direction,
            sampler=make_sampler(spec, seed), pruner=make_pruner(spec, epochs),
            load_if_exists=True)
    except ValueError as e:  # e.g. joining with the other direction
        raise SweepError(f"Cannot open the study {name!r}: {e}") from None
    if study.direction.name.lower() != spec.direction:
        raise SweepError(f"The study {name!r} in {storage_url} {study.direction.name.lower()}s "
                         f"its objective, but this sweep would {spec.direction} "
                         f"{spec.objective_label}: use another --study name")
    if beats(storage_url):
        silent_trials_callback(grace)(study, None)
    if SEARCHED_ATTR not in study.user_attrs:
        study.set_user_attr(SEARCHED_ATTR, [p.to_dict() for p in spec.params])
        study.set_user_attr("objective", spec.objective_label)
    return study


def load_study(storage_url: str, name: str):
    """An existing study, to read (the Sweep panel, the summary table)."""
    optuna = optuna_module()
    try:
        return optuna.load_study(study_name=name, storage=make_storage(storage_url))
    except KeyError:
        raise SweepError(f"There is no study {name!r} in {storage_url}") from None


# ---------------------------------------------------------------- reading results
@dataclass(frozen=True)
class TrialRow:
    number: int
    state: str  # "complete", "pruned", "running", "fail", "waiting"
    value: float | None
    params: dict[str, Any]
    epochs: int  # epochs reported
    seconds: float | None
    run_folder: str | None
    history: tuple[float, ...] = ()  # objective per epoch (intermediate values)


def trial_rows(study) -> list[TrialRow]:
    rows = []
    for t in study.get_trials(deepcopy=False):
        seconds = None
        if t.datetime_start is not None and t.datetime_complete is not None:
            seconds = (t.datetime_complete - t.datetime_start).total_seconds()
        steps = sorted(t.intermediate_values)
        value = t.value if t.values else None
        rows.append(TrialRow(t.number, t.state.name.lower(), value, dict(t.params),
                             len(steps), seconds, t.user_attrs.get(RUN_ATTR),
                             tuple(t.intermediate_values[s] for s in steps)))
    return rows


def best_rows(study, n: int = 5) -> list[TrialRow]:
    """The ``n`` best completed trials, best first."""
    done = [(r.value, r) for r in trial_rows(study)
            if r.state == "complete" and r.value is not None]
    reverse = study.direction.name.lower() == "maximize"
    return [r for _, r in sorted(done, key=lambda vr: vr[0], reverse=reverse)][:n]


def counts(study) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in study.get_trials(deepcopy=False):
        key = t.state.name.lower()
        out[key] = out.get(key, 0) + 1
    return out
