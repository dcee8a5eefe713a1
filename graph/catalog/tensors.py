"""Tensor descriptions used by shape inference: a shape with a symbolic batch ``N``."""

from __future__ import annotations

from dataclasses import dataclass

Dim = int | str


@dataclass(frozen=True)
class TensorInfo:
    shape: tuple[Dim, ...]
    dtype: str = "float"  # "float" or "long" (token ids)

    @property
    def rank(self) -> int:
        return len(self.shape)

    @property
    def features(self) -> tuple[int, ...]:
        """The shape without the batch dimension."""
        return tuple(d for d in self.shape if d != "N")  # type: ignore[misc]  # "N" is the only named dim

    def with_shape(self, *shape: Dim) -> TensorInfo:
        return TensorInfo(tuple(shape), self.dtype)

    def __str__(self) -> str:
        return "(" + ", ".join(str(d) for d in self.shape) + ")"

    def wire_label(self) -> str:
        """``N x 16 x 14 x 14``, as written on a wire."""
        return " \u00d7 ".join(str(d) for d in self.shape)
