"""Python names for generated code: snake_case, never a keyword or builtin, unique.

Modelled on torch.fx's ``_Namespace``: a label becomes a name, clashes get ``_2``, ``_3``.
Names are ASCII (accents are dropped: "Übergang" -> ``ubergang``) and at most
``MAX_NAME`` characters, so generated lines stay readable and within what the line
formatter is verified against.
"""

from __future__ import annotations

import builtins
import keyword
import re
import unicodedata

MAX_NAME = 40

# Public attributes of nn.Module: a submodule named like one of them would shadow it.
# (A test checks this list against the installed torch, so the graph core needs no torch
# import to generate code.)
MODULE_ATTRIBUTES = frozenset(["T_destination", "add_module", "apply", "bfloat16", "buffers", "call_super_init", "children", "compile", "cpu", "cuda", "double", "dump_patches", "eval", "extra_repr", "float", "forward", "get_buffer", "get_extra_state", "get_parameter", "get_submodule", "half", "ipu", "load_state_dict", "modules", "mtia", "named_buffers", "named_children", "named_modules", "named_parameters", "parameters", "register_backward_hook", "register_buffer", "register_forward_hook", "register_forward_pre_hook", "register_full_backward_hook", "register_full_backward_pre_hook", "register_load_state_dict_post_hook", "register_load_state_dict_pre_hook", "register_module", "register_parameter", "register_state_dict_post_hook", "register_state_dict_pre_hook", "requires_grad_", "set_extra_state", "set_submodule", "share_memory", "smart_apply", "state_dict", "to", "to_empty", "train", "training", "type", "xpu", "zero_grad"])

RESERVED = frozenset({"self", "torch", "nn", "super"}) | frozenset(dir(builtins))


def ascii_words(text: str) -> str:
    """``text`` with accents removed and anything else non-ASCII dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii")


def snake_case(text: str, fallback: str = "layer") -> str:
    """``"Block 1 Conv"`` -> ``block_1_conv``; ``fallback`` when nothing usable is left."""
    text = ascii_words(text).strip()
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text)
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if not text:
        text = fallback
    if text[0].isdigit():
        text = f"{fallback}_{text}"
    if len(text) > MAX_NAME:
        cut = text[:MAX_NAME]
        if text[MAX_NAME] != "_" and cut.rfind("_") > MAX_NAME // 2:
            cut = cut[: cut.rfind("_")]  # end on a whole word
        text = cut.rstrip("_")
    return text


def class_name(text: str) -> str:
    """``"spiral mlp"`` -> ``SpiralMlp``; ``"Spiral MLP"`` -> ``SpiralMLP``."""
    words = re.findall(r"[0-9a-zA-Z]+", ascii_words(text))
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name:
        return "Network"
    if name[0].isdigit():
        name = "Net" + name
    name = name[:MAX_NAME]
    if keyword.iskeyword(name) or name in RESERVED:
        name += "Net"
    return name


class Namespace:
    """Hands out unique identifiers derived from labels."""

    def __init__(self, reserved: frozenset[str] | set[str] = frozenset()) -> None:
        self._used: set[str] = set(reserved)
        # The last suffix tried per base name (fx's ``_Namespace`` counter): names are
        # never released, so the next clash starts there instead of rescanning from 2;
        # a chain of 8,000 layers all labelled "fc" was quadratic.
        self._next: dict[str, int] = {}

    def take(self, text: str, fallback: str = "layer") -> str:
        base = snake_case(text, fallback)
        if keyword.iskeyword(base) or base in RESERVED or base in MODULE_ATTRIBUTES:
            base += "_"
        name, i = base, self._next.get(base, 2)
        if name in self._used:
            stem = base.rstrip("_")
            name = f"{stem}_{i}"
            while name in self._used:
                i += 1
                name = f"{stem}_{i}"
            self._next[base] = i + 1
        self._used.add(name)
        return name

    def reserve(self, name: str) -> None:
        self._used.add(name)

    def __contains__(self, name: str) -> bool:
        return name in self._used
