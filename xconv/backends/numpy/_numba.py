"""Compiled direct convolution (numba, optional): what BLAS serves badly.

Depthwise and small-group layers, and convolutions with few channels and small kernels
(an image filter, a short FIR), are a few multiply-adds per output: GEMM would have a
depth of a few dozen, the NumPy direct path streams the whole array once per tap. Two
kernels, both vectorized by LLVM:

- planes (stride 1, enough images times groups to share out): a task takes one group of
  one image, pads the group's input planes into a local buffer in its own cache (constant
  padding never makes a padded copy of the whole input), and computes each filter's plane
  "wide", as one run over the padded plane per input channel and tap, dropping the row
  ends: 2-3x faster than the row kernel plus a padded copy on depthwise and 4-channel
  groups (measured), no faster than BLAS beyond about 16 channels per group.
- rows (strides, or few planes): a task computes one block of an output row: for every
  input channel of its group and every tap, one multiply-add of a contiguous (or strided)
  run of the padded input into a block-sized accumulator that stays in the L1 cache.

The kernel is compiled by numba on first use and cached on disk (`cache=True`), so a
one-shot command pays the compilation once per machine, not per run. Without numba
(`pip install "xconv[numba]"`) `available()` is False and the planner never routes here.
Tasks run on numba's threads in the main thread (as many as `xconv`'s worker count); from
any other thread (a Dask worker, a user's pool) the serial build runs, since numba's
default threading layer does not take concurrent parallel launches.
"""

from __future__ import annotations

import functools
import importlib.util
import math
import os
import threading

import numpy as np

from ...algorithms._taps import plane_offsets
from ._arrays import pad
from ._threads import workers

# outputs per task along the last axis: the accumulator stays in L1, tasks stay many
BLOCK = 2048
MIX_BLOCK = 1024  # bins per mixing task (complex): one group's blocks of x and w fit L2
PLANE_BYTES = 1 << 20  # a plane task's padded input planes and accumulator: within L2
DTYPES = ("float32", "float64", "complex64", "complex128")


@functools.cache
def available() -> bool:
    """Whether numba is installed (imported only when a kernel first runs) and not switched
    off by the environment variable `XCONV_NUMBA=0` (read once, at the first plan)."""
    if os.environ.get("XCONV_NUMBA", "").strip() == "0":
        return False
    return importlib.util.find_spec("numba") is not None


def supports(dtype) -> bool:
    return available() and np.dtype(dtype).name in DTYPES


def conv_numba(
    x: np.ndarray, weight: np.ndarray, spec, out_spatial, planes: bool, padding=None, value=0
) -> np.ndarray | None:
    """Direct convolution: `(N, F, *out)`, or None where the kernel does not apply (dtypes
    it was not built for, mixed dtypes).

    `planes` (the plan's `uses_planes`) runs the plane kernel, else the row kernel. `x` is
    the padded `(N, C, *S)` input, or with `padding` (`(before, after)` pairs) the
    unpadded one, to be padded with the constant `value`: the plane kernel pads each
    task's planes in its own cache, the row kernel gets a padded copy first.
    """
    if x.dtype != weight.dtype or not supports(x.dtype):
        return None
    n, channels = x.shape[0], x.shape[1]
    filters = weight.shape[0]
    out_spatial = tuple(out_spatial)
    y = np.empty((n, filters, *out_spatial), dtype=x.dtype)
    if y.size == 0:
        return y
    x = np.ascontiguousarray(x)
    pads = tuple(tuple(p) for p in padding) if padding is not None else ((0, 0),) * spec.rank
    padded = tuple(m + b + a for m, (b, a) in zip(x.shape[2:], pads, strict=True))
    w = np.ascontiguousarray(weight).reshape(filters, weight.shape[1], -1)
    if planes:
        _run_planes(x, w, y, spec, pads, padded, out_spatial, value)
        return y
    if padding is not None:
        x = pad(x, pads, "constant", value)
    taps = plane_offsets(spec.kernel_size, spec.dilation, padded)
    rows = plane_offsets(out_spatial[:-1], spec.stride[:-1], padded)
    _compiled("correlate_rows", _parallel())(
        x.reshape(n, channels, -1),
        w,
        y.reshape(n, filters, len(rows), out_spatial[-1]),
        np.asarray(rows, dtype=np.int64),
        np.asarray(taps, dtype=np.int64),
        spec.stride[-1],
        filters // spec.groups,
        BLOCK,
    )
    return y


def uses_planes(spec, batch: int, channels: int, padded, out_spatial, itemsize: int) -> bool:
    """Whether the plane kernel runs: stride 1, a task (one group of one image) for every
    thread twice over, and a task's padded planes and accumulator within `PLANE_BYTES`."""
    if any(s != 1 for s in spec.stride) or batch * spec.groups < 2 * workers():
        return False
    per_group = channels // spec.groups
    wide = _wide(padded, out_spatial)
    return (per_group * math.prod(padded) + wide) * itemsize <= PLANE_BYTES


def _wide(padded, out_spatial) -> int:
    """Positions of the padded plane from the first output to the last, row ends included."""
    rows = plane_offsets(out_spatial[:-1], (1,) * (len(out_spatial) - 1), padded)
    return rows[-1] + out_spatial[-1]


def _run_planes(x, w, y, spec, pads, padded, out_spatial, value) -> None:
    spatial = x.shape[2:]
    ones = (1,) * (len(spatial) - 1)
    origin = sum(b * math.prod(padded[i + 1 :]) for i, (b, _) in enumerate(pads))
    in_rows = plane_offsets(spatial[:-1], ones, spatial)
    pad_rows = [origin + r for r in plane_offsets(spatial[:-1], ones, padded)]
    taps = plane_offsets(spec.kernel_size, spec.dilation, padded)
    out_rows = plane_offsets(out_spatial[:-1], ones, padded)
    geometry = (
        spatial[-1],
        out_spatial[-1],
        math.prod(padded),
        _wide(padded, out_spatial),
        w.shape[0] // spec.groups,
    )
    n, filters = y.shape[:2]
    _compiled("correlate_planes", _parallel())(
        x.reshape(n, x.shape[1], -1),
        w,
        y.reshape(n, filters, -1),
        *(np.asarray(a, dtype=np.int64) for a in (in_rows, pad_rows, taps, out_rows)),
        geometry,
        x.dtype.type(value),
    )


def mix_spectra(x: np.ndarray, w: np.ndarray) -> np.ndarray | None:
    """The FFT path's channel mixing, `y[i, j, f] = sum_c x[i, j, c] * w[j, f, c]` over
    `(frames, groups, C/g, bins)` and `(groups, F/g, C/g, bins)` spectra, or None where
    the kernel does not apply.

    One pass per block of bins that stays in the cache: no layout copies, none of the
    per-channel temporaries of broadcast products (3-4x faster than either for a few
    channels, measured).
    """
    if x.dtype != w.dtype or x.dtype.kind != "c" or not supports(x.dtype):
        return None
    frames, groups, _, bins = x.shape
    y = np.empty((frames, groups, w.shape[1], bins), dtype=x.dtype)
    if y.size:
        mix = _compiled("mix_spectra", _parallel())
        mix(np.ascontiguousarray(x), np.ascontiguousarray(w), y, MIX_BLOCK)
    return y


def _parallel() -> bool:
    """numba's threads, as many as xconv's workers, from the main thread only."""
    threads = workers()
    parallel = threads > 1 and threading.current_thread() is threading.main_thread()
    if parallel:
        import numba

        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
    return parallel


def _compiled(name: str, parallel: bool):
    from . import _numba_kernels

    return getattr(_numba_kernels, f"{name}_{'parallel' if parallel else 'serial'}")


__all__ = [
    "BLOCK",
    "MIX_BLOCK",
    "PLANE_BYTES",
    "available",
    "conv_numba",
    "mix_spectra",
    "supports",
    "uses_planes",
]
