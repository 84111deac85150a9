"""The weight gradient of a convolution: a correlation of the input with the output gradient.

    grad_w[f, c, t] = sum over n, o of grad[n, f, o] * x[n, c, o * s + t * d]

is a forward correlation with the roles swapped (batch <-> channels, the output gradient
as the kernel, stride <-> dilation) whose output is the kernel. The direct path loops
over kernel taps (one contraction over batch and positions per tap), the GEMM path
contracts im2col columns with the gradient in memory-bounded tiles, and every other
forward algorithm (FFT) runs the swapped correlation as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from types import ModuleType

from .._arrays import itemsize
from ..spec import ConvSpec
from ._taps import kernel_taps, tap_window
from .gemm import input_window, plan_tiles, tile_regions


def weight_gradient(
    backend, x, grad, spec: ConvSpec, algorithm: str, limit: int, run_forward: Callable
):
    """`(F, C/g, *k)` gradient of correlation `spec` from padded `x` `(N, C, *P)`.

    `grad` is the output gradient `(N, F, *O)`; `algorithm` a forward algorithm name;
    `limit` bounds the GEMM columns; `run_forward(x, w, spec, out_spatial)` runs the
    swapped correlation of the other algorithms (by `algorithm`).
    """
    out_spatial = tuple(grad.shape[2:])
    # the part of x that the outputs read (a padded input may have unread samples at the end)
    used = tuple(
        (o - 1) * s + (k - 1) * d + 1
        for o, s, k, d in zip(
            out_spatial, spec.stride, spec.kernel_size, spec.dilation, strict=True
        )
    )
    if tuple(x.shape[2:]) != used:
        x = x[(..., *(slice(0, u) for u in used))]
    if algorithm == "direct":
        return _direct(backend, x, grad, spec, out_spatial)
    if algorithm == "gemm":
        return _gemm(backend, x, grad, spec, out_spatial, limit)
    return _swapped_in_segments(backend, x, grad, spec, out_spatial, limit, run_forward)


def _shapes(x, grad, groups: int):
    n, channels, filters = x.shape[0], x.shape[1], grad.shape[1]
    return n, channels // groups, filters // groups


def _direct(backend, x, grad, spec: ConvSpec, out_spatial):
    xp = backend.xp
    groups = spec.groups
    n, c_per, f_per = _shapes(x, grad, groups)
    positions = math.prod(out_spatial)
    g = xp.reshape(grad, (n, groups, f_per, positions))
    everything = (slice(None), slice(None))
    terms = []
    for tap in kernel_taps(spec.kernel_size):
        window = x[(*everything, *tap_window(tap, spec.stride, spec.dilation, out_spatial))]
        patch = xp.reshape(window, (n, groups, c_per, positions))
        if c_per == 1:  # depthwise: a broadcast multiply and a sum beat a matmul of width one
            term = xp.sum(g * patch, axis=(0, 3))[..., None]
        else:
            term = xp.sum(backend.matmul(g, xp.matrix_transpose(patch)), axis=0)
        terms.append(term)  # (groups, F/g, C/g)
    w = xp.stack(terms, axis=-1)
    return xp.reshape(w, (groups * f_per, c_per, *spec.kernel_size))


# the flattened-grid GEMM multiplies zeros at the grid's margins: used while they are few
_GRID_OVERHEAD = 1.5


def _gemm(backend, x, grad, spec: ConvSpec, out_spatial, limit: int):
    unit = all(s == 1 for s in spec.stride)
    if unit and math.prod(x.shape[2:]) <= _GRID_OVERHEAD * math.prod(out_spatial):
        return _gemm_grid(backend, x, grad, spec, out_spatial)
    return _gemm_columns(backend, x, grad, spec, out_spatial, limit)


def _gemm_grid(backend, x, grad, spec: ConvSpec, out_spatial):
    """Stride 1: each tap is one matmul of the gradient, laid out on the input's grid, with
    a contiguous slice of the flattened input; no column matrix is gathered.

    Each image's product `(F/g, L) @ (L, C/g)` runs on its own grid (one batched product
    per tap, summed over the images: no copy of either operand but the gradient's
    padding), unless one image's product would be over before a call's overhead
    (`CostModel.call_flops`): then the images sit side by side in one long grid (a slice that
    runs into the next image meets only zeros of the gradient), one product per tap and
    group. On NumPy per image ran 0.75x of side by side on resnet3x3's backward, side by
    side 0.89x of per image on 16 images of 14 x 14 (measured).
    """
    xp = backend.xp
    groups = spec.groups
    n, c_per, f_per = _shapes(x, grad, groups)
    spatial = tuple(x.shape[2:])
    strides = [math.prod(spatial[i + 1 :]) for i in range(spec.rank)]
    reach = sum(
        (k - 1) * d * st for k, d, st in zip(spec.kernel_size, spec.dilation, strides, strict=True)
    )
    margins = [(0, p - o) for p, o in zip(spatial, out_spatial, strict=True)]
    padded_grad = backend.pad_for_run(
        grad, margins, "constant", 0, "channels_first", buffer="gradient grid"
    )
    image_flops = 2 * f_per * c_per * (math.prod(spatial) - reach)
    side_by_side = n > 1 and image_flops < backend.costs.call_flops
    if side_by_side:
        flat_x = _side_by_side(xp, x, groups)  # (groups, C/g, n * grid)
        length = n * math.prod(spatial) - reach  # every output's grid position is below this
        g = _side_by_side(xp, padded_grad, groups)[..., :length]
    else:
        flat_x = xp.reshape(x, (n, groups, c_per, -1))
        length = math.prod(spatial) - reach
        g = xp.reshape(padded_grad, (n, groups, f_per, -1))[..., :length]
    terms = []
    for tap in kernel_taps(spec.kernel_size):
        offset = sum(t * d * st for t, d, st in zip(tap, spec.dilation, strides, strict=True))
        window = xp.matrix_transpose(flat_x[..., offset : offset + length])
        term = backend.matmul(g, window)  # ([n,] groups, F/g, C/g)
        if not side_by_side:
            term = term[0, ...] if n == 1 else xp.sum(term, axis=0)
        terms.append(term)
    w = xp.stack(terms, axis=-1)
    return xp.reshape(w, (groups * f_per, c_per, *spec.kernel_size))


def _side_by_side(xp: ModuleType, a, groups: int):
    """`(N, C, *S)` -> `(groups, C/g, N * prod(S))`: each group's images in one long row."""
    n, c = a.shape[0], a.shape[1]
    a = xp.reshape(a, (n, groups, c // groups, -1))
    if n > 1:
        a = xp.permute_dims(a, (1, 2, 0, 3))
    return xp.reshape(a, (groups, c // groups, -1))


def _gemm_columns(backend, x, grad, spec: ConvSpec, out_spatial, limit: int):
    xp = backend.xp
    groups = spec.groups
    n, c_per, f_per = _shapes(x, grad, groups)
    taps = math.prod(spec.kernel_size)
    bytes_per_position = x.shape[1] * taps * itemsize(xp, x.dtype)
    shape = (n, *out_spatial)
    tile = plan_tiles(shape, bytes_per_position, limit)
    total = None
    for region in tile_regions(shape, tile):
        batch, out_region = region[0], region[1:]
        tile_out = tuple(r.stop - r.start for r in out_region)
        source = x[(batch, slice(None), *input_window(spec, out_region))]
        cols = backend.im2col(source, spec, tile_out)  # (n, groups, C/g * taps, positions)
        g = xp.reshape(
            grad[(batch, slice(None), *out_region)], (-1, groups, f_per, math.prod(tile_out))
        )
        term = backend.matmul(g, xp.matrix_transpose(cols))  # (n, groups, F/g, C/g * taps)
        term = term[0, ...] if term.shape[0] == 1 else xp.sum(term, axis=0)
        total = term if total is None else total + term
    return xp.reshape(total, (groups * f_per, c_per, *spec.kernel_size))


def _segment(out_spatial, extent, stride, positions: int) -> tuple[int, ...]:
    """Output positions per segment of the swapped correlation: several kernel extents,
    at least 2**16 positions in all (fewer, larger transforms), and input frames of at
    most `positions` samples (so that each segment's spectra fit the workspace)."""
    rank = len(out_spatial)
    least = int(2 ** (16 / rank))
    segment = [min(o, max(8 * e, least)) for o, e in zip(out_spatial, extent, strict=True)]
    while True:
        frame = math.prod((b - 1) * s + e for b, s, e in zip(segment, stride, extent, strict=True))
        widest = max(range(rank), key=lambda i: segment[i])
        if frame <= positions or segment[widest] == 1:
            return tuple(segment)
        segment[widest] = max(1, segment[widest] // 2)


def _segments(out_spatial, spec: ConvSpec, channels: int, filters: int, limit: int):
    """`(segment, counts, images per chunk)` of the swapped correlation (see below)."""
    per_position = 2 * 16 * (channels + filters)  # spectra and products, complex128 at most
    segment = _segment(out_spatial, spec.dilated_kernel, spec.stride, max(limit // per_position, 1))
    counts = tuple(-(-o // b) for o, b in zip(out_spatial, segment, strict=True))
    frame = tuple(
        (b - 1) * s + e for b, s, e in zip(segment, spec.stride, spec.dilated_kernel, strict=True)
    )
    chunk = max(1, limit // max(per_position * math.prod(frame), 1))
    return segment, counts, chunk


def swapped_problems(x_shape, grad_shape, spec: ConvSpec, limit: int):
    """`(swapped spec, input shape)` of every forward correlation the weight gradient runs
    by a forward algorithm (the FFT) for padded `x` of `x_shape` and the output gradient
    of `grad_shape` (the planner plans each of them)."""
    n, channels, filters = x_shape[0], x_shape[1], grad_shape[1]
    out_spatial = tuple(grad_shape[2:])
    segment, counts, chunk = _segments(out_spatial, spec, channels, filters, limit)
    if all(c == 1 for c in counts):
        used = tuple(
            (o - 1) * s + e
            for o, s, e in zip(out_spatial, spec.stride, spec.dilated_kernel, strict=True)
        )
        return [_swapped_problem(n, channels, filters, used, out_spatial, spec)]
    images = n * math.prod(counts)
    frame = tuple(
        (b - 1) * s + e for b, s, e in zip(segment, spec.stride, spec.dilated_kernel, strict=True)
    )
    return [
        _swapped_problem(min(chunk, images - start), channels, filters, frame, segment, spec)
        for start in range(0, images, chunk)
    ]


def _swapped_problem(n: int, channels: int, filters: int, spatial, out_spatial, spec):
    groups = spec.groups
    swapped = ConvSpec(
        tuple(out_spatial),
        stride=spec.dilation,
        dilation=spec.stride,
        groups=groups,
        in_channels=groups * n,
        out_channels=filters,
    )
    return swapped, (channels // groups, groups * n, *spatial)


def _swapped_in_segments(backend, x, grad, spec: ConvSpec, out_spatial, limit, run_forward):
    """The swapped correlation with the output positions cut into segments that become
    extra images of the batch (which the weight gradient sums over anyway).

    Its kernel is the output gradient, as long as the signal: in one piece, every FFT
    frame would span all of it (thousands of full-length transforms once the spectra no
    longer fit the workspace). As segments of a few kernel extents, each frame is short,
    all segments go through one batched correlation, and chunks of segments keep the
    spectra within `limit`.
    """
    xp = backend.xp
    channels, filters = x.shape[1], grad.shape[1]
    segment, counts, chunk = _segments(out_spatial, spec, channels, filters, limit)
    if all(c == 1 for c in counts):
        return _swapped(xp, x, grad, spec, out_spatial, run_forward)
    n, rank = x.shape[0], spec.rank
    # frame i of an axis: the input samples that segment i's outputs read
    hop = tuple(b * s for b, s in zip(segment, spec.stride, strict=True))
    frame = tuple(
        (b - 1) * s + e for b, s, e in zip(segment, spec.stride, spec.dilated_kernel, strict=True)
    )
    frames = backend.overlap_frames(x, counts, hop, frame)  # (n, *counts, C, *frame)
    pieces = backend.pad(
        grad, [(0, c * b - o) for c, b, o in zip(counts, segment, out_spatial, strict=True)]
    )
    split = [n, filters]
    for c, b in zip(counts, segment, strict=True):
        split += [c, b]
    pieces = xp.reshape(pieces, tuple(split))  # (n, F, c1, b1, c2, b2, ...)
    order = (0, *range(2, 2 + 2 * rank, 2), 1, *range(3, 3 + 2 * rank, 2))
    pieces = xp.permute_dims(pieces, order)  # (n, *counts, F, *segment)
    images = n * math.prod(counts)
    frames = xp.reshape(frames, (images, channels, *frame))
    pieces = xp.reshape(pieces, (images, filters, *segment))
    total = None
    for start in range(0, images, chunk):
        part = _swapped(
            xp,
            frames[start : start + chunk],
            pieces[start : start + chunk],
            spec,
            segment,
            run_forward,
        )
        total = part if total is None else total + part
    return total


def _swapped(xp: ModuleType, x, grad, spec: ConvSpec, out_spatial, run_forward: Callable):
    groups, rank = spec.groups, spec.rank
    n, c_per, _ = _shapes(x, grad, groups)
    spatial = tuple(range(3, 3 + rank))
    # input: batch = C/g, channels = (group, n); kernel: (F, n, *O)
    source = xp.reshape(x, (n, groups, c_per, *x.shape[2:]))
    source = xp.reshape(
        xp.permute_dims(source, (2, 1, 0, *spatial)), (c_per, groups * n, *x.shape[2:])
    )
    kernel = xp.permute_dims(grad, (1, 0, *range(2, 2 + rank)))
    swapped, _ = _swapped_problem(n, x.shape[1], grad.shape[1], x.shape[2:], out_spatial, spec)
    out = run_forward(source, kernel, swapped, spec.kernel_size)  # (C/g, F, *k)
    return xp.permute_dims(out, (1, 0, *range(2, 2 + rank)))
