"""The NumPy backend: BLAS and `scipy.fft` on every core, strided views, reused scratch.

Imported only when the caller's arrays are NumPy arrays (`xconv.backends.backend_for`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import numpy as np

from ...config import get_thread_limit
from .. import _strided
from ..generic import Backend
from . import _arrays, _fft, _numba, _transposed
from ._algorithms import ALGORITHMS
from ._blas import blas_threads
from ._costs import COSTS


class NumPyBackend(Backend):
    """NumPy arrays on the CPU. Every primitive keeps the caller's dtype."""

    name = "numpy"
    costs = COSTS
    algorithms = ALGORITHMS
    keeps_prepared_weights = True

    def threads(self) -> object:
        """The thread limit and BLAS's threads (a caller's `threadpoolctl` limit changes
        what the BLAS products cost against the other routes)."""
        return get_thread_limit(), blas_threads()

    def _pad(self, x, pads, mode: str, value):
        return _arrays.pad(x, pads, mode, value)

    def pad_for_run(self, x, pads, mode: str, value, layout: str | None, buffer="padded input"):
        if layout == "unpadded" and mode == "constant":
            return x  # the run pads it itself (the numba plane kernel, task by task)
        padded = None
        if layout is not None:
            padded = _arrays.pad_for_run(x, pads, mode, value, layout, buffer)
        return self.pad(x, pads, mode, value) if padded is None else padded

    def im2col(self, x, spec, out_spatial):
        return _strided.im2col(
            np, x, spec.kernel_size, spec.stride, spec.dilation, out_spatial, spec.groups
        )

    def assemble(self, shape, dtype, tiles):
        return _arrays.assemble(shape, dtype, tiles)

    def assemble_frames(self, shape, dtype, tiles, block):
        return _arrays.assemble_frames(shape, dtype, tiles, block)

    def rfftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return _fft.rfftn(x, shape, axes)

    def irfftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return _fft.irfftn(x, shape, axes)

    def fftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return _fft.fftn(x, shape, axes)

    def ifftn(self, x, shape: Sequence[int], axes: Sequence[int]):
        return _fft.ifftn(x, shape, axes)

    def fast_length(self, complex_: bool):
        return _fast_length(complex_)

    def overlap_frames(self, x, counts, hop, frame):
        return _strided.overlap_frames(np, x, counts, hop, frame)

    def max_abs(self, a) -> float:
        if a.size == 0:
            return 0.0
        if np.iscomplexobj(a):
            return float(np.max(np.abs(a)))
        return float(max(np.max(a), -np.min(a)))  # two reductions, no temporary

    def contiguous(self, x):
        return _fft.ascontiguousarray(x)

    def interleave(self, blocks: list, stride: Sequence[int]):
        return _transposed.interleave(blocks, stride)

    def assemble_phases(self, shape, dtype, tiles, stride):
        return _transposed.assemble_phases(shape, dtype, tiles, stride)

    def scratch_matmul(self, a, b):
        return _transposed.scratch_matmul(a, b)

    def multiply_scratch(self, a, b):
        """In place where the product has `a`'s shape and dtype (no fresh array to fault
        in: a spectrum is megabytes)."""
        fits = np.result_type(a, b) == a.dtype and np.broadcast_shapes(a.shape, b.shape) == a.shape
        return np.multiply(a, b, out=a) if fits and a.flags.writeable else a * b

    @property
    def compiled_mixing(self) -> bool:
        return _numba.available()

    def mix_channels(self, spectra, weight_spectra):
        return _numba.mix_spectra(spectra, weight_spectra)

    def sum_of(self, terms: list):
        return terms[0] if len(terms) == 1 else _transposed.sum_of(terms)


@functools.cache
def _fast_length(complex_: bool):
    """scipy's fast lengths, one object per kind (it keys the FFT geometry cache)."""
    return functools.partial(_fft.fast_fft_length, real=not complex_)


__all__ = ["NumPyBackend"]
