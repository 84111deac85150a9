"""The correlations inside transposed convolution and the gradients, each run by plan.

A transposed convolution, an input gradient and a weight gradient are all forward
correlations of rearranged arrays (`xconv.algorithms.transposed*`); this module chooses
their algorithms with the planner and runs them, for `conv_transpose`, `conv_vjp` and
`conv_transpose_vjp` alike.
"""

from __future__ import annotations

import functools

from .algorithms.transposed import transpose_window
from .algorithms.transposed_gemm import transpose_gemm
from .backends import Backend
from .config import FORWARD_ALGORITHMS
from .planner import dtype_name, plan_for, run_forward
from .spec import ConvSpec


def transposed_window(backend: Backend, y, weight, spec: ConvSpec, start, size, algorithm: str):
    """Window `[start, start + size)` of the adjoint of correlation `spec` applied to `y`.

    With GEMM chosen (by the user, or by the planner for the transposed problem), every
    tap's contribution comes from one matmul over the whole batch followed by a col2im
    (`transposed_gemm`); otherwise each output phase is a stride-1 forward correlation
    (`transposed.transpose_window`), planned on its own.
    """
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
    if route == "gemm":
        out = transpose_gemm(backend, y, weight, spec, start, size, backend.memory_budget())
        if out is not None:
            return out
    return transpose_window(backend, y, weight, spec, start, size, run_forward(backend, algorithm))


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
