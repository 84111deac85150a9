"""NumPy FFTs through `scipy.fft`: multithreaded pocketfft that keeps float32 in complex64."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import scipy.fft

# every core this process may run on (os.cpu_count() ignores affinity masks)
_WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def rfftn(x: np.ndarray, shape: Sequence[int], axes: Sequence[int]) -> np.ndarray:
    """Real-to-complex n-d FFT over `axes`, zero-padded (or cropped) to `shape`."""
    return scipy.fft.rfftn(x, s=shape, axes=axes, workers=_WORKERS)


def irfftn(x: np.ndarray, shape: Sequence[int], axes: Sequence[int]) -> np.ndarray:
    """Inverse of `rfftn`; the spectrum is scratch and may be overwritten."""
    return scipy.fft.irfftn(x, s=shape, axes=axes, workers=_WORKERS, overwrite_x=True)


def fftn(x: np.ndarray, shape: Sequence[int], axes: Sequence[int]) -> np.ndarray:
    """Complex n-d FFT over `axes`, zero-padded (or cropped) to `shape`."""
    return scipy.fft.fftn(x, s=shape, axes=axes, workers=_WORKERS)


def ifftn(x: np.ndarray, shape: Sequence[int], axes: Sequence[int]) -> np.ndarray:
    """Inverse complex n-d FFT; the spectrum is scratch and may be overwritten."""
    return scipy.fft.ifftn(x, s=shape, axes=axes, workers=_WORKERS, overwrite_x=True)


def fast_fft_length(n: int, real: bool = True) -> int:
    """The smallest length >= `n` that pocketfft transforms quickly."""
    return scipy.fft.next_fast_len(n, real=real)
