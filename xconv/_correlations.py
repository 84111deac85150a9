"""The correlations inside transposed convolution and the gradients, each run by plan.

A transposed convolution, an input gradient and a weight gradient are all forward
correlations of rearranged arrays (`xconv.algorithms.transposed*`); this module chooses
their algorithms with the planner and runs them, for `conv_transpose`, `conv_vjp` and
`conv_transpose_vjp` alike.
"""

from __future__ import annotations

import dataclasses
import functools

from .algorithms.transposed import transpose_window, window
from .algorithms.transposed_gemm import transpose_gemm
from .backends import Backend
from .config import FORWARD_ALGORITHMS
from .planner import dtype_name, plan_for, run_forward
from .spec import ConvSpec


def transposed_window(backend: Backend, y, weight, spec: ConvSpec, start, size, algorithm: str):
    """Window `[start, start + size)` of the adjoint of correlation `spec` applied to `y`.

    With GEMM chosen (by the user, or by the planner for the transposed problem) and a
    stride, every tap's contribution comes from one matmul over the whole batch followed
    by a col2im (`transposed_gemm`); otherwise each output phase is a stride-1 forward
    correlation (`transposed.transpose_window`), run by `algorithm` or planned on its
    own. Along an axis whose stride exceeds the dilated kernel the kernel copies do not
    overlap: that axis is computed at a stride of the kernel extent and spread out with
    zeros (`_spread`), so the work does not grow with the stride.
    """
    if any(s > e for s, e in zip(spec.stride, spec.dilated_kernel, strict=True)):
        return _spread(backend, y, weight, spec, start, size, algorithm)
    route = algorithm
    if algorithm not in FORWARD_ALGORITHMS:
        backwards = ConvSpec(
            spec.kernel_size,
            stride=spec.stride,
            dilation=spec.dilation,
            groups=spec.groups,
            transposed=True,
            in_channels=y.shape[1],
            out_channels=weight.shape[1] * spec.groups,
        )
        route = planned(backend, backwards, tuple(y.shape), y.dtype, algorithm)
    # at stride 1 the adjoint is one forward correlation: the forward GEMM (shifted windows
    # on the NumPy backend) needs no columns for every tap, and ran 1.4x faster (measured)
    if route == "gemm" and any(s > 1 for s in spec.stride):
        out = transpose_gemm(backend, y, weight, spec, start, size, backend.memory_budget())
        if out is not None:
            return out
    return transpose_window(backend, y, weight, spec, start, size, run_forward(backend, algorithm))


def _spread(backend: Backend, y, weight, spec: ConvSpec, start, size, algorithm: str):
    """`transposed_window` for strides wider than the kernel: the copies of the kernel are
    computed side by side (stride = extent), then each is padded with zeros to the stride."""
    wide = [s > e for s, e in zip(spec.stride, spec.dilated_kernel, strict=True)]
    tight = dataclasses.replace(
        spec, stride=tuple(min(s, e) for s, e in zip(spec.stride, spec.dilated_kernel, strict=True))
    )
    lengths = tuple(y.shape[2:])
    start_t = [0 if w else b for w, b in zip(wide, start, strict=True)]
    size_t = [
        n * e if w else m for w, n, e, m in zip(wide, lengths, tight.stride, size, strict=True)
    ]
    z = transposed_window(backend, y, weight, tight, start_t, size_t, algorithm)
    xp = backend.xp
    for i in (i for i, w in enumerate(wide) if w):
        axis, n, e, s = 2 + i, lengths[i], tight.stride[i], spec.stride[i]
        shape = tuple(z.shape)
        z = xp.reshape(z, (*shape[:axis], n, e, *shape[axis + 1 :]))
        pads = [(0, 0)] * (z.ndim - 2)
        pads[axis - 1] = (0, s - e)  # the e-axis, counted from the first spatial axis
        z = backend.pad(z, pads)
        z = xp.reshape(z, (*shape[:axis], n * s, *shape[axis + 1 :]))
    bounds = [(b, b + m) if w else (0, m) for w, b, m in zip(wide, start, size, strict=True)]
    return window(backend, z, bounds)


def planned(backend: Backend, spec: ConvSpec, input_shape, dtype, algorithm: str) -> str:
    """The forward algorithm the planner picks for `spec` ("measure" uses the model)."""
    modelled = "auto" if algorithm == "measure" else algorithm
    key = (spec, tuple(input_shape), dtype_name(dtype), modelled, backend)
    return _planned(*key, backend.memory_budget())


@functools.lru_cache(maxsize=256)
def _planned(spec: ConvSpec, input_shape, dtype: str, algorithm: str, backend, limit: int):
    del limit  # part of the key: the plan depends on it
    return plan_for(spec, input_shape, dtype, algorithm, backend=backend).algorithm


def adjoint_spec(spec: ConvSpec) -> ConvSpec:
    """The forward correlation whose adjoint transposed `spec` is (weight `(C, F/g, *k)`)."""
    return ConvSpec(
        spec.kernel_size,
        stride=spec.stride,
        dilation=spec.dilation,
        groups=spec.groups,
        in_channels=spec.out_channels,
        out_channels=spec.in_channels,
    )
