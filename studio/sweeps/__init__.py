"""Hyperparameter sweeps in the studio: the Sweep dock (``attach_sweeps``), its panel
(trials table and plots) and the controller that runs a ``runtime.sweeps`` study and
follows it. Qt only; the search itself is ``runtime.sweeps``."""

from .attach import SweepDocks, attach_sweeps

__all__ = ["SweepDocks", "attach_sweeps"]
