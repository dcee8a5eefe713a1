"""The ports of a block: where data enters and leaves a block definition's body.

Inside a definition (``graph.blocks``), each ``BlockInput`` is one input port of the
block and each ``BlockOutput`` one output port; the node's label is the port's name
(``in``, ``in2``, ``out``...). Their tensors come from the instance being analysed, so
outside a block they have no shape (validation says so).
"""

from __future__ import annotations

from .spec import Inferred, LayerSpec


def _input_rule(ctx):
    if not ctx.inputs:
        raise ctx.fail("only has a shape inside a block (it is one of the block's "
                       "input ports)", "use an Input in the network itself")
    return Inferred([ctx.inputs[0]])


def _output_rule(ctx):
    return Inferred([])


BLOCK_INPUT = LayerSpec(
    type="BlockInput",
    display_name="Block input",
    category="Blocks",
    help="An input port of the block being edited: whatever the block's instance "
    "receives on this port enters here. Its label is the port's name.",
    inputs=(),
    shape_rule=_input_rule,
    default_label="in",
)

BLOCK_OUTPUT = LayerSpec(
    type="BlockOutput",
    display_name="Block output",
    category="Blocks",
    help="An output port of the block being edited: the tensor wired here leaves the "
    "block's instance on this port. Its label is the port's name.",
    outputs=(),
    shape_rule=_output_rule,
    default_label="out",
)

SPECS = (BLOCK_INPUT, BLOCK_OUTPUT)
