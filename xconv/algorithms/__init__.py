"""Convolution algorithms, each written once against the array API and a backend's primitives.

An algorithm is two functions (`Algorithm`): `estimate(backend, problem)` counts the work
of a problem from its shapes, prices it with the backend's `CostModel` and decides how to
split it (its `Estimate`: seconds, flops, workspace, chunking and the `detail` that the run
follows); `run(backend, x, weight, spec, out_spatial, estimate)` computes it. Runs take
canonical arguments only: an already padded, batched, channel-first input `(N, C, *S)` in
the compute dtype, a weight `(F, C // groups, *k)` in the same dtype, the `ConvSpec` and
the output spatial size; they return `(N, F, *O)`.

No module here imports a backend: the backend object arrives as an argument and supplies
the primitives (padding, transforms, window views, scratch, matmul).
"""

from __future__ import annotations

from types import MappingProxyType

from .base import Algorithm, Estimate, Problem
from .direct import DIRECT
from .fft import FFT
from .gemm import GEMM

# the array-API algorithms by name, which every backend starts from
GENERIC = MappingProxyType({a.name: a for a in (DIRECT, GEMM, FFT)})

__all__ = ["GENERIC", "Algorithm", "Estimate", "Problem"]
