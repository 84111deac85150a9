"""`conv_vjp` and `conv_transpose_vjp`: input, weight and bias gradients.

Both return the gradients of `sum(grad_output * f(x, weight, bias))`: the transpose of
the derivative, without complex conjugation (the same bilinear convention as the forward
pass). For a forward convolution the input gradient is a transposed convolution, folded
back through the adjoint of the padding mode, and the weight gradient is a correlation of
the padded input with the output gradient; a transposed convolution swaps the two roles.
"""

from __future__ import annotations

from collections.abc import Sequence

from array_api_compat import device

from ._arrays import array_namespace
from ._correlations import adjoint_spec, planned, transposed_window
from ._docstrings import shared
from ._front import Call, check_call, dispatch, spec_keywords
from .algorithms.transposed import window
from .algorithms.transposed_fft import fft_vjp
from .algorithms.transposed_weight import weight_gradient
from .backends import Backend, backend_for
from .padding import source_indices
from .planner import finite_choice, plan_for, run_forward
from .spec import ConvSpec

IntOrTuple = int | Sequence[int]
Padding = int | str | Sequence[int] | Sequence[tuple[int, int]]


@shared
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
    spec: ConvSpec | None = None,
):
    """Gradients `(grad_input, grad_weight, grad_bias)` of `xconv.conv`.

    The gradients of `sum(grad_output * conv(x, weight, bias, ...))`: the transpose of the
    derivative, without complex conjugation (the forward pass's bilinear convention).
    Every padding mode works: the input gradient of the padded samples folds back onto
    the input samples they copy (constant padding just drops them, and `padding_value`
    reaches only the weight gradient).

    Parameters
    ----------
    {grad_output}
    {x}
    {weight}
    {stride}
    {padding}
    {dilation}
    {groups}
    {padding_mode}
    {padding_value}
    {channels_last}
    algorithm : {{"auto", "direct", "gemm", "fft", "measure"}}, default "auto"
        Runs the correlations inside: the input gradient is a transposed convolution
        (stride-1 phase correlations, each planned on its own under "auto"), the weight
        gradient a correlation of the padded input with `grad_output`, planned like the
        forward layer ("measure" times the phases and uses the model for the weight
        gradient). On the FFT path at stride 1 both come from one set of spectra.
    {spec}

    Returns
    -------
    grad_input : array
        The shape and layout of `x`.
    grad_weight : array
        The shape of `weight`.
    grad_bias : array
        `(F,)`. All three in the forward result dtype.

    Raises
    ------
    {raises}

    See Also
    --------
    conv : the forward convolution.

    Examples
    --------
    >>> import numpy as np, xconv
    >>> x, w = np.arange(4.0)[None], np.array([[[1.0, -1.0]]])
    >>> gx, gw, gb = xconv.conv_vjp(np.ones((1, 3)), x, w)
    >>> gx, gw, gb
    (array([[ 1.,  0.,  0., -1.]]), array([[[3., 6.]]]), array([3.]))
    """
    call = check_call(
        "conv_vjp",
        x,
        weight,
        grad_output=grad_output,
        algorithm=algorithm,
        spec=spec,
        **spec_keywords(
            spec,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            padding_mode=padding_mode,
            padding_value=padding_value,
            channels_last=channels_last,
        ),
    )
    return dispatch(call, _conv_vjp)


def _conv_vjp(call: Call):
    if call.x.shape[0] == 0:  # an empty batch: every gradient is zero
        return _zero_gradients(call)
    backend, spec, pads, spatial = call.backend, call.spec, call.padding, call.spatial
    mode, algorithm = spec.padding_mode, call.algorithm
    grad, w = call.in_work_dtype(call.grad), call.in_work_dtype(call.weight)
    # the padded input stays inside this call: a reused buffer where the backend has one
    x = call.in_work_dtype(call.x)
    padded = backend.pad_for_run(
        x, pads, mode, spec.padding_value, "channels_first", buffer="gradient input"
    )
    shape = tuple(call.x.shape)
    weight_algorithm = weight_gradient_algorithm(backend, spec, shape, algorithm, grad, padded)
    both = None
    if weight_algorithm == "fft" and all(s == 1 for s in spec.stride):
        # one set of spectra for both gradients, where the forward pass would also use one
        # transform over the whole signal (a long one runs faster in overlap-save frames)
        forward = plan_for(spec, tuple(call.x.shape), call.work, "fft", backend=backend)
        if all(frames == 1 for frames in forward.chunking["frames"]):
            both = fft_vjp(backend, padded, grad, w, spec, backend.memory_budget())
    if both is not None:
        grad_x, grad_w = both
        if mode == "constant":
            grad_x = grad_x[
                (..., *(slice(b, b + n) for n, (b, _) in zip(spatial, pads, strict=True)))
            ]
    else:
        if mode == "constant":  # the padded samples are constants: only x's window
            start, size = [before for before, _ in pads], spatial
        else:
            start = [0] * spec.rank
            size = [b + n + a for n, (b, a) in zip(spatial, pads, strict=True)]
        grad_x = transposed_window(backend, grad, w, spec, start, size, algorithm)
        grad_w = _weight_gradient(backend, padded, grad, spec, weight_algorithm)
    if mode != "constant":
        grad_x = fold_padding(backend, grad_x, spatial, pads, mode)
    return finish_gradients(call, grad_x, grad_w, grad)


@shared
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
    spec: ConvSpec | None = None,
):
    """Gradients `(grad_input, grad_weight, grad_bias)` of `xconv.conv_transpose`.

    The input gradient is a forward correlation of `grad_output` (the cropping becomes
    padding), the weight gradient a correlation of `grad_output` with `x`.

    Parameters
    ----------
    {grad_output}
    {x}
    {weight_t}
    {stride}
    {cropping}
    {output_padding}
    {dilation}
    {groups}
    {channels_last}
    algorithm : {{"auto", "direct", "gemm", "fft", "measure"}}, default "auto"
        Runs the correlations inside, as in `conv_vjp`.
    spec : ConvSpec, optional
        A ready transposed spec instead of the keywords above.

    Returns
    -------
    grad_input : array
        The shape and layout of `x`.
    grad_weight : array
        The shape of `weight`, `(C, F // groups, *kernel)`.
    grad_bias : array
        `(F,)`. All three in the result dtype.

    Raises
    ------
    {raises}

    See Also
    --------
    conv_transpose : the transposed convolution.

    Examples
    --------
    >>> import numpy as np, xconv
    >>> x, w = np.array([[1.0, 2.0]]), np.array([[[1.0, 10.0]]])
    >>> gx, gw, gb = xconv.conv_transpose_vjp(np.array([[1.0, 0.0, 0.0, 1.0]]), x, w, stride=2)
    >>> gx, gw, gb
    (array([[ 1., 10.]]), array([[[1., 2.]]]), array([2.]))
    """
    call = check_call(
        "conv_transpose_vjp",
        x,
        weight,
        grad_output=grad_output,
        algorithm=algorithm,
        spec=spec,
        **spec_keywords(
            spec,
            stride=stride,
            padding=padding,
            output_padding=output_padding,
            dilation=dilation,
            groups=groups,
            channels_last=channels_last,
        ),
    )
    return dispatch(call, _conv_transpose_vjp)


def _conv_transpose_vjp(call: Call):
    if call.x.shape[0] == 0:  # an empty batch: every gradient is zero
        return _zero_gradients(call)
    backend, spec, spatial, algorithm = call.backend, call.spec, call.spatial, call.algorithm
    grad, w = call.in_work_dtype(call.grad), call.in_work_dtype(call.weight)
    forward = adjoint_spec(spec)
    # the full (uncropped) output gradient, over the samples the forward correlation reads
    read = [
        (n - 1) * s + e for n, s, e in zip(spatial, spec.stride, spec.dilated_kernel, strict=True)
    ]
    bounds = [(-before, r - before) for (before, _), r in zip(call.padding, read, strict=True)]
    source = window(backend, grad, bounds)
    grad_x = run_forward(backend, algorithm)(source, w, forward, spatial)
    x = call.in_work_dtype(call.x)
    shape = tuple(source.shape)
    weight_algorithm = weight_gradient_algorithm(backend, forward, shape, algorithm, source, x)
    grad_w = _weight_gradient(backend, source, x, forward, weight_algorithm)
    return finish_gradients(call, grad_x, grad_w, grad)


def weight_gradient_algorithm(
    backend: Backend, spec: ConvSpec, input_shape, algorithm: str, grad, padded
) -> str:
    """The algorithm of a weight gradient: the forward layer's (it costs what the forward
    correlation costs), off the FFT where xconv chose it for data that are not all finite."""
    dtype = padded.dtype
    chosen = planned(backend, spec, input_shape, dtype, algorithm)
    return finite_choice(backend, spec, input_shape, dtype, chosen, algorithm, grad, padded)


def weight_gradient_block(padded, grad, spec: ConvSpec, algorithm: str):
    """The weight gradient of the correlation `spec` (no padding) of `padded` whose output
    gradient is `grad`, on the arrays' own backend: one block's share, for backends that
    split an operation into blocks and sum the shares."""
    backend = backend_for(array_namespace(padded, grad))
    chosen = weight_gradient_algorithm(backend, spec, tuple(padded.shape), algorithm, grad, padded)
    return _weight_gradient(backend, padded, grad, spec, chosen)


def _weight_gradient(backend: Backend, x, grad, spec, algorithm: str):
    correlate = run_forward(backend, algorithm)
    return weight_gradient(backend, x, grad, spec, algorithm, backend.memory_budget(), correlate)


def finish_gradients(call: Call, grad_x, grad_w, grad):
    """`(grad_input, grad_weight, grad_bias)` in the result dtype, the input's layout."""
    xp = call.xp
    grad_b = xp.sum(grad, axis=(0, *range(2, grad.ndim)))
    return (
        call.finish(grad_x),
        xp.astype(grad_w, call.dtype, copy=False),
        xp.astype(grad_b, call.dtype, copy=False),
    )


def fold_padding(backend: Backend, g, spatial: Sequence[int], pads, mode: str):
    """Adjoint of `pad(x, pads, mode)` on the trailing axes: padded samples add onto sources.

    Each side of an axis is cut into runs whose sources step by +1, -1 (mirrors) or 0
    (replicate); a run is flipped or summed, then added onto the samples it copies.
    """
    xp = backend.xp
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
            out = out + backend.pad(block, widths)
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


def _zero_gradients(call: Call):
    xp, dtype, dev = call.xp, call.dtype, device(call.x)
    return (
        call.finish(xp.zeros(call.x.shape, dtype=dtype, device=dev)),
        xp.zeros(call.weight.shape, dtype=dtype, device=dev),
        xp.zeros((call.spec.out_channels,), dtype=dtype, device=dev),
    )
