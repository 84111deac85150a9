"""Shared by the backends that have convolutions of their own (PyTorch, JAX): when xconv's
FFT path beats the library's kernel, from xconv's modelled times."""

from __future__ import annotations

from collections.abc import Mapping


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
