"""NumPy GEMM convolution: channel-last windows of the input times per-tap weights.

The im2col column matrix copies every input value once per kernel tap. Here the input
is laid out channel-last, so that for a stride-1 axis the input rows one tap reads are a
plain window of a flat `(positions, channels)` buffer: the product for that tap is a BLAS
`gemm` on the window, accumulated (`beta = 1`) into a channel-last output, and nothing is
copied per tap. The output is computed "wide" (every padded position along the shifted
axes, the extra ones discarded), which costs a little arithmetic instead of copies.

Layouts, chosen per convolution by a small cost model (`choose_layout`):

- `stacked` trailing spatial axes have their taps gathered into the GEMM's inner
  dimension (`K = taps * channels`) by copying, as im2col does, which makes the GEMM
  deeper and more efficient when the channels are few; `stacked == rank` is im2col.
  `stacked == 0` copies nothing beyond the channel-last input.
- strides along the shifted axes are served by a polyphase split of the input (one copy),
  after which every tap is again a window.
- `merge_batch` runs each tap as one GEMM over all images (wide along the batch too)
  instead of one GEMM per image: fewer, larger calls for small images.

The result is a `(N, F, *out)` view of the channel-last buffer (no transposing copy).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ...config import get_workspace_limit
from . import _scratch, _threads
from ._blas import available, blas_threads, gemm
from ._costs import NumPyCosts

_TILE_BYTES = 32 << 20  # preferred workspace per tile: larger gains nothing
_MAX_FUSED = 64  # block-diagonal fusion beyond this many groups never pays
_CALL_FLOPS = 4e6  # a GEMM call of this many FLOP runs at half its speed (see `_merges`)
_MERGE_PENALTY = 0.15  # one merged call over the images, against one call per image


@dataclass(frozen=True)
class Layout:
    stacked: int  # trailing spatial axes whose taps are gathered into K
    merge_batch: bool  # one GEMM per tap over all images (else one per image)
    fused: int = 1  # channel groups computed together, as one block-diagonal group


@dataclass(frozen=True)
class _Geometry:
    """The convolution seen as lead (shifted) axes and stacked axes, channel-last.

    With `stacked == 0` a dummy trailing axis of size 1 is appended, so that there is
    always at least one stacked axis and the code has a single shape.
    """

    batch: int
    channels: int
    filters: int
    groups: int
    padded: tuple[int, ...]  # padded input spatial sizes (with the dummy axis)
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    out: tuple[int, ...]
    lead: int  # number of shifted axes; the rest are stacked

    @classmethod
    def of(cls, x_shape, kernel, stride, dilation, out, filters, groups, stacked):
        batch, channels, *padded = x_shape
        kernel, stride, dilation, out = (tuple(v) for v in (kernel, stride, dilation, out))
        padded = tuple(padded)
        if stacked == 0:  # a dummy stacked axis
            padded, kernel, stride, dilation, out = (
                (*v, 1) for v in (padded, kernel, stride, dilation, out)
            )
            stacked = 1
        return cls(
            batch,
            channels,
            filters,
            groups,
            padded,
            kernel,
            stride,
            dilation,
            out,
            len(padded) - stacked,
        )

    @property
    def phases(self) -> tuple[int, ...]:
        return self.stride[: self.lead]

    @property
    def extents(self) -> tuple[int, ...]:
        """Rows of each phase of the input along the lead axes."""
        return tuple(-(-n // s) for n, s in zip(self.padded, self.phases, strict=False))

    @property
    def row_shape(self) -> tuple[int, ...]:
        """Per image and phase: (*extents, *out of the stacked axes)."""
        return (*self.extents, *self.out[self.lead :])

    @property
    def depth(self) -> int:
        """K of one group's GEMM: stacked taps times channels per group."""
        return math.prod(self.kernel[self.lead :]) * (self.channels // self.groups)

    @property
    def copies_input(self) -> bool:
        """Whether the gathered buffer differs from the channel-last input itself."""
        return (
            self.lead < len(self.padded) - 1
            or any(s > 1 for s in self.phases)
            or (self.kernel[-1] > 1 or self.stride[-1] > 1)
        )

    def row_strides(self) -> tuple[int, ...]:
        """Rows between consecutive indices of each lead axis."""
        shape = self.row_shape
        return tuple(math.prod(shape[k + 1 :]) for k in range(self.lead))

    def lead_taps(self):
        """(phase index, row offset, tap index) of every tap of the lead axes."""
        strides = self.row_strides()
        phase_sizes = self.phases
        for tap in itertools.product(*(range(k) for k in self.kernel[: self.lead])):
            reach = [t * d for t, d in zip(tap, self.dilation, strict=False)]
            phase = [r % s for r, s in zip(reach, phase_sizes, strict=True)]
            offset = sum(
                (r // s) * st for r, s, st in zip(reach, phase_sizes, strides, strict=True)
            )
            yield _flat_index(phase, phase_sizes), offset, tap

    def last_row(self) -> int:
        """Row index, within one image, of the last output that is kept."""
        return _flat_index([o - 1 for o in self.out], self.row_shape)


def _flat_index(index: Sequence[int], sizes: Sequence[int]) -> int:
    """C-order flat index of `index` in an array of shape `sizes`."""
    flat = 0
    for i, size in zip(index, sizes, strict=True):
        flat = flat * size + i
    return flat


def _reshaped(array: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """A reshaped view; raises instead of silently copying (writes must reach `array`)."""
    view = array.view()
    view.shape = shape
    return view


@dataclass(frozen=True)
class EnginePlan:
    """What the engine will do for one problem: its layout, tiles and scratch."""

    layout: Layout
    images_per_tile: int  # 0: bands of output rows of one image
    workspace_bytes: int
    pointwise: bool  # a 1x1 layer: one channel-first product per image (channel-first x)
    seconds: float  # the layout's modelled time (`choose_layout`)

    def describe(self) -> dict[str, object]:
        if self.pointwise:
            return {"engine": "pointwise (channel-first input), else shifted windows"}
        return {
            "engine": "shifted windows",
            "stacked_axes": self.layout.stacked,
            "merge_batch": self.layout.merge_batch,
            "fused_groups": self.layout.fused,
            "images_per_tile": self.images_per_tile or "bands of rows",
        }


def plan_engine(
    x_shape, kernel, stride, dilation, out_spatial, filters, groups, itemsize, limit, costs
):
    """The engine's layout, tiling and modelled time of a padded `(N, C, *S)` input (see
    `conv_gemm_layout`), priced with the backend's `costs`."""
    layout, seconds = choose_layout(
        x_shape, kernel, stride, dilation, out_spatial, filters, groups, costs
    )
    geo = _Geometry.of(
        x_shape,
        kernel,
        stride,
        dilation,
        out_spatial,
        filters,
        groups // layout.fused,
        layout.stacked,
    )
    budget = min(limit, _TILE_BYTES)
    per_image = _workspace_bytes(geo, 1, itemsize)
    images = min(x_shape[0], budget // max(per_image, 1)) if per_image <= budget else 0
    workspace = per_image * images if images else min(per_image, budget)
    pointwise = _is_pointwise(kernel, stride, groups)
    if pointwise:  # one channel-first product per image, nothing copied
        seconds = _pointwise_estimate(x_shape, filters, costs)
    return EnginePlan(layout, images, workspace, pointwise, seconds)


def conv_gemm_layout(
    x: np.ndarray,
    weight: np.ndarray,
    kernel: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
    out_spatial: Sequence[int],
    groups: int,
    layout: Layout | None = None,
    limit: int | None = None,
    pointwise: bool | None = None,
    costs: NumPyCosts | None = None,
) -> np.ndarray | None:
    """The GEMM convolution of a padded `(N, C, *S)` input in `layout` (None: the cost
    model's choice with `costs`), or None to decline (no BLAS for the dtype, nothing to
    multiply)."""
    if x.dtype != weight.dtype or not available(x.dtype):
        return None
    out_spatial = tuple(out_spatial)
    n, channels = x.shape[:2]
    filters = weight.shape[0]
    if 0 in (n, channels, filters, *out_spatial):
        return None  # nothing to multiply: the generic path makes the empty or zero result
    if pointwise is None:
        pointwise = layout is None and _is_pointwise(kernel, stride, groups)
    if pointwise and x.flags.c_contiguous:
        return _pointwise(x, weight)
    if layout is None:
        layout, _ = choose_layout(
            x.shape, kernel, stride, dilation, out_spatial, filters, groups, costs
        )
    if layout.fused > 1:
        weight = _block_diagonal(weight, groups, layout.fused)
        groups //= layout.fused
    geo = _Geometry.of(
        x.shape, kernel, stride, dilation, out_spatial, filters, groups, layout.stacked
    )
    budget = min(limit if limit is not None else get_workspace_limit(), _TILE_BYTES)
    per_image = _workspace_bytes(geo, 1, x.itemsize)
    # one image too big for the budget: bands of output rows, which need per-image GEMMs
    merge = layout.merge_batch and geo.lead > 0 and per_image <= budget
    wide = geo.row_shape if merge else (geo.out[0], *geo.row_shape[1:])
    out = np.empty((n, *wide, filters), dtype=x.dtype)
    blocks = _weight_blocks(weight, geo)
    for batch, rows in _tiles(n, geo.out[0], per_image, budget):
        _run_tile(x, blocks, geo, merge, batch, rows, out)
    valid = out[(slice(None), *(slice(0, o) for o in geo.out), slice(None))]
    if layout.stacked == 0:
        valid = valid[..., 0, :]  # drop the dummy axis
    rank = valid.ndim - 2
    return valid.transpose(0, rank + 1, *range(1, rank + 1))


def _is_pointwise(kernel, stride, groups) -> bool:
    return groups == 1 and all(k == 1 for k in kernel) and all(s == 1 for s in stride)


def _pointwise(x: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """1x1, stride 1, one group, channel-first: per image `(F, C) @ (C, P)`, no copies.

    The channel-first orientation measured faster than the channel-last one here, and
    it leaves the output contiguous.
    """
    n, channels = x.shape[:2]
    filters = weight.shape[0]
    flat = x.reshape(n, channels, -1)
    out = np.empty((n, filters, flat.shape[2]), dtype=x.dtype)
    np.matmul(weight.reshape(filters, channels), flat, out=out)
    return out.reshape(n, filters, *x.shape[2:])


def _weight_blocks(weight: np.ndarray, geo: _Geometry) -> np.ndarray:
    """`(lead taps, G, F_g, K_g)`: each lead tap's weight, K ordered (stacked taps, c).

    Filters before K: the transposing copy reads longer runs, and BLAS is as fast or
    faster with this operand transposed.
    """
    g = geo.groups
    f, cg = weight.shape[:2]
    w = weight.reshape(g, f // g, cg, *geo.kernel)  # the dummy axis is a reshape
    lead, rank = geo.lead, len(geo.kernel)
    lead_axes = tuple(range(3, 3 + lead))
    stacked_axes = tuple(range(3 + lead, 3 + rank))
    w = w.transpose(*lead_axes, 0, 1, *stacked_axes, 2)
    taps = math.prod(geo.kernel[:lead])
    return np.ascontiguousarray(w).reshape(taps, g, f // g, geo.depth)


def _block_diagonal(weight: np.ndarray, groups: int, fused: int) -> np.ndarray:
    """The weight of `groups // fused` groups that each hold `fused` original groups.

    Zeros outside the diagonal blocks cost `fused` times the arithmetic but turn many
    thin GEMMs into fewer, wider ones.
    """
    f, cg, *kernel = weight.shape
    fg = f // groups
    w = weight.reshape(groups // fused, fused, fg, cg, *kernel)
    out = np.zeros((groups // fused, fused, fg, fused, cg, *kernel), dtype=weight.dtype)
    for i in range(fused):
        out[:, i, :, i] = w[:, i]
    return out.reshape(f, fused * cg, *kernel)


def _tiles(n: int, rows: int, per_image: int, budget: int):
    """(batch slice, band of output rows along axis 0 or None) within the budget.

    Whole images while one fits (at least one image per tile), else bands of rows of
    one image (at least one row per band).
    """
    if per_image <= budget:
        step = max(1, min(n, budget // max(per_image, 1)))
        for lo in range(0, n, step):
            yield slice(lo, min(lo + step, n)), None
        return
    step = max(1, rows * budget // per_image)
    for i in range(n):
        for lo in range(0, rows, step):
            yield slice(i, i + 1), slice(lo, min(lo + step, rows))


def _workspace_bytes(geo: _Geometry, images: int, itemsize: int) -> int:
    """Scratch of `images` images: channel-last input plus the gathered buffer."""
    channel_last = math.prod(geo.padded) * geo.channels
    gathered = math.prod(geo.phases) * math.prod(geo.row_shape) * geo.depth * geo.groups
    return images * itemsize * (channel_last + (gathered if geo.copies_input else 0))


def _run_tile(x, blocks, geo: _Geometry, merge: bool, batch: slice, rows, out) -> None:
    """Compute out[batch] (rows `rows` of lead axis 0, or all) from the padded input."""
    if rows is not None:  # a band of output rows: the matching input band is a sub-problem
        s0, ext0 = geo.stride[0], (geo.kernel[0] - 1) * geo.dilation[0] + 1
        x = x[:, :, rows.start * s0 : (rows.stop - 1) * s0 + ext0]
        geo = _replace_rows(geo, x.shape[2], rows.stop - rows.start)
        out = out[:, rows]
    x = x[batch]
    out = out[batch]
    gathered = _gather(_channel_last(x, geo), geo)  # (phases, n, *row_shape, G, K_g)
    n = x.shape[0]
    rows_per_image = math.prod(geo.row_shape)
    source = _reshaped(gathered, (gathered.shape[0], n * rows_per_image, -1))
    flat_out = _reshaped(out, (n, -1, geo.filters))
    depth, g = geo.depth, geo.groups
    fg = geo.filters // g
    last = geo.last_row()
    taps = list(geo.lead_taps())
    if merge:
        spans = [(0, (n - 1) * rows_per_image + last + 1, _reshaped(out, (-1, geo.filters)))]
    else:
        spans = [(i * rows_per_image, last + 1, flat_out[i]) for i in range(n)]

    # every product on NumPy's threaded BLAS: splitting the rows between threads, each
    # with a one-thread BLAS (the global count lowered per call), ran 1.05-1.8x slower on
    # the benchmark layers with OpenBLAS's Haswell kernels (alternating, 2-core EPYC)
    for start, count, target in spans:
        for t, (phase, offset, _) in enumerate(taps):
            window = source[phase, start + offset : start + offset + count]
            for j in range(g):
                gemm(
                    window[:, j * depth : (j + 1) * depth],
                    blocks[t, j].T,
                    target[:count, j * fg : (j + 1) * fg],
                    accumulate=t > 0,
                )


def _replace_rows(geo: _Geometry, padded0: int, out0: int) -> _Geometry:
    return _Geometry(
        geo.batch,
        geo.channels,
        geo.filters,
        geo.groups,
        (padded0, *geo.padded[1:]),
        geo.kernel,
        geo.stride,
        geo.dilation,
        (out0, *geo.out[1:]),
        geo.lead,
    )


def _channel_last(x: np.ndarray, geo: _Geometry) -> np.ndarray:
    """`(n, *padded, C)` (with the dummy axis), a view when x is laid out that way."""
    rank = x.ndim - 2
    view = x.transpose(0, *range(2, 2 + rank), 1)
    if len(geo.padded) > rank:
        view = view[..., None, :]
    if view.flags.c_contiguous:
        return view
    buffer = _scratch.empty("channel-last", view.shape, x.dtype)
    _threads.copyto(buffer, view)
    return buffer


def _gather(xcl: np.ndarray, geo: _Geometry) -> np.ndarray:
    """`(phases, n, *row_shape, G, K_g)`: phase-split along lead axes, taps stacked."""
    n, g = xcl.shape[0], geo.groups
    cg = geo.channels // g
    lead = geo.lead
    stacked_kernel = geo.kernel[lead:]
    if not geo.copies_input:  # stride 1 everywhere, nothing stacked: the input itself
        return xcl.reshape(1, n, *geo.row_shape, g, cg)
    phases = geo.phases
    shape = (math.prod(phases), n, *geo.row_shape, g, *stacked_kernel, cg)
    buffer = _scratch.empty("gathered", shape, xcl.dtype)
    # with one group and no dilation along the last axis, the last axis' taps and the
    # channels of one output position are one contiguous run of the input: copy runs
    runs = g == 1 and geo.dilation[-1] == 1
    if runs:
        k, s, o = stacked_kernel[-1], geo.stride[-1], geo.out[-1]
        flat = xcl.reshape(*xcl.shape[:-2], -1)  # (n, *padded[:-1], W * C)
        windows = np.lib.stride_tricks.sliding_window_view(flat, k * cg, axis=-1)
        channels = windows[..., : (o - 1) * s * cg + 1 : s * cg, :][..., None, :]
        dst_buffer = buffer.reshape(*shape[:-2], k * cg)
        tap_kernel, tap_out = stacked_kernel[:-1], geo.out[lead:-1]
        tap_stride, tap_dilation = geo.stride[lead:-1], geo.dilation[lead:-1]
    else:
        channels = xcl.reshape(*xcl.shape[:-1], g, cg)
        dst_buffer = buffer
        tap_kernel, tap_out = stacked_kernel, geo.out[lead:]
        tap_stride, tap_dilation = geo.stride[lead:], geo.dilation[lead:]
    for p, phase in enumerate(itertools.product(*(range(s) for s in phases))):
        counts = [
            -(-(size - a) // s) for size, a, s in zip(geo.padded, phase, phases, strict=False)
        ]
        lead_src = tuple(
            slice(a, a + (c - 1) * s + 1, s) for a, c, s in zip(phase, counts, phases, strict=True)
        )
        lead_dst = tuple(slice(0, c) for c in counts)
        for tap in itertools.product(*(range(k) for k in tap_kernel)):
            stacked_src = tuple(
                slice(t * d, t * d + (o - 1) * s + 1, s)
                for t, d, o, s in zip(tap, tap_dilation, tap_out, tap_stride, strict=True)
            )
            src = channels[(slice(None), *lead_src, *stacked_src)]
            dst = dst_buffer[(p, slice(None), *lead_dst, Ellipsis, slice(None), *tap, slice(None))]
            _threads.copyto(dst, src)
        for axis, (c, e) in enumerate(zip(counts, geo.extents, strict=True)):
            if c < e:  # rows this phase lacks: only discarded outputs read them
                index = (p, slice(None), *(slice(None),) * axis, slice(c, None))
                buffer[index] = 0
    return buffer.reshape(shape[0], n, *geo.row_shape, g, -1)


def choose_layout(
    x_shape, kernel, stride, dilation, out_spatial, filters, groups, costs: NumPyCosts
) -> tuple[Layout, float]:
    """The layout with the least estimated time (GEMM at a K- and F-dependent rate,
    copies, calls), and that time."""
    rank = len(kernel)
    best = None
    fusions = [f for f in range(1, groups + 1) if groups % f == 0 and f <= _MAX_FUSED]
    for fused in fusions:
        for stacked in range(rank + 1):
            geo = _Geometry.of(
                x_shape, kernel, stride, dilation, out_spatial, filters, groups // fused, stacked
            )
            merge = geo.lead > 0 and _merges(geo)
            seconds = _estimate(geo, merge, fused, costs)
            if best is None or seconds < best[0]:
                best = (seconds, Layout(stacked, merge, fused))
    return best[1], best[0]


def _merges(geo: _Geometry) -> bool:
    """Whether one GEMM per tap over all images (`merge_batch`) beats one per image.

    Merging pays where one image's product is small: a BLAS call reaches its speed only
    past a few MFLOP (`_CALL_FLOPS`). Otherwise one call per image ran faster: whole
    calls timed alternately in one process with only this choice changed (2-core EPYC),
    per image took 0.78-0.92x of merged on resnet3x3, stem7x7s2, s2_3x3, dilated_d2 and
    8 x 128 x 28 x 28, merged 0.71-0.89x of per image on 32 x 64 x 14 x 14 and
    16 x 32 x 28 x 28; `_CALL_FLOPS` and `_MERGE_PENALTY` reproduce these choices.
    """
    if geo.batch == 1:
        return False
    last = geo.last_row() + 1
    image = 2.0 * last * geo.depth * (geo.filters // geo.groups)  # one tap and group
    merged_rows = (geo.batch - 1) * math.prod(geo.row_shape) + last
    merged = image * merged_rows / last / _threads.workers()  # each thread's share

    def seconds(rows: int, call: float) -> float:
        return rows * (call + _CALL_FLOPS) / call  # rows at the call's efficiency

    return seconds(merged_rows, merged) * (1 + _MERGE_PENALTY) < seconds(geo.batch * last, image)


def _gemm_rate(costs: NumPyCosts, depth: int, filters: int, rows: float, peak: float) -> float:
    """flop/s of a product of depth `depth`, `filters` columns and `rows` rows: `peak`,
    lowered for thin products (fitted on the benchmark layers)."""
    return peak * depth / (depth + 24) * filters / (filters + 12) * rows / (rows + 256)


def _pointwise_estimate(x_shape, filters: int, costs: NumPyCosts) -> float:
    """Seconds of `_pointwise`: per image `(F, C) @ (C, P)`, one large product that
    gains from every BLAS thread (one core's peak on one thread; the shifted windows'
    many per-tap products gained little from a second thread here: stem7x7s2 3.1 ms on
    one thread, 2.6 ms on two)."""
    n, channels, *spatial = x_shape
    positions = math.prod(spatial)
    flops = 2.0 * n * filters * channels * positions
    parallel = _threads.workers() > 1 and blas_threads() > 1
    peak = costs.engine_peak if parallel else costs.gemm_peak
    rate = _gemm_rate(costs, channels, filters, positions, peak)
    return flops / rate + n * costs.engine_call_seconds


def _estimate(geo: _Geometry, merge: bool, fused: int, costs: NumPyCosts) -> float:
    """Seconds: GEMM work at a rate that grows with K, F and rows per call, plus copies."""
    n, g = geo.batch, geo.groups
    depth, fg = geo.depth, geo.filters // g
    rows_per_image = math.prod(geo.row_shape)
    last = geo.last_row() + 1
    rows = (n - 1) * rows_per_image + last if merge else n * last
    taps = math.prod(geo.kernel[: geo.lead])
    calls = taps * g * (1 if merge else n)
    per_call = rows / (1 if merge else n)
    peak = costs.engine_peak if blas_threads() > 1 else costs.gemm_peak  # BLAS's own threads
    rate = _gemm_rate(costs, depth, fg, per_call, peak)
    flops = 2.0 * rows * depth * fg * g * taps  # block-diagonal zeros included
    del fused
    copied = _workspace_bytes(geo, n, 4)
    copy_seconds = 2 * copied / (costs.engine_copy_rate * _threads.workers())
    # the products' outputs are written to fresh pages: what thin products cost most
    written = rows * geo.filters * costs.engine_output_ns * 1e-9 / blas_threads()
    return flops / rate + copy_seconds + written + calls * costs.engine_call_seconds
