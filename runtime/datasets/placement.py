"""Where a dataset lives while training: on the training device, or streamed from disk.

The "auto" data path keeps a dataset resident when it fits comfortably and streams it
otherwise. "Fits" compares the dataset's decoded size (float32 tensors) with the free
memory of the device that will hold it: on CUDA the GPU's free memory
(``torch.cuda.mem_get_info``), and the host's too, since the data is decoded there first;
on the CPU and Apple's MPS (unified memory) the RAM available now. A reader that needs
more than the decoded size while reading (a CSV parsed into Python floats) is checked
against the host's memory as well. The data path "memory" or "stream" overrides it.

``choose_data_path`` is pure (numbers in, a decision and its reason out), so it is
tested with injected numbers; ``free_memory`` asks the device.
"""

from __future__ import annotations

from dataclasses import dataclass

HEADROOM = 4  # a dataset may take at most 1/HEADROOM of the free memory: the model,
# its gradients, the optimizer state and the batches need the rest


@dataclass(frozen=True)
class Footprint:
    decoded: int  # bytes as tensors on the training device
    reading: int = 0  # bytes of host memory the in-memory reader needs at its peak


@dataclass(frozen=True)
class FreeMemory:
    device: str  # "cpu", "cuda", "cuda:1", "mps"
    device_bytes: int  # free on the training device (the host's for cpu and mps)
    host_bytes: int


@dataclass(frozen=True)
class Placement:
    path: str  # "memory" or "stream"
    reason: str


def _size(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def choose_data_path(footprint: Footprint, free: FreeMemory) -> Placement:
    """Stream when the data would take more than 1/HEADROOM of a memory it needs."""
    host_need = max(footprint.decoded, footprint.reading)
    if host_need > free.host_bytes // HEADROOM:
        what = "reading it whole needs" if footprint.reading > footprint.decoded else \
            "it takes"
        return Placement("stream", f"{what} about {_size(host_need)}, more than a "
                         f"quarter of the {_size(free.host_bytes)} of memory free")
    if free.device.startswith("cuda") and \
            footprint.decoded > free.device_bytes // HEADROOM:
        return Placement("stream", f"it takes about {_size(footprint.decoded)}, more "
                         f"than a quarter of the {_size(free.device_bytes)} free on the "
                         "GPU")
    return Placement("memory", f"it takes about {_size(footprint.decoded)}, which fits "
                     "in the training device's free memory")


def host_memory() -> int:
    """Bytes of main memory free now; 4 GiB when the system does not say."""
    from graph.memory import available_memory

    found = available_memory()
    return found if found is not None else 4 << 30


def free_memory(device: str) -> FreeMemory:
    """Free memory of ``device`` and of the host, now."""
    host = host_memory()
    if device.startswith("cuda"):
        try:
            import torch

            gpu = int(torch.cuda.mem_get_info(torch.device(device))[0])
        except (RuntimeError, AssertionError, ValueError):
            gpu = 0  # CUDA cannot say: do not put data there blindly
        return FreeMemory(device, gpu, host)
    return FreeMemory(device, host, host)  # CPU; MPS shares the host's memory
