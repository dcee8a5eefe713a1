"""The document controller stays a small module: its compound layer edits and its
clipboard live in mixins beside it, and the controller keeps its whole public surface
(the intents the views, panels and features call)."""

from __future__ import annotations

from pathlib import Path

import studio.document
from studio.document import controller as controller_module
from studio.document.clipboard import ClipboardIntents
from studio.document.controller import (
    CLIPBOARD_FORMAT,
    CLIPBOARD_MIME,
    DocumentController,
)
from studio.document.layer_intents import LayerIntents

MAX_LINES = 500  # the house limit for a module

INTENTS = [  # what studio/ calls on a controller
    "add_node", "add_node_connected", "apply_fix", "auto_arrange", "can_connect",
    "check_param", "connect", "connectable_ports", "copy_nodes", "delete",
    "delete_and_reconnect", "disconnect", "duplicate", "frozen", "group_selection",
    "insert_on_edge", "is_block", "make_unique", "move_nodes", "new", "open", "paste",
    "replace_layer", "save", "select", "set_document", "set_label", "set_locked",
    "set_metadata", "set_param", "set_sweep", "set_training", "toggle_frozen",
    "ungroup", "weighted",
]


def test_document_modules_stay_under_the_house_limit():
    folder = Path(studio.document.__file__).parent
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines())
             for p in folder.glob("*.py")}
    assert sizes["controller.py"] <= MAX_LINES, sizes
    assert all(n <= MAX_LINES for n in sizes.values()), sizes


def test_the_controller_keeps_its_intents_and_clipboard_names(make_controller):
    c = make_controller("spiral_mlp")
    missing = [name for name in INTENTS if not callable(getattr(c, name, None))]
    assert missing == []
    assert isinstance(c, LayerIntents) and isinstance(c, ClipboardIntents)
    assert DocumentController.paste is ClipboardIntents.paste
    assert DocumentController.insert_on_edge is LayerIntents.insert_on_edge
    assert (CLIPBOARD_FORMAT, CLIPBOARD_MIME) == (
        "strata-clipboard", "application/x-strata-nodes")
    assert controller_module.CLIPBOARD_MIME == CLIPBOARD_MIME
    # The intents still act through one undo step each (paste, then insert on a wire).
    depth = c.undo_stack.count()
    pasted = c.paste(c.copy_nodes(["n2", "n3"]))
    assert len(pasted) == 2 and c.undo_stack.count() == depth + 1
    edge = c.document.edges_into("n3")[0]
    new = c.insert_on_edge(edge, "Dropout")
    assert c.document.nodes[new].type == "Dropout" and c.undo_stack.count() == depth + 2
    c.undo_stack.undo()
    c.undo_stack.undo()
    assert c.undo_stack.count() == depth + 2 and c.undo_stack.index() == depth
