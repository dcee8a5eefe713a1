"""Saving and restoring a run's progress: the engine's side of checkpoints.

``write_checkpoint`` captures everything the next step depends on (weights, optimizer
moments, the position inside the epoch and the order of that epoch, the random state
that drives dropout, the partial epoch loss, the history the diagnoses look at);
``restore`` puts it all back, so a resumed run continues the curve of one that never
stopped. The learning-rate schedule is not stored but rebuilt for the current setup and
advanced to the checkpoint's step, so a run can be resumed with more epochs.
"""

from __future__ import annotations

import time
import warnings

import torch

from .checkpoints import (
    BEST,
    LAST,
    CheckpointError,
    check_matches,
    load_checkpoint,
    save_checkpoint,
)
from .events import CheckpointEvent


class ProgressMixin:
    """Checkpoint writing and restoring for ``Trainer`` (uses its attributes)."""

    def write_checkpoint(self, reason: str) -> str:
        """Write ``last.pt`` (or ``best.pt`` for reason "best") and announce it."""
        path = self.out_dir / (BEST if reason == "best" else LAST)
        rng = {"torch": torch.get_rng_state(), "shuffle": self.shuffle.get_state(),
               "epoch_shuffle": self.epoch_gen_state if self.epoch_gen_state is not None else self.shuffle.get_state()}
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
            "partial": {"loss_sum": self.epoch_loss, "count": self.epoch_count},
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
        if self.setup.schedule != "none":
            with warnings.catch_warnings():  # stepping a schedule without training
                warnings.simplefilter("ignore")
                for _ in range(step):
                    self.scheduler.step()
        try:
            self.optimizer.load_state_dict(ckpt["optimizer"])
        except (ValueError, KeyError) as e:
            raise CheckpointError(f"{ckpt.path.name}: its optimizer state does not fit "
                                  f"({e})") from None
        for group, lr in zip(self.optimizer.param_groups, self.scheduler.get_last_lr()):
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
        if self.batch and old.get("batch_size") != self.setup.batch_size:
            # Batches of another size cannot continue mid-epoch: redo this epoch.
            self.batch, self.epoch_loss, self.epoch_count = 0, 0.0, 0
            self.shuffle.set_state(self.epoch_gen_state)
        self.history = list(ckpt["history"])
        self.best_val = ckpt["best"]["val_loss"]
        self.best_epoch = int(ckpt["best"]["epoch"])
        self.diagnostician.restore(ckpt["diagnoses"])
        self.last_checkpoint = str(ckpt.path)
