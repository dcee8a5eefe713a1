"""Networks that use the layers added for real-world models (3-D and 1-D pooling,
normalisations, padding, resampling, plumbing, arithmetic, attention variants), for the
export -> import round trip of tests/transfer/test_round_trip.py."""

from __future__ import annotations

import graph
from graph.builder import Builder


def volume_and_signal_network() -> graph.Document:
    """3-D and 1-D convolutions, every pooling option, normalisations, channel dropout,
    element-wise arithmetic between branches."""
    b = Builder("Volume Coverage")
    vol = b.add("Input", "volume", shape=[2, 6, 8, 8])
    v = b.chain(vol, ("Conv3d", {"out_channels": 4, "kernel_size": [3, 3, 3],
                                 "padding": [1, 1, 1], "padding_mode": "replicate"}, "conv3"),
                ("BatchNorm3d", {}, "bn3"), ("Hardswish", {}, "hswish"),
                ("InstanceNorm3d", {"affine": True}, "inorm3"),
                ("Dropout3d", {"p": 0.1}, "drop3"),
                ("MaxPool3d", {"kernel_size": [2, 2, 2], "ceil_mode": True}, "pool3"),
                ("AvgPool3d", {"kernel_size": [1, 2, 2], "stride": [1, 1, 1],
                               "count_include_pad": False, "padding": [0, 1, 1]}, "avg3"))
    a = b.chain(v, ("AdaptiveAvgPool3d", {"output_size": [1, 2, 2]}, "gap3"),
                ("Flatten", {}, "flat_a"))
    m = b.chain(v, ("AdaptiveMaxPool3d", {"output_size": [1, 2, 2]}, "gmp3"),
                ("Flatten", {}, "flat_m"))
    diff = b.add("Subtract", "diff")
    b.wire(a, diff)
    b.wire(m, diff)
    vec = b.chain(diff, ("Abs", {}, "distance"))

    sig = b.add("Input", "signal", shape=[4, 12])
    s = b.chain(sig, ("Conv1d", {"out_channels": 6, "kernel_size": [3], "padding": [1]},
                      "conv1"),
                ("InstanceNorm1d", {}, "inorm1"), ("Mish", {}, "mish"),
                ("Dropout1d", {"p": 0.2}, "drop1"),
                ("AvgPool1d", {"kernel_size": [2], "ceil_mode": True}, "avg1"))
    s1 = b.chain(s, ("AdaptiveAvgPool1d", {"output_size": [2]}, "gap1"))
    s2 = b.chain(s, ("AdaptiveMaxPool1d", {"output_size": [2]}, "gmp1"),
                 ("Softplus", {"beta": 2.0}, "softplus"))
    ratio = b.add("Divide", "ratio")
    b.wire(s1, ratio)
    b.wire(s2, ratio)
    flat = b.chain(ratio, ("Flatten", {}, "flat_s"), ("SELU", {}, "selu"),
                   ("AlphaDropout", {"p": 0.1}, "alpha_drop"))
    cat = b.add("Concat", "join", inputs=2, dim=1)
    b.wire(vec, cat)
    b.wire(flat, cat)
    b.chain(cat, ("Linear", {"out_features": 3}, "head"), ("CELU", {"alpha": 0.5}, "celu"),
            ("Hardtanh", {"min_val": -2.0, "max_val": 2.0}, "clip"),
            ("Output", {"task": "regression"}))
    return b.done()


def image_resampling_network() -> graph.Document:
    """Padding, pixel (un)shuffle, upsampling, GroupNorm, PReLU, a broadcast gate,
    stochastic depth on a residual branch, Identity."""
    b = Builder("Resampling Coverage")
    x = b.add("Input", shape=[3, 8, 8])
    h = b.chain(x, ("Pad", {"padding": [1, 1, 1, 1], "mode": "reflect"}, "pad"),
                ("Conv2d", {"out_channels": 8, "padding": [0, 0]}, "conv"),
                ("GroupNorm", {"num_groups": 2}, "gn"),
                ("PReLU", {"per_channel": True}, "prelu"),
                ("LocalResponseNorm", {"size": 3}, "lrn"),
                ("Dropout2d", {"p": 0.1}, "drop2"),
                ("PixelUnshuffle", {"factor": 2}, "unshuffle"),
                ("PixelShuffle", {"factor": 2}, "shuffle"),
                ("Upsample", {"scale_factor": 2.0, "mode": "bilinear"}, "up"),
                ("InstanceNorm2d", {}, "inorm2"), ("ReLU6", {}, "relu6"),
                ("Identity", {}, "keep"))
    gate = b.chain(h, ("AdaptiveAvgPool2d", {"output_size": [1, 1]}, "squeeze"),
                   ("Hardsigmoid", {}, "excite"))
    gated = b.add("Multiply", "gated")
    b.wire(h, gated)
    b.wire(gate, gated)
    branch = b.chain(gated, ("Conv2d", {"out_channels": 8}, "branch"),
                     ("StochasticDepth", {"p": 0.2}, "drop_path"))
    add = b.add("Add", "residual")
    b.wire(branch, add)
    b.wire(h, add)
    b.chain(add, ("AdaptiveMaxPool2d", {"output_size": [2, 2]}, "gmp"),
            ("Flatten", {}, "flat"), ("Linear", {"out_features": 4}, "fc"),
            ("Output", {"task": "classification"}))
    return b.done()


def token_attention_network() -> graph.Document:
    """A class token, scaled embeddings, causal self-attention, plumbing, cross-attention
    and a decoder layer, a hand-written attention score (MatMul)."""
    b = Builder("Attention Coverage")
    tokens = b.add("Input", "tokens", shape=[6], dtype="long")
    memory = b.add("Input", "memory", shape=[5, 8])
    e = b.chain(tokens, ("Embedding", {"num_embeddings": 20, "embedding_dim": 8,
                                       "padding_idx": 0}, "embed"),
                ("ScaleShift", {"scale": 2.0, "shift": 0.5}, "scaled"))
    cls = b.add("LearnedTensor", "cls", shape=[1, 8])
    b.wire(e, cls)
    seq = b.add("Concat", "with_cls", inputs=2, dim=1)
    b.wire(cls, seq)
    b.wire(e, seq)
    h = b.chain(seq, ("SelfAttention", {"num_heads": 2, "causal": True}, "causal"),
                ("Transpose", {"dim0": 1, "dim1": 2}, "swap"),
                ("Permute", {"dims": [0, 2, 1]}, "back"),
                ("Unflatten", {"dim": 2, "sizes": [2, 4]}, "heads"),
                ("Flatten", {"start_dim": 2}, "merge_heads"),
                ("Slice", {"dim": 1, "start": 1}, "drop_cls"))
    cross = b.add("CrossAttention", "cross", num_heads=2)
    b.wire(h, cross)
    b.wire(memory, cross)
    dec = b.add("TransformerDecoderLayer", "decoder", nhead=2, dim_feedforward=16)
    b.wire(cross, dec)
    b.wire(memory, dec)
    keys = b.chain(dec, ("Transpose", {"dim0": 1, "dim1": 2}, "keys"))
    scores = b.add("MatMul", "scores")
    b.wire(dec, scores)
    b.wire(keys, scores)
    b.chain(scores, ("Select", {"dim": 1, "index": -1}, "last"),
            ("Linear", {"out_features": 2}, "out"), ("Output", {"task": "classification"}))
    return b.done()


COVERAGE_MORE = [volume_and_signal_network, image_resampling_network,
                 token_attention_network]
