"""NumPy speed-ups for padding, im2col and tile assembly: `np.pad`, `sliding_window_view`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

_NUMPY_PAD_MODE = {
    "constant": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}


def pad(x: np.ndarray, pads: Sequence[tuple[int, int]], mode: str, value) -> np.ndarray:
    widths = [(0, 0)] * (x.ndim - len(pads)) + [tuple(p) for p in pads]
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=value)
    return np.pad(x, widths, mode=_NUMPY_PAD_MODE[mode])


def im2col(x: np.ndarray, kernel_size, stride, dilation, out_spatial, groups: int) -> np.ndarray:
    """Columns `(N, groups, C/groups * prod(kernel), prod(out))` of a padded `(N, C, *S)`."""
    rank = len(kernel_size)
    extent = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation, strict=True)]
    spatial_axes = tuple(range(2, 2 + rank))
    windows = sliding_window_view(x, extent, axis=spatial_axes)  # (N, C, *O_full, *extent)
    take = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_spatial, stride, strict=True))
    taps = tuple(slice(None, None, d) for d in dilation)
    windows = windows[(slice(None), slice(None), *take, *taps)]  # (N, C, *O, *k)
    order = (0, 1, *range(2 + rank, 2 + 2 * rank), *spatial_axes)
    cols = np.ascontiguousarray(windows.transpose(order))  # (N, C, *k, *O)
    n, c = x.shape[:2]
    return cols.reshape(n, groups, c // groups * math.prod(kernel_size), math.prod(out_spatial))


def assemble(shape: Sequence[int], dtype, tiles: Iterable[tuple[tuple[slice, ...], np.ndarray]]):
    """Write `(region, block)` tiles into one preallocated array."""
    out = np.empty(tuple(shape), dtype=dtype)
    for region, block in tiles:
        out[region] = block
    return out
