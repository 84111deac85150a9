"""Independent float64 / complex128 oracle for N-d grouped transposed convolution.

Written from the definition with NumPy loops only; it never imports ``xconv``.  Every
input sample scatters the kernel into the full output,

    full[n, g*F/g + f, i*s + t*d] += x[n, g*C/g + c, i] * w[g*C/g + c, f, t]

of size ``(in - 1) * s + (k - 1) * d + 1 + output_padding``, which is then cropped:
``out[j] = full[j + crop_before]`` for ``j < full - crop_before - crop_after``.  A
negative ``crop_after`` (transposed "same" with a kernel shorter than the stride) extends
the output with zeros.
"""

from __future__ import annotations

import itertools

import numpy as np
from reference import as_tuple, effective_extent


def transposed_crop(padding, spatial, kernel, stride, dilation) -> tuple[tuple[int, int], ...]:
    """Every cropping form as one ``(before, after)`` pair per spatial dimension."""
    rank = len(kernel)
    stride, dilation = as_tuple(stride, rank), as_tuple(dilation, rank)
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * rank
        assert padding == "same", padding
        pairs = []
        for k, s, d in zip(kernel, stride, dilation, strict=True):
            total = effective_extent(k, d) - s  # output = in * s
            pairs.append((total // 2, total - total // 2) if total >= 0 else (0, total))
        return tuple(pairs)
    if isinstance(padding, (int, np.integer)):
        return ((int(padding), int(padding)),) * rank
    pairs = []
    for p in padding:
        if isinstance(p, (int, np.integer)):
            pairs.append((int(p), int(p)))
        else:
            pairs.append((int(p[0]), int(p[1])))
    return tuple(pairs)


def transposed_full_size(n: int, k: int, s: int, d: int, output_padding: int) -> int:
    return (n - 1) * s + effective_extent(k, d) + output_padding


def reference_conv_transpose(
    x,
    weight,
    bias=None,
    *,
    stride=1,
    padding=0,
    output_padding=0,
    dilation=1,
    groups: int = 1,
    channels_last: bool = False,
) -> np.ndarray:
    """Transposed convolution by scattering, in float64 (complex128 if any operand is complex).

    ``x`` is ``(N, C, *S)`` / ``(C, *S)`` (or channels-last), ``weight`` ``(C, F // groups,
    *K)``; the result follows the input's batching and channel convention.
    """
    x, weight = np.asarray(x), np.asarray(weight)
    complex_ = np.iscomplexobj(x) or np.iscomplexobj(weight) or np.iscomplexobj(bias)
    dt = np.dtype(np.complex128 if complex_ else np.float64)
    x, weight = x.astype(dt), weight.astype(dt)
    rank = weight.ndim - 2
    batched = x.ndim == rank + 2
    if not batched:
        x = x[None]
    if channels_last:
        x = np.moveaxis(x, -1, 1)
    n_batch, c_in, *spatial = x.shape
    assert weight.shape[0] == c_in, "weight must be (C, F // groups, *K)"
    f_per, kernel = weight.shape[1], weight.shape[2:]
    c_per = c_in // groups
    f_out = f_per * groups
    stride, dilation = as_tuple(stride, rank), as_tuple(dilation, rank)
    output_padding = as_tuple(output_padding, rank)
    full_sizes = [
        transposed_full_size(spatial[i], kernel[i], stride[i], dilation[i], output_padding[i])
        for i in range(rank)
    ]
    full = np.zeros((n_batch, f_out, *full_sizes), dtype=dt)
    for c in range(c_in):
        g = c // c_per
        for i in itertools.product(*(range(n) for n in spatial)):
            value = x[(slice(None), c, *i)]  # (N,)
            for t in itertools.product(*(range(k) for k in kernel)):
                p = tuple(i[a] * stride[a] + t[a] * dilation[a] for a in range(rank))
                for f in range(f_per):
                    full[(slice(None), g * f_per + f, *p)] += value * weight[(c, f, *t)]
    crops = transposed_crop(padding, spatial, kernel, stride, dilation)
    out_sizes = [full_sizes[a] - crops[a][0] - crops[a][1] for a in range(rank)]
    assert all(m >= 1 for m in out_sizes), "cropping removes the whole output"
    out = np.zeros((n_batch, f_out, *out_sizes), dtype=dt)
    keep = []
    for a in range(rank):  # output j reads full[j + before]; beyond the full output: zeros
        stop = min(out_sizes[a], full_sizes[a] - crops[a][0])
        keep.append((slice(0, stop), slice(crops[a][0], crops[a][0] + stop)))
    out[(slice(None), slice(None), *(k[0] for k in keep))] = full[
        (slice(None), slice(None), *(k[1] for k in keep))
    ]
    if bias is not None:
        out = out + np.asarray(bias).astype(dt).reshape((1, f_out) + (1,) * rank)
    if channels_last:
        out = np.moveaxis(out, 1, -1)
    return out if batched else out[0]
