"""Checkpoints: everything needed to continue a run exactly where it stopped.

A checkpoint holds the model, optimizer and progress (epoch, step, position inside the
epoch, the random generators and the partial epoch loss), the document it was trained
from and a fingerprint of that document's generated code. Resuming from it continues the
same loss curve as a run that never stopped.

Files are written atomically (a temporary file in the same folder, flushed, renamed), so
a training process killed mid-write leaves the previous checkpoint intact. They are
read with ``weights_only=True``: a checkpoint holds only tensors and plain data, and
loading one never runs code.

The engine's side (``CheckpointMixin`` of ``Trainer``) writes and restores one.
Before resuming, ``check_matches`` compares the checkpoint's document with the current
one: a network whose layers changed since cannot take the old weights, and the message
names what changed.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from graph.errors import StrataError
from graph.fileformat import write_atomic

from .events import CheckpointEvent
from .trainer_state import TrainerState

FORMAT = "strata-checkpoint"
VERSION = 1
SUFFIX = ".pt"
LAST = "last.pt"
BEST = "best.pt"


class CheckpointError(StrataError):
    """A checkpoint cannot be read, or does not fit the network it should resume."""


def code_fingerprint(source: str) -> str:
    """Identifies generated code: equal fingerprints, interchangeable weights."""
    return hashlib.sha256(source.encode("utf-8")).hexdigest()[:20]


@dataclass
class Checkpoint:
    path: Path
    data: dict[str, Any]

    @property
    def document(self) -> dict[str, Any]:
        return self.data["document"]

    @property
    def epoch(self) -> int:
        return int(self.data["epoch"])

    @property
    def step(self) -> int:
        return int(self.data["step"])

    @property
    def setup(self) -> dict[str, Any]:
        return self.data["setup"]

    @property
    def fingerprint(self) -> str:
        return self.data["code_fingerprint"]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def save_checkpoint(path: str | Path, data: dict[str, Any]) -> Path:
    """Write ``data`` (plain values and tensors) as a checkpoint, atomically."""
    path = Path(path)
    buffer = io.BytesIO()
    torch.save({"format": FORMAT, "version": VERSION, **data}, buffer)
    write_atomic(path, buffer.getvalue())
    return path


def load_checkpoint(path: str | Path) -> Checkpoint:
    """Read a checkpoint onto the CPU; CheckpointError names the file and the defect."""
    path = Path(path)
    if not path.exists():
        raise CheckpointError(f"{path}: there is no checkpoint file here")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same answer
        first = str(e).strip().splitlines()[0][:160] if str(e).strip() else ""
        raise CheckpointError(
            f"{path}: not a readable Strata checkpoint (the file may be truncated or "
            f"from another program){': ' + first if first else ''}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a Strata checkpoint (it holds no Strata "
                              "training state)")
    version = data.get("version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CheckpointError(f"{path}: the checkpoint's version must be a positive "
                              f"integer, got {version!r:.40}")
    if version > VERSION:
        raise CheckpointError(f"{path}: written by a newer Strata (checkpoint version "
                              f"{data.get('version')}); update Strata to resume it")
    missing = [k for k in ("document", "code_fingerprint", "model", "optimizer", "epoch",
                           "step", "setup") if k not in data]
    if missing:
        raise CheckpointError(f"{path}: the checkpoint is incomplete (missing "
                              f"{', '.join(missing)})")
    # Each field of the kind the code reading it expects: a damaged or hand-made file
    # gets a CheckpointError, not a TypeError deep inside resuming.
    kinds = {"document": dict, "code_fingerprint": str, "model": dict,
             "optimizer": dict, "epoch": int, "step": int, "setup": dict}
    for key, kind in kinds.items():
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise CheckpointError(
                f"{path}: the checkpoint is damaged: {key!r} should be "
                f"{_KIND_WORDS[kind]}, found {type(value).__name__}")
    return Checkpoint(path, data)


_KIND_WORDS = {dict: "a mapping", str: "text", int: "a whole number"}


# ---------------------------------------------------------------- matching
def check_matches(checkpoint: Checkpoint, document: dict[str, Any], fingerprint: str
                  ) -> None:
    """Raise CheckpointError if the checkpoint's network differs from ``document``'s."""
    if checkpoint.fingerprint == fingerprint:
        return
    changes = describe_changes(checkpoint.document, document)
    if not changes:
        return  # only the name or description changed: the layers are the same
    shown = "; ".join(changes[:6]) + (f"; and {len(changes) - 6} more changes"
                                       if len(changes) > 6 else "")
    raise CheckpointError(
        f"{checkpoint.path.name} was trained from a different version of this network, "
        f"so its weights no longer fit: {shown}. Start a new training run, or undo these "
        "changes to resume.")


def _nodes(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n["id"]: n for n in doc.get("nodes", []) if isinstance(n, dict) and "id" in n}


def _edges(doc: dict[str, Any]) -> set[str]:
    return {json.dumps(e, sort_keys=True) for e in doc.get("edges", [])}


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """What changed in the network's layers and wires, in words ('fc1' ...)."""
    a, b = _nodes(old), _nodes(new)

    def name(n: dict[str, Any]) -> str:
        return f"'{n.get('label') or n['id']}' ({n.get('type', '?')})"

    # A node id can be reused after a deletion: same id, other type is another layer.
    same = {i for i in a if i in b and a[i].get("type") == b[i].get("type")}
    out = [f"layer {name(n)} was removed" for i, n in a.items() if i not in same]
    out += [f"layer {name(n)} was added" for i, n in b.items() if i not in same]
    for node_id in (i for i in b if i in same):
        m, n = a[node_id], b[node_id]
        if (m.get("label") or "") != (n.get("label") or ""):
            out.append(f"layer {name(m)} was renamed to '{n.get('label')}'")
        p, q = m.get("params", {}), n.get("params", {})
        for key in sorted(set(p) | set(q)):
            if p.get(key) != q.get(key):
                out.append(f"{name(n)} {key} changed from {p.get(key)!r} to {q.get(key)!r}")
    if _edges(old) != _edges(new):
        out.append("the wiring changed")
    return out


# ---------------------------------------------------------------- the engine's side
class CheckpointMixin(TrainerState):
    """Checkpoint writing and restoring for ``Trainer`` (uses its attributes).

    ``write_checkpoint`` captures everything the next step depends on (weights, optimizer
    moments, the position inside the epoch and the order of that epoch, the random state
    that drives dropout, the partial epoch loss, the history the diagnoses look at);
    ``restore`` puts it all back, so a resumed run continues the curve of one that never
    stopped. The learning-rate schedule is not stored but rebuilt for the current setup
    and advanced to the checkpoint's step, so a run can be resumed with more epochs.
    """

    def write_checkpoint(self, reason: str) -> str:
        """Write ``last.pt`` (or ``best.pt`` for reason "best") and announce it."""
        if self.out_dir is None:
            raise RuntimeError("a checkpoint needs the run's out_dir")
        path = self.out_dir / (BEST if reason == "best" else LAST)
        epoch_order = self.epoch_gen_state
        rng = {"torch": torch.get_rng_state(), "shuffle": self.shuffle.get_state(),
               "epoch_shuffle": (epoch_order if epoch_order is not None
                                 else self.shuffle.get_state())}
        if self.device.type == "cuda":
            rng["cuda"] = torch.cuda.get_rng_state_all()
        data = {
            "document": self.document_dict,
            "code_fingerprint": self.fingerprint,
            "setup": self.setup.to_dict(),
            "epoch": self.epoch, "step": self.step, "batch": self.batch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "rng": rng,
            "partial": {"loss_sum": self.epoch_loss, "count": self.epoch_count,
                        "metric": self.running.state() if self.running else None},
            "history": list(self.history),
            "best": {"val_loss": self.best_val, "epoch": self.best_epoch},
            "diagnoses": self.diagnostician.state(),
            "reason": reason, "created": time.time(), "torch_version": str(torch.__version__),
        }
        saved = str(save_checkpoint(path, data))
        if reason == "best":
            self.best_checkpoint = saved
        else:
            self.last_checkpoint = saved
        self._send(CheckpointEvent(saved, self.epoch, self.step, reason))
        return saved

    def restore(self, path) -> None:
        """Continue from the checkpoint at ``path`` (CheckpointError if it does not fit)."""
        ckpt = load_checkpoint(path)
        check_matches(ckpt, self.document_dict, self.fingerprint)
        old = ckpt.setup
        if old.get("optimizer") != self.setup.optimizer:
            raise CheckpointError(
                f"{ckpt.path.name} was trained with the {old.get('optimizer')} optimizer "
                f"but the setup now says {self.setup.optimizer}; their states do not "
                f"carry over. Set the optimizer back to {old.get('optimizer')} to resume, "
                "or start a new run.")
        try:
            self.model.load_state_dict(ckpt["model"])
        except RuntimeError as e:
            raise CheckpointError(f"{ckpt.path.name}: its weights do not fit this network "
                                  f"({str(e).splitlines()[0][:200]})") from None
        step = ckpt.step
        if self.scheduler is not None:
            with warnings.catch_warnings():  # stepping a schedule without training
                warnings.simplefilter("ignore")
                for _ in range(step):
                    self.scheduler.step()
        # The setup's rates win over the checkpoint's (the schedule's, when it has one).
        rates = self.scheduler.get_last_lr() if self.scheduler is not None \
            else [g["lr"] for g in self.optimizer.param_groups]
        try:
            self.optimizer.load_state_dict(ckpt["optimizer"])
        except (ValueError, KeyError) as e:
            raise CheckpointError(f"{ckpt.path.name}: its optimizer state does not fit "
                                  f"({e})") from None
        for group, lr in zip(self.optimizer.param_groups, rates):
            group["lr"] = lr
            group["weight_decay"] = self.setup.weight_decay
        rng = ckpt["rng"]
        torch.set_rng_state(rng["torch"])
        if "cuda" in rng and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.shuffle.set_state(rng["shuffle"])
        self.epoch_gen_state = rng["epoch_shuffle"]
        self.epoch, self.step = ckpt.epoch, step
        self.batch = int(ckpt["batch"])
        self.epoch_loss = float(ckpt["partial"]["loss_sum"])
        self.epoch_count = int(ckpt["partial"]["count"])
        if self.running is not None:  # (older checkpoints: the metric of the rest)
            self.running.restore(ckpt["partial"].get("metric"))
        if self.batch and old.get("batch_size") != self.setup.batch_size:
            # Batches of another size cannot continue mid-epoch: redo this epoch.
            self.batch, self.epoch_loss, self.epoch_count = 0, 0.0, 0
            if self.running is not None:
                self.running.reset()
            self.shuffle.set_state(self.epoch_gen_state)
        self.history = list(ckpt["history"])
        self.best_val = ckpt["best"]["val_loss"]
        self.best_epoch = int(ckpt["best"]["epoch"])
        self.diagnostician.restore(ckpt["diagnoses"])
        self.last_checkpoint = str(ckpt.path)
