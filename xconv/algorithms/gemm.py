"""GEMM convolution: im2col plus one batched matmul over groups, in memory-bounded tiles.

The column matrix holds `C * prod(kernel)` values per output position, which for a big
input is far larger than the input itself; the output is therefore computed in tiles of
(batch, output positions) whose column buffer fits the workspace limit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from types import ModuleType

from .. import backends
from .._arrays import itemsize
from ..config import get_workspace_limit
from ..spec import ConvSpec
from ._taps import kernel_taps, tap_window


def conv_gemm(xp: ModuleType, x, weight, spec: ConvSpec, out_spatial: tuple[int, ...]):
    native = backends.native(xp, "conv_gemm")
    if native is not None:
        result = native(x, weight, spec, out_spatial)
        if result is not None:  # None: the backend declines (dtype, empty sizes)
            return result
    n, channels = x.shape[0], x.shape[1]
    filters, groups = weight.shape[0], spec.groups
    taps = math.prod(spec.kernel_size)
    w = xp.reshape(weight, (groups, filters // groups, channels // groups * taps))
    bytes_per_position = channels * taps * itemsize(xp, x.dtype)
    tile_shape = plan_tiles((n, *out_spatial), bytes_per_position, get_workspace_limit())

    def tiles() -> Iterator[tuple[tuple[slice, ...], object]]:
        for region in tile_regions((n, *out_spatial), tile_shape):
            batch, out_region = region[0], region[1:]
            tile_out = tuple(r.stop - r.start for r in out_region)
            source = x[(batch, slice(None), *_input_window(spec, out_region))]
            cols = im2col(xp, source, spec, tile_out)  # (n, groups, C/g * taps, positions)
            block = xp.reshape(xp.matmul(w, cols), (source.shape[0], filters, *tile_out))
            yield (batch, slice(None), *out_region), block

    return assemble(xp, (n, filters, *out_spatial), x.dtype, tiles())


def plan_tiles(shape: Sequence[int], bytes_per_item: int, limit: int) -> tuple[int, ...]:
    """Largest C-order tile of `shape` whose items fit `limit` bytes (at least one item).

    Trailing axes are kept whole as long as they fit, so tiles stay contiguous slabs.
    """
    budget = max(limit // max(bytes_per_item, 1), 1)
    tile = []
    for size in reversed(shape):
        take = min(size, budget) if size else size
        tile.append(max(take, 1) if size else 0)
        budget = max(budget // max(size, 1), 1) if take == size else 1
    return tuple(reversed(tile))


def tile_regions(shape: Sequence[int], tile: Sequence[int]) -> Iterator[tuple[slice, ...]]:
    """The slices of every tile, in C order."""
    starts = [range(0, size, step) if size else [0] for size, step in zip(shape, tile, strict=True)]
    for corner in itertools.product(*starts):
        yield tuple(
            slice(c, min(c + step, size)) for c, step, size in zip(corner, tile, shape, strict=True)
        )


def im2col(xp: ModuleType, x, spec: ConvSpec, out_spatial: tuple[int, ...]):
    """Columns `(N, groups, C/groups * prod(kernel), prod(out))` of a padded `(N, C, *S)`."""
    native = backends.native(xp, "im2col")
    if native is not None:
        return native(x, spec.kernel_size, spec.stride, spec.dilation, out_spatial, spec.groups)
    n, channels = x.shape[0], x.shape[1]
    shape = (n, spec.groups, channels // spec.groups * math.prod(spec.kernel_size), -1)
    if all(k == 1 for k in spec.kernel_size) and all(s == 1 for s in spec.stride):
        return xp.reshape(x, shape)  # a 1x1 convolution's columns are the input itself
    everything = (slice(None), slice(None))
    patches = [
        x[(*everything, *tap_window(tap, spec.stride, spec.dilation, out_spatial))]
        for tap in kernel_taps(spec.kernel_size)
    ]
    return xp.reshape(xp.stack(patches, axis=2), shape)  # (N, C, taps, *out) -> columns


def assemble(xp: ModuleType, shape, dtype, tiles: Iterator[tuple[tuple[slice, ...], object]]):
    """Join `(region, block)` tiles, produced in C order, into one array of `shape`."""
    native = backends.native(xp, "assemble")
    if native is not None:
        return native(shape, dtype, tiles)
    tiles = list(tiles)
    if len(tiles) == 1:
        return tiles[0][1]
    return _concat_grid(xp, tiles, axis=0)


def _concat_grid(xp: ModuleType, tiles: list, axis: int):
    """Concatenate C-ordered tiles axis by axis (immutable arrays have no slice assignment)."""
    if axis == len(tiles[0][0]):
        return tiles[0][1]
    rows: list[list] = []
    for region, block in tiles:
        start = region[axis].start or 0
        if not rows or start != rows[-1][0]:
            rows.append([start, []])
        rows[-1][1].append((region, block))
    parts = [_concat_grid(xp, group, axis + 1) for _, group in rows]
    return parts[0] if len(parts) == 1 else xp.concat(parts, axis=axis)


def _input_window(spec: ConvSpec, out_region: Sequence[slice]) -> tuple[slice, ...]:
    """Input slices the outputs of `out_region` read from."""
    return tuple(
        slice(r.start * s, (r.stop - 1) * s + extent)
        for r, s, extent in zip(out_region, spec.stride, spec.dilated_kernel, strict=True)
    )
