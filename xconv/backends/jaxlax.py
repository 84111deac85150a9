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

import contextlib
import contextvars

import jax
import jax.numpy as jnp
from jax import lax

from ..algorithms.transposed import forward_weight, window
from ._native import fft_wins, finite_algorithm
from .generic import Backend, Declined

NATIVE_SPEEDUP = 1.2  # XLA (CPU) against xconv's NumPy GEMM on resnet3x3

_JNP_MODES = {
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}

# set while xconv's own path runs inside the custom VJP: the delegate must not re-wrap it
_OWN_PATH = contextvars.ContextVar("xconv_jax_own_path", default=False)


@contextlib.contextmanager
def _own_path():
    token = _OWN_PATH.set(True)
    try:
        yield
    finally:
        _OWN_PATH.reset(token)


class JaxBackend(Backend):
    """JAX arrays and tracers."""

    name = "jax"

    def _pad(self, x, pads, mode: str, value):
        widths = [(0, 0)] * (x.ndim - len(pads)) + [tuple(p) for p in pads]
        if mode == "constant":
            return jnp.pad(x, widths, mode="constant", constant_values=value)
        return jnp.pad(x, widths, mode=_JNP_MODES[mode])

    def max_abs(self, a) -> float | None:
        if isinstance(a, jax.core.Tracer):
            return None  # under jit, grad or vmap: no values to look at
        return self._max_abs(a)  # a concrete array (array-api-compat calls all JAX lazy)

    def delegate(self, operation: str, call, own) -> object:
        if _OWN_PATH.get():
            return Declined("xconv's own path, inside its custom VJP")
        why = self._not_native(call)
        if why is None:
            return _NATIVE[operation](self, call)
        if operation in ("conv", "conv_transpose"):
            return _with_xconv_vjp(operation, call, finite_algorithm(self, call))
        return Declined(why)

    def _not_native(self, call) -> str | None:
        spec = call.spec
        if call.algorithm in ("direct", "gemm", "fft"):
            return f"algorithm={call.algorithm!r} asks for xconv's own path"
        if spec.rank not in (1, 2, 3):
            return f"no {spec.rank}-d convolution in jax.lax here"
        if jnp.issubdtype(call.work, jnp.complexfloating):
            return "complex data: xconv's own paths"
        if fft_wins(self, call, NATIVE_SPEEDUP):
            return "the FFT path is modelled faster than XLA's convolution"
        return None


def _with_xconv_vjp(operation: str, call, algorithm: str):
    """xconv's own `operation` on the call's arrays by `algorithm`, differentiated by
    xconv's VJP."""
    from .. import forward, gradients, transposed

    public = forward.conv if operation == "conv" else transposed.conv_transpose
    vjp = gradients.conv_vjp if operation == "conv" else gradients.conv_transpose_vjp
    spec = call.spec

    @jax.custom_vjp
    def run(x, weight, bias):
        with _own_path():
            return public(x, weight, bias, spec=spec, algorithm=algorithm)

    def run_forward(x, weight, bias):
        return run(x, weight, bias), (x, weight, bias)

    def run_backward(saved, grad):
        x, weight, bias = saved
        with _own_path():
            grad_x, grad_w, grad_b = vjp(grad, x, weight, spec=spec, algorithm=algorithm)
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
