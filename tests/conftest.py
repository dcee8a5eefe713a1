"""Test-wide setup: offscreen Qt before any QApplication, one torch thread per worker."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("STRATA_TESTING", "1")
# Windows built by the tests would each start a standby training process.
os.environ.setdefault("STRATA_PRESTART", "0")

try:  # the graph and runtime tests must not need Qt, but they do need torch
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass
