"""Transposed convolution as a polyphase sum of stride-1 forward correlations.

The transposed convolution scatters each input sample `y[i]` through the kernel into the
full output at `p = i * s + t * d`. Output positions of one phase `p mod s` receive only
the taps `t` with `t * d = p (mod s)`, and within a phase the scatter is a gather: a
stride-1 correlation of `y` with those taps, flipped, at dilation `d / gcd(s, d)`. So a
transposed convolution is `prod(stride)` small forward correlations (any forward
algorithm: direct, GEMM or FFT, as the planner chooses) whose results are interleaved
with one stack and reshape; no work is spent on inserted zeros.

Everything here works on any window `[start, start + size)` of the full output, so the
same code gives cropped transposed convolutions and the input gradient of a padded
convolution (where the window is the unpadded input).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

from array_api_compat import device

from ..spec import ConvSpec


@dataclass(frozen=True)
class _Phase:
    """One output phase of one spatial axis: which flipped taps, at which input window."""

    taps: slice  # into the flipped kernel axis
    count: int  # number of taps
    dilation: int  # spacing of those taps on the input
    lo: int  # input window [lo, hi) (may reach outside the input: zeros there)
    hi: int


def axis_phases(k: int, s: int, d: int, start: int, size: int) -> list[_Phase | None]:
    """The `s` phases of output positions `start + rho + m * s` (`m < ceil(size / s)`).

    None marks a phase that no tap reaches (possible when gcd(s, d) > 1): zeros.
    """
    g = math.gcd(s, d)
    step, spacing = s // g, d // g  # tap spacing within a phase, and its input spacing
    rows = -(-size // s)
    phases: list[_Phase | None] = []
    for rho in range(phase_count(s, size)):
        base, r = divmod(start + rho, s)
        first = next((t for t in range(min(step, k)) if (t * d) % s == r), None)
        if first is None:
            phases.append(None)
            continue
        count = (k - 1 - first) // step + 1
        last = first + (count - 1) * step
        lo = base - (first * d) // s - (count - 1) * spacing
        hi = lo + rows + (count - 1) * spacing
        phases.append(_Phase(slice(k - 1 - last, k - first, step), count, spacing, lo, hi))
    return phases


def phase_count(stride: int, size: int) -> int:
    """Output phases of an axis that hold outputs: a stride beyond the output size leaves
    one output in each of the first `size` phases and none in the rest (so the work never
    grows with the stride)."""
    return min(stride, max(size, 1))


def window(backend, x, bounds: Sequence[tuple[int, int]]):
    """`x[..., lo:hi, ...]` on the trailing axes, with zeros where `[lo, hi)` leaves `x`."""
    cut, pads = window_parts(backend, x, bounds)
    return backend.pad(cut, pads)


def window_parts(backend, x, bounds: Sequence[tuple[int, int]]):
    """`window` as `(part of x, zero padding it still needs)`: the part a view of `x`, or
    zeros (no padding) where the window misses `x` entirely."""
    xp = backend.xp
    first = x.ndim - len(bounds)
    cut, pads = [], []
    for axis, (lo, hi) in enumerate(bounds, start=first):
        n = x.shape[axis]
        a, b = min(max(lo, 0), n), max(min(hi, n), 0)
        if a >= b:  # the window misses x entirely
            shape = (*x.shape[:first], *(h - lo for lo, h in bounds))
            return xp.zeros(shape, dtype=x.dtype, device=device(x)), [(0, 0)] * len(bounds)
        cut.append(slice(a, b))
        pads.append((a - lo, hi - b))
    return x[(..., *cut)], pads


def forward_weight(xp, weight, groups: int):
    """`(F, C/g, *k)` as the weight `(C, F/g, *k)` of the correlation going back."""
    f, c_per = weight.shape[0], weight.shape[1]
    k = tuple(weight.shape[2:])
    w = xp.reshape(weight, (groups, f // groups, c_per, *k))
    w = xp.permute_dims(w, (0, 2, 1, *range(3, 3 + len(k))))
    return xp.reshape(w, (groups * c_per, f // groups, *k))


def adjoint_spec(spec: ConvSpec) -> ConvSpec:
    """The forward correlation whose adjoint transposed `spec` is (weight `(C, F/g, *k)`)."""
    return ConvSpec(
        spec.kernel_size,
        stride=spec.stride,
        dilation=spec.dilation,
        groups=spec.groups,
        in_channels=spec.out_channels,
        out_channels=spec.in_channels,
    )


def _phases(spec: ConvSpec, y_channels: int, start: Sequence[int], size: Sequence[int]):
    """`(per-axis phases, phase spec or None)` of every output phase, C order: None where
    no tap reaches the phase (its block is zeros)."""
    channels = spec.in_channels
    rows = tuple(-(-m // s) for m, s in zip(size, spec.stride, strict=True))
    per_axis = [
        axis_phases(k, s, d, b, m)
        for k, s, d, b, m in zip(
            spec.kernel_size, spec.stride, spec.dilation, start, size, strict=True
        )
    ]
    for combo in itertools.product(*per_axis):
        if any(p is None for p in combo) or 0 in rows:
            yield combo, None
            continue
        yield (
            combo,
            ConvSpec(
                tuple(p.count for p in combo),
                dilation=tuple(p.dilation for p in combo),
                groups=spec.groups,
                in_channels=y_channels,
                out_channels=channels,
            ),
        )


def phase_problems(spec: ConvSpec, y_shape: Sequence[int], start, size):
    """`(phase spec, padded input shape)` of each forward correlation `transpose_window`
    runs for `y` of `y_shape` (the planner plans each of them)."""
    n, y_channels = y_shape[0], y_shape[1]
    for combo, phase_spec in _phases(spec, y_channels, start, size):
        if phase_spec is not None:
            yield phase_spec, (n, y_channels, *(p.hi - p.lo for p in combo))


def transpose_window(
    backend,
    y,
    weight,
    spec: ConvSpec,
    start: Sequence[int],
    size: Sequence[int],
    run_forward,
):
    """Window `[start, start + size)` of the adjoint of correlation `spec`, applied to `y`.

    `y` is `(N, F, *O)`, `weight` the forward weight `(F, C/g, *k)` of `spec` (whose
    kernel, stride, dilation, groups and input channels are used); the result is `(N,
    C, *size)`. `run_forward(x, w, phase_spec, out_spatial, pads)` runs each phase's
    forward correlation of `x` padded with zeros by `pads` (`phase_problems` lists them).
    """
    xp = backend.xp
    n, groups = y.shape[0], spec.groups
    back = xp.flip(forward_weight(xp, weight, groups), axis=tuple(range(2, weight.ndim)))
    rows = tuple(-(-m // s) for m, s in zip(size, spec.stride, strict=True))
    blocks = []
    for combo, phase_spec in _phases(spec, y.shape[1], start, size):
        if phase_spec is None:
            shape = (n, back.shape[0], *rows)
            blocks.append(xp.zeros(shape, dtype=y.dtype, device=device(y)))
            continue
        # padded by the run, into the layout its plan reads
        source, pads = window_parts(backend, y, [(p.lo, p.hi) for p in combo])
        w = back[(slice(None), slice(None), *(p.taps for p in combo))]
        blocks.append(run_forward(source, w, phase_spec, rows, pads))
    steps = tuple(phase_count(s, m) for s, m in zip(spec.stride, size, strict=True))
    return interleave(backend, blocks, steps, size)


def spread_geometry(spec: ConvSpec, lengths: Sequence[int], start, size):
    """For strides wider than the dilated kernel (`is_spread`): the tight spec (stride =
    extent on those axes), and the window `(start, size)` of its adjoint that `spread_out`
    widens into the window asked for."""
    wide = [s > e for s, e in zip(spec.stride, spec.dilated_kernel, strict=True)]
    tight = dataclasses.replace(
        spec, stride=tuple(min(s, e) for s, e in zip(spec.stride, spec.dilated_kernel, strict=True))
    )
    start_t = tuple(0 if w else b for w, b in zip(wide, start, strict=True))
    size_t = tuple(
        n * e if w else m for w, n, e, m in zip(wide, lengths, tight.stride, size, strict=True)
    )
    return tight, start_t, size_t


def is_spread(spec: ConvSpec) -> bool:
    """Whether an axis's stride exceeds the dilated kernel: its copies do not overlap."""
    return any(s > e for s, e in zip(spec.stride, spec.dilated_kernel, strict=True))


def spread_out(backend, z, spec: ConvSpec, lengths: Sequence[int], start, size):
    """The tight adjoint `z` (see `spread_geometry`) with each kernel copy padded with
    zeros to the stride, cut to the window `[start, start + size)`."""
    xp = backend.xp
    tight, _, _ = spread_geometry(spec, lengths, start, size)
    wide = [s > e for s, e in zip(spec.stride, spec.dilated_kernel, strict=True)]
    for i in (i for i, w in enumerate(wide) if w):
        axis, n, e, s = 2 + i, lengths[i], tight.stride[i], spec.stride[i]
        shape = tuple(z.shape)
        z = xp.reshape(z, (*shape[:axis], n, e, *shape[axis + 1 :]))
        pads = [(0, 0)] * (z.ndim - 2)
        pads[axis - 1] = (0, s - e)  # the e-axis, counted from the first spatial axis
        z = backend.pad(z, pads)
        z = xp.reshape(z, (*shape[:axis], n * s, *shape[axis + 1 :]))
    bounds = [(b, b + m) if w else (0, m) for w, b, m in zip(wide, start, size, strict=True)]
    return window(backend, z, bounds)


def interleave(backend, blocks: list, stride: Sequence[int], size: Sequence[int]):
    """Merge phase blocks `(N, C, *rows)` (C order over phases) into `(N, C, *size)`."""
    out = blocks[0] if len(blocks) == 1 else backend.interleave(blocks, stride)
    if tuple(out.shape[2:]) != tuple(size):
        out = out[(..., *(slice(0, m) for m in size))]
    return out
