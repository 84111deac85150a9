"""NumPy FFTs through `scipy.fft`: multithreaded pocketfft that keeps float32 in complex64."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.fft
from numpy.lib.stride_tricks import sliding_window_view

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


def overlap_frames(x: np.ndarray, counts, hop, frame) -> np.ndarray:
    """Overlap-save frames `(n, *counts, C, *frame)` of `(n, C, *S)` as a strided view.

    The input is zero-padded (copied) only where the last frames run past its end.
    """
    rank = len(counts)
    need = [(c - 1) * h + f for c, h, f in zip(counts, hop, frame, strict=True)]
    short = [max(k - s, 0) for k, s in zip(need, x.shape[2:], strict=True)]
    if any(short):
        x = np.pad(x, [(0, 0), (0, 0), *((0, s) for s in short)])
    spatial = tuple(range(2, 2 + rank))
    windows = sliding_window_view(x, tuple(frame), axis=spatial)  # (n, C, *starts, *frame)
    windows = windows[
        (
            slice(None),
            slice(None),
            *(slice(0, k - f + 1, h) for k, f, h in zip(need, frame, hop, strict=True)),
        )
    ]
    return windows.transpose(0, *spatial, 1, *range(2 + rank, 2 + 2 * rank))


def ascontiguousarray(x: np.ndarray) -> np.ndarray:
    """`x` in C order, copied only if it is not already."""
    return np.ascontiguousarray(x)
