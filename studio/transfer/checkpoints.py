"""Checkpoints of this session's training runs that fit the network being exported.

Read-only use of the session's runs (``StudioContext.session_runs()``): a run's checkpoint fits when the run trained exactly the code the network
generates now, so its weights load into the exported module. Newest run first; within a
run its latest checkpoint (the weights training ended with), then its best one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from graph.errors import StrataError

if TYPE_CHECKING:
    from graph import Document
    from runtime.run_record import RunRecord


@dataclass(frozen=True)
class CheckpointChoice:
    path: str
    label: str  # "Run #2 Spiral MLP: latest, epoch 30"


def session_checkpoints(runs: Sequence[RunRecord], doc: Document) -> list[CheckpointChoice]:
    """The checkpoints of ``runs`` whose weights load into ``doc``'s generated module."""
    if not runs:
        return []
    import graph

    try:
        source = graph.generate_code(doc).source
    except StrataError:
        return []
    choices: list[CheckpointChoice] = []
    for run in reversed(runs):
        if not _trained(run, source):
            continue
        name = run.label or f"Run #{run.number}"
        events = list(run.checkpoints)
        latest = [c for c in events if c.reason != "best"]
        best = [c for c in events if c.reason == "best"]
        found = [(c.path, f"{name}: latest, epoch {c.epoch}") for c in latest[-1:]]
        found += [(c.path, f"{name}: best validation loss, epoch {c.epoch}")
                  for c in best[-1:]]
        failed = (run.summary or {}).get("checkpoint")
        if failed and not found:
            found.append((failed, f"{name}: written when it stopped"))
        choices += [CheckpointChoice(str(p), label) for p, label in found
                    if Path(p).is_file()]
    return choices


def _trained(run: RunRecord, source: str) -> bool:
    """Whether ``run`` trained the network whose generated code is ``source``."""
    snapshot = run.document
    if not snapshot:
        return False
    import graph
    from graph.fileformat import document_from_dict

    try:
        return graph.generate_code(document_from_dict(snapshot)).source == source
    except StrataError:
        return False
