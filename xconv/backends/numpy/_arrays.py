"""NumPy speed-ups for padding and tile assembly (`np.pad`, one preallocated result)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence

import numpy as np

from ...padding import NUMPY_PAD_MODES
from . import _scratch
from ._threads import copyto


def pad(x: np.ndarray, pads: Sequence[tuple[int, int]], mode: str, value) -> np.ndarray:
    """Pad the trailing axes, keeping a channel-last memory layout channel-last.

    A `(N, C, *S)` view of channel-last data (what `channels_last=True` gives the core)
    is padded as `(N, *S, C)` and handed back as a view again, so the paths that work
    channel-last (GEMM, depthwise) need no transposing copy.
    """
    if x.ndim >= 3 and not x.flags.c_contiguous and np.moveaxis(x, 1, -1).flags.c_contiguous:
        moved = np.moveaxis(x, 1, -1)
        widths = [(0, 0)] + [tuple(p) for p in pads] + [(0, 0)]
        return np.moveaxis(_pad(moved, widths, mode, value), -1, 1)
    return _pad(x, [(0, 0)] * (x.ndim - len(pads)) + [tuple(p) for p in pads], mode, value)


def pad_for_run(
    x: np.ndarray, pads, mode: str, value, layout: str, buffer: str = "padded input"
) -> np.ndarray | None:
    """`(N, C, *S)` x padded in one copy into this thread's reused `buffer` laid out as
    `layout` ("channels_first" or "channels_last"), returned as a canonical view; x
    itself where it is already laid out so and not padded; None for the modes that
    `np.pad` serves (the caller pads as usual).

    A fresh padded array costs a page fault per 4 KiB on its first write, and a GEMM
    that works channel-last would copy it once more: here both are gone.
    """
    if mode != "constant" or x.ndim < 3:
        return None
    widths = [(0, 0)] * (x.ndim - len(pads)) + [tuple(p) for p in pads]
    source = x
    if layout == "channels_last":
        source, widths = np.moveaxis(x, 1, -1), [widths[0], *widths[2:], widths[1]]
    if source.flags.c_contiguous and not any(p for pair in widths for p in pair):
        return x
    shape = tuple(
        n + before + after for n, (before, after) in zip(source.shape, widths, strict=True)
    )
    padded = _scratch.empty(buffer, shape, x.dtype)
    _fill_constant(padded, source, widths, value)
    return np.moveaxis(padded, -1, 1) if layout == "channels_last" else padded


def _pad(x: np.ndarray, widths: list, mode: str, value) -> np.ndarray:
    if mode != "constant":
        return np.pad(x, widths, mode=NUMPY_PAD_MODES[mode])
    shape = tuple(n + before + after for n, (before, after) in zip(x.shape, widths, strict=True))
    out = np.empty(shape, dtype=x.dtype)
    _fill_constant(out, x, widths, value)
    return out


def _fill_constant(out: np.ndarray, x: np.ndarray, widths: list, value) -> None:
    """np.pad's constant mode into `out`, minus its generality: the borders, then the middle."""
    shape = out.shape
    middle = tuple(slice(b, b + n) for n, (b, _) in zip(x.shape, widths, strict=True))
    for axis, (before, after) in enumerate(widths):
        lead = middle[:axis]
        if before:
            out[(*lead, slice(0, before))] = value
        if after:
            out[(*lead, slice(shape[axis] - after, None))] = value
    copyto(out[middle], x)


def assemble(shape: Sequence[int], dtype, tiles: Iterable[tuple[tuple[slice, ...], np.ndarray]]):
    """Write `(region, block)` tiles into one preallocated array."""
    out = np.empty(tuple(shape), dtype=dtype)
    for region, block in tiles:
        out[region] = block
    return out


def assemble_frames(shape: Sequence[int], dtype, tiles, block: Sequence[int]) -> np.ndarray:
    """`Backend.assemble_frames`: the valid outputs of overlap-save frames written straight
    into one preallocated array (one copy; joining the frames first would be two).

    Per dimension a region holds whole frames and perhaps a cut last one, so each tile is
    written in at most `2**rank` pieces, each a strided copy of `(n, F, *counts, *block)`.
    """
    out = np.empty(tuple(shape), dtype=dtype)
    rank = len(block)
    for region, frames in tiles:
        target = out[region]  # (n, F, *sizes)
        choices = [_frame_pieces(size, b) for size, b in zip(target.shape[2:], block, strict=True)]
        for pieces in itertools.product(*choices):
            source = frames[
                (slice(None), *(p[0] for p in pieces), slice(None), *(p[1] for p in pieces))
            ]  # (n, *counts, F, *lengths) -> (n, F, c1, l1, c2, l2, ...)
            source = source.transpose(
                0, rank + 1, *(i for d in range(rank) for i in (1 + d, rank + 2 + d))
            )
            part = target[(slice(None), slice(None), *(p[2] for p in pieces))]
            copyto(_split_axes(part, source.shape), source)
    return out


def _frame_pieces(size: int, block: int) -> list[tuple[slice, slice, slice]]:
    """(frames, outputs per frame, output range) of the whole frames and the cut last one."""
    whole, rest = divmod(size, block)
    pieces = []
    if whole:
        pieces.append((slice(0, whole), slice(0, block), slice(0, whole * block)))
    if rest:
        pieces.append((slice(whole, whole + 1), slice(0, rest), slice(whole * block, size)))
    return pieces


def _split_axes(view: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """`view` `(n, F, *(c * l))` seen as `(n, F, c1, l1, c2, l2, ...)`, always a view (a
    reshape could copy, and the writes would be lost)."""
    strides = list(view.strides[:2])
    for axis, length in zip(range(2, view.ndim), shape[3::2], strict=True):
        strides += [view.strides[axis] * length, view.strides[axis]]
    return np.lib.stride_tricks.as_strided(view, shape=tuple(shape), strides=strides)
