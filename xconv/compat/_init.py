"""Random weight draws shared by the dialects' initializers (NumPy, float32 by default).

The dialects differ in how they count fan-in and fan-out and in which distribution they
name; the draws themselves are these few. All take a `numpy.random.Generator`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Shape = Sequence[int]

# std of a standard normal truncated to [-2, 2]: Keras divides by it so that the truncated
# draw keeps the requested standard deviation
TRUNCATED_NORMAL_STD = 0.87962566103423978


def uniform(rng: np.random.Generator, shape: Shape, low: float, high: float, dtype="float32"):
    """Independent draws from U[low, high)."""
    return rng.uniform(low, high, size=tuple(shape)).astype(dtype)


def normal(rng: np.random.Generator, shape: Shape, std: float, mean: float = 0.0, dtype="float32"):
    """Independent draws from N(mean, std^2)."""
    return (mean + std * rng.standard_normal(size=tuple(shape))).astype(dtype)


def truncated_normal(
    rng: np.random.Generator, shape: Shape, std: float, mean: float = 0.0, dtype="float32"
):
    """N(mean, std^2) draws conditioned on lying within two `std` of the mean."""
    size = math.prod(shape)
    out = np.empty(size)
    filled = 0
    while filled < size:  # rejection: about 95% of draws land inside [-2, 2]
        draw = rng.standard_normal(size=max(2 * (size - filled), 16))
        draw = draw[np.abs(draw) <= 2.0][: size - filled]
        out[filled : filled + draw.size] = draw
        filled += draw.size
    return (mean + std * out).reshape(tuple(shape)).astype(dtype)


def orthogonal(rng: np.random.Generator, shape: Shape, gain: float = 1.0, dtype="float32"):
    """A (semi-)orthogonal matrix over `(prod(shape[:-1]), shape[-1])`, reshaped to `shape`.

    QR of a standard normal matrix, signs fixed by the diagonal of R so the result is
    uniformly (Haar) distributed; rows are orthonormal when there are fewer rows.
    """
    if len(shape) < 2:
        raise ValueError(
            f"The tensor to initialize must be at least two-dimensional. Received: "
            f"shape={tuple(shape)} of rank {len(shape)}."
        )
    rows, cols = math.prod(shape[:-1]), shape[-1]
    a = rng.standard_normal(size=(max(rows, cols), min(rows, cols)))
    q, r = np.linalg.qr(a)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return (gain * q).reshape(tuple(shape)).astype(dtype)


def glorot_uniform_limit(fan_in: float, fan_out: float) -> float:
    """Half-width of the uniform law with variance 2 / (fan_in + fan_out)."""
    return math.sqrt(6.0 / (fan_in + fan_out))


def constant(shape: Shape, value: float, dtype="float32"):
    return np.full(tuple(shape), value, dtype=dtype)
