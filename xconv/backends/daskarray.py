"""The Dask backend: every operation runs block by block, each block on its own library.

A Dask array is a grid of blocks (NumPy arrays today; CuPy arrays on a GPU). Each block of
the result is one task: it reads the region of the input its windows cover, joined from
the few input blocks that region touches, and runs xconv on it, planned for that block's
shape and run by the block's backend. So the graph grows with the number of blocks, never
with the kernel, and no output is computed twice:

- `conv`: the input is padded lazily (constant padding adds constant blocks; the other
  modes copy the few samples they need, from the far side of the array for `circular`);
  output block `[o0, o1)` reads the padded region `[o0 * stride, (o1 - 1) * stride +
  extent)` (the dilated kernel's extent) and runs an unpadded `xconv.conv` on it.
- `conv_transpose`, and the input gradient of `conv`: output block `[o0, o1)` is a window
  of the adjoint of one block's worth of inputs, those whose kernel copies reach it.
- weight gradients: each output-gradient block with the input region it read gives one
  share; the shares are summed by a tree reduction.

The result's blocks follow the input's: its spatial chunk boundaries are the input's,
divided by the stride (multiplied, for a transposed convolution); batch chunks are kept.
Channels are joined into one chunk first (a group needs all its channels), and weights
and biases, small, become one block each that every task reads. Tasks are module-level
functions with picklable arguments, so they run under `dask.distributed` as well.
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
import itertools
import operator
from collections.abc import Callable, Sequence

import dask.array as da
import numpy as np
from array_api_compat import is_numpy_namespace
from dask.array.utils import meta_from_array
from dask.base import tokenize
from dask.highlevelgraph import HighLevelGraph

from .._arrays import array_namespace
from ..algorithms.fold import fold_padding
from ..algorithms.transposed import adjoint_spec, window
from ..config import thread_limit
from ..padding import source_indices
from ..spec import ConvSpec
from .generic import Backend, Declined, Delegation


class DaskBackend(Backend):
    """Dask arrays of any block type: each operation as one task per output block."""

    name = "dask"
    measurable = False  # its blocks are measured by their own backend
    plans_blocks = True  # and planned there: a forced engine runs in the blocks

    def _pad(self, x, pads, mode: str, value):
        if mode == "constant":
            return super()._pad(x, pads, mode, value)
        # the padded samples only: an index map over the whole axis would copy every block
        first = x.ndim - len(pads)
        for axis, (before, after) in enumerate(pads, start=first):
            n = x.shape[axis]
            sources = np.asarray(source_indices(n, before, after, mode), dtype=np.intp)
            pieces = [_take(x, axis, sources[:before]), x, _take(x, axis, sources[before + n :])]
            x = da.concatenate([p for p in pieces if p.shape[axis]], axis=axis)
        return x

    def delegation(self, operation: str, request, modelled) -> Delegation | None:
        """Every operation block by block, unless the arrays are empty."""
        if request.input_shape[0] == 0 or 0 in request.input_shape[2:]:
            return None  # an empty array has no blocks to run
        if 0 in request.out_spatial:
            return None
        return Delegation(
            "dask blocks",
            "one task per output block, each planned for its block's shape on the "
            "block's own backend",
        )

    def delegate(self, operation: str, call, own) -> object:
        if call.plan.algorithm != "delegated":
            return Declined("an empty array has no blocks to run")
        return _OPERATIONS[operation](call, own)


def _take(x, axis: int, index):
    return x[(slice(None),) * axis + (index,)]


# -- the four operations --------------------------------------------------------------------


def _conv(call, own):
    spec = call.spec
    x = _whole_channels(call.in_work_dtype(call.x))
    padded = call.backend.pad(x, call.padding, spec.padding_mode, spec.padding_value)
    chunks = [
        _follow(c, lambda b, s=s: -(-b // s), n)
        for c, s, n in zip(x.chunks[2:], spec.stride, call.out_spatial, strict=True)
    ]
    y = correlate(padded, *_small(call), plain(spec), chunks, call.algorithm, own)
    return call.finish(y)


def _conv_transpose(call, own):
    spec = adjoint_spec(call.spec)
    x = _whole_channels(call.in_work_dtype(call.x))
    start = [before for before, _ in call.padding]
    chunks = [
        _follow(c, lambda b, s=s, a=a: b * s - a, n)
        for c, s, a, n in zip(x.chunks[2:], spec.stride, start, call.out_spatial, strict=True)
    ]
    y = transpose(x, *_small(call), spec, start, call.out_spatial, chunks, call.algorithm, own)
    return call.finish(y)


def _conv_vjp(call, own):
    spec, pads, spatial = call.spec, call.padding, call.spatial
    x = _whole_channels(call.in_work_dtype(call.x))
    grad = _whole_channels(call.in_work_dtype(call.grad), batch=x.chunks[0])
    padded = call.backend.pad(x, pads, spec.padding_mode, spec.padding_value)
    weight, _ = _small(call)
    if spec.padding_mode == "constant":  # the padded samples are constants: only x's window
        start, size, chunks = [before for before, _ in pads], spatial, x.chunks[2:]
    else:  # all of the padded input, folded back onto the samples it copies
        start, size, chunks = [0] * spec.rank, padded.shape[2:], padded.chunks[2:]
    grad_x = transpose(grad, weight, None, plain(spec), start, size, chunks, call.algorithm, own)
    if spec.padding_mode != "constant":
        grad_x = fold_padding(call.backend, grad_x, spatial, pads, spec.padding_mode)
    grad_w = weight_gradient(padded, grad, plain(spec), call.algorithm, own)
    return call.finish_gradients(grad_x, grad_w, grad)


def _conv_transpose_vjp(call, own):
    spec, spatial = call.spec, call.spatial
    forward = adjoint_spec(spec)
    x = _whole_channels(call.in_work_dtype(call.x))
    grad = call.in_work_dtype(call.grad)
    # the full (uncropped) output gradient, over the samples the forward correlation reads
    read = [
        (n - 1) * s + e for n, s, e in zip(spatial, spec.stride, spec.dilated_kernel, strict=True)
    ]
    bounds = [(-before, r - before) for (before, _), r in zip(call.padding, read, strict=True)]
    source = _whole_channels(window(call.backend, grad, bounds), batch=x.chunks[0])
    weight, _ = _small(call)
    grad_x = correlate(source, weight, None, forward, x.chunks[2:], call.algorithm, own)
    grad_w = weight_gradient(source, x, forward, call.algorithm, own)
    return call.finish_gradients(grad_x, grad_w, grad)


_OPERATIONS = {
    "conv": _conv,
    "conv_transpose": _conv_transpose,
    "conv_vjp": _conv_vjp,
    "conv_transpose_vjp": _conv_transpose_vjp,
}


# -- blocked correlations -------------------------------------------------------------------


def correlate(source, weight, bias, spec: ConvSpec, chunks, algorithm: str, own):
    """The unpadded correlation `spec` of `source` (batch and spatial blocks, channels in
    one), with output spatial `chunks`: each output block from the source region it reads."""
    regions = _read_regions(chunks, spec)
    keys = _key(weight), _key(bias)

    def task(parts, index):
        return (_correlate_block, parts, *keys, spec, algorithm, own.correlate_block)

    small = (weight, bias)
    token = (spec, algorithm)
    return _blocked("correlate", source, regions, chunks, spec.out_channels, task, small, token)


def transpose(y, weight, bias, spec: ConvSpec, start, size, chunks, algorithm: str, own):
    """Window `[start, start + size)` of the adjoint of correlation `spec` applied to `y`,
    in output spatial `chunks`: each output block from the inputs whose copies reach it."""
    reach, offsets = [], []
    for c, s, e, a, n in zip(
        chunks, spec.stride, spec.dilated_kernel, start, y.shape[2:], strict=True
    ):
        axis_reach, axis_offsets = [], []
        for o0, o1 in _spans(c):
            low, high = a + o0, a + o1  # positions of the full adjoint
            first = max(0, -(-(low - e + 1) // s))
            last = min(n, (high - 1) // s + 1)
            first = min(first, last)  # no input reaches the block: an empty region
            axis_reach.append((first, last))
            axis_offsets.append(low - first * s)
        reach.append(axis_reach)
        offsets.append(axis_offsets)

    keys = _key(weight), _key(bias)
    spans = [_spans(c) for c in chunks]

    def task(parts, index):
        local = [axis[i] for axis, i in zip(offsets, index, strict=True)]
        shape = [axis[i][1] - axis[i][0] for axis, i in zip(spans, index, strict=True)]
        return (_transpose_block, parts, *keys, spec, local, shape, algorithm, own.transpose_block)

    channels = weight.shape[1] * spec.groups  # the correlation's input channels
    small = (weight, bias)
    token = (spec, start, algorithm)
    return _blocked("transpose", y, reach, chunks, channels, task, small, token)


def weight_gradient(padded, grad, spec: ConvSpec, algorithm: str, own):
    """The weight gradient of the unpadded correlation `spec` of `padded` whose output
    gradient is `grad` (same batch chunks): one share per `grad` block, summed."""
    grad = _whole_channels(grad, batch=padded.chunks[0])
    shares = list(_region_tasks(padded, _read_regions(grad.chunks[2:], spec)))
    name = f"xconv-weight-share-{tokenize(padded.name, grad.name, spec, algorithm)}"
    graph = {
        (name, m, *(0,) * (spec.rank + 2)): (
            _weight_share,
            parts,
            (grad.name, *index),
            spec,
            algorithm,
            own.weight_share,
        )
        for m, (index, parts) in enumerate(shares)
    }
    c = spec.in_channels // spec.groups
    shape = (spec.out_channels, c, *spec.kernel_size)
    chunks = ((1,) * len(shares), *((n,) for n in shape))
    meta = meta_from_array(padded._meta, ndim=len(shape) + 1, dtype=padded.dtype)
    layer = HighLevelGraph.from_collections(name, graph, dependencies=[padded, grad])
    return da.Array(layer, name, chunks, meta=meta).sum(axis=0)


def _read_regions(chunks, spec: ConvSpec) -> list[list[tuple[int, int]]]:
    """Per axis, the input range `[o0 * stride, (o1 - 1) * stride + extent)` each output
    chunk `[o0, o1)` of the unpadded correlation `spec` reads."""
    return [
        [(o0 * s, (o1 - 1) * s + e) for o0, o1 in _spans(c)]
        for c, s, e in zip(chunks, spec.stride, spec.dilated_kernel, strict=True)
    ]


# -- the graph ------------------------------------------------------------------------------


def _blocked(kind: str, source, regions, chunks, channels: int, task: Callable, small, token):
    """An array of blocks `(source's batch chunk, channels, *output chunk)`, block `index`
    computed by the task `task(parts, spatial index)` from the source `regions` it reads;
    `small` are the one-block arrays the tasks read, `token` what else names the result."""
    keys = [a for a in small if a is not None]
    name = f"xconv-{kind}-{tokenize(source.name, [a.name for a in keys], chunks, token)}"
    graph = {
        (name, *index): task(parts, index[2:]) for index, parts in _region_tasks(source, regions)
    }
    out_chunks = (source.chunks[0], (channels,), *chunks)
    meta = meta_from_array(source._meta, ndim=source.ndim, dtype=source.dtype)
    layer = HighLevelGraph.from_collections(name, graph, dependencies=[source, *keys])
    return da.Array(layer, name, out_chunks, meta=meta)


def _region_tasks(source, regions):
    """`(output block index, nested parts)` for every output block: the parts are slices
    of the source blocks covering the block's region `[low, high)` on each spatial axis."""
    bounds = [_bounds(c) for c in source.chunks[2:]]
    per_axis = [
        [_pieces(b, low, high) for low, high in axis]
        for b, axis in zip(bounds, regions, strict=True)
    ]
    for batch in range(len(source.chunks[0])):
        for spatial in itertools.product(*(range(len(axis)) for axis in regions)):
            pieces = [per_axis[a][i] for a, i in enumerate(spatial)]
            yield (batch, 0, *spatial), _nest(source.name, batch, pieces)


def _nest(name: str, batch: int, pieces, keys=(), cuts=()):
    """Nested lists (one level per spatial axis) of `getitem` tasks on source blocks."""
    if len(keys) == len(pieces):
        return (operator.getitem, (name, batch, 0, *keys), (slice(None), slice(None), *cuts))
    return [_nest(name, batch, pieces, (*keys, k), (*cuts, cut)) for k, cut in pieces[len(keys)]]


def _bounds(chunks: Sequence[int]) -> list[int]:
    return [0, *itertools.accumulate(chunks)]


def _pieces(bounds: list[int], low: int, high: int) -> list[tuple[int, slice]]:
    """`(block, slice within it)` covering `[low, high)`; an empty range is an empty slice
    of the block at `low` (the task still learns the blocks' library and batch size)."""
    if high <= low:
        k = min(max(bisect.bisect_right(bounds, low) - 1, 0), len(bounds) - 2)
        return [(k, slice(0, 0))]
    first = bisect.bisect_right(bounds, low) - 1
    last = bisect.bisect_left(bounds, high)
    return [
        (k, slice(max(low, bounds[k]) - bounds[k], min(high, bounds[k + 1]) - bounds[k]))
        for k in range(first, last)
    ]


def _spans(chunks: Sequence[int]) -> list[tuple[int, int]]:
    b = _bounds(chunks)
    return list(itertools.pairwise(b))


def _follow(chunks: Sequence[int], position: Callable[[int], int], size: int) -> tuple:
    """Output chunks of an axis of `size` whose boundaries follow the input's, mapped to
    output positions by `position` (clipped to the axis; empty chunks dropped)."""
    inner = [min(max(position(b), 0), size) for b in _bounds(chunks)[1:-1]]
    edges = sorted({0, size, *inner})
    return tuple(b - a for a, b in itertools.pairwise(edges))


def _whole_channels(a, batch=None):
    """`a` with all channels in one chunk (and the given batch chunks)."""
    wanted = {1: -1} if batch is None else {0: batch, 1: -1}
    if len(a.chunks[1]) == 1 and (batch is None or a.chunks[0] == tuple(batch)):
        return a
    return a.rechunk(wanted)


def _small(call):
    """The weight and bias in the compute dtype, each one block (None for no bias)."""
    return tuple(
        None if a is None else _one_block(call.in_work_dtype(a)) for a in (call.weight, call.bias)
    )


def _one_block(a):
    return a if a.numblocks == (1,) * a.ndim else a.rechunk(a.shape)


def plain(spec: ConvSpec) -> ConvSpec:
    """The correlation of `spec` without its padding or layout: what each block runs."""
    return dataclasses.replace(
        spec, padding=0, padding_mode="constant", padding_value=0.0, channels_last=False
    )


def _key(a):
    """The key of a one-block array's block (None stays None)."""
    return None if a is None else (a.name, *(0,) * a.ndim)


# -- the tasks (run on the blocks' own library, on any worker) --------------------------------


def _join(parts):
    """One array from nested lists of blocks (one level per trailing axis), each block
    copied once into place; a single block is returned as it is."""
    leaves = _leaves(parts)
    if len(leaves) == 1:
        return leaves[0]
    xp = array_namespace(*leaves)
    if is_numpy_namespace(xp):
        return np.block(parts)
    return _concat(xp, parts, axis=leaves[0].ndim - _depth(parts))


def _concat(xp, parts, axis: int):
    if not isinstance(parts, list):
        return parts
    return xp.concat([_concat(xp, p, axis + 1) for p in parts], axis=axis)


def _leaves(parts) -> list:
    return [leaf for p in parts for leaf in _leaves(p)] if isinstance(parts, list) else [parts]


def _depth(parts) -> int:
    return 1 + _depth(parts[0]) if isinstance(parts, list) else 0


def _one_thread(task: Callable) -> Callable:
    """Run a task on one thread: the scheduler runs one task per core side by side."""

    @functools.wraps(task)
    def run(*args):
        with thread_limit(1):
            return task(*args)

    return run


@_one_thread
def _correlate_block(parts, weight, bias, spec: ConvSpec, algorithm: str, run):
    return run(_join(parts), weight, bias, spec, algorithm)


@_one_thread
def _transpose_block(parts, weight, bias, spec: ConvSpec, start, size, algorithm: str, run):
    y = _join(parts)
    xp = array_namespace(y)
    shape = (y.shape[0], weight.shape[1] * spec.groups, *size)
    if 0 in y.shape[2:]:  # no input reaches this block
        z = xp.zeros(shape, dtype=y.dtype)
    else:
        z = run(y, weight, spec, start, size, algorithm)
    if bias is not None:
        z = z + xp.reshape(bias, (1, -1) + (1,) * spec.rank)
    return z


@_one_thread
def _weight_share(parts, grad, spec: ConvSpec, algorithm: str, run):
    share = run(_join(parts), grad, spec, algorithm)
    return array_namespace(share).expand_dims(share, axis=0)
