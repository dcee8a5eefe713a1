"""Hyperparameter sweeps on Optuna: search a document's settings and layer parameters.

- ``space``: what is searched (``doc.sweep``, checked into a ``SweepSpec``), the
  objective, sampler and pruner; applying a trial's values to a document.
- ``study``: Optuna storage (SQLite beside the document by default, any URL, journal
  files), samplers, pruners, and reading trials back as plain rows; ``storage``: the
  SQL storage on which a trial beats from the moment it runs.
- ``trials``: one trial = one engine run in its own run folder, reporting the objective
  every epoch for pruning.
- ``runner``: parallel trials in worker processes sharing the study's storage.
- ``cli``: ``strata sweep FILE --trials N [--jobs J] [--storage URL] [--study NAME]``.
- ``export``: a standalone ``sweep.py`` that runs the same study on the exported
  ``train.py``; ``model_args``: searched layer parameters as the exported network
  class's constructor arguments.

Headless (no Qt). Optuna is an optional extra (``strata-studio[sweeps]``); every entry
point says so when it is missing.
"""

from .space import SearchedParam, SweepError, SweepSpec, default_space

__all__ = ["SearchedParam", "SweepError", "SweepSpec", "default_space"]
