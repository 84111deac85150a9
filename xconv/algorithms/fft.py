"""FFT convolution: polyphase split, overlap-save blocks, spectral channel mixing.

The steps, for an already padded `(N, C, *S)` input and a `(F, C/g, *k)` weight:

1. **Dilation** inserts `d - 1` zeros between kernel taps (the dilated kernel).
2. **Stride** `s` is a polyphase split: phase `p` of a dimension keeps samples
   `p, p + s, p + 2s, ...` of the input and of the dilated kernel, and the strided
   correlation is the sum over phases of stride-1 correlations of the phases. Phases
   become extra input channels, so the channel sum in step 4 also sums the phases: a
   stride-`s` layer costs about `1/s**rank` of the full-resolution transform work.
   Phases in which the dilated kernel has no tap (for example every odd phase when
   dilation and stride are both 2) are dropped.
3. **Overlap-save blocks**: each spatial dimension is cut into frames of `B + Q - 1`
   samples (`Q` = polyphase kernel length) starting every `B` samples and transformed at
   a fast length `L >= B + Q - 1`; the first `B` outputs of each frame's circular
   correlation are exact. `B` (hence `L`) minimises the modelled time (`FFTCosts`),
   so long signals use short efficient FFTs; a single frame covering everything is the
   plain (unblocked) FFT convolution. Frames are processed in chunks whose scratch fits
   `xconv.get_workspace_limit()`.
4. **Channel mixing** in the frequency domain, per group: an elementwise product when
   each group has one input channel (depthwise and single-channel filtering), a short
   sum of products for a few channels, and otherwise a batched matmul over frequency bins.
   The correlation (no kernel flip) uses the conjugate spectrum of the kernel, so the
   valid outputs are the first ones of each frame.

Real inputs use real-to-complex transforms (`rfftn`); complex inputs use full `fftn`.
float32 stays float32 (complex64) throughout. The transforms are the backend's (on NumPy
`scipy.fft` with every core; generically `xp.fft`).

Accuracy. Measured against the float64 definition (`tests/reference.py`) evaluated on the
same (already rounded) inputs, uniform in [-1, 1), `padding="same"`, one channel: the
largest error over the output, relative to the scale of the sums, max(sum |x| |w|), and
to the largest output, max |y| (1-d: 4096 samples; 2-d: 128 x 128 with a k x k kernel):

    kernel size k                        3        7        15       31       63
    float32 1-d, / max sum |x||w|        2.2e-7   2.1e-7   1.4e-7   1.4e-7   9.5e-8
    float32 1-d, / max |y|               2.2e-7   2.2e-7   1.8e-7   2.2e-7   2.0e-7
    float32 2-d, / max sum |x||w|        2.1e-7   1.2e-7   7.6e-8   3.5e-8   2.1e-8
    float32 2-d, / max |y|               2.5e-7   2.2e-7   2.4e-7   2.3e-7   2.4e-7
    (GEMM, float32 2-d, / max |y|)       1.1e-7   1.3e-7   1.6e-7   3.3e-7   6.6e-7
    float64 2-d, / max sum |x||w|        5.7e-16  2.8e-16  2.6e-16  2.0e-16  2.4e-16

So the float32 FFT error does not grow with the kernel: it stays at about 4 eps
(eps = 6e-8) of the largest output for every k, because a transform's rounding depends
on its length (slowly, like sqrt(log2 L)) and on the size of the data, not on the number
of taps; relative to the scale of the sums it even falls, like 1/sqrt(taps). The direct
and GEMM sums instead accumulate error with the taps, so beyond about 31 x 31 the FFT
is the more accurate path. Unlike a direct sum, the FFT spreads its error evenly over
the output: an output far smaller than its neighbours (cancellation) has a larger
*relative* error than a direct sum would give it. The tests hold the float32 error to
2e-6 and the float64 error to 1e-10 of max sum |x| |w|.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import math
from dataclasses import dataclass
from types import ModuleType

from array_api_compat import device

from ..config import get_thread_limit
from ..spec import ConvSpec
from ._fft_sizes import FastLength, candidate_lengths, smooth_length
from ._overlap import fit
from .base import Algorithm, Estimate, Problem
from .costs import FFTCosts
from .gemm import plan_tiles, tile_regions
from .prepared import PreparedWeights

# frames per chunk stop paying off long before this much scratch (the per-chunk overhead
# is a fraction of a millisecond), so chunks stay below it even when the limit is higher
CHUNK_BYTES = 32 * 2**20


@dataclass(frozen=True)
class FFTGeometry:
    """How the FFT path splits one convolution (all tuples are per spatial dimension).

    `phases` are the polyphase components kept, `taps` and `length` the polyphase kernel
    and input lengths, `block` the outputs per overlap-save frame, `blocks` the frame
    count, `fft_shape` the transform size, `channels` the input channels after the phase
    split, `chunk` the `(batch, *blocks)` tile processed at once, `workspace_bytes` the
    modelled peak scratch, `seconds` the modelled time and `route` the channel mixing
    (`"product"`: a sum of broadcast products; `"matmul"`: a batched matmul per bin;
    `"kernel"`: the backend's compiled kernel, `Backend.mix_channels`).
    """

    phases: tuple[tuple[int, ...], ...]
    taps: tuple[int, ...]
    length: tuple[int, ...]
    out: tuple[int, ...]
    block: tuple[int, ...]
    blocks: tuple[int, ...]
    fft_shape: tuple[int, ...]
    channels: int
    chunk: tuple[int, ...]
    workspace_bytes: int
    flops: int
    seconds: float
    route: str = "product"

    @property
    def frame(self) -> tuple[int, ...]:
        """Input samples per overlap-save frame."""
        return tuple(b + q - 1 for b, q in zip(self.block, self.taps, strict=True))

    @property
    def blocked(self) -> bool:
        return any(n > 1 for n in self.blocks)


@functools.lru_cache(maxsize=1024)
def fft_geometry(
    spec: ConvSpec,
    batch: int,
    channels: int,
    filters: int,
    out_spatial: tuple[int, ...],
    *,
    item_bytes: int,
    complex_: bool,
    limit: int,
    costs: FFTCosts,
    fast_length: FastLength = smooth_length,
    kernel_mixing: bool = False,
) -> FFTGeometry:
    """Plan the FFT path for a padded input of `channels` channels and `out_spatial` outputs.

    `item_bytes` is the size of one compute-dtype element (complex included). The frame
    size minimises the modelled time among those whose scratch fits `limit` (the smallest
    frames if none does). `kernel_mixing`: the backend mixes channels by a compiled kernel.
    """
    # t * d mod s repeats with a period dividing s: the first min(k, s) taps say it all
    phases = tuple(
        tuple(sorted({(t * d) % s for t in range(min(k, s))}))
        for k, d, s in zip(spec.kernel_size, spec.dilation, spec.stride, strict=True)
    )
    taps = tuple(-(-e // s) for e, s in zip(spec.dilated_kernel, spec.stride, strict=True))
    length = tuple(o + q - 1 for o, q in zip(out_spatial, taps, strict=True))
    phase_count = math.prod(len(p) for p in phases)
    # a strided input is split into its phases (gathered, then made contiguous)
    split = 2 * batch * channels * phase_count * math.prod(length) if phase_count > 1 else 0
    work = _Work(
        batch=batch,
        taps=taps,
        channels=channels * phase_count,
        filters=filters,
        groups=spec.groups,
        item_bytes=item_bytes,
        complex_=complex_,
        limit=limit,
        costs=costs,
        kernel_mixing=kernel_mixing,
        split_elements=split,
    )
    steps = 2 ** (0.25 * spec.rank)  # fewer lengths per octave as the search space grows
    options = [
        candidate_lengths(q, m, fast_length, steps) for q, m in zip(taps, length, strict=True)
    ]
    best = None
    for fft_shape in itertools.product(*options):
        block = tuple(
            min(n - q + 1, o) for n, q, o in zip(fft_shape, taps, out_spatial, strict=True)
        )
        count = tuple(-(-o // b) for o, b in zip(out_spatial, block, strict=True))
        fits = work.weight_bytes(fft_shape) + work.frame_bytes(fft_shape) <= limit
        key = (not fits, work.seconds(fft_shape, count) if fits else work.frame_bytes(fft_shape))
        if best is None or key < best[0]:
            best = (key, fft_shape, block, count)
    _, fft_shape, block, count = best
    weight_bytes, frame_bytes = work.weight_bytes(fft_shape), work.frame_bytes(fft_shape)
    budget = min(limit - weight_bytes, CHUNK_BYTES)
    chunk = plan_tiles((batch, *count), frame_bytes, max(budget, 1))
    return FFTGeometry(
        phases=phases,
        taps=taps,
        length=length,
        out=tuple(out_spatial),
        block=block,
        blocks=count,
        fft_shape=fft_shape,
        channels=work.channels,
        chunk=chunk,
        workspace_bytes=weight_bytes + frame_bytes * math.prod(chunk),
        flops=work.flops(fft_shape, count),
        seconds=work.seconds(fft_shape, count),
        route=work.mixing(fft_shape, count)[0],
    )


@dataclass(frozen=True)
class _Work:
    """The cost and memory model of the FFT path for one problem (see `FFTCosts`)."""

    batch: int
    taps: tuple[int, ...]
    channels: int  # after the phase split
    filters: int
    groups: int
    item_bytes: int
    complex_: bool
    limit: int
    costs: FFTCosts
    kernel_mixing: bool = False
    split_elements: int = 0  # elements copied to split a strided input into its phases

    def frame_bytes(self, fft_shape) -> int:
        """Scratch per frame: frames, both spectra, mixing layouts, inverse output."""
        return self.item_bytes * math.prod(fft_shape) * (3 * self.channels + 4 * self.filters)

    def weight_bytes(self, fft_shape) -> int:
        """The kernel spectrum (and its matmul layout)."""
        per_group = self.channels // self.groups
        return 2 * self.item_bytes * math.prod(fft_shape) * per_group * self.filters

    def _counts(self, fft_shape, count):
        size = math.prod(fft_shape)
        frames_ = self.batch * math.prod(count)
        transforms = frames_ * (self.channels + self.filters)
        # the kernel's, axis by axis from the last: axis i runs on prod(q[:i] / L[:i]) of
        # the lines of a full transform and is about 1/rank of its work
        ratios = [q / n for q, n in zip(self.taps, fft_shape, strict=True)]
        padded = sum(math.prod(ratios[:i]) for i in range(len(ratios))) / len(ratios)
        transforms += self.channels // self.groups * self.filters * padded
        last = fft_shape[-1]
        bins = size if self.complex_ else size // last * (last // 2 + 1)
        macs = frames_ * bins * self.channels // self.groups * self.filters
        return size, frames_, transforms, macs

    def flops(self, fft_shape, count) -> int:
        """Conventional flop count: `2.5 n log2 n` per real transform, 8 per complex MAC."""
        size, _, transforms, macs = self._counts(fft_shape, count)
        per_transform = 2.5 * size * math.log2(max(size, 2)) * (2 if self.complex_ else 1)
        return int(transforms * per_transform + 8 * macs)  # transforms may be fractional

    def mixing(self, fft_shape, count) -> tuple[str, float]:
        """The cheaper channel-mixing route and its nanoseconds."""
        costs = self.costs
        _, frames_, _, macs = self._counts(fft_shape, count)
        bins = macs // max(frames_ * self.channels // self.groups * self.filters, 1)
        product = macs * costs.mix_product
        per_group, filters = self.channels // self.groups, self.filters // self.groups
        thin = (1 + 16 / per_group) * (1 + 4 / filters)
        matmul = macs * costs.mix_matmul * thin / costs.blas_speedup
        matmul += frames_ * bins * (self.channels + self.filters) * costs.copy
        if per_group == 1:  # an in-place product: nothing to sum
            return "product", product
        routes = [("product", product), ("matmul", matmul)]
        if self.kernel_mixing and costs.mix_kernel is not None:
            spectra = frames_ * (self.channels + self.filters) + per_group * self.filters
            routes.append(("kernel", macs * costs.mix_kernel + bins * spectra * costs.copy))
        return min(routes, key=lambda route: route[1])

    def seconds(self, fft_shape, count) -> float:
        costs = self.costs
        size, frames_, transforms, _ = self._counts(fft_shape, count)
        reals = size * (2 if self.complex_ else 1)
        per_sample = costs.axis_pass * len(fft_shape) + costs.transform * math.log2(max(size, 2))
        line_bytes = max(fft_shape) * self.item_bytes
        if line_bytes > costs.line_cache_bytes:
            per_sample += costs.long_line * math.log2(line_bytes / costs.line_cache_bytes)
        if len(fft_shape) > 1 and size * self.item_bytes > costs.frame_cache_bytes:
            per_sample += costs.large_frame
        moved = frames_ * size * self.channels  # zero padding to the transform size
        moved += self.split_elements
        if any(c > 1 for c in count):  # framing and unframing copies
            moved += frames_ * size * (self.channels + self.filters)
        chunks = 1 + frames_ * self.frame_bytes(fft_shape) // min(self.limit, CHUNK_BYTES)
        nanoseconds = (
            transforms * reals * per_sample / costs.transform_speedup
            + self.mixing(fft_shape, count)[1]
            + moved * costs.copy
            + chunks * costs.call
        )
        return nanoseconds * 1e-9


# ---------------------------------------------------------------------------- transforms


class _Transforms:
    """Forward and inverse n-d transforms over the trailing axes, from the backend."""

    def __init__(self, backend, complex_: bool):
        self.complex = complex_
        self._forward = backend.fftn if complex_ else backend.rfftn
        self._inverse = backend.ifftn if complex_ else backend.irfftn
        self._complex_forward = backend.fftn

    def forward(self, x, shape: tuple[int, ...]):
        return self._forward(x, shape, tuple(range(x.ndim - len(shape), x.ndim)))

    def forward_padded(self, x, shape: tuple[int, ...]):
        """`forward` of an array much smaller than `shape`, one axis at a time from the last.

        The zero padding of the leading axes is never transformed: for a `k x k` kernel
        in an `L x L` transform this does `k + L/2` 1-d transforms instead of `L + L/2`.
        """
        rank = len(shape)
        x = self._forward(x, shape[-1:], (x.ndim - 1,))
        for axis in range(rank - 2, -1, -1):
            x = self._complex_forward(x, shape[axis : axis + 1], (x.ndim - rank + axis,))
        return x

    def inverse(self, x, shape: tuple[int, ...]):
        return self._inverse(x, shape, tuple(range(x.ndim - len(shape), x.ndim)))


# ---------------------------------------------------------------------------- the path


def estimate_fft(backend, problem: Problem) -> Estimate:
    """The FFT geometry that minimises the modelled time, and its cost (on one thread
    when the context allows one: no gain from the other cores then)."""
    costs = backend.costs.fft
    if get_thread_limit() == 1:
        costs = dataclasses.replace(costs, transform_speedup=1.0, blas_speedup=1.0)
    geometry = fft_geometry(
        problem.spec,
        problem.batch,
        problem.channels,
        problem.filters,
        problem.out_spatial,
        item_bytes=problem.item_bytes,
        complex_=problem.complex,
        limit=problem.limit,
        costs=costs,
        fast_length=backend.fast_length(problem.complex),
        kernel_mixing=backend.compiled_mixing,
    )
    chunking = {
        "fft_shape": geometry.fft_shape,
        "frames": geometry.blocks,
        "frame_outputs": geometry.block,
        "chunk": geometry.chunk,
        "phases": tuple(len(p) for p in geometry.phases),
    }
    # the run keeps no reference to its padded input (its output is assembled afresh)
    return Estimate(
        geometry.seconds * problem.slowdown,
        geometry.flops,
        geometry.workspace_bytes,
        chunking,
        detail=geometry,
        padded_layout="channels_first",
        padded_tail=_frames_tail(problem.spec, geometry),
    )


def _frames_tail(spec: ConvSpec, geometry: FFTGeometry) -> tuple[int, ...]:
    """Samples the last overlap-save frames read past the padded input, per dimension
    (at stride 1; the polyphase split of a strided dimension copies the input anyway)."""
    return tuple(
        n * b - o if s == 1 else 0
        for n, b, o, s in zip(
            geometry.blocks, geometry.block, geometry.out, spec.stride, strict=True
        )
    )


def conv_fft(
    backend,
    x,
    weight,
    spec: ConvSpec,
    out_spatial: tuple[int, ...],
    estimate,
    prepared: PreparedWeights | None = None,
):
    """Convolution of a padded `(N, C, *S)` input by FFT; returns `(N, F, *out_spatial)`.

    With `prepared` (a plan's or a layer's, on a backend that keeps them), the kernel
    spectrum is made once per weight and geometry and reused while the weight is equal.
    """
    xp = backend.xp
    n, channels = x.shape[0], x.shape[1]
    filters = weight.shape[0]
    complex_ = xp.isdtype(x.dtype, "complex floating")
    if n == 0 or channels == 0 or filters == 0:
        return xp.zeros((n, filters, *out_spatial), dtype=x.dtype, device=device(x))
    geometry = estimate.detail
    transforms = _Transforms(backend, complex_)
    x = _split_input(xp, x, spec, geometry)

    def spectrum_of(w):
        kernel = _split_kernel(xp, w, spec, geometry)
        return _kernel_spectrum(backend, kernel, spec.groups, geometry, transforms)

    if prepared is not None and backend.keeps_prepared_weights:
        spectrum = prepared.form(xp, ("fft", spec, geometry, complex_), weight, spectrum_of)
    else:
        spectrum = spectrum_of(weight)

    available = x.shape[2:]  # the padded length, and the frames' tail where it was padded

    def tiles():
        for region in tile_regions((n, *geometry.blocks), geometry.chunk):
            batch, block_region = region[0], region[1:]
            window = tuple(
                slice(r.start * b, min(r.stop * b + q - 1, m))
                for r, b, q, m in zip(
                    block_region, geometry.block, geometry.taps, available, strict=True
                )
            )
            source = x[(batch, slice(None), *window, ...)]
            counts = tuple(r.stop - r.start for r in block_region)
            frames = _frames(backend, source, spectrum, spec.groups, geometry, counts, transforms)
            out_region = tuple(
                slice(r.start * b, min(r.stop * b, o))
                for r, b, o in zip(block_region, geometry.block, geometry.out, strict=True)
            )
            yield (batch, slice(None), *out_region), frames

    return backend.assemble_frames((n, filters, *geometry.out), x.dtype, tiles(), geometry.block)


FFT = Algorithm("fft", estimate_fft, conv_fft, prepares=True)


def _split_input(xp: ModuleType, x, spec: ConvSpec, geometry: FFTGeometry):
    """Polyphase components of the input as extra channels `(N, C * phases, *length)`;
    a stride-1 dimension keeps the frames' tail where the input has it."""
    tail = _frames_tail(spec, geometry)
    for axis, (s, phases, m, t) in enumerate(
        zip(spec.stride, geometry.phases, geometry.length, tail, strict=True), start=2
    ):
        if s == 1:
            x = fit(xp, x, axis, min(max(x.shape[axis], m), m + t))
            continue
        x = fit(xp, x, axis, m * s)
        parts = [x[(*(slice(None),) * axis, slice(p, p + (m - 1) * s + 1, s), ...)] for p in phases]
        x = _merge_channels(xp, xp.stack(parts, axis=2))
    return x


def _split_kernel(xp: ModuleType, weight, spec: ConvSpec, geometry: FFTGeometry):
    """The dilated kernel's polyphase components `(F, C/g * phases, *taps)`."""
    w = weight
    for i in range(spec.rank):
        axis, d, s = 2 + i, spec.dilation[i], spec.stride[i]
        if d > 1:  # k taps, d - 1 zeros after each, the trailing zeros cut off
            zeros = xp.zeros(w.shape, dtype=w.dtype, device=device(w))
            w = xp.stack([w] + [zeros] * (d - 1), axis=axis + 1)
            w = xp.reshape(w, (*w.shape[:axis], -1, *w.shape[axis + 2 :]))
            w = fit(xp, w, axis, spec.dilated_kernel[i])
        if s > 1:
            q = geometry.taps[i]
            w = fit(xp, w, axis, q * s)
            parts = [
                w[(*(slice(None),) * axis, slice(p, p + (q - 1) * s + 1, s), ...)]
                for p in geometry.phases[i]
            ]
            w = _merge_channels(xp, xp.stack(parts, axis=2))
    return w


def _merge_channels(xp: ModuleType, x):
    """`(N, C, P, *S)` -> `(N, C * P, *S)`, phases varying fastest within each channel."""
    return xp.reshape(x, (x.shape[0], x.shape[1] * x.shape[2], *x.shape[3:]))


def _kernel_spectrum(backend, kernel, groups: int, geometry, transforms: _Transforms):
    """Conjugate kernel spectrum `(groups, F/g, C'/g, bins)`, laid out for the mixing route.

    Conjugation turns the transform's convolution into the correlation we want. For the
    matmul route the layout is `(groups, bins, F/g, C'/g)`.
    """
    xp = backend.xp
    filters, per_group = kernel.shape[0], kernel.shape[1]
    if transforms.complex:  # conj(fft(conj(w))): the spectrum of w read backwards
        kernel = xp.conj(kernel)
    spectrum = xp.conj(transforms.forward_padded(kernel, geometry.fft_shape))
    spectrum = xp.reshape(spectrum, (groups, filters // groups, per_group, -1))
    if geometry.route == "matmul":
        spectrum = backend.contiguous(xp.permute_dims(spectrum, (0, 3, 1, 2)))
    return spectrum


def _frames(backend, x, spectrum, groups: int, geometry, counts, transforms):
    """Outputs of `counts` overlap-save frames per dimension of the window `x`.

    Returns `(n, *counts, F, *fft_shape)`: the first `block` outputs of each frame are
    exact (`Backend.assemble_frames` joins them).
    """
    xp = backend.xp
    n, channels = x.shape[0], x.shape[1]
    framed = backend.overlap_frames(x, counts, geometry.block, geometry.frame)
    spectrum_x = transforms.forward(framed, geometry.fft_shape)  # (n, *counts, C', *bins)
    bins = spectrum_x.shape[2 + len(counts) :]
    y = _mix(
        backend, xp.reshape(spectrum_x, (-1, channels, *bins)), spectrum, groups, geometry.route
    )
    y = transforms.inverse(y, geometry.fft_shape)  # (n * prod(counts), F, *fft_shape)
    return xp.reshape(y, (n, *counts, *y.shape[1:]))


def _mix(backend, spectrum_x, spectrum_w, groups: int, route: str):
    """Per-group channel mixing of spectra: `(n, C', *bins)` -> `(n, F, *bins)`."""
    xp = backend.xp
    n, channels, bins = spectrum_x.shape[0], spectrum_x.shape[1], spectrum_x.shape[2:]
    per_group = channels // groups
    flat = xp.reshape(spectrum_x, (n, groups, per_group, -1))
    if route == "kernel":  # w: (g, F/g, C'/g, K), as for the products
        y = backend.mix_channels(flat, spectrum_w)  # (n, g, F/g, K), or None: products
        if y is not None:
            return xp.reshape(y, (n, -1, *bins))
    if route == "matmul":  # w: (g, K, F/g, C'/g)
        rhs = backend.contiguous(xp.permute_dims(flat, (1, 3, 2, 0)))  # (g, K, C'/g, n)
        y = backend.matmul(spectrum_w, rhs)  # (g, K, F/g, n)
        y = backend.contiguous(xp.permute_dims(y, (3, 0, 2, 1)))  # (n, g, F/g, K)
    elif per_group == 1:  # one input channel per group: a broadcast product, no sum
        y = backend.multiply_scratch(flat, spectrum_w[:, :, 0, :])
    else:  # w: (g, F/g, C'/g, K)
        y = None
        for c in range(per_group):
            term = flat[:, :, c : c + 1, :] * spectrum_w[:, :, c, :]
            y = term if y is None else y + term
    return xp.reshape(y, (n, -1, *bins))
