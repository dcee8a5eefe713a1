"""How layers train: frozen weights and learning-rate factors, at any level of blocks.

Both live in the network's training setup (``training["frozen"]``, a list of node ids,
and ``training["lr_scale"]``, node id -> factor), so they are saved, undone and exported
with it. Inside an open block a layer is named by its node path from the network down:
``n5/n3`` is inner layer ``n3`` of instance ``n5`` (``runtime.finetune`` resolves paths).
A path names one *instance*: freezing ``conv1`` in one of two instances of a shared
definition leaves the other's training, which is what fine-tuning a backbone wants. A
repeated instance's path carries no copy number, so the setting covers every copy.

The controller of an open block is *scoped* (``set_training_scope``): it reads and
writes the network's setup through the root controller, its own node ids taken under the
level's path, and relays the root's ``training_changed`` so its scene and boxes follow.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from graph import Analysis, Document

    from .controller import DocumentController


class TrainingIntents:
    """Mixed into ``DocumentController`` (which provides ``document``, ``analysis``,
    ``set_training``, ``undo_stack`` and ``training_changed``)."""

    document: Document
    analysis: Analysis | None
    training_changed: SignalInstance
    training_root: DocumentController | None = None  # set on an open block's controller
    training_path = ""  # node path of the open instance ("n5", "n5/n7")
    training_names = ""  # the same by labels ("layer1 > block")

    def set_training_scope(self, root: DocumentController, path: str, names: str) -> None:
        """This controller edits the body of the instance at ``path`` of ``root``'s
        network: its frozen layers and factors are the root setup's under that path."""
        self.training_root, self.training_path, self.training_names = root, path, names
        root.training_changed.connect(self.training_changed)

    def training_key(self, node_id: str) -> str:
        """``node_id``'s name in the network's setup (its path inside an open block)."""
        return f"{self.training_path}/{node_id}" if self.training_root else node_id

    def _setup_owner(self) -> DocumentController:
        return self.training_root or self  # type: ignore[return-value]

    def _scoped(self, keys) -> dict[str, str]:
        """Setup keys of this level -> node ids here (keys deeper down left out)."""
        if self.training_root is None:
            return {k: k for k in keys if "/" not in k}
        head = self.training_path + "/"
        return {k: k[len(head):] for k in keys
                if k.startswith(head) and "/" not in k[len(head):]}

    def frozen(self) -> set[str]:
        """Node ids here whose weights do not train: named in ``training["frozen"]``, or
        every layer here when an enclosing instance is frozen (``frozen_with``)."""
        own = self._setup_owner()
        keys = set(own.document.training.get("frozen") or [])
        if self.training_root is not None and self.frozen_with() is not None:
            return set(self.weighted(list(self.document.nodes)))
        return set(self._scoped(keys).values())

    def frozen_with(self) -> str | None:
        """Inside an open block: the path of the enclosing instance frozen as a whole
        (the instance shown or one around it), else None."""
        if self.training_root is None:
            return None
        keys = set(self.training_root.document.training.get("frozen") or [])
        parts = self.training_path.split("/")
        for depth in range(len(parts), 0, -1):
            if "/".join(parts[:depth]) in keys:
                return "/".join(parts[:depth])
        return None

    def inner_settings(self, node_id: str) -> tuple[int, int]:
        """(frozen, scaled) layer settings inside instance ``node_id`` of this level."""
        own = self._setup_owner().document.training
        head = self.training_key(node_id) + "/"
        frozen = sum(k.startswith(head) for k in own.get("frozen") or [])
        scales = own.get("lr_scale") or {}
        scaled = sum(k.startswith(head) for k in scales) if isinstance(scales, dict) else 0
        return frozen, scaled

    def lr_scales(self) -> dict[str, float]:
        """Learning-rate factors by node id here (``training["lr_scale"]``; 1 elsewhere)."""
        scales = self._setup_owner().document.training.get("lr_scale") or {}
        if not isinstance(scales, dict):
            return {}
        return {node: float(scales[k]) for k, node in self._scoped(scales).items()}

    def inherited_lr_scale(self) -> tuple[float, str] | None:
        """Inside an open block: the learning-rate factor its layers inherit (the one
        set on the instance shown, or the nearest one around it, as the run resolves
        paths: ``runtime.finetune.depth_order``) and that instance's label; None when
        no enclosing instance has a factor. A layer's own factor overrides it."""
        if self.training_root is None:
            return None
        scales = self.training_root.document.training.get("lr_scale") or {}
        if not isinstance(scales, dict):
            return None
        parts = self.training_path.split("/")
        labels = self.training_names.split(" > ")
        for depth in range(len(parts), 0, -1):
            factor = scales.get("/".join(parts[:depth]))
            if isinstance(factor, (int, float)) and not isinstance(factor, bool):
                label = labels[depth - 1] if len(labels) == len(parts) else parts[depth - 1]
                return float(factor), label
        return None

    def weighted(self, node_ids: list[str]) -> list[str]:
        """Those of ``node_ids`` that are layers with weights (the ones freezing means
        something for), by the catalog's parameter counts."""
        if self.analysis is None or self.analysis.doc is not self.document:
            return []
        from graph.memory import param_counts

        counts = param_counts(self.analysis)
        return [n for n in node_ids if counts.get(n, 0) > 0]

    def set_lr_scale(self, node_ids: list[str], factor: float) -> bool:
        """Train the layers among ``node_ids`` with ``factor`` times the learning rate
        (the factor they would have anyway, 1 or the one inherited from an enclosing
        block, removes their own); one undo step. False when none of them has weights."""
        ids = self.weighted(node_ids)
        if not ids:
            return False
        own = self._setup_owner()
        raw = own.document.training.get("lr_scale") or {}
        scales = {k: float(v) for k, v in raw.items()} if isinstance(raw, dict) else {}
        inherited = self.inherited_lr_scale()
        default = inherited[0] if inherited is not None else 1.0
        for node_id in ids:
            if factor == default:
                scales.pop(self.training_key(node_id), None)
            else:
                scales[self.training_key(node_id)] = float(factor)
        own.undo_stack.beginMacro(f"Learning rate \u00d7{factor:g}")
        try:
            own.set_training("lr_scale", dict(sorted(scales.items())))
        finally:
            own.undo_stack.endMacro()
        return True

    def toggle_frozen(self, node_ids: list[str]) -> bool:
        """Freeze the layers among ``node_ids`` (or unfreeze them when all already are);
        one undo step. False when none of them has weights, or when an enclosing
        instance is frozen as a whole (unfreeze it first)."""
        ids = self.weighted(node_ids)
        if not ids or self.frozen_with() is not None:
            return False
        own = self._setup_owner()
        keys = {self.training_key(n) for n in ids}
        frozen = set(own.document.training.get("frozen") or [])
        changed = frozen - keys if keys <= frozen else frozen | keys
        own.undo_stack.beginMacro(("Unfreeze" if keys <= frozen else "Freeze")
                                  + (" layer" if len(ids) == 1 else " layers"))
        try:
            own.set_training("frozen", sorted(changed))
        finally:
            own.undo_stack.endMacro()
        return True
