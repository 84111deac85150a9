"""Strided views for the NumPy-like libraries (NumPy, CuPy): im2col columns and overlap-save
frames from `sliding_window_view`, with no gather. `native` is the array module."""

from __future__ import annotations

import math
from types import ModuleType


def im2col(native: ModuleType, x, kernel_size, stride, dilation, out_spatial, groups: int):
    """Columns `(N, groups, C/groups * prod(kernel), prod(out))` of a padded `(N, C, *S)`."""
    rank = len(kernel_size)
    extent = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation, strict=True)]
    spatial_axes = tuple(range(2, 2 + rank))
    windows = native.lib.stride_tricks.sliding_window_view(x, extent, axis=spatial_axes)
    take = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(out_spatial, stride, strict=True))
    taps = tuple(slice(None, None, d) for d in dilation)
    windows = windows[(slice(None), slice(None), *take, *taps)]  # (N, C, *O, *k)
    order = (0, 1, *range(2 + rank, 2 + 2 * rank), *spatial_axes)
    cols = native.ascontiguousarray(windows.transpose(order))  # (N, C, *k, *O)
    n, c = x.shape[:2]
    return cols.reshape(n, groups, c // groups * math.prod(kernel_size), math.prod(out_spatial))


def overlap_frames(native: ModuleType, x, counts, hop, frame):
    """Overlap-save frames `(n, *counts, C, *frame)` of `(n, C, *S)` as a strided view.

    The input is zero-padded (copied) only where the last frames run past its end.
    """
    rank = len(counts)
    need = [(c - 1) * h + f for c, h, f in zip(counts, hop, frame, strict=True)]
    short = [max(k - s, 0) for k, s in zip(need, x.shape[2:], strict=True)]
    if any(short):
        x = native.pad(x, [(0, 0), (0, 0), *((0, s) for s in short)])
    spatial = tuple(range(2, 2 + rank))
    windows = native.lib.stride_tricks.sliding_window_view(x, tuple(frame), axis=spatial)
    windows = windows[  # (n, C, *starts, *frame), every hop-th start
        (
            slice(None),
            slice(None),
            *(slice(0, k - f + 1, h) for k, f, h in zip(need, frame, hop, strict=True)),
        )
    ]
    return windows.transpose(0, *spatial, 1, *range(2 + rank, 2 + 2 * rank))
