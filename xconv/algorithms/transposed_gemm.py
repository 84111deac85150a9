"""Transposed convolution by GEMM first: every tap's contribution in one matmul, then col2im.

    cols[t, c, q] = sum over f of w[f, c, t] * y[f, q]        (one batched matmul)
    out[p]        = sum over taps t, inputs q with q*s + t*d = p of cols[t, q]

The matmul runs on `y` laid out on a zero-padded grid, flattened per image; a tap's
contribution to one output phase (`p mod s`) is then a shift of the grid, i.e. one
contiguous slice of the flattened columns, and each phase is a sum of such slices. No
column matrix is gathered (the forward im2col), no zeros are multiplied beyond the grid's
margins, and `backend.assemble_phases` interleaves the phases once (NumPy sums each one
straight into its strided place in the result, from columns in a reused buffer:
`scratch_matmul`; tconv4s2 at 0.84-0.91x of the time with fresh columns and blocks).
Small images sit side by side in one grid, so that several share a product per group
(few BLAS calls, each long enough to pay for its overhead); an image whose product is
long enough on its own gets its own (no permuting copies of the batch's grid). `None` is
returned when even one image's columns exceed the workspace (the caller then runs the
polyphase route of `transposed.py`, whose forward correlations tile).
"""

from __future__ import annotations

import itertools
import math

from array_api_compat import device

from .._arrays import itemsize
from ..spec import ConvSpec
from .transposed import phase_count


def _axis_geometry(k: int, s: int, d: int, start: int, size: int):
    """Per output phase: `(taps, shifts)` (input offset of each tap), or None (no taps)."""
    rows = -(-size // s)
    phases = []
    for rho in range(phase_count(s, size)):
        base, r = divmod(start + rho, s)
        taps = [t for t in range(k) if (t * d) % s == r]
        phases.append([(t, base - (t * d) // s) for t in taps] or None)
    return rows, phases


def _grid(spec: ConvSpec, spatial, start, size):
    """Per axis the phases' geometry, the rows per phase, the grid's margins (every shifted
    read of every phase stays inside its own line) and the grid's extent."""
    geometry = [
        _axis_geometry(k, s, d, b, m)
        for k, s, d, b, m in zip(
            spec.kernel_size, spec.stride, spec.dilation, start, size, strict=True
        )
    ]
    rows = tuple(g[0] for g in geometry)
    margins = []
    for i, (count, phases) in enumerate(geometry):
        shifts = [sh for phase in phases if phase for _, sh in phase] or [0]
        before = max(0, -min(shifts))
        after = max(0, count + max(shifts) - spatial[i]) + (1 if i == 0 else 0)
        margins.append((before, after))
    extent = tuple(m + b + a for m, (b, a) in zip(spatial, margins, strict=True))
    return geometry, rows, margins, extent


def column_bytes(spec: ConvSpec, y_shape, start, size, item_bytes: int) -> int:
    """Bytes of one image's columns: `transpose_gemm` declines past its `limit` (the
    planner checks first, and plans the polyphase route instead)."""
    _, _, _, extent = _grid(spec, tuple(y_shape[2:]), start, size)
    return math.prod(spec.kernel_size) * spec.in_channels * math.prod(extent) * item_bytes


def transpose_gemm(backend, y, weight, spec: ConvSpec, start, size, limit: int):
    """Window `[start, start + size)` of the adjoint of correlation `spec` applied to `y`.

    Same contract as `transposed.transpose_window`: `y` `(N, F, *O)`, forward weight
    `(F, C/g, *k)`; returns `(N, C, *size)`, or None if the columns do not fit `limit`.
    """
    xp = backend.xp
    n, filters = y.shape[0], y.shape[1]
    groups, rank = spec.groups, spec.rank
    f_per, c_per = filters // groups, weight.shape[1]
    if n == 0:
        return xp.zeros((0, groups * c_per, *size), dtype=y.dtype, device=device(y))
    geometry, rows, margins, extent = _grid(spec, tuple(y.shape[2:]), start, size)
    line = math.prod(extent[1:])
    taps = math.prod(spec.kernel_size)
    per_image = column_bytes(spec, tuple(y.shape), start, size, itemsize(xp, y.dtype))
    if per_image > limit:
        return None
    # images share one product only while a product would be over faster than a call's
    # overhead: sharing copies the batch's grid and permutes the sums back (on NumPy, with
    # the columns in a reused buffer, tconv4s2 per image and as one batch ran alike)
    image_flops = 2 * taps * c_per * groups * f_per * math.prod(extent)
    chunk = max(1, min(limit // per_image, math.ceil(backend.costs.call_flops / image_flops)))

    w = xp.reshape(weight, (groups, f_per, c_per, taps))
    w = xp.reshape(xp.permute_dims(w, (0, 3, 2, 1)), (groups, taps * c_per, f_per))
    strides = [math.prod(extent[i + 1 :]) for i in range(rank)]
    kernel_strides = [math.prod(spec.kernel_size[i + 1 :]) for i in range(rank)]
    length = rows[0] * line
    whole = math.prod(extent)

    steps = tuple(phase_count(s, m) for s, m in zip(spec.stride, size, strict=True))
    # per output phase, (tap, grid offset) of each of its terms; None: no tap reaches it
    phase_terms = []
    for combo in itertools.product(*(g[1] for g in geometry)):
        if any(phase is None for phase in combo):
            phase_terms.append(None)
            continue
        pairs_of_phase = []
        for pairs in itertools.product(*combo):  # one (tap, shift) per axis
            tap = sum(t * ks for (t, _), ks in zip(pairs, kernel_strides, strict=True))
            offset = sum(
                (sh + b) * st for (_, sh), (b, _), st in zip(pairs, margins, strides, strict=True)
            )
            pairs_of_phase.append((tap, offset))
        phase_terms.append(pairs_of_phase)

    def tiles():
        for first in range(0, n, chunk):
            part = y[first : min(first + chunk, n), ...]
            m = part.shape[0]
            # the images side by side in one long grid: one product per group for all of them
            grid = xp.reshape(backend.pad(part, margins), (m, groups, f_per, -1))
            if m > 1:
                grid = xp.permute_dims(grid, (1, 2, 0, 3))
            grid = xp.reshape(grid, (groups, f_per, -1))
            cols = xp.reshape(backend.scratch_matmul(w, grid), (groups, taps, c_per, -1))
            span = (m - 1) * whole + length  # up to the last image's last output
            block = (m, groups * c_per, *rows)
            phases = []
            for pairs_of_phase in phase_terms:
                if pairs_of_phase is None:
                    phases.append([xp.zeros(block, dtype=y.dtype, device=device(y))])
                    continue
                terms = [cols[:, t, :, o : o + span] for t, o in pairs_of_phase]
                if m > 1:  # summed, then back to one grid per image
                    total = backend.pad(backend.sum_of(terms), [(0, whole - length)])
                    total = xp.reshape(total, (groups, c_per, m, whole))[..., :length]
                    terms = [xp.permute_dims(total, (2, 0, 1, 3))]
                phases.append([as_block(term, m) for term in terms])
            region = (slice(first, first + m), slice(None), *(slice(0, e) for e in size))
            yield region, phases

    def as_block(term, m: int):
        """A term on the grid `(m, C, rows[0] * line)` as `(m, C, *rows)`."""
        term = xp.reshape(term, (m, groups * c_per, rows[0], *extent[1:]))
        return term[(..., *(slice(0, r) for r in rows[1:]))]

    shape = (n, groups * c_per, *size)
    return backend.assemble_phases(shape, y.dtype, tiles(), steps)
