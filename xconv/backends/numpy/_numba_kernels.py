"""The compiled kernels of `_numba` (this module imports numba: load it only when present).

One task is one block of an output row (or of the frequency bins, for the FFT path's
channel mixing); the parallel and serial drivers share it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True, boundscheck=False)
def _row_block(x, w, y, row_offsets, tap_offsets, step, filters_per_group, block, task):
    """Outputs `[first, first + block)` of one row of one output plane."""
    _, filters, rows, width = y.shape
    per_group, taps = w.shape[1], w.shape[2]
    blocks = (width + block - 1) // block
    b = task % blocks
    r = (task // blocks) % rows
    f = (task // (blocks * rows)) % filters
    i = task // (blocks * rows * filters)
    first = b * block
    count = min(block, width - first)
    channel0 = (f // filters_per_group) * per_group
    acc = np.zeros(count, dtype=y.dtype)  # a fresh local: no aliasing, so LLVM vectorizes
    origin = row_offsets[r] + first * step
    for c in range(per_group):
        plane = x[i, channel0 + c]
        for t in range(taps):
            weight = w[f, c, t]
            start = origin + tap_offsets[t]
            if step == 1:
                run = plane[start : start + count]
                for j in range(count):
                    acc[j] += weight * run[j]
            else:
                for j in range(count):
                    acc[j] += weight * plane[start + j * step]
    y[i, f, r, first : first + count] = acc


@njit(cache=True, parallel=True, nogil=True)
def correlate_rows_parallel(x, w, y, row_offsets, tap_offsets, step, filters_per_group, block):
    images, filters, rows, width = y.shape
    for task in prange(images * filters * rows * ((width + block - 1) // block)):
        _row_block(x, w, y, row_offsets, tap_offsets, step, filters_per_group, block, task)


@njit(cache=True, nogil=True)
def correlate_rows_serial(x, w, y, row_offsets, tap_offsets, step, filters_per_group, block):
    images, filters, rows, width = y.shape
    for task in range(images * filters * rows * ((width + block - 1) // block)):
        _row_block(x, w, y, row_offsets, tap_offsets, step, filters_per_group, block, task)


@njit(cache=True, nogil=True, boundscheck=False)
def _mix_block(x, w, y, block, task):
    """Bins `[first, first + block)` of every filter of one group of one frame."""
    _, groups, per_group, bins = x.shape
    filters = w.shape[1]
    blocks = (bins + block - 1) // block
    b = task % blocks
    j = (task // blocks) % groups
    i = task // (blocks * groups)
    first = b * block
    count = min(block, bins - first)
    for f in range(filters):
        acc = np.zeros(count, dtype=y.dtype)
        for c in range(per_group):
            xs = x[i, j, c, first : first + count]
            ws = w[j, f, c, first : first + count]
            for k in range(count):
                acc[k] += xs[k] * ws[k]
        y[i, j, f, first : first + count] = acc


@njit(cache=True, parallel=True, nogil=True)
def mix_spectra_parallel(x, w, y, block):
    frames, groups, _, bins = x.shape
    for task in prange(frames * groups * ((bins + block - 1) // block)):
        _mix_block(x, w, y, block, task)


@njit(cache=True, nogil=True)
def mix_spectra_serial(x, w, y, block):
    frames, groups, _, bins = x.shape
    for task in range(frames * groups * ((bins + block - 1) // block)):
        _mix_block(x, w, y, block, task)
