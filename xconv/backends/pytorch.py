"""The PyTorch backend: torch's own convolutions where they compute the layer exactly, and
xconv's algorithms, each call one `torch.autograd.Function` differentiated by xconv's
analytic VJPs, where the planner says they win or torch has no kernel.

Imported only when the caller's arrays are torch tensors. Tensors stay on their device
(CUDA tensors run cuDNN through `torch.nn.functional`), in their dtype and memory format.

What runs where, for `algorithm="auto"` (and `"measure"`):

- `torch.nn.functional.conv{1,2,3}d` / `conv_transpose{1,2,3}d` for real dtypes and
  ranks 1-3, unless the FFT path is modelled faster than torch (its kernels are
  `NATIVE_SPEEDUP` times faster than xconv's NumPy GEMM on the benchmark layers). Padding
  torch cannot express in the call (asymmetric pairs, `same` at a stride, padding values,
  the reflect, replicate and circular modes) is an explicit `F.pad` first; the symmetric
  mode, which torch lacks, is an index map (`take`). A transposed convolution's cropping
  and extension are a window of torch's uncropped output; the bias is added after.
- xconv's own algorithms otherwise, and whenever `algorithm` names one (`"direct"`,
  `"gemm"`, `"fft"`): the caller asked for that path.

Double backward through xconv's own path raises (the VJPs are not themselves
differentiated); through torch's own kernels it works as in torch.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch.autograd.function import once_differentiable

from ..algorithms.transposed import window
from ._native import PricedPerDevice, fft_wins, native_seconds
from .generic import Backend, Declined, Delegation

# torch's convolutions against xconv's NumPy GEMM (the benchmark's GEMM rows: 1.5-2.9x)
NATIVE_SPEEDUP = 2.5
# cuDNN against xconv's GEMM on torch's CUDA tensors: not measured (no GPU was lent)
CUDA_NATIVE_SPEEDUP = 4.0

_CONV = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}
_CONV_TRANSPOSE = {1: F.conv_transpose1d, 2: F.conv_transpose2d, 3: F.conv_transpose3d}
_TORCH_PAD_MODES = {"reflect": "reflect", "replicate": "replicate", "circular": "circular"}


class TorchBackend(PricedPerDevice, Backend):
    """torch tensors on any device."""

    name = "torch"
    native_speedup = NATIVE_SPEEDUP
    gpu_native_speedup = CUDA_NATIVE_SPEEDUP

    # -- device -------------------------------------------------------------------------

    def synchronize(self) -> None:
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            torch.cuda.synchronize()

    # -- primitives ---------------------------------------------------------------------

    def _max_abs(self, a) -> float:
        return super()._max_abs(a.detach())  # a value, not a step of the graph

    def _pad(self, x, pads, mode: str, value):
        if isinstance(value, complex):  # F.pad fills with real numbers only
            return super()._pad(x, pads, mode, value)
        if mode == "constant" or (mode in _TORCH_PAD_MODES and len(pads) <= 3):
            flat = [p for pair in reversed(pads) for p in pair]  # F.pad: last axis first
            if mode == "constant":
                return F.pad(x, flat, mode="constant", value=value)
            return F.pad(x, flat, mode=_TORCH_PAD_MODES[mode])
        return super()._pad(x, pads, mode, value)  # symmetric: an index map

    # -- whole operations ---------------------------------------------------------------

    def delegation(self, operation: str, request, modelled) -> Delegation | None:
        """torch's own kernel, unless xconv's path is asked for or models faster."""
        spec = request.spec
        if request.algorithm in ("direct", "gemm", "fft"):
            return None  # the caller asked for xconv's own path
        if spec.rank not in _CONV or request.dtype.startswith("complex"):
            return None  # no torch kernel: xconv's own paths
        speedup = self.native_speedup
        if fft_wins(modelled, speedup):
            return None  # the FFT path is modelled faster than torch's kernels
        kernel = (_CONV_TRANSPOSE if spec.transposed else _CONV)[spec.rank].__name__
        return Delegation(
            f"torch.nn.functional.{kernel}",
            f"torch's own kernel (taken {speedup}x faster than xconv's GEMM)",
            native_seconds(modelled, speedup),
        )

    def delegate(self, operation: str, call, own) -> object:
        if call.plan.algorithm == "delegated":
            return _NATIVE[operation](self, call)
        if operation in ("conv", "conv_transpose") and _tracks_gradients(call):
            # xconv's own path inside one autograd node, differentiated by xconv's VJP
            call, all_finite = own.settle(call)
            return _XconvFunction.apply(call, own, all_finite, call.user_x, call.weight, call.bias)
        return Declined("xconv's own plan")


def _tracks_gradients(call) -> bool:
    tensors = (call.x, call.weight, call.bias)
    return torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in tensors)


class _XconvFunction(torch.autograd.Function):
    """One xconv operation as one autograd node, differentiated by xconv's VJP."""

    @staticmethod
    def forward(ctx, call, own, all_finite, x, weight, bias):
        ctx.call, ctx.own, ctx.all_finite = call, own, all_finite
        ctx.bias_dtype = None if bias is None else bias.dtype
        ctx.save_for_backward(x, weight)
        return own(call)

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        call = ctx.call
        # torch's complex convention: `grad` is dL/d(conj y) and the result dL/d(conj x),
        # the conjugate of xconv's plain transpose applied to conj(grad)
        complex_ = grad.is_complex()
        if complex_:
            grad = grad.conj().resolve_conj()
        grads = ctx.own.vjp(call, grad, ctx.all_finite)
        if complex_:
            grads = tuple(None if g is None else g.conj().resolve_conj() for g in grads)
        grad_x, grad_w, grad_b = grads
        grad_x = grad_x.to(x.dtype)
        grad_b = None if ctx.bias_dtype is None else grad_b.to(ctx.bias_dtype)
        return None, None, None, grad_x, grad_w.to(weight.dtype), grad_b


# -- torch's own kernels ------------------------------------------------------------------


def _conv(backend: TorchBackend, call, x, weight, bias):
    """The forward correlation of canonical `x` by torch, padding as the call says."""
    spec, pads = call.spec, call.padding
    if spec.padding_mode == "constant" and spec.padding_value == 0 and all(b == a for b, a in pads):
        padding = tuple(b for b, _ in pads)
    else:
        x = backend.pad(x, pads, spec.padding_mode, spec.padding_value)
        padding = 0
    return _CONV[spec.rank](x, weight, bias, spec.stride, padding, spec.dilation, spec.groups)


def _conv_transpose(backend: TorchBackend, call, x, weight, bias):
    """The transposed convolution by torch: its uncropped output, then the call's window."""
    spec = call.spec
    y = _CONV_TRANSPOSE[spec.rank](x, weight, None, spec.stride, 0, 0, spec.groups, spec.dilation)
    bounds = [(b, b + n) for (b, _), n in zip(call.padding, call.out_spatial, strict=True)]
    y = window(backend, y, bounds)
    if bias is not None:
        y = y + bias.reshape(1, -1, *(1,) * spec.rank)
    return y


def _inputs(call):
    return (
        call.in_work_dtype(call.x),
        call.in_work_dtype(call.weight),
        call.in_work_dtype(call.bias),
    )


def _native_conv(backend, call):
    return call.finish(_conv(backend, call, *_inputs(call)))


def _native_conv_transpose(backend, call):
    return call.finish(_conv_transpose(backend, call, *_inputs(call)))


def _native_vjp(run):
    def vjp(backend, call):
        """Input and weight gradients by torch's autograd of its own kernel."""
        x, weight, _ = _inputs(call)
        grad = call.in_work_dtype(call.grad)
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            weight = weight.detach().requires_grad_(True)
            y = run(backend, call, x, weight, None)
            if math.prod(y.shape) == 0:
                grad_x, grad_w = torch.zeros_like(x), torch.zeros_like(weight)
            else:
                grad_x, grad_w = torch.autograd.grad(y, (x, weight), grad)
        grad_b = grad.sum(dim=(0, *range(2, grad.ndim)))
        return call.finish(grad_x), grad_w.to(call.dtype), grad_b.to(call.dtype)

    return vjp


_NATIVE = {
    "conv": _native_conv,
    "conv_transpose": _native_conv_transpose,
    "conv_vjp": _native_vjp(_conv),
    "conv_transpose_vjp": _native_vjp(_conv_transpose),
}
