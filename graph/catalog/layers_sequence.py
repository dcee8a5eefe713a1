"""Sequence and attention layers: LSTM, GRU, self-attention, transformer, positions."""

from __future__ import annotations

from .spec import BATCH, Inferred, LayerSpec, ParamSpec, PortSpec

_SEQ = "(N, length, features)"
MAX_RECURRENT_LAYERS = 64


def _recurrent_rule(ctx):
    ctx.expect_float()
    x, p = ctx.x, ctx.params
    batch_at = 0 if p["batch_first"] else 1
    if x.rank != 3 or x.shape[batch_at] != BATCH:
        layout = _SEQ if p["batch_first"] else "(length, N, features)"
        hint = "insert a Reshape to (length, features)" if x.rank == 2 else ""
        if x.rank == 3 and not p["batch_first"]:
            hint = "turn batch_first on: Strata's tensors keep the batch first"
        raise ctx.fail(f"needs input shaped {layout} but receives {x}", hint)
    width = p["hidden_size"] * (2 if p["bidirectional"] else 1)
    length = x.shape[1 - batch_at]
    if p["output"] == "last":
        out = x.with_shape(BATCH, width)
    elif p["batch_first"]:
        out = x.with_shape(BATCH, length, width)
    else:
        out = x.with_shape(length, BATCH, width)
    return Inferred([out], {"input_size": x.shape[2]})


def _recurrent_args(p):
    args = {"input_size": p["input_size"], "hidden_size": p["hidden_size"]}
    if p["num_layers"] != 1:
        args["num_layers"] = p["num_layers"]
    if p["batch_first"]:
        args["batch_first"] = True
    if p["bidirectional"]:
        args["bidirectional"] = True
    if p["dropout"] and p["num_layers"] > 1:
        args["dropout"] = p["dropout"]
    return args


def _recurrent_expr(kind: str):
    def expression(p) -> str:
        if p["output"] == "sequence":
            return "{m}({x})[0]"
        if p["bidirectional"]:
            # The final states of both directions (top layer): the backward direction
            # ends at the first step, so the last step's output would hold a backward
            # state that has read one element only.
            final = "{m}({x})[1][0]" if kind == "LSTM" else "{m}({x})[1]"
            return f"torch.cat(tuple({final}[-2:]), dim=1)"
        # The output at the last time step (the whole sequence has been read).
        return "{m}({x})[0][:, -1]" if p["batch_first"] else "{m}({x})[0][-1]"
    return expression


def _recurrent(kind: str, what: str) -> LayerSpec:
    return LayerSpec(
        type=kind,
        display_name=kind,
        category="Sequence",
        help=f"{what} Reads a sequence step by step, carrying a hidden state. Output "
        "'sequence' gives every step (to stack another layer), 'last' gives the final "
        "step (to classify the whole sequence). input_size is inferred.",
        params=(
            ParamSpec("hidden_size", "int", 64, "Size of the hidden state.", min=1,
                      key=True),
            # Bounded: a file saying 10**6 layers made summaries and compiles run for
            # hours while the network checked clean. Deep recurrent stacks stop at 8.
            ParamSpec("num_layers", "int", 1, "Stacked recurrent layers.", min=1,
                      max=MAX_RECURRENT_LAYERS),
            ParamSpec("output", "choice", "last", "Every step or only the last.",
                      choices=("sequence", "last"), key=True),
            ParamSpec("bidirectional", "bool", False, "Also read the sequence backwards."),
            ParamSpec("batch_first", "bool", True, "Input is (N, length, features)."),
            ParamSpec("dropout", "float", 0.0, "Dropout between stacked layers.",
                      min=0.0, max=1.0, max_exclusive=True),
        ),
        shape_rule=_recurrent_rule,
        module=f"nn.{kind}",
        module_args=_recurrent_args,
        positional=2,
        expression=_recurrent_expr(kind),
        macs=lambda p, ins, outs: _rnn_macs(kind, p, ins),
        param_count=lambda p: _rnn_params(kind, p),
        default_label=kind.lower(),
    )


def _rnn_macs(kind, p, ins) -> int:
    gates = 4 if kind == "LSTM" else 3
    length = ins[0].shape[1] if p["batch_first"] else ins[0].shape[0]
    h, f = p["hidden_size"], p["input_size"]
    dirs = 2 if p["bidirectional"] else 1
    per_step = gates * h * (f + h) + (p["num_layers"] - 1) * gates * h * (h * dirs + h)
    return int(length) * per_step * dirs


def _rnn_params(kind, p) -> int:
    """Weights and both biases of every layer and direction, as torch builds them."""
    gates = 4 if kind == "LSTM" else 3
    h, dirs = p["hidden_size"], 2 if p["bidirectional"] else 1
    first = gates * h * (p["input_size"] + h + 2)
    rest = gates * h * (h * dirs + h + 2)
    return dirs * (first + (p["num_layers"] - 1) * rest)


def _sequence_of_vectors(ctx):
    ctx.expect_float()
    x = ctx.x
    if x.rank != 3 or x.shape[0] != BATCH:
        hint = "insert an Embedding (token ids) or a Reshape" if x.rank == 2 else ""
        raise ctx.fail(f"needs input shaped {_SEQ} but receives {x}", hint)


def _heads_check(ctx, heads: int):
    e = ctx.x.shape[2]
    if e % heads:
        raise ctx.fail(
            f"splits {e} features into {heads} heads, which does not divide evenly",
            f"choose a number of heads that divides {e}",
        )


def _attention_rule(ctx):
    _sequence_of_vectors(ctx)
    _heads_check(ctx, ctx.params["num_heads"])
    return Inferred([ctx.x], {"embed_dim": ctx.x.shape[2]})


SELF_ATTENTION = LayerSpec(
    type="SelfAttention",
    display_name="Multi-head self-attention",
    category="Attention",
    help="Every position looks at every other position and takes a weighted mix of "
    "their values; several heads attend to different things. embed_dim is inferred.",
    params=(
        ParamSpec("num_heads", "int", 4, "Parallel attention heads.", min=1, key=True),
        ParamSpec("dropout", "float", 0.0, "Dropout on attention weights.", min=0.0,
                  max=1.0, max_exclusive=True),
        ParamSpec("causal", "bool", False, "Each position sees only itself and earlier "
                  "ones (a causal mask, as GPT-style language models need).", key=True),
    ),
    shape_rule=_attention_rule,
    module="nn.MultiheadAttention",
    module_args=lambda p: {"embed_dim": p["embed_dim"], "num_heads": p["num_heads"],
                           **({"dropout": p["dropout"]} if p["dropout"] else {}),
                           "batch_first": True},
    positional=2,
    expression=lambda p: "{m}({x}, {x}, {x}, need_weights=False"
    + (", attn_mask=" + CAUSAL_MASK.format(x="{x}") + ", is_causal=True" if p["causal"]
       else "") + ")[0]",
    macs=lambda p, ins, outs: 4 * int(ins[0].shape[1]) * p["embed_dim"] ** 2
    + 2 * int(ins[0].shape[1]) ** 2 * p["embed_dim"],
    param_count=lambda p: 4 * p["embed_dim"] * (p["embed_dim"] + 1),
    default_label="attention",
    legacy_types=("MultiheadSelfAttention",),
)


# The additive causal mask: -inf above the diagonal, for a sequence as long as x.
CAUSAL_MASK = "nn.Transformer.generate_square_subsequent_mask({x}.shape[1], device={x}.device)"


def _pair_rule(ctx, heads: int, what: str):
    ctx.expect_float()
    for t in ctx.inputs:
        if t.rank != 3 or t.shape[0] != BATCH:
            raise ctx.fail(f"needs inputs shaped {_SEQ} but receives {t}")
    q, memory = ctx.inputs
    if q.shape[2] != memory.shape[2]:
        raise ctx.fail(f"attends from {q} to {memory}: feature sizes differ",
                       "insert a Linear so both have the same width")
    _heads_check(ctx, heads)
    return Inferred([q], {what: q.shape[2]})


CROSS_ATTENTION = LayerSpec(
    type="CrossAttention",
    display_name="Multi-head cross-attention",
    category="Attention",
    help="Every position of the query sequence looks at every position of another "
    "sequence (the memory: an encoder's output, an image's features) and takes a "
    "weighted mix of its values. embed_dim is inferred.",
    params=(
        ParamSpec("num_heads", "int", 4, "Parallel attention heads.", min=1, key=True),
        ParamSpec("dropout", "float", 0.0, "Dropout on attention weights.", min=0.0,
                  max=1.0, max_exclusive=True),
    ),
    inputs=(PortSpec("query"), PortSpec("memory")),
    shape_rule=lambda ctx: _pair_rule(ctx, ctx.params["num_heads"], "embed_dim"),
    module="nn.MultiheadAttention",
    module_args=SELF_ATTENTION.module_args,
    positional=2,
    expression="{m}({x1}, {x2}, {x2}, need_weights=False)[0]",
    param_count=lambda p: 4 * p["embed_dim"] * (p["embed_dim"] + 1),
    default_label="cross_attention",
)


def _encoder_rule(ctx):
    _sequence_of_vectors(ctx)
    _heads_check(ctx, ctx.params["nhead"])
    return Inferred([ctx.x], {"d_model": ctx.x.shape[2]})


def _encoder_args(p):
    args = {"d_model": p["d_model"], "nhead": p["nhead"],
            "dim_feedforward": p["dim_feedforward"], "dropout": p["dropout"]}
    if p["activation"] != "relu":
        args["activation"] = p["activation"]
    args["batch_first"] = True
    if p["norm_first"]:
        args["norm_first"] = True
    return args


TRANSFORMER_ENCODER_LAYER = LayerSpec(
    type="TransformerEncoderLayer",
    display_name="TransformerEncoderLayer",
    category="Attention",
    help="One transformer block: self-attention then a feed-forward network, each "
    "with a residual connection and LayerNorm. d_model is inferred.",
    params=(
        ParamSpec("nhead", "int", 4, "Attention heads.", min=1, key=True),
        ParamSpec("dim_feedforward", "int", 128, "Width of the feed-forward part.",
                  min=1, key=True),
        ParamSpec("dropout", "float", 0.1, "Dropout inside the block.", min=0.0,
                  max=1.0, max_exclusive=True),
        ParamSpec("activation", "choice", "relu", "Feed-forward activation.",
                  choices=("relu", "gelu")),
        ParamSpec("norm_first", "bool", False, "LayerNorm before each part (pre-norm)."),
    ),
    shape_rule=_encoder_rule,
    module="nn.TransformerEncoderLayer",
    module_args=_encoder_args,
    positional=0,
    macs=lambda p, ins, outs: int(ins[0].shape[1]) * (
        4 * p["d_model"] ** 2 + 2 * p["d_model"] * p["dim_feedforward"]
    ) + 2 * int(ins[0].shape[1]) ** 2 * p["d_model"],
    # attention 4E(E+1), two Linears E*F+F and F*E+E, two LayerNorms 2E each
    param_count=lambda p: 4 * p["d_model"] ** 2 + 2 * p["d_model"] * p["dim_feedforward"]
    + 9 * p["d_model"] + p["dim_feedforward"],
    default_label="encoder",
)


TRANSFORMER_DECODER_LAYER = LayerSpec(
    type="TransformerDecoderLayer",
    display_name="TransformerDecoderLayer",
    category="Attention",
    help="One transformer decoder block: self-attention over the target (causal for "
    "generation), cross-attention to the memory (the encoder's output), then a "
    "feed-forward network; residual connections and LayerNorm around each. d_model is "
    "inferred.",
    params=(*TRANSFORMER_ENCODER_LAYER.params,
            ParamSpec("causal", "bool", True, "The target sees only earlier positions.",
                      key=True)),
    inputs=(PortSpec("target"), PortSpec("memory")),
    shape_rule=lambda ctx: _pair_rule(ctx, ctx.params["nhead"], "d_model"),
    module="nn.TransformerDecoderLayer",
    module_args=_encoder_args,
    expression=lambda p: "{m}({x1}, {x2}"
    + (", tgt_mask=" + CAUSAL_MASK.format(x="{x1}") + ", tgt_is_causal=True"
       if p["causal"] else "") + ")",
    macs=lambda p, ins, outs: int(ins[0].shape[1]) * (
        8 * p["d_model"] ** 2 + 2 * p["d_model"] * p["dim_feedforward"]
    ) + 2 * int(ins[0].shape[1]) * (int(ins[0].shape[1]) + int(ins[1].shape[1]))
    * p["d_model"],
    param_count=lambda p: 8 * p["d_model"] ** 2 + 2 * p["d_model"] * p["dim_feedforward"]
    + 15 * p["d_model"] + p["dim_feedforward"],
    default_label="decoder",
)


def _positional_rule(ctx):
    _sequence_of_vectors(ctx)
    length = ctx.x.shape[1]
    if length > ctx.params["max_len"]:
        raise ctx.fail(
            f"knows {ctx.params['max_len']} positions but receives sequences of "
            f"length {length}",
            f"raise max_len to at least {length}",
        )
    return Inferred([ctx.x], {"embed_dim": ctx.x.shape[2]})


POSITIONAL_EMBEDDING = LayerSpec(
    type="PositionalEmbedding",
    display_name="Positional embedding",
    category="Attention",
    help="Adds a learned vector per position, so attention (which ignores order) "
    "knows where each token is.",
    params=(ParamSpec("max_len", "int", 512, "Longest sequence supported.", min=1,
                      key=True),),
    shape_rule=_positional_rule,
    module="nn.Embedding",
    module_args=lambda p: {"num_embeddings": p["max_len"],
                           "embedding_dim": p["embed_dim"]},
    positional=2,
    param_count=lambda p: p["max_len"] * p["embed_dim"],
    expression="{x} + {m}(torch.arange({x}.shape[1], device={x}.device))",
    default_label="positions",
)

SPECS = (
    _recurrent("LSTM", "Long short-term memory."),
    _recurrent("GRU", "Gated recurrent unit, a lighter LSTM."),
    SELF_ATTENTION,
    CROSS_ATTENTION,
    TRANSFORMER_ENCODER_LAYER,
    TRANSFORMER_DECODER_LAYER,
    POSITIONAL_EMBEDDING,
)
