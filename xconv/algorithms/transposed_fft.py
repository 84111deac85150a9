"""Both gradients of a stride-1 convolution from one set of spectra.

For a stride-1 correlation `y = x (*) w` of a padded input `x` (`P` samples, `P = O + E - 1`
for a dilated kernel extent `E`), with output gradient `g` (`O` samples):

    grad_x = g * w          (a linear convolution, P samples)
    grad_w = g (*) x        (a correlation, E samples)

With every transform at one length `L >= P` neither wraps around, and the spectrum of `g`
serves both, so the pair costs five transforms (x, g, w forward; grad_x, grad_w inverse,
the latter summed over the batch first) where two separate FFT convolutions cost six of
them at larger channel counts. Used by `conv_vjp` when the planner picks the FFT path and
the stride is 1; `None` when the spectra would not fit the workspace (the caller then
runs the gradients as two separate correlations, which tile).
"""

from __future__ import annotations

import math
from types import ModuleType

from array_api_compat import device

from .._arrays import itemsize
from ..spec import ConvSpec

# mixing channels by broadcast products up to this many (F/g * C/g) pairs, else matmul
_PRODUCT_PAIRS = 16


def _lengths(backend, padded, complex_: bool) -> tuple[int, ...]:
    fast_length = backend.fast_length(complex_)
    return tuple(fast_length(p) for p in padded)


def spectra_bytes(backend, x_shape, spec: ConvSpec, complex_: bool, item_bytes: int) -> int:
    """Bytes of the spectra `fft_vjp` holds for a padded input of `x_shape`: it declines
    past its `limit` (the planner checks first, and plans the two gradients apart)."""
    lengths = _lengths(backend, tuple(x_shape[2:]), complex_)
    bins = math.prod(lengths[:-1]) * (lengths[-1] if complex_ else lengths[-1] // 2 + 1)
    n, channels, filters = x_shape[0], x_shape[1], spec.out_channels
    per_group = channels // spec.groups
    spectra = 2 * n * channels + 2 * n * filters + 2 * filters * per_group
    return 2 * item_bytes * bins * spectra


def fft_vjp(backend, x, grad, weight, spec: ConvSpec, limit: int):
    """`(grad_x, grad_w)` of stride-1 correlation `spec`, or None if it does not fit `limit`.

    `x` is the padded input `(N, C, *P)`, `grad` the output gradient `(N, F, *O)`,
    `weight` `(F, C/g, *k)`; returns `(N, C, *P)` and `(F, C/g, *k)`.
    """
    xp = backend.xp
    complex_ = xp.isdtype(x.dtype, "complex floating")
    padded = tuple(x.shape[2:])
    lengths = _lengths(backend, padded, complex_)
    n, channels, filters = x.shape[0], x.shape[1], grad.shape[1]
    if spectra_bytes(backend, x.shape, spec, complex_, itemsize(xp, x.dtype)) > limit:
        return None
    forward, inverse = (
        (backend.fftn, backend.ifftn) if complex_ else (backend.rfftn, backend.irfftn)
    )
    rank, groups = spec.rank, spec.groups
    axes = tuple(range(2, 2 + rank))

    kernel = _dilate(xp, weight, spec.dilation)
    spec_x = _grouped(xp, forward(x, lengths, axes), groups)  # (N, G, C/g, *B)
    spec_g = _grouped(xp, forward(grad, lengths, axes), groups)  # (N, G, F/g, *B)
    spec_w = forward(kernel, lengths, axes)
    spec_w = xp.reshape(spec_w, (groups, -1, *spec_w.shape[1:]))  # (G, F/g, C/g, *B)
    # correlating with g needs the spectrum of g read backwards: conj(fft(conj(g)))
    if complex_:
        spec_gc = xp.conj(_grouped(xp, forward(xp.conj(grad), lengths, axes), groups))
    else:
        spec_gc = xp.conj(spec_g)

    grad_x = _mix_input(backend, spec_g, spec_w)  # (N, G, C/g, *B)
    grad_x = inverse(xp.reshape(grad_x, (n, channels, *grad_x.shape[3:])), lengths, axes)
    grad_x = grad_x[(..., *(slice(0, p) for p in padded))]

    grad_w = _mix_weight(backend, spec_gc, spec_x)  # (G, F/g, C/g, *B)
    grad_w = xp.reshape(grad_w, (filters, -1, *grad_w.shape[3:]))
    grad_w = inverse(grad_w, lengths, axes)
    taps = tuple(
        slice(0, (k - 1) * d + 1, d) for k, d in zip(spec.kernel_size, spec.dilation, strict=True)
    )
    return grad_x, grad_w[(..., *taps)]


def _grouped(xp: ModuleType, spectrum, groups: int):
    """`(N, C, *B)` -> `(N, G, C/g, *B)`."""
    n, c = spectrum.shape[0], spectrum.shape[1]
    return xp.reshape(spectrum, (n, groups, c // groups, *spectrum.shape[2:]))


def _dilate(xp: ModuleType, w, dilation):
    """The dilated kernel: `d - 1` zeros between taps."""
    for i, d in enumerate(dilation):
        if d == 1:
            continue
        axis = 2 + i
        zeros = xp.zeros(w.shape, dtype=w.dtype, device=device(w))
        w = xp.stack([w] + [zeros] * (d - 1), axis=axis + 1)
        w = xp.reshape(w, (*w.shape[:axis], -1, *w.shape[axis + 2 :]))
        w = w[(*(slice(None),) * axis, slice(0, w.shape[axis] - d + 1), ...)]
    return w


def _mix_input(backend, spec_g, spec_w):
    """sum over f of g[n, G, f] * w[G, f, c]: `(N, G, F/g, *B)`, `(G, F/g, C/g, *B)`."""
    xp = backend.xp
    n, groups, f_per = spec_g.shape[0], spec_g.shape[1], spec_g.shape[2]
    c_per, bins = spec_w.shape[2], spec_w.shape[3:]
    if f_per * c_per <= _PRODUCT_PAIRS:
        total = None
        for f in range(f_per):
            term = spec_g[:, :, f : f + 1, ...] * spec_w[None, :, f, ...]
            total = term if total is None else total + term
        return total
    flat_g = xp.reshape(spec_g, (n, groups, f_per, -1))
    flat_w = xp.reshape(spec_w, (groups, f_per, c_per, -1))
    lhs = xp.permute_dims(flat_g, (1, 3, 0, 2))  # (G, B, N, F/g)
    rhs = xp.permute_dims(flat_w, (0, 3, 1, 2))  # (G, B, F/g, C/g)
    out = xp.permute_dims(backend.matmul(lhs, rhs), (2, 0, 3, 1))  # (N, G, C/g, B)
    return xp.reshape(out, (n, groups, c_per, *bins))


def _mix_weight(backend, spec_gc, spec_x):
    """sum over n of gc[n, G, f] * x[n, G, c]: `(N, G, F/g, *B)`, `(N, G, C/g, *B)`."""
    xp = backend.xp
    n, groups, f_per = spec_gc.shape[0], spec_gc.shape[1], spec_gc.shape[2]
    c_per, bins = spec_x.shape[2], spec_x.shape[3:]
    if f_per * c_per <= _PRODUCT_PAIRS:
        total = None
        for i in range(n):
            term = spec_gc[i, :, :, None, ...] * spec_x[i, :, None, ...]
            total = term if total is None else total + term
        return total
    flat_g = xp.reshape(spec_gc, (n, groups, f_per, -1))
    flat_x = xp.reshape(spec_x, (n, groups, c_per, -1))
    lhs = xp.permute_dims(flat_g, (1, 3, 2, 0))  # (G, B, F/g, N)
    rhs = xp.permute_dims(flat_x, (1, 3, 0, 2))  # (G, B, N, C/g)
    out = xp.permute_dims(backend.matmul(lhs, rhs), (0, 2, 3, 1))  # (G, F/g, C/g, B)
    return xp.reshape(out, (groups, f_per, c_per, *bins))
