"""Padding of the spatial axes of a channel-first array, in every padding mode.

Non-constant modes are an index map per axis (`source_indices`); the backends apply it
(`Backend.pad`: `take` in every array-API library, `np.pad` on NumPy).
"""

from __future__ import annotations

from collections.abc import Sequence

Pair = tuple[int, int]

# xconv's padding modes by the names `numpy.pad` gives them (as do `cupy.pad` and
# `keras.ops.pad`)
NUMPY_PAD_MODES = {
    "constant": "constant",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "replicate": "edge",
    "circular": "wrap",
}

# the widest padding each mode can take from an axis of n samples, per side
_MAX_WIDTH = {
    "reflect": lambda n: n - 1,
    "symmetric": lambda n: n,
    "circular": lambda n: n,
    "replicate": lambda n: None if n == 0 else float("inf"),
}


def check_padding_widths(spatial: Sequence[int], pads: Sequence[Pair], mode: str) -> None:
    """Raise ValueError if `mode` cannot produce `pads` from an input of size `spatial`."""
    if mode == "constant":
        return
    for axis, (n, pair) in enumerate(zip(spatial, pads, strict=True)):
        widest = _MAX_WIDTH[mode](n)
        if max(pair) > 0 and (widest is None or max(pair) > widest):
            limit = "no samples" if widest is None else f"at most {widest} per side"
            raise ValueError(
                f"padding {pair} in spatial dimension {axis} is too wide for padding_mode="
                f"{mode!r} on an input of size {n} ({limit})"
            )


def source_indices(n: int, before: int, after: int, mode: str) -> list[int]:
    """For each position of the padded axis, the input index it copies."""

    def source(i: int) -> int:
        if 0 <= i < n:
            return i
        if mode == "replicate":
            return min(max(i, 0), n - 1)
        if mode == "circular":
            return i % n
        if mode == "reflect":  # mirror about the edge sample, excluding it
            return -i if i < 0 else 2 * (n - 1) - i
        if mode == "symmetric":  # mirror about the edge, repeating the edge sample
            return -i - 1 if i < 0 else 2 * n - 1 - i
        raise ValueError(f"unknown padding_mode {mode!r}")

    return [source(i) for i in range(-before, n + after)]
