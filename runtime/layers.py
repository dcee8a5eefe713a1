"""The layers of a compiled network as the runtime sees them: node id, type, name, module.

Only nodes that own a submodule (``CompiledNetwork.code.attributes``) can be hooked and
measured; pure expressions (Add, Concat, Multiply, Mean) have no module and no
parameters, so they appear in no statistics. The order is the network order (the
generated ``forward``), which is also the order forward hooks fire in.
"""

from __future__ import annotations

from dataclasses import dataclass

RELU_LIKE = frozenset({"ReLU", "LeakyReLU", "ELU", "GELU", "SiLU"})
SQUASHING = frozenset({"Sigmoid", "Tanh"})
CONVOLUTIONS = frozenset({"Conv1d", "Conv2d", "ConvTranspose2d"})
WEIGHTED = frozenset({"Linear", "Conv1d", "Conv2d", "ConvTranspose2d", "LSTM", "GRU",
                      "RNN", "SelfAttention", "TransformerEncoderLayer", "Embedding"})


@dataclass(frozen=True)
class LayerInfo:
    node_id: str
    type: str  # catalog type ("Linear", "ReLU", ...)
    name: str  # what the user calls it: the label, else the type's display name
    attribute: str  # the submodule attribute in the generated code

    @property
    def describe(self) -> str:
        """``Linear 'fc1'``, as messages name a layer."""
        return f"{self.type} '{self.name}'"


def network_layers(compiled, doc) -> list[LayerInfo]:
    """Every node with a submodule, in network order, the layers inside blocks included.

    An inner layer's ``node_id`` is its node path (``n5/n3``: instance, then inner node;
    ``n5:1/n3`` in a repeated instance's second copy), its name the labels along it
    (``layer1 > conv1``) and its attribute the dotted module name (``layer1.conv1``), so
    statistics, diagnoses and hooks reach inner layers; a block instance itself is not
    measured (its layers are).
    """
    return [LayerInfo(m.path, m.type, m.name, m.attribute) for m in compiled.code.modules
            if m.type != "Block"]


def predecessors(doc, node_id: str) -> list[str]:
    return [e.source for e in doc.edges_into(node_id)]
