"""Compiled direct convolution (numba, optional): what BLAS serves badly.

Depthwise and small-group layers, and convolutions with few channels and small kernels
(an image filter, a short FIR), are a few multiply-adds per output: GEMM would have a
depth of a few dozen, the NumPy direct path streams the whole array once per tap. Here
each task computes one block of an output row: for every input channel of its group and
every tap, one multiply-add of a contiguous (or strided) run of the padded input into a
block-sized accumulator that stays in the L1 cache, which LLVM vectorizes.

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
import os
import threading

import numpy as np

from ...algorithms._taps import plane_offsets
from ._threads import workers

# outputs per task along the last axis: the accumulator stays in L1, tasks stay many
BLOCK = 2048
MIX_BLOCK = 1024  # bins per mixing task (complex): one group's blocks of x and w fit L2
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


def conv_numba(x: np.ndarray, weight: np.ndarray, spec, out_spatial) -> np.ndarray | None:
    """Direct convolution of a padded `(N, C, *S)` input: `(N, F, *out)`, or None where the
    kernel does not apply (dtypes it was not built for, mixed dtypes)."""
    if x.dtype != weight.dtype or not supports(x.dtype):
        return None
    n, channels = x.shape[0], x.shape[1]
    filters = weight.shape[0]
    spatial = x.shape[2:]
    out_spatial = tuple(out_spatial)
    y = np.empty((n, filters, *out_spatial), dtype=x.dtype)
    if y.size == 0:
        return y
    x = np.ascontiguousarray(x)
    taps = plane_offsets(spec.kernel_size, spec.dilation, spatial)
    rows = plane_offsets(out_spatial[:-1], spec.stride[:-1], spatial)
    _compiled("correlate_rows", _parallel())(
        x.reshape(n, channels, -1),
        np.ascontiguousarray(weight).reshape(filters, weight.shape[1], -1),
        y.reshape(n, filters, len(rows), out_spatial[-1]),
        np.asarray(rows, dtype=np.int64),
        np.asarray(taps, dtype=np.int64),
        spec.stride[-1],
        filters // spec.groups,
        BLOCK,
    )
    return y


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


__all__ = ["BLOCK", "MIX_BLOCK", "available", "conv_numba", "mix_spectra", "supports"]
