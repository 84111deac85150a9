"""Direct convolution: a sum over kernel taps of strided input slices times channel mixing.

No buffer beyond one input-sized slice and the accumulator; the fastest path when each
output reads few input channels (depthwise and other narrow groups), where a column
matrix would be mostly copying.
"""

from __future__ import annotations

import math

from ..spec import ConvSpec
from ._taps import kernel_taps, tap_window
from .base import Algorithm, Estimate, Problem
from .gemm import matmul_ns


def estimate_direct(backend, problem: Problem) -> Estimate:
    """Per tap a strided patch copy, a product and an accumulation (see `CostModel`)."""
    costs, spec = backend.costs, problem.spec
    n, channels, filters = problem.batch, problem.channels, problem.filters
    positions = math.prod(problem.out_spatial)
    taps = math.prod(spec.kernel_size)
    slow, item = problem.slowdown, problem.item_bytes
    patch, result = n * channels * positions, n * filters * positions
    per_tap = patch * costs.copy_ns + result * costs.elementwise_ns
    if channels // spec.groups == 1:
        per_tap += result * costs.elementwise_ns * (4 if problem.complex else 1)
        if (patch + 2 * result) * item <= costs.cache_bytes:  # one tap's arrays stay in cache
            per_tap *= costs.in_cache
        products = 0.0
    else:
        real_flops = problem.flops * (4 if problem.complex else 1)
        products = matmul_ns(costs, real_flops, taps * (patch + result), slow)
    nanoseconds = taps * (per_tap * slow + costs.direct_call_ns) + products
    workspace = n * (channels + 2 * filters) * positions * item
    return Estimate(nanoseconds * 1e-9, problem.flops, workspace, {"taps": taps})


def conv_direct(backend, x, weight, spec: ConvSpec, out_spatial: tuple[int, ...], estimate=None):
    """Forward correlation of a padded `(N, C, *S)` input, one kernel tap at a time."""
    xp = backend.xp
    n, channels = x.shape[0], x.shape[1]
    filters, groups = weight.shape[0], spec.groups
    in_per_group, out_per_group = channels // groups, filters // groups
    positions = math.prod(out_spatial)
    everything = (slice(None), slice(None))
    result = None
    for tap in kernel_taps(spec.kernel_size):
        window = tap_window(tap, spec.stride, spec.dilation, out_spatial)
        patch = xp.reshape(x[(*everything, *window)], (n, groups, in_per_group, positions))
        w = xp.reshape(weight[(*everything, *tap)], (groups, out_per_group, in_per_group))
        # depthwise: a broadcast multiply beats a matmul of depth one
        term = patch * w if in_per_group == 1 else backend.matmul(w, patch)
        result = term if result is None else result + term
    return xp.reshape(result, (n, filters, *out_spatial))


DIRECT = Algorithm("direct", estimate_direct, conv_direct)
