"""Helpers shared by the peer modules."""

from __future__ import annotations

import numpy as np

from ..cases import Case


class Unsupported(Exception):
    """The framework cannot express this case; the message says why."""


def activate(case: Case, y: np.ndarray) -> np.ndarray:
    """Apply the case's activation (the golden Keras example uses relu)."""
    if case.activation in (None, "linear"):
        return y
    if case.activation == "relu":
        return np.maximum(y, 0)
    raise Unsupported(f"activation {case.activation!r}")


def spatial_letters(rank: int) -> str:
    """Axis letters for `rank` spatial dimensions, as lax and ONNX-style specs want."""
    return "HWD"[:rank] if rank <= 3 else "".join(chr(ord("a") + i) for i in range(rank))


def dilate_kernel(weight: np.ndarray, dilation: tuple[int, ...]) -> np.ndarray:
    """Insert `d - 1` zeros between taps along each trailing spatial axis."""
    rank = len(dilation)
    spatial = weight.shape[-rank:]
    extent = tuple((k - 1) * d + 1 for k, d in zip(spatial, dilation, strict=True))
    out = np.zeros((*weight.shape[:-rank], *extent), dtype=weight.dtype)
    out[(..., *(slice(None, None, d) for d in dilation))] = weight
    return out


def require(condition: bool, reason: str) -> None:
    if not condition:
        raise Unsupported(reason)


def enable_x64(on: bool):
    """JAX's scoped 64-bit switch (`jax.enable_x64`, `jax.experimental.enable_x64` before)."""
    import jax

    switch = getattr(jax, "enable_x64", None)
    if switch is None:
        from jax.experimental import enable_x64 as switch
    return switch(on)
