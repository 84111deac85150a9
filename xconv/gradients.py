"""`conv_vjp` and `conv_transpose_vjp`: input, weight and bias gradients.

Both return the gradients of `sum(grad_output * f(x, weight, bias))`: the transpose of
the derivative, without complex conjugation (the same bilinear convention as the forward
pass). For a forward convolution the input gradient is a transposed convolution, folded
back through the adjoint of the padding mode, and the weight gradient is a correlation of
the padded input with the output gradient; a transposed convolution swaps the two roles.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from types import ModuleType

from array_api_compat import device

from ._arrays import (
    array_namespace,
    checked_kind,
    compute_dtype,
    from_canonical,
    result_dtype,
    to_canonical,
)
from .algorithms.transposed import window
from .algorithms.transposed_fft import fft_vjp
from .algorithms.transposed_weight import weight_gradient
from .padding import check_padding_widths, pad, source_indices
from .spec import ConvSpec
from .transposed import (
    adjoint_spec,
    check_input_channels,
    forward_runner,
    planned,
    resolve_algorithm,
    transposed_spec,
    transposed_window,
)

IntOrTuple = int | Sequence[int]
Padding = int | str | Sequence[int] | Sequence[tuple[int, int]]


def conv_vjp(
    grad_output,
    x,
    weight,
    *,
    stride: IntOrTuple = 1,
    padding: Padding = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    padding_mode: str = "constant",
    padding_value: float | complex = 0.0,
    channels_last: bool = False,
    algorithm: str = "auto",
):
    """Gradients `(grad_input, grad_weight, grad_bias)` of `xconv.conv`.

    The arguments after `weight` are those of the forward `conv` call; `grad_output` has
    the shape of its output. Every padding mode works: the input gradient of the padded
    samples folds back onto the input samples they copy (constant padding just drops
    them, and `padding_value` reaches only the weight gradient). All three gradients
    have the forward result dtype; `grad_bias` is `(F,)`.

    `algorithm` ("auto", "direct", "gemm", "fft", "measure") runs the correlations
    inside: the input gradient is a transposed convolution (stride-1 phase correlations,
    each planned on its own under "auto"), the weight gradient a correlation of the
    padded input with `grad_output`, planned like the forward layer ("measure" times
    the phases and uses the model for the weight gradient). On the FFT path at stride 1
    both gradients come from one set of spectra.

    >>> import numpy as np, xconv
    >>> x, w = np.arange(4.0)[None], np.array([[[1.0, -1.0]]])
    >>> gx, gw, gb = xconv.conv_vjp(np.ones((1, 3)), x, w)
    >>> gx, gw, gb
    (array([[ 1.,  0.,  0., -1.]]), array([[[3., 6.]]]), array([3.]))
    """
    xp = array_namespace(grad_output, x, weight)
    algorithm = resolve_algorithm(algorithm)
    if not hasattr(weight, "shape") or len(weight.shape) < 3:
        raise ValueError(
            f"weight must be an array of shape (F, C // groups, *kernel) with at least one "
            f"spatial dimension, got shape {getattr(weight, 'shape', None)}"
        )
    spec = ConvSpec.from_weight_shape(
        tuple(weight.shape),
        groups=groups,
        stride=stride,
        padding=padding,
        dilation=dilation,
        padding_mode=padding_mode,
        padding_value=padding_value,
        channels_last=channels_last,
    )
    user_shape = tuple(x.shape)
    x, batched = to_canonical(xp, x, spec.rank, channels_last)
    check_input_channels(x.shape[1], weight.shape, spec)
    dtype = result_dtype(xp, x, weight)
    if padding_mode == "constant" and _is_complex(padding_value) and not _complex(xp, dtype):
        raise TypeError(
            f"padding_value {padding_value!r} is complex but the result dtype {dtype} is real"
        )
    spatial = tuple(x.shape[2:])
    pads = spec.resolve_padding(spatial)
    check_padding_widths(spatial, pads, padding_mode)
    work = compute_dtype(xp, dtype)
    grad = _grad_output(xp, grad_output, spec.output_shape(user_shape), spec, dtype, work)
    w = xp.astype(weight, work, copy=False)

    if x.shape[0] == 0:  # an empty batch: every gradient is zero
        return _zero_gradients(xp, x, weight, spec.out_channels, dtype, batched, channels_last)
    padded = pad(xp, xp.astype(x, work, copy=False), pads, padding_mode, padding_value)
    # the weight gradient costs what the forward correlation costs: the same choice
    weight_algorithm = planned(xp, spec, tuple(x.shape), work, algorithm)
    both = None
    if weight_algorithm == "fft" and all(s == 1 for s in spec.stride):
        both = fft_vjp(xp, padded, grad, w, spec)  # one set of spectra for both gradients
    if both is not None:
        grad_x, grad_w = both
        if padding_mode == "constant":
            grad_x = grad_x[
                (..., *(slice(b, b + n) for n, (b, _) in zip(spatial, pads, strict=True)))
            ]
    else:
        if padding_mode == "constant":  # the padded samples are constants: only x's window
            start, size = [before for before, _ in pads], spatial
        else:
            start = [0] * spec.rank
            size = [b + n + a for n, (b, a) in zip(spatial, pads, strict=True)]
        grad_x = transposed_window(xp, grad, w, spec, start, size, algorithm)
        grad_w = weight_gradient(xp, padded, grad, spec, weight_algorithm)
    if padding_mode != "constant":
        grad_x = fold_padding(xp, grad_x, spatial, pads, padding_mode)
    grad_b = xp.sum(grad, axis=(0, *range(2, grad.ndim)))
    return (
        from_canonical(xp, xp.astype(grad_x, dtype, copy=False), batched, channels_last),
        xp.astype(grad_w, dtype, copy=False),
        xp.astype(grad_b, dtype, copy=False),
    )


def conv_transpose_vjp(
    grad_output,
    x,
    weight,
    *,
    stride: IntOrTuple = 1,
    padding: Padding = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    channels_last: bool = False,
    algorithm: str = "auto",
):
    """Gradients `(grad_input, grad_weight, grad_bias)` of `xconv.conv_transpose`.

    The arguments after `weight` are those of the `conv_transpose` call (`weight` is
    `(C, F // groups, *kernel)`); `grad_output` has the shape of its output. The input
    gradient is a forward correlation of `grad_output` (the cropping becomes padding),
    the weight gradient a correlation of `grad_output` with `x`, each run by
    `algorithm` as in `conv_vjp`. All three have the result dtype; `grad_bias` is `(F,)`.

    >>> import numpy as np, xconv
    >>> x, w = np.array([[1.0, 2.0]]), np.array([[[1.0, 10.0]]])
    >>> gx, gw, gb = xconv.conv_transpose_vjp(np.array([[1.0, 0.0, 0.0, 1.0]]), x, w, stride=2)
    >>> gx, gw, gb
    (array([[ 1., 10.]]), array([[[1., 2.]]]), array([2.]))
    """
    xp = array_namespace(grad_output, x, weight)
    algorithm = resolve_algorithm(algorithm)
    spec = transposed_spec(
        weight,
        groups=groups,
        stride=stride,
        padding=padding,
        output_padding=output_padding,
        dilation=dilation,
        channels_last=channels_last,
    )
    user_shape = tuple(x.shape)
    x, batched = to_canonical(xp, x, spec.rank, channels_last)
    check_input_channels(x.shape[1], weight.shape, spec)
    dtype = result_dtype(xp, x, weight)
    spatial = tuple(x.shape[2:])
    crops = spec.resolve_padding(spatial)
    work = compute_dtype(xp, dtype)
    grad = _grad_output(xp, grad_output, spec.output_shape(user_shape), spec, dtype, work)
    if x.shape[0] == 0:  # an empty batch: every gradient is zero
        return _zero_gradients(xp, x, weight, spec.out_channels, dtype, batched, channels_last)
    forward = adjoint_spec(spec)
    # the full (uncropped) output gradient, over the samples the forward correlation reads
    read = [
        (n - 1) * s + e for n, s, e in zip(spatial, spec.stride, spec.dilated_kernel, strict=True)
    ]
    source = window(
        xp, grad, [(-before, r - before) for (before, _), r in zip(crops, read, strict=True)]
    )
    grad_x = forward_runner(xp, algorithm)(
        source, xp.astype(weight, work, copy=False), forward, spatial
    )
    weight_algorithm = planned(xp, forward, tuple(source.shape), work, algorithm)
    grad_w = weight_gradient(xp, source, xp.astype(x, work, copy=False), forward, weight_algorithm)
    grad_b = xp.sum(grad, axis=(0, *range(2, grad.ndim)))
    return (
        from_canonical(xp, xp.astype(grad_x, dtype, copy=False), batched, channels_last),
        xp.astype(grad_w, dtype, copy=False),
        xp.astype(grad_b, dtype, copy=False),
    )


def fold_padding(xp: ModuleType, g, spatial: Sequence[int], pads, mode: str):
    """Adjoint of `pad(x, pads, mode)` on the trailing axes: padded samples add onto sources.

    Each side of an axis is cut into runs whose sources step by +1, -1 (mirrors) or 0
    (replicate); a run is flipped or summed, then added onto the samples it copies.
    """
    rank = len(pads)
    first = g.ndim - rank
    for i, (n, (before, after)) in enumerate(zip(spatial, pads, strict=True)):
        if before == after == 0:
            continue
        axis = first + i
        sources = source_indices(n, before, after, mode)
        out = _take(g, axis, before, before + n)
        for start, stop, step in _runs(sources, before, n):
            block = _take(g, axis, start, stop)
            if step == -1:
                block = xp.flip(block, axis=axis)
            elif step == 0:
                block = xp.sum(block, axis=axis, keepdims=True)
            low = min(sources[start], sources[stop - 1])
            widths = [(0, 0)] * rank
            widths[i] = (low, n - low - block.shape[axis])
            out = out + pad(xp, block, widths)
        g = out
    return g


def _runs(sources: list[int], before: int, n: int):
    """`(start, stop, step)` runs of padded positions outside `[before, before + n)`."""
    outside = [*range(before), *range(before + n, len(sources))]
    runs: list[list[int]] = []
    for p in outside:
        if runs:
            start, stop, step = runs[-1]
            delta = sources[p] - sources[p - 1]
            if p == stop and ((stop - start == 1 and delta in (-1, 0, 1)) or delta == step):
                runs[-1] = [start, p + 1, delta]
                continue
        runs.append([p, p + 1, 1])
    return [tuple(r) for r in runs]


def _take(a, axis: int, start: int, stop: int):
    return a[(*(slice(None),) * axis, slice(start, stop), ...)]


def _zero_gradients(xp: ModuleType, x, weight, filters: int, dtype, batched, channels_last):
    dev = device(x)
    return (
        from_canonical(xp, xp.zeros(x.shape, dtype=dtype, device=dev), batched, channels_last),
        xp.zeros(weight.shape, dtype=dtype, device=dev),
        xp.zeros((filters,), dtype=dtype, device=dev),
    )


def _grad_output(xp: ModuleType, grad_output, expected: tuple, spec: ConvSpec, dtype, work):
    """`grad_output` checked against the forward output shape, canonical, in `work` dtype."""
    if not hasattr(grad_output, "shape"):
        raise TypeError(f"grad_output must be an array, got {type(grad_output).__name__}")
    if tuple(grad_output.shape) != tuple(expected):
        raise ValueError(
            f"grad_output has shape {tuple(grad_output.shape)} but the output of the "
            f"{'transposed ' if spec.transposed else ''}convolution has shape {tuple(expected)}"
        )
    if (
        checked_kind(xp, grad_output, "grad_output") == "floating"
        and _complex(xp, grad_output.dtype)
        and not _complex(xp, dtype)
    ):
        raise TypeError(
            f"grad_output is complex ({grad_output.dtype}) but the result dtype {dtype} is real"
        )
    grad, _ = to_canonical(xp, grad_output, spec.rank, spec.channels_last, "grad_output")
    return xp.astype(grad, work, copy=False)


def _complex(xp: ModuleType, dtype) -> bool:
    return xp.isdtype(dtype, "complex floating")


def _is_complex(value) -> bool:
    return isinstance(value, numbers.Complex) and not isinstance(value, numbers.Real)
