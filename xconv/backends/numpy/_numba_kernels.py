"""The compiled kernels of `_numba` (this module imports numba: load it only when present).

One task is one block of an output row (or of the frequency bins, for the FFT path's
channel mixing); the parallel and serial drivers share it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, nogil=True, boundscheck=False, fastmath={"contract"})
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


@njit(cache=True, nogil=True, boundscheck=False, fastmath={"contract"})
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


@njit(cache=True, nogil=True, boundscheck=False, fastmath={"contract"})
def _plane_task(x, w, y, in_rows, pad_rows, taps, out_rows, geometry, value, task):
    """Every output plane of one group of one image, at stride 1.

    The group's input planes are padded into a local buffer (`value` around them), then
    the filters' planes are computed "wide", two filters at a time: one run over the
    padded rows per tap feeds both accumulators (a load shared by two multiply-adds), the
    extra positions at the ends of rows computed and dropped, so a tap costs one loop over
    the plane rather than one per output row.
    """
    width_in, width_out, padded_size, wide, filters_per_group = geometry
    per_group, taps_count = w.shape[1], w.shape[2]
    groups = w.shape[0] // filters_per_group
    j = task % groups
    i = task // groups
    planes = np.full((per_group, padded_size), value, dtype=x.dtype)
    for c in range(per_group):
        for r in range(in_rows.shape[0]):  # plain loops: a slice per short row cost more
            a, b = pad_rows[r], in_rows[r]
            for q in range(width_in):
                planes[c, a + q] = x[i, j * per_group + c, b + q]
    first = j * filters_per_group
    for k in range(0, filters_per_group - 1, 2):
        f = first + k
        acc0 = np.zeros(wide, dtype=y.dtype)  # fresh locals: no aliasing, LLVM vectorizes
        acc1 = np.zeros(wide, dtype=y.dtype)
        for c in range(per_group):
            plane = planes[c]
            for t in range(taps_count):
                w0, w1 = w[f, c, t], w[f + 1, c, t]
                run = plane[taps[t] : taps[t] + wide]
                for q in range(wide):
                    v = run[q]
                    acc0[q] += w0 * v
                    acc1[q] += w1 * v
        _scatter_rows(acc0, y[i, f], out_rows, width_out)
        _scatter_rows(acc1, y[i, f + 1], out_rows, width_out)
    if filters_per_group % 2:
        f = first + filters_per_group - 1
        acc = np.zeros(wide, dtype=y.dtype)
        for c in range(per_group):
            plane = planes[c]
            for t in range(taps_count):
                weight = w[f, c, t]
                run = plane[taps[t] : taps[t] + wide]
                for q in range(wide):
                    acc[q] += weight * run[q]
        _scatter_rows(acc, y[i, f], out_rows, width_out)


@njit(cache=True, nogil=True, boundscheck=False)
def _scatter_rows(acc, out, out_rows, width_out):
    """The output rows of a wide accumulator (its row ends dropped)."""
    for r in range(out_rows.shape[0]):
        a, b = r * width_out, out_rows[r]
        for q in range(width_out):
            out[a + q] = acc[b + q]


@njit(cache=True, parallel=True, nogil=True)
def correlate_planes_parallel(x, w, y, in_rows, pad_rows, taps, out_rows, geometry, value):
    tasks = x.shape[0] * (w.shape[0] // geometry[4])
    for task in prange(tasks):
        _plane_task(x, w, y, in_rows, pad_rows, taps, out_rows, geometry, value, task)


@njit(cache=True, nogil=True)
def correlate_planes_serial(x, w, y, in_rows, pad_rows, taps, out_rows, geometry, value):
    tasks = x.shape[0] * (w.shape[0] // geometry[4])
    for task in range(tasks):
        _plane_task(x, w, y, in_rows, pad_rows, taps, out_rows, geometry, value, task)
