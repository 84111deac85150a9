"""GEMM convolution: im2col plus one batched matmul over groups, in memory-bounded tiles.

The column matrix holds `C * prod(kernel)` values per output position, which for a big
input is far larger than the input itself; the output is therefore computed in tiles of
(batch, output positions) whose column buffer fits the workspace limit.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence

from ..spec import ConvSpec
from .base import Algorithm, Estimate, Problem


def matmul_ns(costs, flops: float, streamed: int, slow: float) -> float:
    """BLAS time: the flops at the peak on every core plus the operands streamed through
    memory (which more cores do not speed up)."""
    peak = costs.gemm_peak * costs.blas_speedup
    return (flops / peak * 1e9 + streamed * costs.matmul_stream_ns) * slow


def estimate_gemm(backend, problem: Problem) -> Estimate:
    """im2col columns copied, one matmul per tile (see `CostModel`)."""
    costs, spec = backend.costs, problem.spec
    n, channels, filters = problem.batch, problem.channels, problem.filters
    out = problem.out_spatial
    positions = math.prod(out)
    taps = math.prod(spec.kernel_size)
    column_bytes = channels * taps * problem.item_bytes
    tile = plan_tiles((n, *out), column_bytes, problem.limit)
    tiles = math.prod(-(-s // max(t, 1)) for s, t in zip((n, *out), tile, strict=True))
    columns = n * channels * taps * positions
    real_flops = problem.flops * (4 if problem.complex else 1)
    nanoseconds = (
        columns * costs.copy_ns * problem.slowdown
        + matmul_ns(costs, real_flops, columns + n * filters * positions, problem.slowdown)
        + tiles * costs.gemm_call_ns
    )
    workspace = column_bytes * math.prod(tile)
    chunking = {"tile": tile, "tiles": tiles}
    return Estimate(nanoseconds * 1e-9, problem.flops, workspace, chunking, detail=tile)


def conv_gemm(backend, x, weight, spec: ConvSpec, out_spatial: tuple[int, ...], estimate):
    """Forward correlation of a padded `(N, C, *S)` input in the tiles `estimate` chose."""
    xp = backend.xp
    n, channels = x.shape[0], x.shape[1]
    filters, groups = weight.shape[0], spec.groups
    taps = math.prod(spec.kernel_size)
    w = xp.reshape(weight, (groups, filters // groups, channels // groups * taps))

    def tiles() -> Iterator[tuple[tuple[slice, ...], object]]:
        for region in tile_regions((n, *out_spatial), estimate.detail):
            batch, out_region = region[0], region[1:]
            tile_out = tuple(r.stop - r.start for r in out_region)
            source = x[(batch, slice(None), *input_window(spec, out_region))]
            cols = backend.im2col(source, spec, tile_out)  # (n, g, C/g * taps, positions)
            block = xp.reshape(backend.matmul(w, cols), (source.shape[0], filters, *tile_out))
            yield (batch, slice(None), *out_region), block

    return backend.assemble((n, filters, *out_spatial), x.dtype, tiles())


GEMM = Algorithm("gemm", estimate_gemm, conv_gemm)


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


def input_window(spec: ConvSpec, out_region: Sequence[slice]) -> tuple[slice, ...]:
    """Input slices the outputs of `out_region` read from."""
    return tuple(
        slice(r.start * s, (r.stop - 1) * s + extent)
        for r, s, extent in zip(out_region, spec.stride, spec.dilated_kernel, strict=True)
    )
