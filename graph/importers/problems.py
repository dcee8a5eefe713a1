"""What can go wrong when a network comes in from PyTorch code, in the user's terms.

``ImportSourceError``: the file or the class cannot be loaded or built (syntax error,
missing import, wrong name, constructor arguments).
``UnmappedError``: tracing worked but some operations have no Strata layer; it lists
every one of them at once, each with the fx node, the operation or module type, the
module attribute it came from and the line of the user's source.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import StrataError


class ImportSourceError(StrataError):
    """The user's file or class could not be loaded, built or traced."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self.hint = hint
        super().__init__(f"{message} ({hint})" if hint else message)


@dataclass(frozen=True)
class Unmapped:
    """One traced operation Strata could not turn into a layer."""

    node: str  # fx node name, e.g. "sub_1"
    operation: str  # "nn.PReLU", "torch.sub", "Tensor.permute"
    source: str  # module attribute ("layer1.0.act") or "" for code in forward
    reason: str
    location: str = ""  # "model.py:42: x = x - self.mean"

    def describe(self) -> str:
        where = f" at '{self.source}'" if self.source else ""
        text = f"{self.operation}{where} (fx node '{self.node}'): {self.reason}"
        return f"{text}\n      {self.location}" if self.location else text


class UnmappedError(StrataError):
    """Some operations of the traced module have no Strata layer."""

    def __init__(self, items: list[Unmapped], what: str = "the module") -> None:
        self.items = list(items)
        self.what = what
        lines = [f"  - {item.describe()}" for item in self.items]
        count = len(self.items)
        noun = "operation" if count == 1 else "operations"
        super().__init__(
            f"{what}: {count} {noun} cannot be mapped to Strata layers:\n"
            + "\n".join(lines))

    def __reduce__(self):
        # Whole, across the process boundary of an isolated import: the dialog lists
        # the items, not just the message.
        return (type(self), (self.items, self.what))


class ImportMismatchError(StrataError):
    """The imported network does not reproduce the original (a mapping defect)."""
