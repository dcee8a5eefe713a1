"""Problems found in a network, each tied to the nodes concerned and written for a user."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    severity: str  # "error" or "warning"
    node_ids: tuple[str, ...]
    message: str
    hint: str = ""
    # What went wrong, for tools that offer a one-click fix: "cycle", "no_input",
    # "no_output", "unconnected", "extra_wire", "unreachable", "param", "shape".
    kind: str = ""
    port: str = ""
    # For a problem inside a block: the inner node ids from the instance's definition
    # down to the layer concerned (the message names the same path by labels:
    # "stage2 > block1 > conv2: ..."), so an open block can mark its inner layer.
    path: tuple[str, ...] = ()

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def describe(self, doc=None) -> str:
        """``node 'fc' (Linear): error: message (hint)``, as ``strata check`` prints."""
        where = ""
        if doc is not None and self.node_ids and self.node_ids[0] in doc.nodes:
            node = doc.nodes[self.node_ids[0]]
            where = f"node '{node.label or node.id}' ({node.spec.display_name}): "
        text = f"{where}{self.severity}: {self.message}"
        return f"{text} ({self.hint})" if self.hint else text
