"""Shared by the backends that have convolutions of their own (PyTorch, JAX): when xconv's
FFT path beats the library's kernel, from xconv's modelled times."""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping

from ..algorithms.costs import GPU_REFERENCE_COSTS


def on_gpu(backend, speedup: float):
    """A copy of `backend` priced with the GPU reference constants (data-sheet rates, not
    measured here), its library's kernels taken `speedup` times faster than xconv's GEMM
    there."""
    gpu = copy.copy(backend)
    gpu.costs = GPU_REFERENCE_COSTS
    gpu.native_speedup = speedup
    return gpu


def is_gpu(device) -> bool:
    """Whether a device (a library's object or its name) is an accelerator."""
    text = str(getattr(device, "type", None) or getattr(device, "platform", None) or device)
    return text.lower().startswith(("cuda", "gpu", "rocm"))


def fft_wins(modelled: Mapping[str, float], native_speedup: float) -> bool:
    """Whether xconv's FFT path is modelled faster than the library's own kernel, taken to
    run `native_speedup` times faster than xconv's GEMM (both priced by the backend's
    costs)."""
    if "fft" not in modelled or "gemm" not in modelled:
        return False
    return modelled["fft"] * native_speedup < modelled["gemm"]


def native_seconds(modelled: Mapping[str, float], native_speedup: float) -> float | None:
    """The library kernel's modelled time: xconv's GEMM, `native_speedup` times faster."""
    gemm = modelled.get("gemm")
    return None if gemm is None else gemm / native_speedup


class PricedPerDevice:
    """For a backend whose library has kernels of its own on CPUs and GPUs: on a GPU
    device it is priced with the GPU reference constants, its kernels taken
    `gpu_native_speedup` times faster than xconv's GEMM there (`native_speedup` on the
    CPU)."""

    native_speedup: float
    gpu_native_speedup: float

    def for_device(self, device):
        return self._on_gpu if is_gpu(device) else self

    @functools.cached_property
    def _on_gpu(self):
        return on_gpu(self, self.gpu_native_speedup)
