"""Direct convolution: a sum over kernel taps of strided input slices times channel mixing.

No buffer beyond one input-sized slice and the accumulator; the fastest path when each
output reads few input channels (depthwise and other narrow groups), where a column
matrix would be mostly copying.
"""

from __future__ import annotations

import math
from types import ModuleType

from .. import backends
from ..spec import ConvSpec
from ._taps import kernel_taps, tap_window


def conv_direct(xp: ModuleType, x, weight, spec: ConvSpec, out_spatial: tuple[int, ...]):
    native = backends.native(xp, "conv_direct")
    if native is not None:
        result = native(x, weight, spec, out_spatial)
        if result is not None:  # None: the backend declines (not depthwise, mixed dtypes)
            return result
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
        term = patch * w if in_per_group == 1 else xp.matmul(w, patch)
        result = term if result is None else result + term
    return xp.reshape(result, (n, filters, *out_spatial))
