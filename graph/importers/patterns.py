"""Layers that span several traced operations.

- ``out, _ = self.lstm(x)`` then ``out[:, -1, :]`` (or ``h_n[-1]``): an LSTM/GRU with
  output "last"; ``out`` alone: output "sequence". Zero initial states built in forward
  (``torch.zeros(layers, x.size(0), hidden)``) are the default and are dropped.
- ``self.attn(x, x, x)[0]``: self-attention.
- ``x + self.pos(torch.arange(x.size(1)))`` or ``x + self.pos_embedding[:, :x.size(1)]``:
  a positional embedding.
"""

from __future__ import annotations

from torch import nn

from .ops import Data, Meta, Refused, bind, meta

# Operations that keep a tensor made in forward "the same thing" for pattern purposes.
PASS_THROUGH = frozenset({"to", "detach", "cuda", "cpu", "contiguous", "requires_grad_",
                          "type_as", "float", "long"})
ZERO_FACTORIES = frozenset({"zeros", "zeros_like", "new_zeros"})
INDEX_FACTORIES = frozenset({"arange"})
INDEX_SHAPERS = frozenset({"unsqueeze", "expand", "expand_as", "repeat"})


def created(name: str, sources: list[Meta], node) -> Meta:
    """The Meta of a tensor ``name`` made inside forward from ``sources``."""
    first = sources[0] if sources else None
    zeros = name in ZERO_FACTORIES or (
        name in PASS_THROUGH and first is not None and first.get("zeros", False))
    index = (name in INDEX_FACTORIES and _plain_arange(node)) or (
        name in PASS_THROUGH | INDEX_SHAPERS and first is not None
        and first.get("positions", False))
    origin = first.get("origin") if first is not None and name in PASS_THROUGH else name
    return meta("created", f"a tensor made inside forward by {origin or name}",
                zeros=zeros, positions=bool(index), origin=origin or name)


def _plain_arange(node) -> bool:
    """torch.arange(L) or torch.arange(0, L): positions 0..L-1."""
    args = list(node.args)
    if "end" in node.kwargs:
        args = [node.kwargs.get("start", 0), node.kwargs["end"]]
    if len(args) == 2 and args[0] != 0:
        return False
    return len(args) in (1, 2) and node.kwargs.get("step", 1) == 1


def is_positions(value) -> bool:
    """Position indices 0..L-1 made in forward (torch.arange(x.size(1)))."""
    return isinstance(value, Meta) and value.kind == "created" and value.get("positions")


def is_positions_embedding(value) -> bool:
    """An nn.Embedding applied to position indices."""
    return isinstance(value, Meta) and value.kind == "positions"


# ---------------------------------------------------------------------- recurrent
def recurrent_call(mp, node, m):
    kind = type(m).__name__
    bound = bind(f"nn.{kind}", node.args, node.kwargs, ("input", ("hx", None)))
    _check_recurrent(m, kind)
    if bound["hx"] is not None:
        states = bound["hx"] if isinstance(bound["hx"], (tuple, list)) else [bound["hx"]]
        for state in states:
            value = mp.value(state)
            if not (isinstance(value, Meta) and value.get("zeros")):
                raise Refused(f"is given an initial state ({getattr(state, 'name', state)})"
                              " that is not zeros; Strata's layer starts from zeros")
    x = mp.data(bound["input"])
    return meta("recurrent", f"the (output, state) tuple of '{node.target}'",
                module=m, node=node, x=x, layer=kind)


def _check_recurrent(m, kind: str) -> None:
    if not m.batch_first:
        raise Refused(f"is built with batch_first=False; Strata keeps the batch first, "
                      f"so build it as nn.{kind}(..., batch_first=True) and pass "
                      "(batch, length, features)")
    if not m.bias:
        raise Refused("has bias=False; Strata's recurrent layers always learn biases")
    if getattr(m, "proj_size", 0):
        raise Refused("uses proj_size, which Strata's LSTM does not have")


def recurrent_params(m, output: str) -> dict:
    return {"hidden_size": m.hidden_size, "num_layers": m.num_layers, "output": output,
            "bidirectional": m.bidirectional, "batch_first": True,
            "dropout": float(m.dropout)}


def emit_recurrent(mp, call: Meta, node, output: str) -> Data:
    m = call.get("module")
    data = mp.emit(call.get("layer"), recurrent_params(m, output), [call.get("x")], node,
                   module=m, source=call.get("node").target,
                   expect={"input_size": m.input_size})
    mp.ops[data.op].tag["recurrent"] = call
    return data


_LAST_STEP = ((slice(None), -1), (slice(None), -1, slice(None)))


def getitem(mp, node):
    """``value[index]`` where value is a tuple from a layer, a sequence or a tensor."""
    base, index = node.args
    value = mp.value(base)
    if isinstance(value, Meta):
        return _getitem_meta(mp, node, value, index)
    op = mp.ops[value.op]
    if op.type is None and (isinstance(mp.probe.value(base), tuple) or op.tag.get("shadow")):
        return mp.shadow(node, value.op)  # parts of what a refused layer returned
    call = op.tag.get("recurrent")
    if call is not None and op.params["output"] == "sequence" and index in _LAST_STEP:
        if op.params["bidirectional"]:
            raise Refused(
                "takes the last step of a bidirectional network, where the backward "
                "direction has read one element only; Strata's 'last' joins both "
                "directions' final states: torch.cat([h_n[-2], h_n[-1]], dim=1)")
        return emit_recurrent(mp, call, node, "last")
    from . import plumbing_rules

    return plumbing_rules.index(mp, node, base, index)


def _getitem_meta(mp, node, value: Meta, index):
    kind = value.kind
    if kind == "recurrent":
        if index == 0:
            return emit_recurrent(mp, value, node, "sequence")
        if index == 1:
            state = "h" if value.get("layer") == "GRU" else "state"
            return meta(f"recurrent_{state}", f"the final state of "
                        f"'{value.get('node').target}'", **dict(value.info))
    elif kind == "recurrent_state" and index == 0:
        return meta("recurrent_h", f"h_n of '{value.get('node').target}'",
                    **dict(value.info))
    elif kind == "recurrent_h":
        index = _leading(index)
        m = value.get("module")
        rows = m.num_layers * (2 if m.bidirectional else 1)
        if index in (-1, rows - 1) and not m.bidirectional:
            # h_n[-1] of a one-direction network is the last step's output.
            return emit_recurrent(mp, value, node, "last")
        if m.bidirectional and index in (-2, rows - 2, -1, rows - 1):
            # The top layer's forward (-2) and backward (-1) final states.
            direction = "forward" if index in (-2, rows - 2) else "backward"
            return meta("recurrent_final", f"the {direction} final state of "
                        f"'{value.get('node').target}'",
                        **{**dict(value.info), "direction": direction})
        if m.bidirectional and index in (slice(-2, None), slice(rows - 2, None)):
            return meta("recurrent_finals", f"the top layer's final states of "
                        f"'{value.get('node').target}'", **dict(value.info))
        raise Refused(f"takes h_n[{_show(index)}]; Strata's layer gives the top layer's "
                      "final state (h_n[-1]; both directions: "
                      "torch.cat([h_n[-2], h_n[-1]], dim=1))")
    elif kind == "recurrent_finals" and _leading(index) in (0, 1):
        index = _leading(index)
        direction = "forward" if index == 0 else "backward"
        return meta("recurrent_final", f"the {direction} final state of "
                    f"'{value.get('node').target}'",
                    **{**dict(value.info), "direction": direction})
    elif kind == "attention":
        if index == 0:
            return emit_attention(mp, value, node)
        return meta("attention_weights", f"the attention weights of "
                    f"'{value.get('node').target}'")
    elif kind == "attr":
        return meta("attr", value.what, **{**dict(value.info),
                                           "index": value.get("index", ()) + (index,)})
    elif kind in ("created", "value"):
        return value
    elif kind == "pieces":
        from . import plumbing_rules

        return plumbing_rules.piece(mp, node, value, index)
    raise Refused(f"indexes {value.what} with [{_show(index)}], which Strata does not map")


def use_layer_part(mp, node, name: str | None, part: Meta):
    """A function applied to a piece of a layer's result: ``h_n.squeeze(0)`` of a
    one-layer, one-direction recurrent network is its last step; nothing else maps."""
    if part.kind == "recurrent_h" and name == "squeeze" and (
            list(node.args[1:]) in ([0], []) and not node.kwargs):
        m = part.get("module")
        if m.num_layers == 1 and not m.bidirectional:
            return emit_recurrent(mp, part, node, "last")
    if part.kind == "recurrent_finals" and name == "unbind" and (
            list(node.args[1:]) in ([0], []) and not node.kwargs):
        return meta("recurrent_finals_unbound", part.what, **dict(part.info))
    if name == "cat":
        joined = _joined_finals(mp, node)
        if joined is not None:
            return emit_recurrent(mp, joined, node, "last")
    if part.kind == "positions":
        raise Refused(f"uses {part.what} other than by adding it to the sequence "
                      "(x + pos(positions)), the form Strata maps")
    raise Refused(f"uses {part.what}, which Strata cannot map this way; Strata's "
                  "recurrent layers give every step or the last one, attention its "
                  "output [0]")


def _joined_finals(mp, node) -> Meta | None:
    """``torch.cat([h_n[-2], h_n[-1]], dim=1)`` (or ``h_n[-2:].unbind(0)``) of one
    bidirectional layer: both directions' final states, Strata's 'last'."""
    try:
        bound = bind("torch.cat", node.args, node.kwargs, ("tensors", ("dim", 0)))
    except Refused:
        return None
    if bound["dim"] not in (1, -1):
        return None
    tensors = bound["tensors"]
    if isinstance(tensors, (list, tuple)) and len(tensors) == 2:
        parts = [mp.value(t) for t in tensors]
        if all(isinstance(p, Meta) and p.kind == "recurrent_final" for p in parts) and (
                [p.get("direction") for p in parts] == ["forward", "backward"]
                and parts[0].get("node") is parts[1].get("node")):
            return parts[0]
        return None
    part = mp.value(tensors)
    if isinstance(part, Meta) and part.kind == "recurrent_finals_unbound":
        return part
    return None


def _leading(index):
    """``h[-1, :, :]`` indexes like ``h[-1]``: trailing full slices change nothing."""
    if isinstance(index, tuple) and index and all(
            i == slice(None) for i in index[1:]):
        return index[0]
    return index


def _show(index) -> str:
    if isinstance(index, tuple):
        return ", ".join(_show(i) for i in index)
    if isinstance(index, slice):
        parts = ["" if v is None else getattr(v, "name", str(v))
                 for v in (index.start, index.stop)]
        text = ":".join(parts)
        return text + (f":{index.step}" if index.step is not None else "")
    return getattr(index, "name", repr(index))


# ---------------------------------------------------------------------- attention
def attention_call(mp, node, m):
    bound = bind("nn.MultiheadAttention", node.args, node.kwargs,
                 ("query", "key", "value", ("key_padding_mask", None),
                  ("need_weights", True), ("attn_mask", None),
                  ("average_attn_weights", True), ("is_causal", False)))
    cross = bound["query"] is not bound["key"]
    if bound["key"] is not bound["value"]:
        raise Refused("takes keys and values from different tensors; Strata's attention "
                      "layers read both from one: attn(q, memory, memory)")
    if bound["key_padding_mask"] is not None:
        raise Refused("is called with key_padding_mask; Strata's self-attention attends "
                      "to every position")
    causal = False
    if bound["attn_mask"] is not None:
        causal = is_causal_mask(mp, bound["attn_mask"], mp.shape(bound["query"]))
        if not causal:
            raise Refused("is called with an attn_mask that is not the causal mask (each "
                          "position sees itself and earlier ones); Strata's "
                          "self-attention has no other masks")
    if not m.batch_first:
        raise Refused("is built with batch_first=False; Strata keeps the batch first, so "
                      "build it with batch_first=True and pass (batch, length, features)")
    if not m._qkv_same_embed_dim:
        raise Refused("has kdim/vdim different from embed_dim, which Strata lacks")
    if m.in_proj_bias is None or m.bias_k is not None or m.add_zero_attn:
        raise Refused("uses bias=False, add_bias_kv or add_zero_attn, which Strata's "
                      "self-attention lacks")
    if cross and causal:
        raise Refused("masks cross-attention causally, which Strata's CrossAttention "
                      "does not")
    x = mp.data(bound["query"])
    memory = mp.data(bound["key"], "the memory it attends to") if cross else None
    return meta("attention", f"the (output, weights) tuple of '{node.target}'",
                module=m, node=node, x=x, causal=causal, memory=memory)


def is_causal_mask(mp, arg, query) -> bool:
    """The mask (a buffer sliced to the length, or made in forward) hides exactly the
    later positions: True (bool) or -inf (float) above the diagonal."""
    import torch
    from torch import fx

    if not isinstance(arg, fx.Node) or query is None:
        return False
    mask = mp.probe.real(arg)
    if mask is None:
        value = mp.value(arg)
        if not isinstance(value, Meta) or value.kind != "attr":
            return False
        mask = value.get("tensor")
        for item in value.get("index", ()):
            mask = mask[mp.constant(item, "attn_mask")]
    length = query.shape[1]
    if not isinstance(length, int) or tuple(mask.shape) != (length, length):
        return False
    later = torch.ones(length, length, dtype=torch.bool).triu(1)
    mask = mask.detach().cpu()
    if mask.dtype == torch.bool:
        return bool(torch.equal(mask, later))
    return bool(torch.isneginf(mask[later]).all() and (mask[~later] == 0).all())


def emit_attention(mp, call: Meta, node) -> Data:
    m = call.get("module")
    params = {"num_heads": m.num_heads, "dropout": float(m.dropout)}
    if call.get("memory") is not None:
        return mp.emit("CrossAttention", params, [call.get("x"), call.get("memory")], node,
                       module=m, source=call.get("node").target,
                       expect={"embed_dim": m.embed_dim})
    return mp.emit("SelfAttention", {**params, "causal": bool(call.get("causal"))},
                   [call.get("x")], node, module=m, source=call.get("node").target,
                   expect={"embed_dim": m.embed_dim})


def encoder_layer(mp, node, m, x: int, source: str, owner) -> Data:
    if not m.self_attn.batch_first:
        raise Refused("is built with batch_first=False; Strata keeps the batch first, so "
                      "build it with batch_first=True and pass (batch, length, features)")
    code = getattr(m, "activation_relu_or_gelu", 0)
    activation = {1: "relu", 2: "gelu"}.get(code)
    if activation is None:
        raise Refused(f"uses the activation {m.activation!r}; Strata's layer offers "
                      "relu and gelu")
    if m.norm1.eps != 1e-5 or m.norm2.eps != 1e-5:
        raise Refused(f"uses layer_norm_eps={m.norm1.eps}; Strata's layer uses 1e-5")
    if m.linear1.bias is None or m.norm1.bias is None:
        raise Refused("uses bias=False, which Strata's layer lacks")
    sa = m.self_attn
    params = {"nhead": sa.num_heads, "dim_feedforward": m.linear1.out_features,
              "dropout": float(m.dropout.p), "activation": activation,
              "norm_first": bool(m.norm_first)}
    return mp.emit("TransformerEncoderLayer", params, [x], node, module=m, source=source,
                   expect={"d_model": sa.embed_dim})


# ---------------------------------------------------------------------- positions
def add_positions(mp, node, x_arg, pos_arg) -> Data:
    """``x + positions``: a PositionalEmbedding, when the positions fit x."""
    pos = mp.value(pos_arg)
    x = mp.data(x_arg)
    shape, added = mp.shape(x_arg), mp.shape(pos_arg)
    if shape is None or shape.rank != 3 or shape.shape[0] != "N":
        raise Refused(f"adds positions to {shape}; Strata's positional embedding "
                      "takes (batch, length, features)")
    length, width = shape.shape[1], shape.shape[2]
    if (added is None or added.shape[-2:] != (length, width)
            or any(d not in (1, "N") for d in added.shape[:-2])):
        raise Refused(f"adds {pos.what} shaped {added} to {shape}")
    if pos.kind == "positions":
        m = pos.get("module")
        return mp.emit("PositionalEmbedding", {"max_len": m.num_embeddings}, [x], node,
                       module=m, source=pos.get("node").target,
                       expect={"embed_dim": width})
    tensor, path = pos.get("tensor"), pos.get("path")
    if not pos.get("index", ()) and tuple(tensor.shape) == (1, length, width):
        # The whole table, exactly the sequence's size (a ViT's pos_embedding): a
        # LearnedTensor added to x keeps the original's parameter, its name and shape
        # (encoder.pos_embedding, (1, L, D)), so the original state_dict loads as is.
        if not isinstance(tensor, nn.Parameter):
            mp.note(f"'{path}' is a fixed buffer; it becomes a LearnedTensor initialised "
                    "with its values (outputs are unchanged)")

        def table():
            return {"": tensor.detach().clone()}

        learned = mp.emit("LearnedTensor", {"shape": [length, width], "init": "zeros"},
                          [x], node, source=path, weights=table)
        mp.ops[learned.op].tag["intermediate"] = True
        return mp.emit("Add", {"inputs": 2}, [x, learned.op], node, anonymous=True)
    # A learned (or fixed) tensor attribute, sliced to the sequence length.
    rows = _position_rows(tensor, pos.get("index", ()), length, width)
    if rows is None:
        raise Refused(f"adds the tensor '{path}' {tuple(tensor.shape)} "
                      f"indexed [{', '.join(_show(i) for i in pos.get('index', ()))}] "
                      f"to {shape}; Strata maps a tensor of positions shaped "
                      "(1, max_len, features) or (max_len, features) sliced from 0")
    if not isinstance(tensor, nn.Parameter):
        mp.note(f"'{path}' is a fixed buffer; it becomes a learned PositionalEmbedding "
                "initialised with its values (outputs are unchanged)")

    def weights():
        return {"weight": tensor.detach().reshape(rows, width).clone()}

    return mp.emit("PositionalEmbedding", {"max_len": rows}, [x], node, source=path,
                   weights=weights, expect={"embed_dim": width})


def _position_rows(tensor, index: tuple, length, width) -> int | None:
    shape = tuple(tensor.shape)
    if shape[-1:] != (width,) or len(shape) not in (2, 3) or (
            len(shape) == 3 and shape[0] != 1):
        return None
    rows = shape[-2]
    if not index:
        return rows if rows == length else None
    if len(index) != 1:
        return None
    index = index[0] if isinstance(index[0], tuple) else (index[0],)
    axis = len(shape) - 2  # where positions are
    for i, item in enumerate(index):
        if not isinstance(item, slice) or item.step not in (None, 1):
            return None
        if i == axis:
            if item.start not in (None, 0):
                return None
        elif (item.start, item.stop) != (None, None):
            return None
    # The slice's end may be computed (x.size(1)); the caller checks the result's shape.
    return rows if len(index) > axis else None
