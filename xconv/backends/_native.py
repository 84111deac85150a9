"""Shared by the backends that have convolutions of their own (PyTorch, JAX): when to prefer
xconv's FFT path to them."""

from __future__ import annotations


def fft_wins(backend, call, native_speedup: float) -> bool:
    """Whether xconv's FFT path is modelled faster than the library's own kernel, taken to
    run `native_speedup` times faster than xconv's GEMM model (priced by `backend.costs`)."""
    from ..planner import plan_for  # the planner imports the backends: asked at call time

    modelled = plan_for(call.spec, tuple(call.x.shape), call.work, backend=backend).estimates
    if "fft" not in modelled:
        return False
    return modelled["fft"] * native_speedup < modelled["gemm"]
