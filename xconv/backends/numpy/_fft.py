"""NumPy FFTs through `scipy.fft`: multithreaded pocketfft that keeps float32 in complex64."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.fft

from ._threads import workers


def rfftn(x: np.ndarray, shape: Sequence[int], axes: Sequence[int]) -> np.ndarray:
    """Real-to-complex n-d FFT over `axes`, zero-padded (or cropped) to `shape`."""
    return scipy.fft.rfftn(x, s=shape, axes=axes, workers=workers())


def irfftn(x: np.ndarray, shape: Sequence[int], axes: Sequence[int]) -> np.ndarray:
    """Inverse of `rfftn` (`overwrite_x` would allow no saving and measured slower)."""
    return scipy.fft.irfftn(x, s=shape, axes=axes, workers=workers())


def fftn(x: np.ndarray, shape: Sequence[int], axes: Sequence[int]) -> np.ndarray:
    """Complex n-d FFT over `axes`, zero-padded (or cropped) to `shape`."""
    return scipy.fft.fftn(x, s=shape, axes=axes, workers=workers())


def ifftn(x: np.ndarray, shape: Sequence[int], axes: Sequence[int]) -> np.ndarray:
    """Inverse complex n-d FFT; the spectrum is scratch and may be overwritten."""
    return scipy.fft.ifftn(x, s=shape, axes=axes, workers=workers(), overwrite_x=True)


def fast_fft_length(n: int, real: bool = True) -> int:
    """The smallest length >= `n` that pocketfft transforms quickly."""
    return scipy.fft.next_fast_len(n, real=real)


def ascontiguousarray(x: np.ndarray) -> np.ndarray:
    """`x` in C order, copied only if it is not already."""
    return np.ascontiguousarray(x)
