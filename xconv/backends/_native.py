"""Shared by the backends that have convolutions of their own (PyTorch, JAX): when to prefer
xconv's FFT path to them."""

from __future__ import annotations


def finite_algorithm(backend, call) -> str:
    """The call's algorithm; for "auto" or "measure" on data that are not all finite, the
    modelled cheapest algorithm other than the FFT (decided here, where the values are at
    hand, for paths that trace them later, as a custom VJP does)."""
    from ..planner import finite_choice

    shape = tuple(call.x.shape)
    args = (backend, call.spec, shape, call.work, "fft", call.algorithm, call.x, call.weight)
    chosen = finite_choice(*args)
    return call.algorithm if chosen == "fft" else chosen


def fft_wins(backend, call, native_speedup: float) -> bool:
    """Whether xconv's FFT path is modelled faster than the library's own kernel, taken to
    run `native_speedup` times faster than xconv's GEMM model (priced by `backend.costs`)."""
    from ..planner import plan_for  # the planner imports the backends: asked at call time

    modelled = plan_for(call.spec, tuple(call.x.shape), call.work, backend=backend).estimates
    if "fft" not in modelled:
        return False
    return modelled["fft"] * native_speedup < modelled["gemm"]
