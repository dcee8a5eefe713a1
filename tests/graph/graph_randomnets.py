"""Random valid networks for property tests: chains, branches merged by Add, Multiply
and Concat, over flat, image and sequence tensors.

``random_network(choose)`` builds one network; ``choose(options)`` picks an item (a
hypothesis draw or ``random.Random.choice``), so the same builder serves hypothesis and
seeded loops. Shapes are tracked here by construction, independently of the analyser,
so "valid by construction" can be checked against ``graph.validate``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from graph_helpers import wire

from graph import Document

Choose = Callable[[Sequence], object]
LABELS = ["", "fc", "class", "eval", "training", "x", "h", "input", "\u00fcber", "self",
          "a long label with spaces and more words in it than anyone should type", "1st",
          "forward", "torch", "out"]
ACTIVATIONS = ["ReLU", "LeakyReLU", "ELU", "GELU", "SiLU", "Sigmoid", "Tanh"]


def random_network(choose: Choose, steps: int) -> Document:
    doc = Document(str(choose(["Random Net", "net", "", "class", "3 layers"])))
    pool: list[tuple[str, tuple]] = []  # (node id, shape without the batch)
    for _ in range(choose([1, 1, 2])):
        shape = choose([(choose([3, 5, 8]),), (choose([1, 2, 3]), 8, 8),
                        (choose([4, 6]), choose([4, 8]))])
        node = doc.add_node("Input", {"shape": list(shape)}, str(choose(LABELS)))
        pool.append((node.id, shape))
    used: set[str] = set()
    for _ in range(steps):
        source, shape = choose(pool)
        made = _merge(doc, choose, pool, source, shape) if choose([0, 0, 1]) else None
        if made is None:
            made = _layer(doc, choose, source, shape)
        node_id, new_shape, inputs = made
        used.update(inputs)
        pool.append((node_id, new_shape))
    for node_id, _shape in pool:
        if node_id not in used:  # every loose end becomes an Output
            out = doc.add_node("Output", {"task": "regression"}, str(choose(LABELS)))
            wire(doc, node_id, out.id)
    return doc


def _add(doc, choose, type_name, params, sources) -> str:
    node = doc.add_node(type_name, params, str(choose(LABELS)))
    for s in sources:
        wire(doc, s, node.id)
    return node.id


def _merge(doc, choose, pool, source, shape):
    same = [n for n, s in pool if s == shape and n != source]
    kind = choose(["Add", "Multiply", "Concat"])
    if kind in ("Add", "Multiply") and same:
        other = choose(same)
        return _add(doc, choose, kind, {}, [source, other]), shape, [source, other]
    if kind == "Concat":
        dim = 1 if len(shape) != 2 else choose([1, 2])
        axis = dim - 1
        partners = [(n, s) for n, s in pool if n != source and len(s) == len(shape)
                    and all(a == b for i, (a, b) in enumerate(zip(s, shape)) if i != axis)]
        if partners:
            other, other_shape = choose(partners)
            new = list(shape)
            new[axis] += other_shape[axis]
            return (_add(doc, choose, "Concat", {"dim": dim}, [source, other]), tuple(new),
                    [source, other])
    return None


def _layer(doc, choose, source, shape):
    rank = len(shape)
    if rank == 1:
        (f,) = shape
        kind = choose(["Linear", "act", "Dropout", "BatchNorm1d", "LayerNorm", "Softmax"])
        if kind == "Linear":
            k = choose([2, 4, 7])
            return _add(doc, choose, "Linear", {"out_features": k}, [source]), (k,), [source]
        params = {"p": 0.3} if kind == "Dropout" else {}
        kind = choose(ACTIVATIONS) if kind == "act" else kind
        return _add(doc, choose, kind, params, [source]), shape, [source]
    if rank == 3:
        c, h, w = shape
        kind = choose(["Conv2d", "pool", "BatchNorm2d", "act", "Flatten", "gap"])
        if kind == "Conv2d":
            k = choose([2, 4])
            return (_add(doc, choose, "Conv2d", {"out_channels": k}, [source]), (k, h, w),
                    [source])
        if kind == "pool" and h >= 2 and w >= 2:
            kind = choose(["MaxPool2d", "AvgPool2d"])
            return _add(doc, choose, kind, {}, [source]), (c, h // 2, w // 2), [source]
        if kind == "gap":
            return (_add(doc, choose, "AdaptiveAvgPool2d", {}, [source]), (c, 1, 1),
                    [source])
        if kind == "Flatten":
            return _add(doc, choose, "Flatten", {}, [source]), (c * h * w,), [source]
        kind = choose(ACTIVATIONS) if kind in ("act", "pool") else kind
        return _add(doc, choose, kind, {}, [source]), shape, [source]
    length, f = shape
    kind = choose(["rnn", "encoder", "attention", "LayerNorm", "Mean", "Linear",
                   "PositionalEmbedding"])
    if kind == "rnn":
        h = choose([2, 4])
        output = choose(["sequence", "last"])
        params = {"hidden_size": h, "output": output, "bidirectional": choose([False, True])}
        width = h * (2 if params["bidirectional"] else 1)
        new = (length, width) if output == "sequence" else (width,)
        return _add(doc, choose, choose(["LSTM", "GRU"]), params, [source]), new, [source]
    if kind == "encoder":
        params = {"nhead": 2, "dim_feedforward": 8, "dropout": 0.0}
        return _add(doc, choose, "TransformerEncoderLayer", params, [source]), shape, [source]
    if kind == "attention":
        return _add(doc, choose, "SelfAttention", {"num_heads": 2}, [source]), shape, [source]
    if kind == "Mean":
        return _add(doc, choose, "Mean", {"dim": 1}, [source]), (f,), [source]
    if kind == "Linear":
        k = choose([2, 6])
        return (_add(doc, choose, "Linear", {"out_features": k}, [source]), (length, k),
                [source])
    if kind == "PositionalEmbedding":
        return (_add(doc, choose, kind, {"max_len": max(16, length)}, [source]), shape,
                [source])
    return _add(doc, choose, kind, {}, [source]), shape, [source]
