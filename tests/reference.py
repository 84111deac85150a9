"""Independent float64 / complex128 oracle for N-d grouped cross-correlation.

Written from the definition with NumPy only; it never imports ``xconv``.

    out[n, f, o] = bias[f] + sum_{c in group(f), taps t} xpad[n, c, o*s + t*d] * w[f, c_local, t]

No kernel flip, no conjugation.  Padding is done with index maps written here (one per
mode); ``tests/test_reference.py`` cross-checks them against ``numpy.pad``.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

PADDING_STRINGS = ("valid", "same", "same_lower", "full", "causal")
PADDING_MODES = ("constant", "reflect", "symmetric", "replicate", "circular")


# --------------------------------------------------------------------------------------
# padding arithmetic
# --------------------------------------------------------------------------------------


def as_tuple(value, rank: int) -> tuple[int, ...]:
    """An int or a sequence of ``rank`` ints as a tuple of ints."""
    if isinstance(value, (int, np.integer)):
        return (int(value),) * rank
    out = tuple(int(v) for v in value)
    if len(out) != rank:
        raise ValueError(f"expected {rank} values, got {value!r}")
    return out


def effective_extent(k: int, d: int) -> int:
    """Size of a kernel of ``k`` taps dilated by ``d``."""
    return (k - 1) * d + 1


def string_padding_pair(
    mode: str, size: int | None, k: int, s: int, d: int
) -> tuple[int, int] | None:
    """(before, after) padding of one dimension for a padding string.

    Returns None when the input size is unknown and the padding depends on it.
    """
    ext = effective_extent(k, d)
    if mode == "valid":
        return (0, 0)
    if mode == "full":
        return (ext - 1, ext - 1)
    if mode == "causal":
        return (ext - 1, 0)
    if mode in ("same", "same_lower"):
        if size is None:
            if s == 1:
                total = ext - 1  # (in - 1) * 1 + ext - in, independent of in
            else:
                return None
        else:
            out = -(-size // s)  # ceil
            total = max((out - 1) * s + ext - size, 0)
        small, big = total // 2, total - total // 2
        return (small, big) if mode == "same" else (big, small)
    raise ValueError(f"unknown padding string {mode!r}")


def resolve_padding(
    padding,
    spatial: Sequence[int | None],
    kernel: Sequence[int],
    stride=1,
    dilation=1,
) -> tuple[tuple[int, int] | None, ...]:
    """Every accepted padding form as one (before, after) pair per spatial dimension."""
    rank = len(kernel)
    stride = as_tuple(stride, rank)
    dilation = as_tuple(dilation, rank)
    if isinstance(padding, str):
        return tuple(
            string_padding_pair(padding, spatial[i], kernel[i], stride[i], dilation[i])
            for i in range(rank)
        )
    if isinstance(padding, (int, np.integer)):
        return ((int(padding), int(padding)),) * rank
    padding = list(padding)
    if len(padding) != rank:
        raise ValueError(f"padding {padding!r} does not have {rank} entries")
    pairs = []
    for p in padding:
        if isinstance(p, (int, np.integer)):
            pairs.append((int(p), int(p)))
        else:
            b, a = p
            pairs.append((int(b), int(a)))
    return tuple(pairs)


def conv_output_size(size: int | None, k: int, s: int, d: int, pad: tuple[int, int] | None):
    """floor((in + before + after - ext) / s) + 1, or None when unknown."""
    if size is None or pad is None:
        return None
    return (size + pad[0] + pad[1] - effective_extent(k, d)) // s + 1


def transposed_output_size(
    size: int | None, k: int, s: int, d: int, crop: tuple[int, int] | None, output_padding: int
):
    """(in - 1) * s - crop_before - crop_after + (k - 1) * d + 1 + output_padding."""
    if size is None or crop is None:
        return None
    return (size - 1) * s - crop[0] - crop[1] + (k - 1) * d + 1 + output_padding


def transposed_same_crop(k: int, s: int, d: int) -> tuple[int, int]:
    """Transposed 'same' cropping: (k-1)*d + 1 - s in total, the odd one at the end."""
    total = max(effective_extent(k, d) - s, 0)
    return (total // 2, total - total // 2)


# --------------------------------------------------------------------------------------
# padding by index maps
# --------------------------------------------------------------------------------------


def source_index(i: int, n: int, mode: str) -> int:
    """Index into a length-``n`` axis that padded position ``i`` (may be <0 or >=n) reads.

    Returns -1 for positions filled with the constant value.
    """
    if 0 <= i < n:
        return i
    if mode == "constant":
        return -1
    if mode == "replicate":
        return 0 if i < 0 else n - 1
    if mode == "circular":
        return i % n
    if mode == "symmetric":  # mirror including the edge: ... 1 0 | 0 1 2 | 2 1 ...
        period = 2 * n
        m = i % period
        return m if m < n else period - 1 - m
    if mode == "reflect":  # mirror excluding the edge: ... 2 1 | 0 1 2 | 1 0 ...
        if n == 1:
            return 0
        period = 2 * (n - 1)
        m = i % period
        return m if m < n else period - m
    raise ValueError(f"unknown padding mode {mode!r}")


def pad_axis(x: np.ndarray, axis: int, before: int, after: int, mode: str, value=0.0):
    """Pad one axis of ``x`` with the index map of ``mode``."""
    n = x.shape[axis]
    idx = np.array([source_index(i, n, mode) for i in range(-before, n + after)], dtype=np.intp)
    safe = np.where(idx < 0, 0, idx)
    out = np.take(x, safe, axis=axis) if n > 0 else None
    if out is None:  # zero-length axis: only constant padding makes sense
        shape = list(x.shape)
        shape[axis] = before + after
        return np.full(shape, value, dtype=x.dtype)
    if (idx < 0).any():
        mask_shape = [1] * x.ndim
        mask_shape[axis] = idx.size
        mask = (idx < 0).reshape(mask_shape)
        out = np.where(mask, np.asarray(value, dtype=x.dtype), out)
    return out


def pad(x: np.ndarray, pairs, mode: str = "constant", value=0.0, first_axis: int = 0):
    """Pad the trailing ``len(pairs)`` axes of ``x`` (starting at ``first_axis``)."""
    for j, (b, a) in enumerate(pairs):
        x = pad_axis(x, first_axis + j, b, a, mode, value)
    return x


def check_mode_limits(spatial, pairs, mode):
    """Raise ValueError when a pad is wider than the mode allows."""
    for n, (b, a) in zip(spatial, pairs, strict=True):
        if mode == "reflect" and max(b, a) > n - 1:
            raise ValueError("reflect padding needs pad <= size - 1")
        if mode in ("symmetric", "circular") and max(b, a) > n:
            raise ValueError(f"{mode} padding needs pad <= size")


# --------------------------------------------------------------------------------------
# convolution
# --------------------------------------------------------------------------------------


def _working_dtype(*arrays) -> np.dtype:
    complex_ = any(a is not None and np.iscomplexobj(a) for a in arrays)
    return np.dtype(np.complex128 if complex_ else np.float64)


def reference_conv(
    x,
    weight,
    bias=None,
    *,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
    padding_mode: str = "constant",
    padding_value=0.0,
    channels_last: bool = False,
    check_limits: bool = True,
) -> np.ndarray:
    """Grouped N-d cross-correlation from the definition, in float64 / complex128.

    ``x`` is ``(N, C, *S)`` / ``(C, *S)`` (or channels-last), ``weight`` is
    ``(F, C // groups, *K)``, ``bias`` is ``(F,)`` or None.  The result follows the input's
    batching and channel convention.
    """
    x = np.asarray(x)
    weight = np.asarray(weight)
    dt = _working_dtype(x, weight, None if bias is None else np.asarray(bias))
    x = x.astype(dt)
    weight = weight.astype(dt)
    rank = weight.ndim - 2
    batched = x.ndim == rank + 2
    if not batched:
        x = x[None]
    if channels_last:
        x = np.moveaxis(x, -1, 1)
    n_batch, c_in = x.shape[:2]
    spatial = x.shape[2:]
    f_out, c_per_group = weight.shape[:2]
    kernel = weight.shape[2:]
    assert c_in == c_per_group * groups, "channel mismatch"
    assert f_out % groups == 0, "groups must divide F"
    f_per_group = f_out // groups
    stride = as_tuple(stride, rank)
    dilation = as_tuple(dilation, rank)
    pairs = resolve_padding(padding, spatial, kernel, stride, dilation)
    if check_limits:
        check_mode_limits(spatial, pairs, padding_mode)
    xp_ = pad(x, pairs, padding_mode, padding_value, first_axis=2)
    out_sizes = [
        conv_output_size(spatial[i], kernel[i], stride[i], dilation[i], pairs[i])
        for i in range(rank)
    ]
    assert all(o >= 1 for o in out_sizes), "kernel larger than padded input"

    out = np.zeros((n_batch, f_out, *out_sizes), dtype=dt)
    # weight per group, flattened over (c_local, taps): (g, F/g, C/g * prod(K))
    w_groups = weight.reshape(groups, f_per_group, c_per_group * math.prod(kernel))
    x_groups = xp_.reshape(n_batch, groups, c_per_group, *xp_.shape[2:])
    for o in itertools.product(*(range(m) for m in out_sizes)):
        # input index of tap t along dim i is o_i * s_i + t_i * d_i
        index_lists = [
            [o[i] * stride[i] + t * dilation[i] for t in range(kernel[i])] for i in range(rank)
        ]
        patch = x_groups[(slice(None), slice(None), slice(None), *np.ix_(*index_lists))]
        # patch: (N, g, C/g, *K) -> (N, g, C/g * prod K)
        patch = patch.reshape(n_batch, groups, c_per_group * math.prod(kernel))
        val = np.einsum("ngk,gfk->ngf", patch, w_groups)
        out[(slice(None), slice(None), *o)] = val.reshape(n_batch, f_out)
    if bias is not None:
        b = np.asarray(bias).astype(dt).reshape(f_out)
        out = out + b.reshape((1, f_out) + (1,) * rank)
    if channels_last:
        out = np.moveaxis(out, 1, -1)
    if not batched:
        out = out[0]
    return out


def naive_conv(x, weight, bias=None, *, stride, pads, dilation, groups, mode, value):
    """Scalar-loop version (batched channel-first only) for cross-checking ``reference_conv``.

    Every output element is summed term by term with its source index mapped by
    ``source_index``; nothing is vectorised.  Only for tiny shapes.
    """
    x = np.asarray(x)
    weight = np.asarray(weight)
    dt = _working_dtype(x, weight)
    rank = weight.ndim - 2
    n_batch = x.shape[0]
    spatial = x.shape[2:]
    f_out, cpg = weight.shape[:2]
    kernel = weight.shape[2:]
    fpg = f_out // groups
    out_sizes = [
        conv_output_size(spatial[i], kernel[i], stride[i], dilation[i], pads[i])
        for i in range(rank)
    ]
    out = np.zeros((n_batch, f_out, *out_sizes), dtype=dt)
    for n in range(n_batch):
        for f in range(f_out):
            g = f // fpg
            for o in itertools.product(*(range(m) for m in out_sizes)):
                acc = 0.0 if dt.kind == "f" else 0j
                for cl in range(cpg):
                    c = g * cpg + cl
                    for t in itertools.product(*(range(k) for k in kernel)):
                        src = []
                        const = False
                        for i in range(rank):
                            p = o[i] * stride[i] + t[i] * dilation[i] - pads[i][0]
                            j = source_index(p, spatial[i], mode)
                            if j < 0:
                                const = True
                            src.append(j)
                        xv = value if const else x[(n, c, *src)]
                        acc += xv * weight[(f, cl, *t)]
                if bias is not None:
                    acc += bias[f]
                out[(n, f, *o)] = acc
    return out


# --------------------------------------------------------------------------------------
# MATLAB's PaddingValue pictures (groupedConvolution2dLayer reference page):
# the matrix [[3,1,4],[1,5,9],[2,6,5]] padded by 2 on every side.
# --------------------------------------------------------------------------------------

MATLAB_MAGIC = np.array([[3, 1, 4], [1, 5, 9], [2, 6, 5]], dtype=np.float64)

MATLAB_PADDING_PICTURES = {
    # xconv padding_mode -> 7x7 picture (MATLAB name in the comment)
    "constant": np.array(  # scalar 0
        [
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 3, 1, 4, 0, 0],
            [0, 0, 1, 5, 9, 0, 0],
            [0, 0, 2, 6, 5, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
            [0, 0, 0, 0, 0, 0, 0],
        ],
        dtype=np.float64,
    ),
    "symmetric": np.array(  # 'symmetric-include-edge'
        [
            [5, 1, 1, 5, 9, 9, 5],
            [1, 3, 3, 1, 4, 4, 1],
            [1, 3, 3, 1, 4, 4, 1],
            [5, 1, 1, 5, 9, 9, 5],
            [6, 2, 2, 6, 5, 5, 6],
            [6, 2, 2, 6, 5, 5, 6],
            [5, 1, 1, 5, 9, 9, 5],
        ],
        dtype=np.float64,
    ),
    "reflect": np.array(  # 'symmetric-exclude-edge'
        [
            [5, 6, 2, 6, 5, 6, 2],
            [9, 5, 1, 5, 9, 5, 1],
            [4, 1, 3, 1, 4, 1, 3],
            [9, 5, 1, 5, 9, 5, 1],
            [5, 6, 2, 6, 5, 6, 2],
            [9, 5, 1, 5, 9, 5, 1],
            [4, 1, 3, 1, 4, 1, 3],
        ],
        dtype=np.float64,
    ),
    "replicate": np.array(  # 'replicate'
        [
            [3, 3, 3, 1, 4, 4, 4],
            [3, 3, 3, 1, 4, 4, 4],
            [3, 3, 3, 1, 4, 4, 4],
            [1, 1, 1, 5, 9, 9, 9],
            [2, 2, 2, 6, 5, 5, 5],
            [2, 2, 2, 6, 5, 5, 5],
            [2, 2, 2, 6, 5, 5, 5],
        ],
        dtype=np.float64,
    ),
}
