"""Generated sequence tasks for recurrent and attention networks.

- ``parity``: a 0/1 sequence shaped (length, 1); is the number of ones odd?
- ``sine_forecast``: a window of a noisy sine shaped (length, 1); predict the next values.
- ``tokens_majority``: integer token ids shaped (length,); are most tokens from the lower
  half of the vocabulary? Learnable by looking at every position, which is what attention
  (or an average of embeddings) does well.
"""

from __future__ import annotations

import numpy as np

from graph.catalog import ParamSpec

from .registry import DatasetSpec, Raw, register


def _size(default: int) -> ParamSpec:
    return ParamSpec("size", "int", default, "Number of sequences, all splits together.",
                     min=20, max=200_000)


def _length(default: int) -> ParamSpec:
    return ParamSpec("length", "int", default, "Steps per sequence.", min=2, max=1000)


def make_parity(o, rng) -> Raw:
    n, length = o["size"], o["length"]
    # Each sequence has its own density of ones: sparse sequences (0, 1, 2 ones) are
    # easy and teach the counting that dense ones need. With every sequence at 0.5 a
    # small LSTM stays at chance for hundreds of epochs.
    p = rng.uniform(0.02, o["max_ones"], (n, 1))
    bits = (rng.uniform(0.0, 1.0, (n, length)) < p).astype(np.int64)
    labels = bits.sum(axis=1) % 2
    return Raw([bits[:, :, None].astype(np.float32)], labels.astype(np.int64),
               "classification", ["even", "odd"])


def make_sine_forecast(o, rng) -> Raw:
    n, length, horizon = o["size"], o["length"], o["horizon"]
    steps = np.arange(length + horizon)
    freq = rng.uniform(0.05, 0.25, (n, 1))  # cycles per step
    phase = rng.uniform(0.0, 2 * np.pi, (n, 1))
    amp = rng.uniform(0.5, 1.0, (n, 1))
    wave = amp * np.sin(2 * np.pi * freq * steps + phase)
    noisy = wave + rng.normal(0.0, o["noise"], wave.shape)
    # The window is noisy (what was measured); the targets are the clean continuation.
    return Raw([noisy[:, :length, None].astype(np.float32)],
               wave[:, length:].astype(np.float32), "regression")


def make_tokens_majority(o, rng) -> Raw:
    n, length, vocab = o["size"], o["length"], o["vocab"]
    half = vocab // 2
    # Each sequence draws from the lower half with its own probability, so the classes
    # range from clear-cut to close calls.
    p_low = rng.uniform(0.15, 0.85, (n, 1))
    low = rng.uniform(0.0, 1.0, (n, length)) < p_low
    # A tie has no majority: flip the first token's half so every label is defined.
    ties = low.sum(axis=1) * 2 == length
    low[ties, 0] = ~low[ties, 0]
    tokens = np.where(low, rng.integers(0, half, (n, length)),
                      rng.integers(half, vocab, (n, length)))
    labels = (low.sum(axis=1) * 2 > length).astype(np.int64)
    return Raw([tokens.astype(np.int64)], labels, "classification",
               ["mostly high tokens", "mostly low tokens"])


register(DatasetSpec(
    "parity", "Sequence parity", "Generated",
    "Sequences of 0s and 1s shaped (length, 1); the class says whether the sequence "
    "holds an odd number of ones. Needs memory of the whole sequence.", make_parity,
    (_length(12), _size(2000),
     ParamSpec("max_ones", "float", 0.5, "Each sequence draws its probability of a one "
               "between 0.02 and this value; sparse sequences make parity learnable.",
               min=0.05, max=0.99)),
    input_summary="sequences of (length, 1)"))
register(DatasetSpec(
    "sine_forecast", "Sine forecast", "Generated",
    "Windows of noisy sine waves (random frequency, phase, amplitude) shaped "
    "(length, 1); predict the next `horizon` clean values.", make_sine_forecast,
    (_length(20), _size(1000),
     ParamSpec("horizon", "int", 1, "How many future values to predict.", min=1,
               max=100),
     ParamSpec("noise", "float", 0.05, "Standard deviation of the noise on the window.",
               min=0.0, max=2.0)),
    task="regression", input_summary="sequences of (length, 1)"))
register(DatasetSpec(
    "tokens_majority", "Token majority", "Generated",
    "Integer token ids shaped (length,) for an Embedding; the class says whether most "
    "tokens come from the lower half of the vocabulary.", make_tokens_majority,
    (_length(16), _size(2000),
     ParamSpec("vocab", "int", 16, "Vocabulary size: ids run from 0 to vocab - 1.",
               min=2, max=100_000)),
    input_summary="token ids of (length,)"))
