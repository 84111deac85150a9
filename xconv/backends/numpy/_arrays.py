"""NumPy speed-ups for padding, im2col and tile assembly: `np.pad`, `sliding_window_view`."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ._threads import copyto

_NUMPY_PAD_MODE = {
    "constant": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}


def pad(x: np.ndarray, pads: Sequence[tuple[int, int]], mode: str, value) -> np.ndarray:
    """Pad the trailing axes, keeping a channel-last memory layout channel-last.

    A `(N, C, *S)` view of channel-last data (what `channels_last=True` gives the core)
    is padded as `(N, *S, C)` and handed back as a view again, so the paths that work
    channel-last (GEMM, depthwise) need no transposing copy.
    """
    if x.ndim >= 3 and not x.flags.c_contiguous and np.moveaxis(x, 1, -1).flags.c_contiguous:
        moved = np.moveaxis(x, 1, -1)
        widths = [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)]
        return np.moveaxis(_pad(moved, widths, mode, value), -1, 1)
    return _pad(x, [(0, 0)] * (x.ndim - len(pads)) + [tuple(p) for p in pads], mode, value)


def _pad(x: np.ndarray, widths: list, mode: str, value) -> np.ndarray:
    if mode != "constant":
        return np.pad(x, widths, mode=_NUMPY_PAD_MODE[mode])
    # np.pad's constant mode, minus its generality: fill the borders, copy the middle
    shape = tuple(n + before + after for n, (before, after) in zip(x.shape, widths, strict=True))
    out = np.empty(shape, dtype=x.dtype)
    middle = tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, widths, strict=True))
    for axis, (before, after) in enumerate(widths):
        lead = middle[:axis]
        if before:
            out[(*lead, slice(0, before))] = value
        if after:
            out[(*lead, slice(shape[axis] - after, None))] = value
    copyto(out[middle], x)
    return out


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
