"""Padding of the spatial axes of a channel-first array, in every padding mode.

Non-constant modes are an index map per axis (`source_indices`) applied with `take`,
which every array-API library has; constant padding concatenates filled blocks.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

from array_api_compat import device

from . import backends

Pair = tuple[int, int]

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


def pad(xp: ModuleType, x, pads: Sequence[Pair], mode: str = "constant", value=0):
    """Pad the trailing `len(pads)` axes of `x` by `(before, after)` pairs.

    Widths must already be valid for `mode` (see `check_padding_widths`).
    """
    if not any(p for pair in pads for p in pair):
        return x
    native_pad = backends.native(xp, "pad")
    if native_pad is not None:
        return native_pad(x, pads, mode, value)
    first = x.ndim - len(pads)
    for axis, (before, after) in enumerate(pads, start=first):
        if before == after == 0:
            continue
        if mode == "constant":
            x = _pad_constant(xp, x, axis, before, after, value)
        else:
            index = source_indices(x.shape[axis], before, after, mode)
            x = xp.take(x, xp.asarray(index, dtype=xp.int64, device=device(x)), axis=axis)
    return x


def _pad_constant(xp: ModuleType, x, axis: int, before: int, after: int, value):
    def block(width: int):
        shape = (*x.shape[:axis], width, *x.shape[axis + 1 :])
        return xp.full(shape, value, dtype=x.dtype, device=device(x))

    return xp.concat([block(before), x, block(after)], axis=axis)
