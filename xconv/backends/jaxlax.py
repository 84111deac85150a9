"""The JAX backend: `jax.lax.conv_general_dilated` where it computes the layer exactly, and
xconv's own algorithms inside a `jax.custom_vjp` whose backward pass is xconv's VJPs.

Imported only when the caller's arrays are JAX arrays (or tracers: everything here works
under `jit`, `grad` and `vmap`, where the shapes are static).

For `algorithm="auto"` (and `"measure"`), real dtypes and ranks 1-3, XLA's convolution
runs unless the FFT path is modelled faster (XLA's CPU convolutions ran the benchmark's
GEMM layers `NATIVE_SPEEDUP` times faster than xconv's NumPy GEMM; its large-kernel
convolutions are 40-600x slower than the FFT). Padding modes and uneven padding go
through `jnp.pad` first; a transposed convolution is XLA's input-dilated correlation with
the flipped kernel, cropped or extended to the call's window, the bias added after. A
named algorithm (`"direct"`, `"gemm"`, `"fft"`) always runs xconv's own path.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from ..algorithms.transposed import forward_weight, window
from ._native import PricedPerDevice, fft_wins, native_seconds
from .generic import Backend, Declined, Delegation

NATIVE_SPEEDUP = 1.2  # XLA (CPU) against xconv's NumPy GEMM on resnet3x3
GPU_NATIVE_SPEEDUP = 4.0  # XLA on a GPU against xconv's GEMM there: not measured

_JNP_MODES = {
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}


class JaxBackend(PricedPerDevice, Backend):
    """JAX arrays and tracers."""

    name = "jax"
    native_speedup = NATIVE_SPEEDUP
    gpu_native_speedup = GPU_NATIVE_SPEEDUP

    def _pad(self, x, pads, mode: str, value):
        widths = [(0, 0)] * (x.ndim - len(pads)) + [tuple(p) for p in pads]
        if mode == "constant":
            return jnp.pad(x, widths, mode="constant", constant_values=value)
        return jnp.pad(x, widths, mode=_JNP_MODES[mode])

    def max_abs(self, a) -> float | None:
        if isinstance(a, jax.core.Tracer):
            return None  # under jit, grad or vmap: no values to look at
        try:
            return self._max_abs(a)  # a concrete array (array-api-compat calls all JAX lazy)
        except jax.errors.ConcretizationTypeError:
            return None  # a constant inside a trace: its reductions are traced too

    def delegation(self, operation: str, request, modelled) -> Delegation | None:
        """XLA's convolution, unless xconv's path is asked for or models faster."""
        spec = request.spec
        if request.algorithm in ("direct", "gemm", "fft"):
            return None  # the caller asked for xconv's own path
        if spec.rank not in (1, 2, 3) or request.dtype.startswith("complex"):
            return None  # no XLA convolution taken here: xconv's own paths
        speedup = self.native_speedup
        if fft_wins(modelled, speedup):
            return None  # the FFT path is modelled faster than XLA's convolution
        return Delegation(
            "jax.lax.conv_general_dilated",
            f"XLA's own convolution (taken {speedup}x faster than xconv's GEMM)",
            native_seconds(modelled, speedup),
        )

    def delegate(self, operation: str, call, own) -> object:
        if call.plan.algorithm == "delegated":
            return _NATIVE[operation](self, call)
        if operation in ("conv", "conv_transpose"):
            return _with_xconv_vjp(call, own)
        return Declined("xconv's own plan")


def _with_xconv_vjp(call, own):
    """xconv's own run of the call, differentiated by xconv's own VJP (the plan's
    value-dependent choices taken now, while the values are at hand)."""
    call, all_finite = own.settle(call)

    @jax.custom_vjp
    def run(x, weight, bias):
        return own(call.with_arrays(x, weight, bias))

    def run_forward(x, weight, bias):
        return run(x, weight, bias), (x, weight, bias)

    def run_backward(saved, grad):
        x, weight, bias = saved
        grad_x, grad_w, grad_b = own.vjp(call.with_arrays(x, weight, bias), grad, all_finite)
        grad_b = None if bias is None else grad_b.astype(bias.dtype)
        return grad_x.astype(x.dtype), grad_w.astype(weight.dtype), grad_b

    run.defvjp(run_forward, run_backward)
    return run(call.user_x, call.weight, call.bias)


# -- XLA's own convolutions ----------------------------------------------------------------


def _dimensions(rank: int) -> tuple[str, str, str]:
    spatial = "DHW"[3 - rank :]
    return f"NC{spatial}", f"OI{spatial}", f"NC{spatial}"


def _conv(backend: JaxBackend, call, x, weight, bias):
    spec, pads = call.spec, call.padding
    if spec.padding_mode != "constant" or spec.padding_value != 0:
        x, pads = backend.pad(x, pads, spec.padding_mode, spec.padding_value), None
    y = lax.conv_general_dilated(
        x,
        weight,
        window_strides=spec.stride,
        padding=[tuple(p) for p in pads] if pads else [(0, 0)] * spec.rank,
        rhs_dilation=spec.dilation,
        dimension_numbers=_dimensions(spec.rank),
        feature_group_count=spec.groups,
        precision=lax.Precision.HIGHEST,
    )
    return y if bias is None else y + bias.reshape(1, -1, *(1,) * spec.rank)


def _conv_transpose(backend: JaxBackend, call, x, weight, bias):
    """XLA's input-dilated correlation with the flipped kernel: the uncropped transposed
    output, then the call's window of it."""
    spec = call.spec
    kernel = jnp.flip(forward_weight(jnp, weight, spec.groups), axis=tuple(range(2, 2 + spec.rank)))
    full = [(e - 1, e - 1) for e in spec.dilated_kernel]
    y = lax.conv_general_dilated(
        x,
        kernel,
        window_strides=(1,) * spec.rank,
        padding=full,
        lhs_dilation=spec.stride,
        rhs_dilation=spec.dilation,
        dimension_numbers=_dimensions(spec.rank),
        feature_group_count=spec.groups,
        precision=lax.Precision.HIGHEST,
    )
    bounds = [(b, b + n) for (b, _), n in zip(call.padding, call.out_spatial, strict=True)]
    y = window(backend, y, bounds)
    return y if bias is None else y + bias.reshape(1, -1, *(1,) * spec.rank)


def _inputs(call):
    return (
        call.in_work_dtype(call.x),
        call.in_work_dtype(call.weight),
        call.in_work_dtype(call.bias),
    )


def _native(run):
    def forward(backend, call):
        return call.finish(run(backend, call, *_inputs(call)))

    return forward


def _native_vjp(run):
    def vjp(backend, call):
        """Input and weight gradients by JAX's own differentiation of XLA's convolution."""
        x, weight, _ = _inputs(call)
        grad = call.in_work_dtype(call.grad)
        _, pullback = jax.vjp(lambda x, w: run(backend, call, x, w, None), x, weight)
        grad_x, grad_w = pullback(grad)
        grad_b = jnp.sum(grad, axis=(0, *range(2, grad.ndim)))
        return call.finish(grad_x), grad_w.astype(call.dtype), grad_b.astype(call.dtype)

    return vjp


_NATIVE = {
    "conv": _native(_conv),
    "conv_transpose": _native(_conv_transpose),
    "conv_vjp": _native_vjp(_conv),
    "conv_transpose_vjp": _native_vjp(_conv_transpose),
}
