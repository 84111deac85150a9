"""`xconv.conv_transpose`: transposed N-d convolution, the adjoint of `xconv.conv`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from types import ModuleType

from . import planner
from ._arrays import (
    array_namespace,
    checked_kind,
    compute_dtype,
    from_canonical,
    result_dtype,
    to_canonical,
)
from .algorithms.fft import backend_name
from .algorithms.transposed import transpose_window
from .algorithms.transposed_gemm import transpose_gemm
from .config import get_default_algorithm, get_workspace_limit
from .spec import ConvSpec

IntOrTuple = int | Sequence[int]
Cropping = int | str | Sequence[int] | Sequence[tuple[int, int]]


def conv_transpose(
    x,
    weight,
    bias=None,
    *,
    stride: IntOrTuple = 1,
    padding: Cropping = 0,
    output_padding: IntOrTuple = 0,
    dilation: IntOrTuple = 1,
    groups: int = 1,
    channels_last: bool = False,
    algorithm: str = "auto",
):
    """Transposed N-d convolution: the adjoint of `conv` with the same parameters.

    What PyTorch's `conv_transpose*d`, ONNX ConvTranspose, Keras `Conv*DTranspose` and
    MATLAB's `transposedConv2dLayer` compute: every input sample scatters `weight` into
    the output at `i * stride + t * dilation`, and the result is then cropped.

    Parameters
    ----------
    x : array
        `(N, C, *spatial)` or unbatched `(C, *spatial)`; with `channels_last=True`,
        `(N, *spatial, C)` or `(*spatial, C)`. The output follows the same convention.
    weight : array
        `(C, F // groups, *kernel)` (PyTorch/ONNX layout).
    bias : array, optional
        `(F,)`, cast to the result dtype.
    stride, dilation : int or one int per spatial dimension, >= 1.
    padding : the cropping of the full output `(n - 1) * stride + (k - 1) * dilation + 1`:
        an int, one int per dimension, one `(before, after)` pair per dimension,
        `"valid"` (none) or `"same"` (output `n * stride`; `(k - 1) * d + 1 - stride` in
        total, the odd one at the end, as MATLAB Cropping 'same' and Keras 'same').
    output_padding : int or one per dimension, added at the end; smaller than the stride
        or the dilation.
    algorithm : `"auto"`, `"direct"`, `"gemm"`, `"fft"` or `"measure"`, as in `conv`:
        each output phase `i mod stride` is a stride-1 forward correlation of `x` with
        the phase's (flipped) kernel taps, run by that algorithm (`"auto"`: the planner's
        choice for the phase; `"measure"`: the fastest, timed once).

    Dtypes follow `conv`: the promotion of `x` and `weight`, float16 computed in float32.

    >>> import numpy as np, xconv
    >>> x = np.array([[1.0, 2.0, 3.0]])          # one channel, three samples
    >>> xconv.conv_transpose(x, np.array([[[1.0, 10.0]]]), stride=2)
    array([[ 1., 10.,  2., 20.,  3., 30.]])
    """
    xp = array_namespace(x, weight, bias)
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
    x, batched = to_canonical(xp, x, spec.rank, channels_last)
    check_input_channels(x.shape[1], weight.shape, spec)
    check_bias(xp, bias, spec.out_channels)
    dtype = result_dtype(xp, x, weight)
    spatial = tuple(x.shape[2:])
    crops = spec.resolve_padding(spatial)
    size = spec.output_spatial(spatial)
    work = compute_dtype(xp, dtype)
    y = transposed_window(
        xp,
        xp.astype(x, work, copy=False),
        xp.astype(weight, work, copy=False),
        adjoint_spec(spec),
        [before for before, _ in crops],
        size,
        algorithm,
    )
    if bias is not None:
        y = y + xp.reshape(xp.astype(bias, work, copy=False), (1, -1) + (1,) * spec.rank)
    return from_canonical(xp, xp.astype(y, dtype, copy=False), batched, channels_last)


# -- shared with the gradients ------------------------------------------------------------


def transposed_window(xp: ModuleType, y, weight, spec: ConvSpec, start, size, algorithm: str):
    """Window `[start, start + size)` of the adjoint of correlation `spec` applied to `y`.

    With GEMM chosen (by the user, or by the planner for the transposed problem), every
    tap's contribution comes from one matmul over the whole batch followed by a col2im
    (`transposed_gemm`); otherwise each output phase is a stride-1 forward correlation
    (`transposed.transpose_window`), planned on its own.
    """
    route = algorithm
    if algorithm not in planner.FORWARD_ALGORITHMS:
        backwards = ConvSpec(
            spec.kernel_size,
            stride=spec.stride,
            dilation=spec.dilation,
            groups=spec.groups,
            transposed=True,
            in_channels=y.shape[1],
            out_channels=weight.shape[1] * spec.groups,
        )
        route = planned(xp, backwards, tuple(y.shape), y.dtype, algorithm)
    if route == "gemm":
        out = transpose_gemm(xp, y, weight, spec, start, size)
        if out is not None:
            return out
    return transpose_window(xp, y, weight, spec, start, size, forward_runner(xp, algorithm))


def resolve_algorithm(algorithm: object) -> str:
    """`algorithm`, checked; "auto" becomes the context's default (`xconv.default_algorithm`)."""
    planner.check_algorithm(algorithm)
    return get_default_algorithm() if algorithm == "auto" else algorithm  # type: ignore[return-value]


def forward_runner(xp: ModuleType, algorithm: str) -> Callable:
    """`run(x, w, spec, out_spatial)`: a forward correlation of an unpadded-spec `x`, run
    by `algorithm` ("auto": the planner's choice for its shapes; "measure": timed)."""

    def run(x, w, spec: ConvSpec, out_spatial):
        return planner.run(xp, x, w, spec, tuple(out_spatial), algorithm, tuple(x.shape))

    return run


def planned(xp: ModuleType, spec: ConvSpec, input_shape, dtype, algorithm: str) -> str:
    """The forward algorithm the planner picks for `spec` ("measure" uses the model)."""
    modelled = "auto" if algorithm == "measure" else algorithm
    key = (spec, tuple(input_shape), planner.dtype_name(dtype), modelled, backend_name(xp))
    return _planned(*key, get_workspace_limit())


@functools.lru_cache(maxsize=256)
def _planned(spec: ConvSpec, input_shape, dtype: str, algorithm: str, backend: str, limit: int):
    return planner.plan_for(spec, input_shape, dtype, algorithm, backend=backend).algorithm


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


def transposed_spec(weight, **options) -> ConvSpec:
    """The transposed `ConvSpec` of a `(C, F // groups, *kernel)` weight."""
    shape = getattr(weight, "shape", None)
    if shape is None or len(shape) < 3:
        raise ValueError(
            f"weight must be an array of shape (C, F // groups, *kernel) with at least one "
            f"spatial dimension, got shape {shape}"
        )
    return ConvSpec.from_weight_shape(tuple(shape), transposed=True, **options)


def check_input_channels(channels: int, weight_shape, spec: ConvSpec, name: str = "x") -> None:
    """ValueError unless the canonical input has the channels that `spec` expects."""
    if channels != spec.in_channels:
        layout = "(C, F // groups, *kernel)" if spec.transposed else "(F, C // groups, *kernel)"
        raise ValueError(
            f"{name} has {channels} channels but weight of shape {tuple(weight_shape)} "
            f"{layout} with groups={spec.groups} expects {spec.in_channels}"
        )


def check_bias(xp: ModuleType, bias, filters: int) -> None:
    """TypeError/ValueError unless `bias` is None or a numeric `(filters,)` array."""
    if bias is None:
        return
    checked_kind(xp, bias, "bias")
    if tuple(bias.shape) != (filters,):
        raise ValueError(
            f"bias must have shape ({filters},), one value per output channel, "
            f"got shape {tuple(bias.shape)}"
        )
